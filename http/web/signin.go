package web

import (
	"context"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/http/httpkit"
)

// Officials sign in to the pages through the province's identity provider (OpenID Connect), with a
// local account's password (the embedded default), or — for administrators and tests — with an
// API bearer token, each of which starts a server-side session; the browser holds only the
// session's random token (SessionCookie). Officials (implemented by the API's package over
// http/session) checks the credentials and keeps the sessions; the pages render the forms and set
// the cookie (docs/security.md, "Officials' sign-in").

// The officials' sign-in routes.
const (
	SignInPath  = "/can-bo/dang-nhap"
	SignOutPath = "/can-bo/dang-xuat"
	// ProviderSignInPath begins a sign-in at the identity provider (served by the API's package).
	ProviderSignInPath = "/can-bo/dang-nhap/idp"
	// SignInFailedQuery is added to the sign-in page's address when the provider's answer was refused.
	SignInFailedQuery = "dang-nhap=that-bai"
)

// maxSignInBytes bounds the sign-in form: a login and password, or a bearer token, even a long OIDC one.
const maxSignInBytes = 64 << 10

// SignInMethods are the ways of signing in the sign-in page offers.
type SignInMethods struct {
	Provider  bool // the province's identity provider (OpenID Connect)
	Passwords bool // local accounts (motcua officials add)
	Tokens    bool // an API bearer token (motcua token): administrators, tests
}

// SignInForm is what the sign-in form posted: a login and password, or a token.
type SignInForm struct {
	Login, Password, Token string
}

// ErrSignInRefused is a sign-in whose credentials were wrong; ErrSignInLocked one refused because
// the client failed too often lately (the wrong-secret lock-out); ErrNoOfficial a session token no
// live official's session has.
var (
	ErrSignInRefused = errors.New("sign-in refused")
	ErrSignInLocked  = errors.New("too many failed sign-ins")
	ErrNoOfficial    = errors.New("no official's session")
)

// Officials signs officials in and out of the pages.
type Officials interface {
	// Methods are the ways of signing in offered.
	Methods() SignInMethods
	// SignIn checks the form's credentials and starts a session, returning its token (for
	// SessionCookie); ErrSignInRefused or ErrSignInLocked when refused.
	SignIn(r *http.Request, form SignInForm) (string, error)
	// Session is the official whose live session token is; ErrNoOfficial when there is none.
	Session(ctx context.Context, token string) (commands.Caller, error)
	// SignOut ends the session of token and says where the browser goes next: the sign-in page, or
	// the identity provider's end of session.
	SignOut(r *http.Request, token string) (string, error)
}

// signInView is the sign-in page.
type signInView struct {
	Next    string
	Problem string // a words key
	Methods SignInMethods
	// ProviderURL begins a sign-in at the identity provider, coming back to Next.
	ProviderURL string
	Login       string
}

func (s *Pages) signInView(r *http.Request, next, problem, login string) *signInView {
	v := &signInView{Next: next, Problem: problem, Login: login}
	if s.officials != nil {
		v.Methods = s.officials.Methods()
	}
	v.ProviderURL = ProviderSignInPath + "?next=" + url.QueryEscape(next)
	return v
}

func (s *Pages) signInPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	w.Header().Set("Cache-Control", "no-store")
	problem := ""
	if r.URL.Query().Get("dang-nhap") == "that-bai" {
		problem = "signin.provider_refused"
	}
	s.render(w, r, http.StatusOK, "signin", l.T("signin.title"), s.signInView(r, SafeNext(r.URL.Query().Get("next")), problem, ""))
}

func (s *Pages) signIn(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxSignInBytes)
	form := SignInForm{Login: strings.TrimSpace(r.PostFormValue("login")), Password: r.PostFormValue("password"),
		Token: strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("token")), "Bearer "))}
	next := SafeNext(r.PostFormValue("next"))
	if !sameOrigin(r, s.publicBaseURL) {
		// Another site posting its own credentials would sign this browser in as someone else
		// (login CSRF); browsers say where a form came from.
		s.renderError(w, r, http.StatusForbidden, "error.csrf")
		return
	}
	if s.officials == nil {
		s.render(w, r, http.StatusUnauthorized, "signin", l.T("signin.title"), s.signInView(r, next, "signin.invalid", form.Login))
		return
	}
	token, err := s.officials.SignIn(r, form)
	switch {
	case errors.Is(err, ErrSignInLocked):
		s.render(w, r, http.StatusTooManyRequests, "signin", l.T("signin.title"), s.signInView(r, next, "signin.locked", form.Login))
		return
	case errors.Is(err, ErrSignInRefused):
		problem := "signin.invalid"
		if form.Token == "" {
			problem = "signin.wrong_password"
		}
		s.render(w, r, http.StatusUnauthorized, "signin", l.T("signin.title"), s.signInView(r, next, problem, form.Login))
		return
	case err != nil:
		s.logger.ErrorContext(r.Context(), "official sign-in failed", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	SetSessionCookie(w, r, token)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// sameOrigin tells whether a form post came from a page of this site, as the browser says: its
// Sec-Fetch-Site header (every current browser sends it), else an Origin naming the host the pages
// are served at. The pages' no-referrer policy makes browsers send "Origin: null" with their own
// forms, which tells nothing; a client that sends neither header (an older browser, a script)
// is let through.
func sameOrigin(r *http.Request, publicBaseURL string) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return true
	}
	o, err := url.Parse(origin)
	if err != nil {
		return false
	}
	base, err := url.Parse(httpkit.BaseURL(publicBaseURL, r))
	return err == nil && strings.EqualFold(o.Host, base.Host)
}

// SetSessionCookie gives the browser an official's session token: HttpOnly, SameSite=Strict,
// Secure except on plain http to a loopback address (the laptop demo).
func SetSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: httpkit.SecureCookie(r)})
}

func clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: httpkit.SecureCookie(r)})
}

// signOut ends the session in the database, whatever the browser does with its cookie. A live
// session's sign-out must carry its form's CSRF token; SameSite=Strict keeps the cookie off other
// sites' posts besides.
func (s *Pages) signOut(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	next := SignInPath
	if c, err := r.Cookie(SessionCookie); err == nil && s.officials != nil {
		if _, err := s.officials.Session(r.Context(), c.Value); err == nil {
			r = r.WithContext(context.WithValue(r.Context(), officialKey{}, officialSession{token: c.Value}))
			if !s.pages.validCSRF(r) {
				s.renderError(w, r, http.StatusForbidden, "error.csrf")
				return
			}
		}
		if next, err = s.officials.SignOut(r, c.Value); err != nil {
			s.logger.ErrorContext(r.Context(), "official sign-out failed", "err", err)
			s.renderError(w, r, http.StatusInternalServerError, "error.internal")
			return
		}
	}
	clearSessionCookie(w, r)
	if next == SignInPath {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	// The identity provider's end of session: a page that goes there by itself.
	r = r.WithContext(context.WithValue(r.Context(), officialKey{}, nil))
	l := langOf(w, r)
	v := s.newView(w, r, l.T("signout.title"), &signedOutView{ProviderURL: next})
	v.Refresh = template.HTML(`<meta http-equiv="refresh" content="0; url=` + html.EscapeString(next) + `">`)
	s.renderView(w, r, http.StatusOK, "signedout", v)
}

// signedOutView is the page between motcua's sign-out and the identity provider's.
type signedOutView struct {
	ProviderURL string
}

// SafeNext keeps a post-sign-in redirect on the officials' own pages.
func SafeNext(next string) string {
	if strings.HasPrefix(next, "/can-bo") && !strings.HasPrefix(next, "//") && !strings.HasPrefix(next, "/can-bo/dang-") {
		return next
	}
	return "/can-bo"
}

// requireOfficial admits requests carrying a live official's session, and checks every form post's
// CSRF token; others are sent to sign in.
func (s *Pages) requireOfficial(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, ok := s.signedInOfficial(w, r)
		if !ok {
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
				s.renderError(w, r, http.StatusBadRequest, "error.bad_form")
				return
			}
			if !s.pages.validCSRF(r) {
				s.renderError(w, r, http.StatusForbidden, "error.csrf")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// signedInOfficial is r with the official of its live session, or false once the visitor was sent
// to sign in (or told the sessions cannot be read).
func (s *Pages) signedInOfficial(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	w.Header().Set("Cache-Control", "no-store")
	c, err := r.Cookie(SessionCookie)
	var caller commands.Caller
	if err == nil && s.officials != nil {
		caller, err = s.officials.Session(r.Context(), c.Value)
	} else if err == nil {
		err = ErrNoOfficial
	}
	if err != nil {
		if !errors.Is(err, http.ErrNoCookie) && !errors.Is(err, ErrNoOfficial) {
			s.logger.ErrorContext(r.Context(), "official's session not read", "err", err)
			s.renderError(w, r, http.StatusServiceUnavailable, "error.unavailable")
			return r, false
		}
		http.Redirect(w, r, SignInPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return r, false
	}
	return r.WithContext(context.WithValue(r.Context(), officialKey{}, officialSession{caller: caller, token: c.Value})), true
}
