package http_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/integrations/payment"
	"github.com/motcua/motcua/integrations/portal/inbound"
	"github.com/motcua/motcua/internal/contracttest"
)

// The API's contract is docs/openapi.yaml. Every test server of this package is wrapped in
// checkContract, which checks each request the tests make to a route the contract covers, and
// each answer, against it (internal/contracttest); and TestEveryRouteIsInTheContract checks that
// the router and the contract name the same operations. So the document cannot drift from the
// code: a field, a status, a media type or a route changed on one side only fails the tests.

// checkContract wraps server so that every request to the API and every answer is checked
// against docs/openapi.yaml — the tests' own calls and those the pages make for them; a mismatch
// fails t. Wrap before the server starts, so that the report comes after the server's own
// clean-up.
func checkContract(t testing.TB, server *mhttp.Server) http.Handler {
	t.Helper()
	c, err := contracttest.New(server, server.Routes())
	if err != nil {
		t.Fatal(err)
	}
	server.WrapPagesAPI(c.Wrap)
	t.Cleanup(func() {
		for _, f := range c.Failures() {
			t.Errorf("docs/openapi.yaml: %s", f)
		}
	})
	return c
}

// TestEveryRouteIsInTheContract: every route the router serves under /api/v1 (and the probes),
// with every optional part switched on, is an operation of docs/openapi.yaml, and every operation
// there is a route. To add a route, add its operation under `paths` in docs/openapi.yaml (the
// chi pattern is the path, its {parameters} the same names).
func TestEveryRouteIsInTheContract(t *testing.T) {
	doc, err := contracttest.Contract()
	if err != nil {
		t.Fatal(err)
	}
	e := buildEnv(t, envOptions{configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
		cfg.Deliveries = &mhttp.DeliveriesConfig{Dialect: engine.SQLite}
		cfg.Documents = documentsConfig(t, cfg.ReadDB)
		cfg.Payments = &mhttp.PaymentsConfig{Gateway: &payment.VNPay{}}
		cfg.PortalWebhook = &inbound.Verifier{}
		cfg.Citizens = &mhttp.CitizenSignIn{}
		cfg.Eraser = mhttp.EraserFunc(func(context.Context, string) (bool, error) { return false, nil })
		cfg.Metrics = http.NotFoundHandler()
	}})
	routed := map[string]bool{}
	for _, r := range routesOf(t, e.server) {
		if !contracttest.InContract(r.pattern) {
			continue
		}
		routed[r.method+" "+r.pattern] = true
		item := doc.Paths.Value(r.pattern)
		if item == nil || item.GetOperation(r.method) == nil {
			t.Errorf("%s %s is routed but docs/openapi.yaml does not describe it: add the operation under paths.%q.%s",
				r.method, r.pattern, r.pattern, strings.ToLower(r.method))
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !routed[method+" "+path] {
				t.Errorf("docs/openapi.yaml describes %s %s, which no route serves", method, path)
			}
		}
	}
	if len(routed) < 40 {
		t.Errorf("only %d routes of the API found: is every optional part switched on?", len(routed))
	}
}

// TestTheContractIsServed: GET /api/v1/openapi.json answers the contract as JSON, an OpenAPI 3.1
// document a client's tools load, with every path of docs/openapi.yaml.
func TestTheContractIsServed(t *testing.T) {
	e := newEnv(t)
	r := e.expect(e.do("GET", "/api/v1/openapi.json", "", nil), http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	loader := openapi3.NewLoader()
	served, err := loader.LoadFromData([]byte(r.raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := served.Validate(loader.Context); err != nil {
		t.Fatalf("the served contract is not valid: %v", err)
	}
	doc, _ := contracttest.Contract()
	if served.OpenAPI != "3.1.0" || served.Paths.Len() != doc.Paths.Len() {
		t.Errorf("served OpenAPI %s with %d paths, docs/openapi.yaml has %d", served.OpenAPI, served.Paths.Len(), doc.Paths.Len())
	}
}

// TestTheContractCatchesDrift: the checker fails an answer the contract does not describe — a
// status it does not list, a field of the wrong type or missing, a route it does not have, a
// request it does not allow that the API took — so that a green run means each was checked.
func TestTheContractCatchesDrift(t *testing.T) {
	for name, tc := range map[string]struct {
		route, target string
		status        int
		body          string
	}{
		"an undocumented status":           {"/healthz", "/healthz", http.StatusTeapot, `{"status":"ok"}`},
		"a field of another type":          {"/healthz", "/healthz", http.StatusOK, `{"status":1}`},
		"a field the answer lacks":         {"/healthz", "/healthz", http.StatusOK, `{}`},
		"a route the contract lacks":       {"/api/v1/nowhere", "/api/v1/nowhere", http.StatusOK, `{}`},
		"a parameter the contract forbids": {"/api/v1/work-queue", "/api/v1/work-queue?limit=501", http.StatusOK, `{"items":[],"total":0}`},
	} {
		t.Run(name, func(t *testing.T) {
			router := chi.NewRouter()
			router.Get(tc.route, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			c, err := contracttest.New(router, router)
			if err != nil {
				t.Fatal(err)
			}
			c.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, tc.target, nil))
			t.Log(c.Failures())
			if len(c.Failures()) == 0 {
				t.Errorf("GET %s answered %d %s and passed the contract", tc.target, tc.status, tc.body)
			}
		})
	}
}
