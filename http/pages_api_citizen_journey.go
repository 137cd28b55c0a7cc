package http

import (
	"context"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/http/httpkit"
)

// The citizen's journey as the pages call it: every call goes through the router as the citizen,
// with their session cookie and never an official's token (citizenRequest).

func (a pagesAPI) OnlineProcedures(r *http.Request) (httpkit.OnlineProcedures, *httpkit.Problem, error) {
	var out httpkit.OnlineProcedures
	res, err := a.s.citizenCall(r, "/api/v1/me/procedures")
	if err != nil {
		return out, nil, err
	}
	problem, err := res.decode(&out)
	return out, problem, err
}

func (a pagesAPI) MyDossier(r *http.Request, id string) (httpkit.MyDossierDetail, *httpkit.Problem, error) {
	var out httpkit.MyDossierDetail
	res, err := a.s.citizenCall(r, "/api/v1/me/dossiers/"+url.PathEscape(id))
	if err != nil {
		return out, nil, err
	}
	problem, err := res.decode(&out)
	return out, problem, err
}

// SubmitMine forwards the page's multipart form, streamed as it arrives, to POST /api/v1/me/dossiers.
func (a pagesAPI) SubmitMine(w http.ResponseWriter, r *http.Request) (httpkit.MySubmitted, *httpkit.Problem, error) {
	return a.s.forwardCitizenForm(w, r, "/api/v1/me/dossiers")
}

// AnswerMine forwards the page's multipart form to POST /api/v1/me/dossiers/{id}/supplement.
func (a pagesAPI) AnswerMine(w http.ResponseWriter, r *http.Request, id string) (httpkit.MySubmitted, *httpkit.Problem, error) {
	return a.s.forwardCitizenForm(w, r, "/api/v1/me/dossiers/"+url.PathEscape(id)+"/supplement")
}

// ServeMyDocument streams a file of the citizen's dossier through the API.
func (a pagesAPI) ServeMyDocument(w http.ResponseWriter, r *http.Request, id, documentID string, inline bool) {
	path := "/api/v1/me/dossiers/" + url.PathEscape(id) + "/documents/" + url.PathEscape(documentID)
	if inline {
		path += "?inline=1"
	}
	req, err := citizenRequest(r, http.MethodGet, path)
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	a.s.router.ServeHTTP(w, req)
}

func (s *Server) forwardCitizenForm(w http.ResponseWriter, r *http.Request, path string) (httpkit.MySubmitted, *httpkit.Problem, error) {
	var out httpkit.MySubmitted
	req, err := citizenRequest(r, http.MethodPost, path)
	if err != nil {
		return out, nil, err
	}
	// The files take their time on the page's own connection: extend it there.
	if s.documents != nil {
		s.extendTransfer(w, true)
	}
	req.Body, req.ContentLength = r.Body, r.ContentLength
	req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
	for _, h := range []string{"Origin", "Sec-Fetch-Site"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Host = r.Host
	problem, err := s.route(req).decode(&out)
	return out, problem, err
}

// citizenRequest is a request of the citizen's API made for a page, as the citizen: their session
// cookie, never an official's token (the citizen's API refuses one).
func citizenRequest(r *http.Request, method, path string) (*http.Request, error) {
	routed := context.WithValue(r.Context(), chi.RouteCtxKey, nil)
	req, err := http.NewRequestWithContext(routed, method, path, nil)
	if err != nil {
		return nil, err
	}
	req.RemoteAddr = r.RemoteAddr
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Correlation-ID", commands.CorrelationID(r.Context()).String())
	if c, err := r.Cookie(citizenCookie); err == nil {
		req.AddCookie(c)
	}
	return req, nil
}
