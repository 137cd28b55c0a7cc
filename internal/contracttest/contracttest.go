// Package contracttest checks the API's calls and answers against its contract, docs/openapi.yaml
// (docs/api.md, "The contract"). The tests of the http package wrap their servers in it; the tests
// of cmd/motcua wrap every `motcua serve` they start in-process. Imported by tests only.
package contracttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/go-chi/chi/v5"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/motcua/motcua/docs"
	"github.com/motcua/motcua/http/httpkit"
)

// Contract is docs/openapi.yaml, loaded and validated once.
var Contract = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPIYAML)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
})

// InContract says whether the contract describes the route pattern (or path): the JSON API and
// the operators' probes. The pages are not an API.
func InContract(path string) bool {
	return strings.HasPrefix(path, "/api/v1/") || slices.Contains([]string{"/healthz", "/readyz", "/metrics"}, path)
}

// maxCheckedBody bounds the answer kept for checking; a larger one (a year's register as CSV) is
// checked for its status, headers and media type only.
const maxCheckedBody = 4 << 20

// Checker wraps a server's handler and checks every request to the API and every answer against
// the contract; what does not match is kept for Failures (live feeds answer until the server
// closes, so the report is the caller's, after that).
type Checker struct {
	next     http.Handler
	routes   chi.Routes // next's routes: the route a request takes, whatever middleware answers it
	doc      *openapi3.T
	mu       sync.Mutex
	failures []string
}

// New checks the calls to next, whose routes are routes (the API's router).
func New(next http.Handler, routes chi.Routes) (*Checker, error) {
	doc, err := Contract()
	if err != nil {
		return nil, err
	}
	return &Checker{next: next, routes: routes, doc: doc}, nil
}

// Failures are the mismatches found so far, each once, in the order found.
func (c *Checker) Failures() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.failures)
}

// Wrap checks the calls to api — the API as the pages call it, in-process — through the same
// checker.
func (c *Checker) Wrap(api http.Handler) http.Handler { return checkedCall{c, api} }

// checkedCall is a handler whose calls c checks.
type checkedCall struct {
	c    *Checker
	next http.Handler
}

func (p checkedCall) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.c.serve(w, r, p.next) }

func (c *Checker) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if msg := fmt.Sprintf(format, args...); !slices.Contains(c.failures, msg) {
		c.failures = append(c.failures, msg)
	}
}

func (c *Checker) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.serve(w, r, c.next) }

func (c *Checker) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if !InContract(r.URL.Path) || r.Method == http.MethodHead {
		next.ServeHTTP(w, r)
		return
	}
	var body []byte
	var err error
	// A file upload is streamed to the API as it arrives (the tests measure that it is): its
	// body is left alone and unchecked; its answer is checked.
	streamed := strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/")
	if r.Body != nil && !streamed { // a request made in-process, as the pages' calls are, may have none
		body, err = io.ReadAll(r.Body)
	}
	if err != nil {
		// A body cut off (a slow client's read deadline): the API sees the same failure, and
		// there is no request to check.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), cutOffBody{err}))
		next.ServeHTTP(w, r)
		return
	}
	if !streamed && r.Body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	// The route the request takes is found apart from serving it: a group's middleware (the
	// public budget, an idempotent replay) may answer before the router resolves it.
	rctx := chi.NewRouteContext()
	c.routes.Match(rctx, r.Method, r.URL.Path)
	rec := &answerRecorder{ResponseWriter: w}
	next.ServeHTTP(rec, r)
	c.check(r, body, streamed, rctx, rec)
}

func (c *Checker) check(r *http.Request, body []byte, streamed bool, rctx *chi.Context, rec *answerRecorder) {
	status := rec.statusCode()
	if status == httpkit.StatusClientClosedRequest {
		return // the client went away: no answer was sent
	}
	pattern := strings.ReplaceAll(rctx.RoutePattern(), "/*/", "/")
	what := r.Method + " " + r.URL.Path
	var pathItem *openapi3.PathItem
	if pattern != "" && !strings.HasSuffix(pattern, "/*") {
		pathItem = c.doc.Paths.Value(pattern)
	}
	var operation *openapi3.Operation
	if pathItem != nil {
		operation = pathItem.GetOperation(r.Method)
	}
	if operation == nil {
		// No route: the router's 404 or 405 problem, or a middleware's (the public budget's 429).
		if routedTo := pattern != "" && !strings.HasSuffix(pattern, "/*"); routedTo && status != http.StatusMethodNotAllowed {
			c.fail("%s (route %s) answered %d but the contract has no operation %s %s", what, pattern, status, r.Method, pattern)
			return
		}
		c.checkProblem(what, rec)
		return
	}
	params := map[string]string{}
	for i, key := range rctx.URLParams.Keys {
		if key != "*" {
			params[key] = rctx.URLParams.Values[i]
		}
	}
	req := r.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		// The API reads a body as JSON whatever its Content-Type says (http/decode.go).
		req.Header.Set("Content-Type", "application/json")
	}
	options := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true,
		ExcludeRequestBody: streamed}
	input := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Options: options,
		Route: &routers.Route{Spec: c.doc, Path: pattern, PathItem: pathItem, Method: r.Method, Operation: operation}}
	// A refused request may break the contract (that is why it was refused); one the API took
	// must keep it.
	if status < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
			c.fail("request %s (%s %s) does not match the contract, yet the API answered %d: %v", what, r.Method, pattern, status, err)
		}
	}
	// kin-openapi checks the status, the media type and the headers; the body is checked against
	// its schema compiled once (answerSchema).
	answer := &openapi3filter.ResponseValidationInput{RequestValidationInput: input, Status: status, Header: rec.Header(),
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, ExcludeResponseBody: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), answer); err != nil {
		c.fail("the answer %d to %s (%s %s) does not match the contract: %v", status, what, r.Method, pattern, err)
		return
	}
	if rec.truncated {
		return
	}
	schema, err := answerSchema(operation, pattern, r.Method, status, rec.Header().Get("Content-Type"))
	if err != nil {
		c.fail("the answer %d to %s (%s %s): %v", status, what, r.Method, pattern, err)
		return
	}
	if schema == nil {
		return // a file, a workbook, an image, a stream: its media type was checked
	}
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(rec.body.Bytes()))
	if err == nil {
		err = schema.Validate(value)
	}
	if err != nil {
		c.fail("the answer %d to %s (%s %s) does not match the contract: %v", status, what, r.Method, pattern, err)
	}
}

// compiledSchemas are the contract's answer schemas, each compiled once for every checker of the
// process: kin-openapi compiles a schema anew for every value it validates, which made the checked
// tests twice as costly.
var compiledSchemas = struct {
	sync.Mutex
	compiler *jsonschema.Compiler
	byPlace  map[string]*jsonschema.Schema
}{byPlace: map[string]*jsonschema.Schema{}}

// answerSchema is the schema of the answer to operation with status and media type, compiled
// from the contract as one JSON Schema 2020-12 resource (its $refs resolve inside it); nil when
// the answer has no schema (files, images, streams).
func answerSchema(operation *openapi3.Operation, pattern, method string, status int, mediaType string) (*jsonschema.Schema, error) {
	response := operation.Responses.Status(status)
	if response == nil || response.Value == nil {
		return nil, nil
	}
	place := "/paths/" + pointerToken(pattern) + "/" + strings.ToLower(method) + "/responses/" + strconv.Itoa(status)
	if response.Ref != "" {
		place = strings.TrimPrefix(response.Ref, "#")
	}
	media := response.Value.Content.Get(mediaType)
	if media == nil || media.Schema == nil {
		return nil, nil
	}
	for key, m := range response.Value.Content {
		if m == media {
			place += "/content/" + pointerToken(key) + "/schema"
		}
	}
	compiledSchemas.Lock()
	defer compiledSchemas.Unlock()
	if schema, ok := compiledSchemas.byPlace[place]; ok {
		return schema, nil
	}
	if compiledSchemas.compiler == nil {
		body, err := docs.OpenAPIJSON()
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		compiler := jsonschema.NewCompiler()
		compiler.DefaultDraft(jsonschema.Draft2020)
		compiler.AssertFormat()
		if err := compiler.AddResource(contractURL, doc); err != nil {
			return nil, err
		}
		compiledSchemas.compiler = compiler
	}
	schema, err := compiledSchemas.compiler.Compile(contractURL + "#" + place)
	if err != nil {
		return nil, fmt.Errorf("the schema at %s: %w", place, err)
	}
	compiledSchemas.byPlace[place] = schema
	return schema, nil
}

// contractURL names the contract as a JSON Schema resource, in the checker's messages.
const contractURL = "https://motcua.vn/openapi.json"

// pointerToken escapes s as one token of a JSON pointer (RFC 6901).
func pointerToken(s string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(s) }

// checkProblem checks that an answer is a problem document (RFC 9457) as the contract describes it.
func (c *Checker) checkProblem(what string, rec *answerRecorder) {
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		c.fail("%s answered %d as %q, not a problem", what, rec.statusCode(), ct)
		return
	}
	var value any
	if err := json.Unmarshal(rec.body.Bytes(), &value); err != nil {
		c.fail("%s: the problem is not JSON: %v", what, err)
		return
	}
	if err := c.doc.Components.Schemas["Problem"].Value.VisitJSON(value, openapi3.EnableJSONSchema2020()); err != nil {
		c.fail("%s: the problem does not match the Problem schema: %v", what, err)
	}
}

// cutOffBody fails with err, as the request's body did.
type cutOffBody struct{ err error }

func (f cutOffBody) Read([]byte) (int, error) { return 0, f.err }

// answerRecorder passes an answer on as it is written (live feeds flush as they go) and keeps
// its status and up to maxCheckedBody of its body.
type answerRecorder struct {
	http.ResponseWriter
	status    int
	body      bytes.Buffer
	truncated bool
}

func (a *answerRecorder) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
	a.ResponseWriter.WriteHeader(status)
}

func (a *answerRecorder) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if a.body.Len()+len(p) <= maxCheckedBody {
		a.body.Write(p)
	} else {
		a.truncated = true
	}
	return a.ResponseWriter.Write(p)
}

func (a *answerRecorder) statusCode() int {
	if a.status == 0 {
		return http.StatusOK
	}
	return a.status
}

func (a *answerRecorder) Flush() {
	if f, ok := a.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (deadlines of long transfers).
func (a *answerRecorder) Unwrap() http.ResponseWriter { return a.ResponseWriter }
