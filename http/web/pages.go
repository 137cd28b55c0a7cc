package http

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
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
	"github.com/motcua/motcua/domain"
)

// The web pages: server-rendered html/template pages for citizens (public lookup, rating, result
// verification), officials (work queue, dossier, printable forms), inspectors (timeline, state as
// of a moment) and leaders (dashboards). Assets are embedded; nothing is loaded from elsewhere.
// Forms post to the JSON API through the same router (apiCall), so a page shows exactly the API's
// answer — its problem details and field errors — next to the fields at fault.

//go:embed web/templates/*.html web/static/*
var webFiles embed.FS

// sessionCookie holds a signed-in official's bearer token. HttpOnly keeps it from scripts;
// SameSite=Strict and a per-form token (csrfToken) keep other sites from posting with it.
const sessionCookie = "motcua_session"

// langCookie remembers the visitor's language.
const langCookie = "motcua_lang"

// pageSet holds the parsed templates, one per page, each with the layout and shared partials.
type pageSet struct {
	templates map[string]*template.Template
	csrfKey   []byte
}

func newPageSet() *pageSet {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	ps := &pageSet{templates: map[string]*template.Template{}, csrfKey: key}
	base := template.Must(template.New("").Funcs(pageFuncs).ParseFS(webFiles, "web/templates/_*.html"))
	names, err := fs.Glob(webFiles, "web/templates/*.html")
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

// mountPages registers the pages and their static assets on r.
func (s *Server) mountPages(r chi.Router) {
	static, _ := fs.Sub(webFiles, "web/static")
	r.Handle("/static/*", http.StripPrefix("/static/", cacheFor(24*time.Hour, http.FileServerFS(static))))
	r.Get("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/tra-cuu", http.StatusSeeOther) })
	r.Group(func(r chi.Router) {
		r.Use(s.publicBudget(s.pageRateLimited))
		r.Get("/tra-cuu", s.lookupPage)
		r.Get("/tra-cuu/{code}", s.lookupPage)
		r.Post("/tra-cuu/{code}/danh-gia", s.ratePage)
		r.Get("/xac-thuc/{resultCode}", s.resultPage)
	})
	r.Get("/can-bo/dang-nhap", s.signInPage)
	r.Post("/can-bo/dang-nhap", s.signIn)
	r.Post("/can-bo/dang-xuat", s.signOut)
	r.Group(func(r chi.Router) {
		r.Use(s.requireOfficial)
		r.Get("/can-bo", s.queuePage)
		r.Get("/can-bo/tiep-nhan", s.receivePage)
		r.Post("/can-bo/tiep-nhan", s.receiveSubmit)
		r.Get("/can-bo/ho-so/{code}", s.dossierPage)
		r.Post("/can-bo/ho-so/{code}/{action}", s.actionSubmit)
		r.Get("/can-bo/ho-so/{code}/in/{form}", s.printPage)
		r.Get("/can-bo/ho-so/{code}/lich-su", s.historyPage)
		s.mountDashboards(r)
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
	L        Lang
	Title    string
	Official *commands.Caller
	CSRF     string
	// LangURL links to the same page in the other language.
	LangURL string
	// Main is the page's own data.
	Main any
	// Print drops the navigation for print-ready forms.
	Print bool
}

// langOf picks the visitor's language: ?lang= (remembered in a cookie), else the cookie, else Vietnamese.
func langOf(w http.ResponseWriter, r *http.Request) Lang {
	if q := r.URL.Query().Get("lang"); q == "vi" || q == "en" {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r)})
		return Lang(q)
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "vi" || c.Value == "en") {
		return Lang(c.Value)
	}
	return "vi"
}

// isHTTPS tells whether the client reached us over TLS: directly, or through a trusted reverse
// proxy that says so (anyone else may write X-Forwarded-Proto).
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || (viaTrustedProxy(r) && r.Header.Get("X-Forwarded-Proto") == "https")
}

// render writes a page. A template error after the first byte cannot change the status, so pages
// render into a buffer first.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, title string, main any) {
	v := s.newView(w, r, title, main)
	s.renderView(w, r, status, name, v)
}

func (s *Server) newView(w http.ResponseWriter, r *http.Request, title string, main any) view {
	l := langOf(w, r)
	v := view{L: l, Title: title, Main: main, LangURL: switchLangURL(r.URL, l)}
	if c, ok := officialOf(r); ok {
		v.Official = &c
		v.CSRF = s.pages.csrfToken(sessionTokenOf(r))
	}
	return v
}

func (s *Server) renderView(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
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
func (s *Server) renderFragment(w http.ResponseWriter, r *http.Request, page, fragment string, v view) {
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

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, messageKey string, detail ...string) {
	l := langOf(w, r)
	e := errorPage{Status: status, Message: l.T(messageKey)}
	if len(detail) > 0 {
		e.Detail = detail[0]
	}
	s.render(w, r, status, "error", e.Message, e)
}

func switchLangURL(u *url.URL, current Lang) string {
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

func sessionTokenOf(r *http.Request) string {
	s, _ := r.Context().Value(officialKey{}).(officialSession)
	return s.token
}

// csrfToken binds a form to the session it was served in: without the session cookie's value, which
// scripts and other sites cannot read, nobody can compute it.
func (ps *pageSet) csrfToken(session string) string {
	mac := hmac.New(sha256.New, ps.csrfKey)
	mac.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (ps *pageSet) validCSRF(r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(ps.csrfToken(sessionTokenOf(r))))
}

// apiResult is the API's answer to a call made on a page's behalf.
type apiResult struct {
	Status  int
	Header  http.Header
	Body    []byte
	Problem *Problem
}

// OK reports a 2xx answer.
func (a apiResult) OK() bool { return a.Status >= 200 && a.Status < 300 }

// FieldErrors maps each field at fault to its message, for showing next to the inputs.
func (a apiResult) FieldErrors() map[string]string {
	out := map[string]string{}
	if a.Problem != nil {
		for _, f := range a.Problem.Errors {
			out[f.Field] = f.Message
		}
	}
	return out
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
	req, err := http.NewRequestWithContext(r.Context(), method, path, bytes.NewReader(payload))
	if err != nil {
		return apiResult{}, err
	}
	req.RemoteAddr = r.RemoteAddr
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Correlation-ID", commands.CorrelationID(r.Context()).String())
	if token := sessionTokenOf(r); token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	s.router.ServeHTTP(rec, req)
	res := apiResult{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()}
	if !res.OK() {
		var p Problem
		if err := json.Unmarshal(res.Body, &p); err != nil {
			p = Problem{Status: rec.status, Title: http.StatusText(rec.status), Detail: string(res.Body)}
		}
		res.Problem = &p
	}
	return res, nil
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

// publicBaseURL is the scheme and host the visitor reached us at, for links printed on paper (QR codes).
func publicBaseURL(r *http.Request) string {
	scheme := "http"
	if isHTTPS(r) {
		scheme = "https"
	}
	host := r.Host
	// Only a trusted proxy may say which host the client asked for: from anyone else the header
	// would print a QR code leading to the sender's own site.
	if fwd := r.Header.Get("X-Forwarded-Host"); fwd != "" && viaTrustedProxy(r) {
		host = fwd
	}
	return scheme + "://" + host
}

// lookupURL is the public lookup page of a dossier; with the receipt's secret it opens the rating form.
func lookupURL(base string, code domain.DossierCode, secret string) string {
	u := base + "/tra-cuu/" + url.PathEscape(string(code))
	if secret != "" {
		u += "?secret=" + url.QueryEscape(secret)
	}
	return u
}
