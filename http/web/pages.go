package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/l10n"
)

// Pages are server-rendered html/template pages; assets are embedded, nothing is loaded from
// elsewhere. Forms post to the JSON API (API), so a page shows exactly the API's answer — its
// problem details and field errors — next to the fields at fault.

//go:embed templates/*.html static/*
var webFiles embed.FS

// SessionCookie holds a signed-in official's session token: a random value standing for a
// server-side session (http/session), never a bearer token. HttpOnly keeps it from scripts;
// SameSite=Strict and a per-form token (csrfToken) keep other sites from posting with it.
const SessionCookie = "motcua_session"

// langCookie remembers the visitor's language.
const langCookie = "motcua_lang"

// pageSet holds the parsed templates, one per page, each with the layout and shared partials.
type pageSet struct {
	templates map[string]*template.Template
}

func newPageSet() *pageSet {
	ps := &pageSet{templates: map[string]*template.Template{}}
	base := template.Must(template.New("").Funcs(pageFuncs).ParseFS(webFiles, "templates/_*.html"))
	names, err := fs.Glob(webFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		file := path.Base(name)
		if strings.HasPrefix(file, "_") {
			continue
		}
		ps.templates[strings.TrimSuffix(file, ".html")] = template.Must(template.Must(base.Clone()).ParseFS(webFiles, name))
	}
	return ps
}

// Mount registers the pages and their static assets on r.
func (s *Pages) Mount(r chi.Router) {
	static, _ := fs.Sub(webFiles, "static")
	r.Handle("/static/*", http.StripPrefix("/static/", cacheFor(24*time.Hour, http.FileServerFS(static))))
	r.Get("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/tra-cuu", http.StatusSeeOther) })
	r.Group(func(r chi.Router) {
		r.Use(s.publicBudget(s.pageRateLimited))
		r.Get("/tra-cuu", s.lookupPage)
		r.Get("/tra-cuu/{code}", s.lookupPage)
		r.Post("/tra-cuu/{code}/danh-gia", s.ratePage)
		r.Get("/xac-thuc/{resultCode}", s.resultPage)
		r.Post("/xac-thuc/{resultCode}", s.resultFileSubmit)
		s.mountPublicFeedback(r)
	})
	if s.citizens {
		r.Get(myDossiersPath, s.myDossiersPage)
		s.mountCitizenJourney(r)
	}
	r.Get(SignInPath, s.signInPage)
	r.With(s.publicBudget(s.pageRateLimited)).Post(SignInPath, s.signIn)
	r.Post(SignOutPath, s.signOut)
	r.Group(func(r chi.Router) {
		r.Use(s.requireOfficial)
		r.Get("/can-bo", s.queuePage)
		r.Get("/can-bo/tiep-nhan", s.receivePage)
		r.Post("/can-bo/tiep-nhan", s.receiveSubmit)
		r.Get("/can-bo/ho-so/{code}", s.dossierPage)
		r.Post("/can-bo/ho-so/{code}/{action}", s.actionSubmit)
		r.Get("/can-bo/ho-so/{code}/in/{form}", s.printPage)
		r.Get("/can-bo/ho-so/{code}/lich-su", s.historyPage)
		s.catalogRoutes(r)
		if s.documents {
			r.Get("/can-bo/ho-so/{code}/tep/{id}", s.documentFile)
		}
	})
	if s.documents {
		s.mountDocumentForms(r)
	}
	r.Group(func(r chi.Router) {
		r.Use(s.requireOfficial)
		s.mountDashboards(r)
		s.mountOfficialFeedback(r)
		if s.deliveries {
			r.Get("/can-bo/quan-tri/gui-thong-bao", s.deliveriesPage)
			r.Post("/can-bo/quan-tri/gui-thong-bao/gui-lai", s.retryDeliveriesSubmit)
		}
		if s.accessLog {
			r.Get(accessLogPath, s.accessLogPage)
		}
	})
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(d.Seconds())))
		next.ServeHTTP(w, r)
	})
}

// view is what every page template receives.
type view struct {
	L        l10n.Lang
	Title    string
	Official *commands.Caller
	CSRF     string
	// LangURL links to the same page in the other language.
	LangURL string
	// Main is the page's own data.
	Main any
	// Print drops the navigation for print-ready forms.
	Print bool
	// Deliveries links the admins' page of deliveries (shown to admins when the outbox is shown).
	Deliveries bool
	// AccessLog links the inspectors' page of the access log (shown to inspectors when it is kept).
	AccessLog bool
	// Citizens links "Hồ sơ của tôi" (citizens sign in).
	Citizens bool
	// Refresh, when set, is a meta refresh sending the browser on by itself (to the identity
	// provider's end of session after a sign-out: a form's redirect to another site is blocked by
	// the pages' form-action policy, a refresh is not).
	Refresh template.HTML
}

// langOf picks the visitor's language: ?lang= (remembered in a cookie), else the cookie, else Vietnamese.
func langOf(w http.ResponseWriter, r *http.Request) l10n.Lang {
	if q := r.URL.Query().Get("lang"); q == "vi" || q == "en" {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: httpkit.IsHTTPS(r)})
		return l10n.Lang(q)
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "vi" || c.Value == "en") {
		return l10n.Lang(c.Value)
	}
	return "vi"
}

// render writes a page. A template error after the first byte cannot change the status, so pages
// render into a buffer first.
func (s *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, title string, main any) {
	v := s.newView(w, r, title, main)
	s.renderView(w, r, status, name, v)
}

func (s *Pages) newView(w http.ResponseWriter, r *http.Request, title string, main any) view {
	l := langOf(w, r)
	v := view{L: l, Title: title, Main: main, LangURL: switchLangURL(r.URL, l), Deliveries: s.deliveries, AccessLog: s.accessLog, Citizens: s.citizens}
	if c, ok := officialOf(r); ok {
		v.Official = &c
		v.CSRF = s.pages.csrfToken(sessionToken(r))
	}
	return v
}

func (s *Pages) renderView(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t, ok := s.pages.templates[name]
	if !ok {
		s.logger.ErrorContext(r.Context(), "no such page template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.logger.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer") // lookup URLs may carry the rating secret
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderFragment writes one named template of a page without the layout (live updates).
func (s *Pages) renderFragment(w http.ResponseWriter, r *http.Request, page, fragment string, v view) {
	var buf bytes.Buffer
	if err := s.pages.templates[page].ExecuteTemplate(&buf, fragment, v); err != nil {
		s.logger.ErrorContext(r.Context(), "render fragment", "page", page, "fragment", fragment, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Message string
	Detail  string
}

func (s *Pages) renderError(w http.ResponseWriter, r *http.Request, status int, messageKey string, detail ...string) {
	l := langOf(w, r)
	e := errorPage{Status: status, Message: l.T(messageKey)}
	if len(detail) > 0 {
		e.Detail = detail[0]
	}
	s.render(w, r, status, "error", e.Message, e)
}

func switchLangURL(u *url.URL, current l10n.Lang) string {
	q := u.Query()
	q.Del("secret") // never copy the rating secret into a link
	if current == "vi" {
		q.Set("lang", "en")
	} else {
		q.Set("lang", "vi")
	}
	return u.Path + "?" + q.Encode()
}

// officialKey holds the signed-in official in a page request's context.
type officialKey struct{}

type officialSession struct {
	caller commands.Caller
	token  string
}

func officialOf(r *http.Request) (commands.Caller, bool) {
	s, ok := r.Context().Value(officialKey{}).(officialSession)
	return s.caller, ok
}

// Official is the official signed in to the page r serves, whom the API requests made on the
// page's behalf act as.
func Official(r *http.Request) (commands.Caller, bool) { return officialOf(r) }

// sessionToken is the signed-in official's session token, which the page's forms are bound to.
func sessionToken(r *http.Request) string {
	s, _ := r.Context().Value(officialKey{}).(officialSession)
	return s.token
}

// csrfToken binds a form to the session it was served in: without the session cookie's value, which
// scripts and other sites cannot read, nobody can compute it. It is a function of the session alone
// (no key of this process), so a form served by one node is accepted by another, and after a restart.
func (ps *pageSet) csrfToken(session string) string {
	mac := hmac.New(sha256.New, csrfLabel)
	mac.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// csrfLabel keeps the form token apart from any other value derived from the session's token.
var csrfLabel = []byte("motcua form token v1")

func (ps *pageSet) validCSRF(r *http.Request) bool {
	return ps.validCSRFValue(r, r.PostFormValue("csrf"))
}

// validCSRFValue checks a form's CSRF token read by the handler itself (a streamed form).
func (ps *pageSet) validCSRFValue(r *http.Request, got string) bool {
	session := sessionToken(r) // never empty here; if it were, its token would be anyone's to compute
	return got != "" && session != "" && hmac.Equal([]byte(got), []byte(ps.csrfToken(session)))
}
