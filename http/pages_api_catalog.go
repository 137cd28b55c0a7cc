package http

import (
	"net/http"
	"net/url"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/http/web"
)

// The catalog's calls of the pages (web.API), through the router as the page's visitor.

func (a pagesAPI) CatalogProcedures(r *http.Request, at, limit, after string) (web.CatalogPage, *httpkit.Problem, error) {
	var page web.CatalogPage
	res, err := a.s.apiCall(r, http.MethodGet, withQuery("/api/v1/catalog/procedures", map[string]string{"at": at, "limit": limit, "after": after}), nil, nil)
	if err != nil {
		return page, nil, err
	}
	problem, err := res.decode(&page)
	return page, problem, err
}

func (a pagesAPI) CatalogVersions(r *http.Request, code, limit, after string) (web.CatalogVersionPage, *httpkit.Problem, error) {
	var page web.CatalogVersionPage
	path := withQuery("/api/v1/catalog/procedures/"+url.PathEscape(code)+"/history", map[string]string{"limit": limit, "after": after})
	res, err := a.s.apiCall(r, http.MethodGet, path, nil, nil)
	if err != nil {
		return page, nil, err
	}
	problem, err := res.decode(&page)
	return page, problem, err
}

func (a pagesAPI) ChangeCatalog(r *http.Request, code string, in web.CatalogChangeRequest) (*httpkit.Problem, error) {
	var res apiResult
	var err error
	if in.Procedure != nil {
		res, err = a.s.apiCall(r, http.MethodPost, "/api/v1/catalog/procedures", commands.PublishProcedureInput{
			CatalogTermsInput: in.CatalogTermsInput, Procedure: *in.Procedure}, nil)
	} else {
		res, err = a.s.apiCall(r, http.MethodPost, "/api/v1/catalog/procedures/"+url.PathEscape(code)+"/withdraw", in.CatalogTermsInput, nil)
	}
	if err != nil {
		return nil, err
	}
	return res.decode(nil)
}
