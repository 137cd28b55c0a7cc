package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/http/web"
)

// pagesAPI is the JSON API as the web pages call it (web.API): each call goes through the router in
// the same process, as the page's visitor, so a page gets the same decoding, validation,
// authorization and problem details as any API client.
type pagesAPI struct{ s *Server }

var _ web.API = pagesAPI{}

func (a pagesAPI) Receive(r *http.Request, in web.ReceiveRequest) (web.Receipt, *httpkit.Problem, error) {
	var receipt web.Receipt
	res, err := a.s.apiWrite(r, http.MethodPost, "/api/v1/dossiers", in, nil)
	if err != nil {
		return receipt, nil, err
	}
	problem, err := res.decode(&receipt)
	return receipt, problem, err
}

func (a pagesAPI) Act(r *http.Request, ref string, action domain.Action, version string, in web.ActionRequest) (web.ActionDone, *httpkit.Problem, error) {
	headers := map[string]string{}
	if version != "" {
		headers["If-Match"] = `"` + version + `"`
	}
	var done web.ActionDone
	res, err := a.s.apiWrite(r, http.MethodPost, "/api/v1/dossiers/"+url.PathEscape(ref)+"/"+string(action), in, headers)
	if err != nil {
		return done, nil, err
	}
	problem, err := res.decode(&done)
	return done, problem, err
}

func (a pagesAPI) Rate(r *http.Request, code string, in web.RatingRequest) (*httpkit.Problem, error) {
	res, err := a.s.apiWrite(r, http.MethodPost, "/api/v1/public/dossiers/"+url.PathEscape(code)+"/rating", in, nil)
	if err != nil {
		return nil, err
	}
	return res.decode(nil)
}

func (a pagesAPI) VerifyResult(r *http.Request, resultCode, hash string) (httpkit.ResultVerification, *httpkit.Problem, error) {
	path := "/api/v1/public/results/" + url.PathEscape(resultCode)
	if hash != "" {
		path += "?hash=" + url.QueryEscape(hash)
	}
	var v httpkit.ResultVerification
	res, err := a.s.apiCall(r, http.MethodGet, path, nil, nil)
	if err != nil {
		return v, nil, err
	}
	problem, err := res.decode(&v)
	return v, problem, err
}

func (a pagesAPI) VerifyDossier(r *http.Request, dossierID string) (httpkit.DossierVerification, *httpkit.Problem, error) {
	var v httpkit.DossierVerification
	res, err := a.s.apiCall(r, http.MethodGet, "/api/v1/dossiers/"+url.PathEscape(dossierID)+"/verification", nil, nil)
	if err != nil {
		return v, nil, err
	}
	problem, err := res.decode(&v)
	return v, problem, err
}

func (a pagesAPI) CheckReceiptSecret(w http.ResponseWriter, r *http.Request, code, secret string) error {
	return a.s.checkReceiptSecret(w, r, code, secret)
}

func (a pagesAPI) DeliveriesStatus(r *http.Request) (httpkit.DeliveriesStatus, *httpkit.Problem, error) {
	var out httpkit.DeliveriesStatus
	res, err := a.s.apiCall(r, http.MethodGet, "/api/v1/admin/deliveries/status", nil, nil)
	if err != nil {
		return out, nil, err
	}
	problem, err := res.decode(&out)
	return out, problem, err
}

func (a pagesAPI) Deliveries(r *http.Request, q httpkit.DeliveryQuery) (httpkit.DeliveryPage, *httpkit.Problem, error) {
	path := withQuery("/api/v1/admin/deliveries", map[string]string{"state": q.State, "destination": q.Destination, "limit": q.Limit, "after": q.After})
	var page httpkit.DeliveryPage
	res, err := a.s.apiCall(r, http.MethodGet, path, nil, nil)
	if err != nil {
		return page, nil, err
	}
	problem, err := res.decode(&page)
	return page, problem, err
}

func (a pagesAPI) RetryDeliveries(r *http.Request, in httpkit.RetryRequest) (httpkit.RetryDone, *httpkit.Problem, error) {
	var done httpkit.RetryDone
	res, err := a.s.apiWrite(r, http.MethodPost, "/api/v1/admin/deliveries/retry", in, nil)
	if err != nil {
		return done, nil, err
	}
	problem, err := res.decode(&done)
	return done, problem, err
}

func (a pagesAPI) SentNotifications(r *http.Request, dossierID string) []httpkit.SentNotification {
	return a.s.sentNotifications(r.Context(), dossierID)
}

// apiResult is the API's answer to a call made on a page's behalf.
type apiResult struct {
	Status  int
	Body    []byte
	Problem *httpkit.Problem
}

// OK reports a 2xx answer.
func (a apiResult) OK() bool { return a.Status >= 200 && a.Status < 300 }

// decode reads a 2xx answer's body into dst (nil when the body is not needed), or returns the
// problem of any other answer.
func (a apiResult) decode(dst any) (*httpkit.Problem, error) {
	if !a.OK() {
		return a.Problem, nil
	}
	if dst != nil {
		if err := json.Unmarshal(a.Body, dst); err != nil {
			return nil, fmt.Errorf("decode the API's answer: %w", err)
		}
	}
	return nil, nil
}

// apiCall sends a request to the JSON API through the router, as the page's caller: the same
// decoding, validation, authorization and problem details as any API client gets.
func (s *Server) apiCall(r *http.Request, method, path string, body any, headers map[string]string) (apiResult, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return apiResult{}, fmt.Errorf("encode API body: %w", err)
		}
	}
	// Routed afresh: chi keeps its routing state in the request's context, and a call through the
	// page's own context would resume where the page's routing ended.
	routed := asPageOfficial(context.WithValue(r.Context(), chi.RouteCtxKey, nil), r)
	req, err := http.NewRequestWithContext(routed, method, path, bytes.NewReader(payload))
	if err != nil {
		return apiResult{}, err
	}
	req.RemoteAddr = r.RemoteAddr
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Correlation-ID", commands.CorrelationID(r.Context()).String())
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return s.route(req), nil
}

// route sends req through the router and collects the answer, with its problem details when it
// is not a success.
func (s *Server) route(req *http.Request) apiResult {
	rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	s.api.ServeHTTP(rec, req)
	res := apiResult{Status: rec.status, Body: rec.body.Bytes()}
	if !res.OK() {
		var p httpkit.Problem
		if err := json.Unmarshal(res.Body, &p); err != nil {
			p = httpkit.Problem{Title: http.StatusText(rec.status), Detail: string(res.Body)}
		}
		p.Status = rec.status // the status a page answers with
		res.Problem = &p
	}
	return res
}

// bufferedResponse is the http.ResponseWriter an apiCall collects the API's answer in.
type bufferedResponse struct {
	header      http.Header
	status      int
	body        bytes.Buffer
	wroteHeader bool
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(status int) {
	if !b.wroteHeader {
		b.status, b.wroteHeader = status, true
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// maxFormWait bounds how long a form post waits for the first post of the same form to finish.
const maxFormWait = 15 * time.Second

// apiWrite is apiCall for a page form's write: it sends the form's key as the Idempotency-Key, and
// when the same form's first post is still running (a double click), waits for its answer, which is
// then the answer shown, instead of showing the official an error for a click that did work.
func (s *Server) apiWrite(r *http.Request, method, path string, body any, headers map[string]string) (apiResult, error) {
	key := r.PostFormValue(httpkit.IdempotencyFormField)
	if key == "" {
		return s.apiCall(r, method, path, body, headers)
	}
	withKey := map[string]string{idempotencyHeader: key}
	for k, v := range headers {
		withKey[k] = v
	}
	deadline := time.Now().Add(maxFormWait)
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		res, err := s.apiCall(r, method, path, body, withKey)
		if err != nil || res.Problem == nil || res.Problem.Code != "idempotency_key_in_flight" || time.Now().After(deadline) {
			return res, err
		}
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			return res, nil
		}
	}
}

// ServeDocument routes the page's request to the API's download, as the page's visitor, writing
// straight to w: a file is streamed, never held as the other calls' answers are.
func (a pagesAPI) ServeDocument(w http.ResponseWriter, r *http.Request, ref, documentID string, inline bool) {
	path := "/api/v1/dossiers/" + url.PathEscape(ref) + "/documents/" + url.PathEscape(documentID)
	if inline {
		path += "?inline=1"
	}
	routed := asPageOfficial(context.WithValue(r.Context(), chi.RouteCtxKey, nil), r)
	req, err := http.NewRequestWithContext(routed, http.MethodGet, path, nil)
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	req.RemoteAddr = r.RemoteAddr
	req.Header.Set("X-Correlation-ID", commands.CorrelationID(r.Context()).String())
	a.s.api.ServeHTTP(w, req)
}

func (a pagesAPI) AccessLog(r *http.Request, q httpkit.AccessQuery) (httpkit.AccessPage, *httpkit.Problem, error) {
	path := withQuery("/api/v1/access-log", map[string]string{"dossier": q.Dossier, "applicant": q.Applicant, "limit": q.Limit, "after": q.After})
	var page httpkit.AccessPage
	res, err := a.s.apiCall(r, http.MethodGet, path, nil, nil)
	if err != nil {
		return page, nil, err
	}
	problem, err := res.decode(&page)
	return page, problem, err
}

func (a pagesAPI) Me(r *http.Request) (httpkit.Me, *httpkit.Problem, error) {
	var me httpkit.Me
	res, err := a.s.citizenCall(r, "/api/v1/me")
	if err != nil {
		return me, nil, err
	}
	problem, err := res.decode(&me)
	return me, problem, err
}

func (a pagesAPI) MyDossiers(r *http.Request, limit, after string) (httpkit.MyDossierPage, *httpkit.Problem, error) {
	path := withQuery("/api/v1/me/dossiers", map[string]string{"limit": limit, "after": after})
	var page httpkit.MyDossierPage
	res, err := a.s.citizenCall(r, path)
	if err != nil {
		return page, nil, err
	}
	problem, err := res.decode(&page)
	return page, problem, err
}

// citizenCall is a GET of the citizen's API for a page, as the citizen: with the citizen's
// session cookie and never an official's token (the citizen's API refuses one).
func (s *Server) citizenCall(r *http.Request, path string) (apiResult, error) {
	req, err := citizenRequest(r, http.MethodGet, path)
	if err != nil {
		return apiResult{}, err
	}
	return s.route(req), nil
}

// withQuery is path with the non-empty values as its query: a page passes on only the filters its
// visitor set, so the API applies its own defaults to the rest.
func withQuery(path string, values map[string]string) string {
	params := url.Values{}
	for name, value := range values {
		if value != "" {
			params.Set(name, value)
		}
	}
	if len(params) == 0 {
		return path
	}
	return path + "?" + params.Encode()
}
