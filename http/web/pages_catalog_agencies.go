package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
)

// The agencies' pages (cơ quan, đơn vị; docs/catalog.md, "The catalog's history"): every official
// sees the agencies in force at a date and the history of each; admins publish a new agency from
// the list and amend or withdraw one from its history page, with the decision and its date of
// effect, as for procedures. The form has one input per part of an agency (its departments one per
// line), so a refusal is shown next to the input it names.

const agenciesPath = catalogPath + "/co-quan"

// agencyInputOf is the agency form's input an API field names ("agency.departments[1].code" is
// the departments box); "" when none shows it (the problem box lists every field at fault).
func agencyInputOf(field string) string {
	return inputOf(field, []string{
		"agency.succeeded_by.from", "successor_from", "agency.succeeded_by.basis", "successor_basis",
		"agency.succeeded_by", "successor", "agency.departments", "departments", "agency.territory", "territory",
		"agency.code", "code", "agency.name", "name",
	})
}

// agencyValues fills the form from an agency's version: departments one per line "code | name",
// the territory's codes one per line.
func agencyValues(a *domain.Agency) url.Values {
	v := url.Values{}
	if a == nil {
		return v
	}
	v.Set("code", a.Code)
	v.Set("name", a.Name)
	var departments []string
	for _, d := range a.Departments {
		departments = append(departments, d.Code+" | "+d.Name)
	}
	v.Set("departments", strings.Join(departments, "\n"))
	v.Set("territory", strings.Join(a.Territory, "\n"))
	if s := a.SucceededBy; s != nil {
		v.Set("successor", s.Agency)
		v.Set("successor_from", s.From)
		v.Set("successor_basis", s.Basis)
	}
	return v
}

// agencyFromForm reads the posted agency; a departments line without "code | name" is refused
// here, naming the input, before anything reaches the API.
func agencyFromForm(form url.Values) (domain.Agency, *httpkit.Problem) {
	text := func(input string) string { return strings.TrimSpace(form.Get(input)) }
	a := domain.Agency{Code: text("code"), Name: text("name")}
	for i, line := range strings.Split(strings.ReplaceAll(form.Get("departments"), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		code, name, ok := strings.Cut(line, "|")
		if !ok || strings.TrimSpace(code) == "" || strings.TrimSpace(name) == "" {
			return a, &httpkit.Problem{Status: http.StatusBadRequest, Title: "invalid input", Code: domain.EINVALID,
				Errors: []domain.FieldError{{Field: "agency.departments[" + strconv.Itoa(i) + "]", Message: strconv.Quote(line) + ` is not "code | name"`}}}
		}
		a.Departments = append(a.Departments, domain.Department{Code: strings.TrimSpace(code), Name: strings.TrimSpace(name)})
	}
	a.Territory = strings.FieldsFunc(form.Get("territory"), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	if text("successor")+text("successor_from")+text("successor_basis") != "" {
		a.SucceededBy = &domain.AgencySuccession{Agency: text("successor"), From: text("successor_from"), Basis: text("successor_basis")}
	}
	return a, nil
}

func (s *Pages) agencyRoutes(r chi.Router) {
	r.Get(agenciesPath, s.agenciesPage)
	r.Get(agenciesPath+"/{code}/lich-su", s.agencyHistoryPage)
	r.Post(agenciesPath, s.agencyChangeSubmit) // a new agency
	r.Post(agenciesPath+"/{code}", s.agencyChangeSubmit)
}

// agenciesPage: the agencies in force at a date (?ngay=YYYY-MM-DD, today by default).
func (s *Pages) agenciesPage(w http.ResponseWriter, r *http.Request) {
	s.renderAgencies(w, r, http.StatusOK, catalogForm{Values: url.Values{}})
}

func (s *Pages) renderAgencies(w http.ResponseWriter, r *http.Request, status int, form catalogForm) {
	if page, ok := s.catalogList(w, r, domain.CatalogKindAgency, agenciesPath, form); ok {
		s.render(w, r, status, "catalog_agencies", langOf(w, r).T("catalog.agencies_title"), page)
	}
}

// agencyHistoryPage: one agency's versions, newest first; admins amend or withdraw it here.
func (s *Pages) agencyHistoryPage(w http.ResponseWriter, r *http.Request) {
	s.renderAgencyHistory(w, r, http.StatusOK, nil)
}

// renderAgencyHistory shows the history page; form is the posted amendment refused, nil to fill
// the form from the latest version.
func (s *Pages) renderAgencyHistory(w http.ResponseWriter, r *http.Request, status int, form *catalogForm) {
	page, ok := s.catalogVersions(w, r, domain.CatalogKindAgency, agenciesPath)
	if !ok {
		return
	}
	switch {
	case form != nil:
		page.Form = *form
	case page.Latest != nil:
		// A withdrawn agency's form starts from its last content, to publish it again.
		page.Form = catalogForm{Values: url.Values{}}
		for _, v := range page.Page.Items {
			if v.Agency != nil {
				page.Form.Values = agencyValues(v.Agency)
				break
			}
		}
	}
	s.render(w, r, status, "catalog_agency_history", langOf(w, r).T("catalog.agency_history_title", page.Code), page)
}

// agencyChangeSubmit: an admin's new agency or amendment, or withdrawal. A refusal (400, 409)
// shows the form again as posted, with the API's message next to the input it names.
func (s *Pages) agencyChangeSubmit(w http.ResponseWriter, r *http.Request) {
	code := chi.URLParam(r, "code")
	onHistory := code != "" // else the list's publish form
	refused := func(problem *httpkit.Problem) {
		form := formOf(r.PostForm, problem, agencyInputOf)
		if !onHistory {
			s.renderAgencies(w, r, problem.Status, form)
			return
		}
		s.renderAgencyHistory(w, r, problem.Status, &form)
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
		a, problem := agencyFromForm(r.PostForm)
		if problem != nil {
			refused(problem)
			return
		}
		if onHistory {
			a.Code = code // the history page amends its own agency
		}
		in.Agency, done = &a, publishedOrAmended(revision)
		code = cmp.Or(code, a.Code)
	}
	problem, err := s.api.ChangeCatalog(r, domain.CatalogKindAgency, code, in)
	if err == nil && refusedInForm(problem) {
		refused(problem)
		return
	}
	if s.catalogProblem(w, r, problem, err) {
		return
	}
	http.Redirect(w, r, agenciesPath+"/"+url.PathEscape(code)+"/lich-su?xong="+done, http.StatusSeeOther)
}
