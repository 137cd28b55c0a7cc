package http

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/golang-jwt/jwt/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/http/session"
	"github.com/motcua/motcua/http/web"
)

// Officials sign in to the pages with a server-side session (http/session, kind Official): through
// the province's identity provider (the OpenID Connect code flow of relying_party.go, claims mapped
// as the API's ID tokens are: OIDCConfig), with a local account's password (the embedded default,
// argon2id hashes: session.Accounts), or with an API bearer token (administrators, tests). The
// browser holds only the session's random token in web.SessionCookie; the pages' calls to the API
// carry the session's official in their context, never as a header (asPageOfficial). Failed
// sign-ins count against the client and the login in the wrong-secret lock-out
// (docs/security.md, "Officials' sign-in").

// OfficialCallbackPath is where the province's identity provider sends officials back.
const OfficialCallbackPath = "/can-bo/dang-nhap/callback"

// OfficialSignInConfig says how officials sign in to the pages.
type OfficialSignInConfig struct {
	// Sessions keeps the officials' sessions and sign-ins in flight (the citizens' store: another kind).
	Sessions *session.Store
	// Provider, when set, signs officials in at the province's identity provider.
	Provider *OfficialProvider
	// Accounts, when set, signs officials in with a local account's password (motcua officials add).
	Accounts *session.Accounts
	// Tokens lets an API bearer token — as the API accepts it — open a page session.
	Tokens bool
}

// OfficialProvider is the province's identity provider as the pages sign officials in at it.
type OfficialProvider struct {
	// OIDCConfig names the issuer, motcua's client id and the claims carrying the official's id,
	// name, roles and agency — the same mapping as the API's ID tokens.
	OIDCConfig
	ClientSecret string
	// RedirectURL is motcua's callback as registered at the provider: its public address followed
	// by OfficialCallbackPath. After a sign-out the provider is asked to send the browser back to
	// the same address followed by the sign-in page's path.
	RedirectURL string
	// Scopes asked for besides openid; "profile" when empty.
	Scopes []string
}

// OfficialSignIn is how officials sign in: the configuration, and the relying party of the
// province's provider found by discovery.
type OfficialSignIn struct {
	cfg     OfficialSignInConfig
	rp      *relyingParty // nil: no identity provider
	mapping OIDCConfig
	// afterLogout is where the provider sends the browser after its end of session.
	afterLogout string
}

// NewOfficialSignIn checks the configuration and, when a provider is configured, reads its
// discovery document.
func NewOfficialSignIn(ctx context.Context, cfg OfficialSignInConfig) (*OfficialSignIn, error) {
	o := &OfficialSignIn{cfg: cfg}
	if cfg.Sessions == nil {
		return nil, errors.New("officials' sign-in: a session store is required")
	}
	if p := cfg.Provider; p != nil {
		o.mapping = p.OIDCConfig.withDefaults()
		scopes := p.Scopes
		if len(scopes) == 0 {
			scopes = []string{"profile"}
		}
		rp, err := newRelyingParty(ctx, relyingPartyConfig{kind: session.Official, callbackPath: OfficialCallbackPath, issuer: p.Issuer,
			clientID: p.ClientID, clientSecret: p.ClientSecret, redirectURL: p.RedirectURL, scopes: scopes, client: p.HTTPClient,
			sessions: cfg.Sessions, what: "officials' sign-in"})
		if err != nil {
			return nil, err
		}
		o.rp, o.afterLogout = rp, strings.TrimSuffix(p.RedirectURL, OfficialCallbackPath)+web.SignInPath
	}
	return o, nil
}

// officialPages is the officials' sign-in as the pages use it (web.Officials), with the server's
// token verifier, lock-outs, clock and logger.
type officialPages struct{ s *Server }

var _ web.Officials = officialPages{}

// officialRoutes mounts the sign-in at the identity provider and its callback (the pages mount the
// sign-in form and the sign-out).
func (s *Server) officialRoutes(r chi.Router) {
	if s.officials == nil || s.officials.rp == nil {
		return
	}
	r.Get(web.ProviderSignInPath, s.officialProviderSignIn)
	r.Get(OfficialCallbackPath, s.officialCallback)
}

func (s *Server) officialProviderSignIn(w http.ResponseWriter, r *http.Request) {
	if err := s.officials.rp.begin(w, r, web.SafeNext(r.URL.Query().Get("next"))); err != nil {
		s.writeError(w, r, err)
	}
}

// officialCallback takes the provider's answer and starts the official's session; a refused
// answer sends a browser back to the sign-in page, which says it failed (the reason is logged).
func (s *Server) officialCallback(w http.ResponseWriter, r *http.Request) {
	token, next, err := s.officialFromProvider(w, r)
	switch {
	case err == nil:
		web.SetSessionCookie(w, r, token)
		http.Redirect(w, r, next, http.StatusSeeOther)
	case !errors.Is(err, errRefused):
		s.writeError(w, r, err)
	default:
		s.logger.WarnContext(r.Context(), "official sign-in refused", "via", "provider", "client", clientKey(r), "err", err)
		if !strings.Contains(r.Header.Get("Accept"), "text/html") {
			s.writeError(w, r, refusal(err))
			return
		}
		http.Redirect(w, r, web.SignInPath+"?"+web.SignInFailedQuery, http.StatusSeeOther)
	}
}

// officialFromProvider checks the provider's answer (relyingParty.finish), maps its claims to the
// official — one motcua role at least, and the agency an agency role needs — and starts the
// session: its token and where the browser goes.
func (s *Server) officialFromProvider(w http.ResponseWriter, r *http.Request) (token, next string, err error) {
	o := s.officials
	ans, err := o.rp.finish(w, r)
	if err != nil {
		return "", "", err
	}
	caller, err := o.mapping.officialOf(ans.claims)
	switch {
	case err != nil:
		return "", "", fmt.Errorf("%w: %v", errRefused, err) // a refusal (401), not the field error it was made of
	case len(caller.Roles) == 0:
		return "", "", fmt.Errorf("%w: the ID token's %q claim names no motcua role", errRefused, o.mapping.RolesClaim)
	}
	if token, err = o.start(r.Context(), caller, "provider", "provider:"+ans.token.Subject, time.Time{}, ans.raw); err != nil {
		return "", "", err
	}
	s.logger.InfoContext(r.Context(), "official signed in", "via", "provider", "official", caller.ID, "subject", ans.token.Subject)
	return token, ans.attempt.Next, nil
}

// The claims an official's session keeps.
const (
	claimID, claimName, claimRoles, claimAgency = "id", "name", "roles", "agency"
	claimVia                                    = "via"       // provider, password or token
	claimNotAfter                               = "not_after" // a token's expiry, which its session does not outlive
	claimIDToken                                = "id_token"  // the provider's ID token: the hint of its end of session
)

// start creates an official's session: who they are, how they signed in, the holder whose sessions
// end together (an account disabled), and for a token its expiry.
func (o *OfficialSignIn) start(ctx context.Context, caller commands.Caller, via, holder string, notAfter time.Time, idToken string) (string, error) {
	roles := make([]string, len(caller.Roles))
	for i, r := range caller.Roles {
		roles[i] = string(r)
	}
	claims := map[string]string{claimID: caller.ID, claimName: caller.Name, claimRoles: strings.Join(roles, " "), claimAgency: caller.Agency, claimVia: via}
	if !notAfter.IsZero() {
		claims[claimNotAfter] = notAfter.UTC().Format(time.RFC3339)
	}
	if idToken != "" {
		claims[claimIDToken] = idToken
	}
	return o.cfg.Sessions.Create(ctx, session.Session{Kind: session.Official, Subject: caller.ID, Holder: holder, Claims: claims})
}

// AccountHolder is the holder of a local account's sessions: disabling the account ends them.
func AccountHolder(login string) string { return "account:" + login }

// Methods are the ways of signing in this deployment offers.
func (o *OfficialSignIn) Methods() web.SignInMethods {
	return web.SignInMethods{Provider: o.rp != nil, Passwords: o.cfg.Accounts != nil, Tokens: o.cfg.Tokens}
}

// Methods are the ways of signing in offered.
func (p officialPages) Methods() web.SignInMethods { return p.s.officials.Methods() }

// SignIn checks a login and password, or an API token, and starts a session. A client or a login
// locked out by earlier failures is refused before anything is checked; each failure counts
// against both and is logged without the password or the token.
func (p officialPages) SignIn(r *http.Request, form web.SignInForm) (string, error) {
	o := p.s.officials
	ctx := r.Context()
	client := "signin:" + clientKey(r)
	login := strings.ToLower(form.Login)
	loginKey := "signin-login:" + login
	// What the log says of the login: not what was typed when it cannot be a login — a password
	// typed in the wrong field.
	logged := login
	if session.CheckLogin(login) != nil {
		logged = "(not a login)"
	}
	if p.s.secrets.lockedFor(ctx, client) > 0 || (form.Token == "" && p.s.secrets.lockedFor(ctx, loginKey) > 0) {
		p.s.logger.WarnContext(ctx, "official sign-in refused", "reason", "locked out", "login", logged, "client", clientKey(r))
		return "", web.ErrSignInLocked
	}
	var caller commands.Caller
	var via, holder, reason string
	var notAfter time.Time
	switch {
	case form.Token != "" && o.cfg.Tokens:
		c, err := p.s.verifier.Verify("Bearer " + form.Token)
		if err != nil {
			reason = err.Error()
			break
		}
		if claims, err := tokenExpiry(form.Token); err == nil {
			notAfter = claims
		}
		caller, via, holder = c, "token", "token:"+c.ID
	case form.Token == "" && form.Login != "" && o.cfg.Accounts != nil:
		acc, err := o.cfg.Accounts.Authenticate(ctx, login, form.Password)
		if errors.Is(err, session.ErrBadCredentials) {
			reason = err.Error()
			break
		}
		if err != nil {
			return "", err
		}
		caller = commands.Caller{ID: acc.ID, Name: acc.Name, Agency: acc.Agency}
		for _, role := range acc.Roles {
			if validRole(commands.Role(role)) {
				caller.Roles = append(caller.Roles, commands.Role(role))
			}
		}
		via, holder = "password", AccountHolder(acc.Login)
	default:
		reason = "no credentials this deployment accepts"
	}
	if reason == "" && len(caller.Roles) == 0 {
		reason = "no motcua role"
	}
	if reason != "" {
		p.s.secrets.fail(ctx, client)
		if form.Token == "" && login != "" {
			p.s.secrets.fail(ctx, loginKey)
		}
		p.s.logger.WarnContext(ctx, "official sign-in refused", "reason", reason, "login", logged, "with_token", form.Token != "", "client", clientKey(r))
		return "", web.ErrSignInRefused
	}
	token, err := o.start(ctx, caller, via, holder, notAfter, "")
	if err != nil {
		return "", err
	}
	p.s.logger.InfoContext(ctx, "official signed in", "via", via, "official", caller.ID, "login", login)
	return token, nil
}

// tokenExpiry reads the expiry of a token the authenticator has just accepted.
func tokenExpiry(raw string) (time.Time, error) {
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &claims); err != nil {
		return time.Time{}, err
	}
	if claims.ExpiresAt == nil {
		return time.Time{}, errors.New("no expiry")
	}
	return claims.ExpiresAt.Time, nil
}

// Session is the official of a live session token.
func (p officialPages) Session(ctx context.Context, token string) (commands.Caller, error) {
	o := p.s.officials
	sess, err := o.cfg.Sessions.Get(ctx, token, session.Official)
	if errors.Is(err, session.ErrNoSession) {
		return commands.Caller{}, web.ErrNoOfficial
	}
	if err != nil {
		return commands.Caller{}, err
	}
	if notAfter := sess.Claims[claimNotAfter]; notAfter != "" {
		if t, err := time.Parse(time.RFC3339, notAfter); err != nil || !p.s.now().Before(t) {
			if err := o.cfg.Sessions.End(ctx, token); err != nil {
				return commands.Caller{}, err
			}
			return commands.Caller{}, web.ErrNoOfficial
		}
	}
	caller := commands.Caller{ID: sess.Claims[claimID], Name: sess.Claims[claimName], Agency: sess.Claims[claimAgency]}
	for _, role := range strings.Fields(sess.Claims[claimRoles]) {
		caller.Roles = append(caller.Roles, commands.Role(role))
	}
	return caller, nil
}

// SignOut ends the session; a session begun at the identity provider goes on to the provider's end
// of session, so the next sign-in on a shared office computer asks for the account again.
func (p officialPages) SignOut(r *http.Request, token string) (string, error) {
	o := p.s.officials
	ctx := r.Context()
	next := web.SignInPath
	if sess, err := o.cfg.Sessions.Get(ctx, token, session.Official); err == nil {
		if o.rp != nil && sess.Claims[claimVia] == "provider" {
			if logout := o.rp.logoutURL(sess.Claims[claimIDToken], o.afterLogout); logout != "" {
				next = logout
			}
		}
		p.s.logger.InfoContext(ctx, "official signed out", "official", sess.Claims[claimID], "via", sess.Claims[claimVia])
	} else if !errors.Is(err, session.ErrNoSession) {
		return "", err
	}
	return next, o.cfg.Sessions.End(ctx, token)
}

// pageOfficialKey carries, in the context of a call the pages make to the API, the official the
// page's session stands for. Only this process can put it there: no header or cookie a client
// sends is taken for it.
type pageOfficialKey struct{}

func asPageOfficial(ctx context.Context, page *http.Request) context.Context {
	if caller, ok := web.Official(page); ok {
		return context.WithValue(ctx, pageOfficialKey{}, caller)
	}
	return ctx
}

func pageOfficialOf(r *http.Request) (commands.Caller, bool) {
	caller, ok := r.Context().Value(pageOfficialKey{}).(commands.Caller)
	return caller, ok
}

// officialsOrDefault is the officials' sign-in configured, or, when none is, API tokens opening
// sessions kept in the read database (tests, and callers that configure nothing).
func officialsOrDefault(configured *OfficialSignIn, readDB *sql.DB) *OfficialSignIn {
	if configured != nil || readDB == nil {
		return configured
	}
	dialect := engine.SQLite
	if isPostgresDB(readDB) {
		dialect = engine.PostgreSQL
	}
	sessions, err := session.New(readDB, dialect, session.DefaultTimeouts)
	if err != nil { // the default timeouts and a dialect named here: cannot fail
		panic(err)
	}
	return &OfficialSignIn{cfg: OfficialSignInConfig{Sessions: sessions, Tokens: true}}
}

// pageOfficials is what the pages sign officials in with; nil when no official can sign in.
func (s *Server) pageOfficials() web.Officials {
	if s.officials == nil {
		return nil
	}
	return officialPages{s}
}
