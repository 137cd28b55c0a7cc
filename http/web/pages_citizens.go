package web

import (
	"net/http"
	"net/url"

	"github.com/motcua/motcua/http/httpkit"
)

// myDossiersPath is the citizen's page "Hồ sơ của tôi".
const myDossiersPath = "/ho-so-cua-toi"

// myDossiersView is "Hồ sơ của tôi": nobody signed in (Me nil: the page invites to sign in with
// VNeID), or the citizen and a page of their dossiers.
type myDossiersView struct {
	// SignInFailed: the provider's answer was refused (the browser came back with dang-nhap=that-bai).
	SignInFailed bool
	Me           *httpkit.Me
	Page         httpkit.MyDossierPage
	After        string
	// FragmentURL re-renders the list: the page refreshes it every 30 seconds (/static/live.js with
	// no feed), a citizen's dossiers having no one feed of their own — each dossier's page follows
	// its own live feed.
	FragmentURL string
}

// myDossiersPage shows the signed-in citizen's dossiers, each linked to its public lookup page,
// which follows the dossier live. Everything comes through the citizen's API, as the citizen.
func (s *Pages) myDossiersPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	w.Header().Set("Cache-Control", "no-store")
	title := l.T("me.title")
	me, problem, err := s.api.Me(r)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "my dossiers: me", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem != nil && r.URL.Query().Get("fragment") == "list" {
		// The session ended under a page refreshing its list: keep what it shows.
		http.Error(w, problem.Title, problem.Status)
		return
	}
	if problem != nil {
		if problem.Status == http.StatusUnauthorized {
			s.render(w, r, http.StatusOK, "my_dossiers", title, &myDossiersView{SignInFailed: r.URL.Query().Get("dang-nhap") == "that-bai"})
			return
		}
		s.renderError(w, r, problem.Status, "error.citizen_only", problem.Detail)
		return
	}
	after := r.URL.Query().Get("after")
	page, problem, err := s.api.MyDossiers(r, r.URL.Query().Get("limit"), after)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "my dossiers: list", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem != nil {
		key := "error.citizen_only"
		if problem.Status == http.StatusBadRequest {
			key = "error.bad_page"
		}
		s.renderError(w, r, problem.Status, key, problem.Detail)
		return
	}
	view := &myDossiersView{Me: &me, Page: page, After: after, FragmentURL: myDossiersPath + "?fragment=list"}
	if after != "" {
		view.FragmentURL += "&after=" + url.QueryEscape(after)
	}
	v := s.newView(w, r, title, view)
	if r.URL.Query().Get("fragment") == "list" {
		s.renderFragment(w, r, "my_dossiers", "my-dossiers-list", v)
		return
	}
	s.renderView(w, r, http.StatusOK, "my_dossiers", v)
}
