package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
)

// The catalog's pages (docs/catalog.md, "The catalog's history"): every official sees the
// procedures in force at a date and the history of each — inspectors check which fees and workflow
// applied when; admins amend or withdraw a procedure from its history page. They show what the
// API answers (GET /api/v1/catalog/…), and write through it.

const catalogPath = "/can-bo/danh-muc"

// CatalogAPI is the catalog's part of API, for procedures and agencies alike (kind is
// domain.CatalogKindProcedure or domain.CatalogKindAgency): those in force at a date (YYYY-MM-DD,
// "" for now), one's history, and an admin's publication or amendment (in.Procedure or in.Agency
// set) or withdrawal.
type CatalogAPI interface {
	CatalogList(r *http.Request, kind, at, limit, after string) (CatalogPage, *httpkit.Problem, error)
	CatalogVersions(r *http.Request, kind, code, limit, after string) (CatalogVersionPage, *httpkit.Problem, error)
	ChangeCatalog(r *http.Request, kind, code string, in CatalogChangeRequest) (*httpkit.Problem, error)
}

// CatalogEntry is a procedure or agency in force at a moment, as GET /api/v1/catalog/procedures
// (agencies) lists it.
type CatalogEntry struct {
	Code      string               `json:"code"`
	Name      string               `json:"name"`
	Revision  uint64               `json:"revision"`
	Change    domain.CatalogChange `json:"change"`
	Procedure *domain.Procedure    `json:"procedure"`
	Agency    *domain.Agency       `json:"agency"`
}

// CatalogPage is a page of the catalog at a moment.
type CatalogPage struct {
	At       time.Time      `json:"at"`
	Revision uint64         `json:"revision"`
	Items    []CatalogEntry `json:"items"`
	Next     string         `json:"next"`
	Total    int            `json:"total"`
}

// CatalogVersion is one version of a procedure or agency, with who recorded it.
type CatalogVersion struct {
	domain.CatalogVersion
	RecordedBy struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"recorded_by"`
}

// CatalogVersionPage is a page of a procedure's or agency's history, newest first.
type CatalogVersionPage struct {
	Items []CatalogVersion `json:"items"`
	Next  string           `json:"next"`
	Total int              `json:"total"`
}

// CatalogChangeRequest is an admin's publication or amendment (Procedure or Agency set) or
// withdrawal (neither set).
type CatalogChangeRequest struct {
	commands.CatalogTermsInput
	Procedure *domain.Procedure `json:"procedure,omitempty"`
	Agency    *domain.Agency    `json:"agency,omitempty"`
}

// catalogView is a list of procedures or of agencies.
type catalogView struct {
	Admin   bool // shows the form publishing a new entry
	At      string
	Page    CatalogPage
	NextURL string
	Form    catalogForm // the publish form: empty, or as posted with the API's refusal
}

type catalogHistoryView struct {
	Code    string
	Page    CatalogVersionPage
	NextURL string
	Admin   bool
	Latest  *CatalogVersion // the last recorded version, which an amendment replaces
	Done    string          // "published", "amended" or "withdrawn" after a change
	// Form is the amendment form: the latest version (a procedure as JSON to edit, an agency's
	// inputs), or the form as posted with the API's refusal, so the admin's edit is not lost.
	Form catalogForm
}

// catalogForm is a catalog form's values and, after a refusal (400, 409), the API's problem and
// its field errors keyed by the form's inputs.
type catalogForm struct {
	Values  url.Values
	Errors  map[string]string
	Problem *httpkit.Problem
}

// Value is the form's value of an input.
func (f catalogForm) Value(input string) string { return f.Values.Get(input) }

// Error is the API's message for an input.
func (f catalogForm) Error(input string) string { return f.Errors[input] }

// formOf is the form as posted with the problem's messages next to the inputs inputOf finds for
// its fields.
func formOf(values url.Values, problem *httpkit.Problem, inputOf func(field string) string) catalogForm {
	f := catalogForm{Values: values, Errors: map[string]string{}, Problem: problem}
	for _, e := range problem.Errors {
		if input := inputOf(e.Field); input != "" && f.Errors[input] == "" {
			f.Errors[input] = e.Message
		}
	}
	return f
}

// inputOf finds the input of an API field among pairs of field prefixes and inputs (the first
// that matches wins), after the terms every change states; "" when no input shows it.
func inputOf(field string, prefixes []string) string {
	pairs := append(slices.Clone(prefixes), "basis", "basis", "effective_from", "effective_from", "revision", "revision")
	for i := 0; i+1 < len(pairs); i += 2 {
		prefix := pairs[i]
		if field == prefix || strings.HasPrefix(field, prefix+".") || strings.HasPrefix(field, prefix+"[") {
			return pairs[i+1]
		}
	}
	return ""
}

// procedureInputOf is the procedure form's input an API field names: every part of the procedure
// is in its JSON box.
func procedureInputOf(field string) string {
	return inputOf(field, []string{"procedure", "procedure"})
}

// refusedInForm reports whether a problem is shown on the form posted (invalid input, or a
// version replaced since the page was opened) rather than as an error page.
func refusedInForm(problem *httpkit.Problem) bool {
	return problem != nil && (problem.Status == http.StatusBadRequest || problem.Status == http.StatusConflict)
}

func (s *Pages) catalogRoutes(r chi.Router) {
	r.Get(catalogPath, s.catalogPage)
	r.Get(catalogPath+"/{code}/lich-su", s.catalogHistoryPage)
	r.Post(catalogPath, s.catalogChangeSubmit) // a new procedure
	r.Post(catalogPath+"/{code}", s.catalogChangeSubmit)
	s.agencyRoutes(r)
}

func (s *Pages) catalogProblem(w http.ResponseWriter, r *http.Request, problem *httpkit.Problem, err error) bool {
	if err != nil {
		s.logger.ErrorContext(r.Context(), "catalog page", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return true
	}
	if problem == nil {
		return false
	}
	var fields []string
	for _, f := range problem.Errors {
		fields = append(fields, f.Field+": "+f.Message)
	}
	detail := problem.Detail
	if len(fields) > 0 {
		detail = strings.Join(fields, "; ")
	}
	key := errorKeyOf(problem.Status)
	if problem.Status == http.StatusBadRequest {
		key = "catalog.bad_change"
	}
	s.renderError(w, r, problem.Status, key, detail)
	return true
}

// catalogPage: the procedures in force at a date (?ngay=YYYY-MM-DD, today by default).
func (s *Pages) catalogPage(w http.ResponseWriter, r *http.Request) {
	s.renderCatalog(w, r, http.StatusOK, catalogForm{Values: url.Values{}})
}

func (s *Pages) renderCatalog(w http.ResponseWriter, r *http.Request, status int, form catalogForm) {
	if page, ok := s.catalogList(w, r, domain.CatalogKindProcedure, catalogPath, form); ok {
		s.render(w, r, status, "catalog", langOf(w, r).T("catalog.title"), page)
	}
}

// catalogList reads one page of the entries of kind in force at ?ngay= (today by default), listed
// under base; false once a problem was shown instead.
func (s *Pages) catalogList(w http.ResponseWriter, r *http.Request, kind, base string, form catalogForm) (*catalogView, bool) {
	q := r.URL.Query()
	caller, _ := officialOf(r)
	page := &catalogView{At: strings.TrimSpace(q.Get("ngay")), Admin: caller.Has(commands.RoleAdmin), Form: form}
	var problem *httpkit.Problem
	var err error
	page.Page, problem, err = s.api.CatalogList(r, kind, page.At, q.Get("limit"), q.Get("after"))
	if s.catalogProblem(w, r, problem, err) {
		return nil, false
	}
	if page.Page.Next != "" {
		next := r.URL.Query()
		next.Set("after", page.Page.Next)
		page.NextURL = base + "?" + next.Encode()
	}
	return page, true
}

// catalogVersions reads one page of the versions of kind's entry {code}, newest first, listed under
// base, with the latest on the first page; false once a problem was shown instead.
func (s *Pages) catalogVersions(w http.ResponseWriter, r *http.Request, kind, base string) (*catalogHistoryView, bool) {
	caller, _ := officialOf(r)
	code := chi.URLParam(r, "code")
	page := &catalogHistoryView{Code: code, Admin: caller.Has(commands.RoleAdmin), Done: r.URL.Query().Get("xong")}
	var problem *httpkit.Problem
	var err error
	page.Page, problem, err = s.api.CatalogVersions(r, kind, code, r.URL.Query().Get("limit"), r.URL.Query().Get("after"))
	if s.catalogProblem(w, r, problem, err) {
		return nil, false
	}
	if page.Page.Next != "" {
		page.NextURL = base + "/" + url.PathEscape(code) + "/lich-su?after=" + url.QueryEscape(page.Page.Next)
	}
	if r.URL.Query().Get("after") == "" && len(page.Page.Items) > 0 {
		latest := page.Page.Items[0]
		page.Latest = &latest
	}
	return page, true
}

// catalogHistoryPage: one procedure's versions, newest first; admins amend or withdraw it here.
func (s *Pages) catalogHistoryPage(w http.ResponseWriter, r *http.Request) {
	s.renderCatalogHistory(w, r, http.StatusOK, nil)
}

// renderCatalogHistory shows the history page; form is the posted amendment refused, nil to fill
// the form from the latest version.
func (s *Pages) renderCatalogHistory(w http.ResponseWriter, r *http.Request, status int, form *catalogForm) {
	page, ok := s.catalogVersions(w, r, domain.CatalogKindProcedure, catalogPath)
	if !ok {
		return
	}
	switch {
	case form != nil:
		page.Form = *form
	case page.Latest != nil:
		// A withdrawn procedure's form starts from its last content, to publish it again.
		page.Form = catalogForm{Values: url.Values{}}
		for _, v := range page.Page.Items {
			if p := v.Procedure; p != nil {
				var b bytes.Buffer
				enc := json.NewEncoder(&b)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				_ = enc.Encode(p)
				page.Form.Values.Set("procedure", b.String())
				break
			}
		}
	}
	s.render(w, r, status, "catalog_history", langOf(w, r).T("catalog.history_title", page.Code), page)
}

// publishedOrAmended names a change for its notice: a new entry (revision 0) is published.
func publishedOrAmended(revision uint64) string {
	if revision == 0 {
		return "published"
	}
	return "amended"
}

// catalogChangeSubmit: an admin's new procedure or amendment (the procedure's JSON) or withdrawal.
// A refusal (400, 409) shows the form again as posted, the admin's edit kept, with the API's
// message next to the input it names.
func (s *Pages) catalogChangeSubmit(w http.ResponseWriter, r *http.Request) {
	code := chi.URLParam(r, "code")
	onHistory := code != "" // else the list's publish form
	refused := func(problem *httpkit.Problem) {
		form := formOf(r.PostForm, problem, procedureInputOf)
		if !onHistory {
			s.renderCatalog(w, r, problem.Status, form)
			return
		}
		s.renderCatalogHistory(w, r, problem.Status, &form)
	}
	revision, err := strconv.ParseUint(cmp.Or(r.PostFormValue("revision"), "0"), 10, 64)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_form", "revision")
		return
	}
	in := CatalogChangeRequest{CatalogTermsInput: commands.CatalogTermsInput{Basis: r.PostFormValue("basis"),
		EffectiveFrom: r.PostFormValue("effective_from"), Revision: revision}}
	done := "withdrawn"
	if r.PostFormValue("change") != "withdraw" {
		var p domain.Procedure
		dec := json.NewDecoder(strings.NewReader(r.PostFormValue("procedure")))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			refused(&httpkit.Problem{Status: http.StatusBadRequest, Title: "invalid input", Code: domain.EINVALID,
				Errors: []domain.FieldError{{Field: "procedure", Message: "is not a procedure as in the catalog file: " + err.Error()}}})
			return
		}
		in.Procedure, done = &p, publishedOrAmended(revision)
		code = cmp.Or(code, p.Code)
	}
	problem, err := s.api.ChangeCatalog(r, domain.CatalogKindProcedure, code, in)
	if err == nil && refusedInForm(problem) {
		refused(problem)
		return
	}
	if s.catalogProblem(w, r, problem, err) {
		return
	}
	http.Redirect(w, r, catalogPath+"/"+url.PathEscape(code)+"/lich-su?xong="+done, http.StatusSeeOther)
}
