package http

import (
	"net/http"
	"net/url"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/http/web"
)

// The catalog's calls of the pages (web.API), through the router as the page's visitor.

// catalogCollection is the API's path of a kind of catalog entry.
func catalogCollection(kind string) string {
	if kind == domain.CatalogKindAgency {
		return "/api/v1/catalog/agencies"
	}
	return "/api/v1/catalog/procedures"
}

func (a pagesAPI) CatalogList(r *http.Request, kind, at, limit, after string) (web.CatalogPage, *httpkit.Problem, error) {
	var page web.CatalogPage
	res, err := a.s.apiCall(r, http.MethodGet, withQuery(catalogCollection(kind), map[string]string{"at": at, "limit": limit, "after": after}), nil, nil)
	if err != nil {
		return page, nil, err
	}
	problem, err := res.decode(&page)
	return page, problem, err
}

func (a pagesAPI) CatalogVersions(r *http.Request, kind, code, limit, after string) (web.CatalogVersionPage, *httpkit.Problem, error) {
	var page web.CatalogVersionPage
	path := withQuery(catalogCollection(kind)+"/"+url.PathEscape(code)+"/history", map[string]string{"limit": limit, "after": after})
	res, err := a.s.apiCall(r, http.MethodGet, path, nil, nil)
	if err != nil {
		return page, nil, err
	}
	problem, err := res.decode(&page)
	return page, problem, err
}

func (a pagesAPI) ChangeCatalog(r *http.Request, kind, code string, in web.CatalogChangeRequest) (*httpkit.Problem, error) {
	var body any = in.CatalogTermsInput
	path := catalogCollection(kind) + "/" + url.PathEscape(code) + "/withdraw"
	switch {
	case in.Procedure != nil:
		body, path = commands.PublishProcedureInput{CatalogTermsInput: in.CatalogTermsInput, Procedure: *in.Procedure}, catalogCollection(kind)
	case in.Agency != nil:
		body, path = commands.PublishAgencyInput{CatalogTermsInput: in.CatalogTermsInput, Agency: *in.Agency}, catalogCollection(kind)
	}
	res, err := a.s.apiCall(r, http.MethodPost, path, body, nil)
	if err != nil {
		return nil, err
	}
	return res.decode(nil)
}
