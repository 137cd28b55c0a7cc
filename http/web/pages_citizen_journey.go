package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/http/httpkit"
)

// The citizen's journey on the pages (docs/citizens.md "Filing online"), Vietnamese first, for a
// 360 px phone: choose a procedure that can be filed online, fill the applicant's fields (prefilled
// from the identity provider's claims) and choose a file per component — or one filed before —,
// follow the dossier live, answer a supplement request with the missing files, download the result.
// Everything goes through the citizen's API as the citizen; the forms post multipart/form-data,
// which the API reads as it streams in.

const (
	myProceduresPath = myDossiersPath + "/nop-ho-so"
	myDossierPath    = myDossiersPath + "/ho-so"
	// earlierDossiersShown bounds the citizen's earlier dossiers whose files the form offers to reuse.
	earlierDossiersShown = "20"
)

func (s *Pages) mountCitizenJourney(r chi.Router) {
	r.Get(myDossierPath+"/{id}", s.myDossierPage)
	if !s.documents {
		return
	}
	r.Get(myProceduresPath, s.myProceduresPage)
	r.Get(myProceduresPath+"/{procedure}", s.mySubmitPage)
	r.Post(myProceduresPath+"/{procedure}", s.mySubmit)
	r.Post(myDossierPath+"/{id}/bo-sung", s.myAnswer)
	r.Get(myDossierPath+"/{id}/tep/{doc}", s.myFile)
}

// myProceduresView lists the procedures the citizen can file online.
type myProceduresView struct {
	Me         httpkit.Me
	Procedures []httpkit.OnlineProcedure
}

// mySubmitView is the form of one procedure: the applicant's fields, then a file per component.
type mySubmitView struct {
	Me        httpkit.Me
	Procedure httpkit.OnlineProcedure
	// Earlier are the citizen's earlier files by component name, offered for reuse.
	Earlier map[string][]httpkit.MyDocument
	Problem *httpkit.Problem
	Errors  map[string]string
}

// myDossierView is one of the citizen's dossiers.
type myDossierView struct {
	D           httpkit.MyDossierDetail
	Submitted   bool // just filed
	Answered    bool // the supplement answer was just recorded
	Problem     *httpkit.Problem
	Errors      map[string]string
	FragmentURL string
}

// signedIn answers with the signed-in citizen, or sends the browser to sign in (and back to this
// page) and reports false.
func (s *Pages) signedIn(w http.ResponseWriter, r *http.Request) (httpkit.Me, bool) {
	me, problem, err := s.api.Me(r)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "citizen's page: me", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return me, false
	}
	if problem != nil && r.URL.Query().Get("fragment") != "" {
		// A live page refreshing a part of itself: no sign-in page swapped into it.
		http.Error(w, problem.Title, problem.Status)
		return me, false
	}
	if problem != nil {
		if problem.Status == http.StatusUnauthorized {
			http.Redirect(w, r, "/cong-dan/dang-nhap?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return me, false
		}
		s.renderError(w, r, problem.Status, "error.citizen_only", problem.Detail)
		return me, false
	}
	return me, true
}

// apiFailed renders what went wrong with a call of the citizen's API, and reports whether it did.
func (s *Pages) apiFailed(w http.ResponseWriter, r *http.Request, what string, problem *httpkit.Problem, err error) bool {
	switch {
	case err != nil:
		s.logger.ErrorContext(r.Context(), what, "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
	case problem != nil && problem.Status == http.StatusNotFound:
		s.renderError(w, r, http.StatusNotFound, "journey.not_found")
	case problem != nil:
		s.renderError(w, r, problem.Status, "error.citizen_only", problem.Detail)
	default:
		return false
	}
	return true
}

func (s *Pages) myProceduresPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	me, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	procedures, problem, err := s.api.OnlineProcedures(r)
	if s.apiFailed(w, r, "online procedures", problem, err) {
		return
	}
	s.render(w, r, http.StatusOK, "my_procedures", langOf(w, r).T("journey.choose_title"), &myProceduresView{Me: me, Procedures: procedures.Items})
}

func (s *Pages) mySubmitPage(w http.ResponseWriter, r *http.Request) {
	s.renderSubmit(w, r, http.StatusOK, nil)
}

// renderSubmit shows the form of the procedure in the path, with the problem of a refused post.
func (s *Pages) renderSubmit(w http.ResponseWriter, r *http.Request, status int, problem *httpkit.Problem) {
	w.Header().Set("Cache-Control", "no-store")
	me, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	procedures, p, err := s.api.OnlineProcedures(r)
	if s.apiFailed(w, r, "online procedures", p, err) {
		return
	}
	i := slices.IndexFunc(procedures.Items, func(p httpkit.OnlineProcedure) bool { return p.Code == chi.URLParam(r, "procedure") })
	if i < 0 {
		s.renderError(w, r, http.StatusNotFound, "journey.no_procedure")
		return
	}
	view := &mySubmitView{Me: me, Procedure: procedures.Items[i], Earlier: s.earlierFiles(r), Problem: problem, Errors: problem.FieldErrors()}
	s.render(w, r, status, "my_submit", view.Procedure.Name, view)
}

// earlierFiles are the component files of the citizen's most recent dossiers, by component name,
// each file once: what the form offers to reuse instead of a new upload (NĐ 107/2021 art. 14).
func (s *Pages) earlierFiles(r *http.Request) map[string][]httpkit.MyDocument {
	out := map[string][]httpkit.MyDocument{}
	page, problem, err := s.api.MyDossiers(r, earlierDossiersShown, "")
	if err != nil || problem != nil {
		return out
	}
	seen := map[string]bool{}
	for _, item := range page.Items {
		d, problem, err := s.api.MyDossier(r, item.DossierID)
		if err != nil || problem != nil {
			continue
		}
		for _, doc := range d.Documents {
			if doc.Component == "" || seen[doc.Component+doc.SHA256] {
				continue
			}
			seen[doc.Component+doc.SHA256] = true
			out[doc.Component] = append(out[doc.Component], doc)
		}
	}
	return out
}

func (s *Pages) mySubmit(w http.ResponseWriter, r *http.Request) {
	done, problem, err := s.api.SubmitMine(w, r)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "submit online", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem != nil {
		if problem.Status == http.StatusUnauthorized {
			http.Redirect(w, r, "/cong-dan/dang-nhap?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return
		}
		s.renderSubmit(w, r, problem.Status, problem)
		return
	}
	http.Redirect(w, r, myDossierPath+"/"+url.PathEscape(done.DossierID)+"?da-nop=1", http.StatusSeeOther)
}

func (s *Pages) myDossierPage(w http.ResponseWriter, r *http.Request) {
	s.renderMyDossier(w, r, http.StatusOK, nil)
}

func (s *Pages) renderMyDossier(w http.ResponseWriter, r *http.Request, status int, problem *httpkit.Problem) {
	w.Header().Set("Cache-Control", "no-store")
	if _, ok := s.signedIn(w, r); !ok {
		return
	}
	id := chi.URLParam(r, "id")
	d, p, err := s.api.MyDossier(r, id)
	if s.apiFailed(w, r, "my dossier", p, err) {
		return
	}
	view := &myDossierView{D: d, Submitted: r.URL.Query().Get("da-nop") == "1", Answered: r.URL.Query().Get("da-bo-sung") == "1",
		Problem: problem, Errors: problem.FieldErrors(), FragmentURL: myDossierPath + "/" + url.PathEscape(id) + "?fragment=status"}
	v := s.newView(w, r, langOf(w, r).T("journey.dossier_title"), view)
	if r.URL.Query().Get("fragment") == "status" {
		s.renderFragment(w, r, "my_dossier", "my-dossier-status", v)
		return
	}
	s.renderView(w, r, status, "my_dossier", v)
}

func (s *Pages) myAnswer(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	_, problem, err := s.api.AnswerMine(w, r, id)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "answer a supplement request", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem != nil {
		if problem.Status == http.StatusUnauthorized {
			http.Redirect(w, r, "/cong-dan/dang-nhap?next="+url.QueryEscape(myDossierPath+"/"+id), http.StatusSeeOther)
			return
		}
		s.renderMyDossier(w, r, problem.Status, problem)
		return
	}
	http.Redirect(w, r, myDossierPath+"/"+url.PathEscape(id)+"?da-bo-sung=1", http.StatusSeeOther)
}

// myFile streams a file of the citizen's dossier (?xem=1 inline, for a preview).
func (s *Pages) myFile(w http.ResponseWriter, r *http.Request) {
	s.api.ServeMyDocument(w, r, chi.URLParam(r, "id"), chi.URLParam(r, "doc"), r.URL.Query().Get("xem") == "1")
}
