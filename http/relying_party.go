package http

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/http/session"
)

// relyingParty is the OpenID Connect authorization code flow with PKCE (S256), state and nonce,
// as both kinds of account sign in: citizens at VNeID (citizens.go), officials at the province's
// provider (officials.go). Each has its own client, callback path and session kind; the attempt in
// flight lives server-side (http/session) and its state also in a short-lived cookie limited to the
// callback's path, so an answer is accepted only in the browser that asked, once.
type relyingParty struct {
	kind         session.Kind
	callbackPath string
	oauth        oauth2.Config
	verifier     *oidc.IDTokenVerifier
	sessions     *session.Store
	client       *http.Client // for discovery, keys and the token endpoint
	ctx          context.Context
	// endSession is the provider's end_session_endpoint (RP-initiated logout), when it has one.
	endSession string
}

// relyingPartyConfig is what a relying party needs to know of its provider and itself.
type relyingPartyConfig struct {
	kind             session.Kind
	callbackPath     string
	issuer, clientID string
	clientSecret     string
	redirectURL      string
	scopes           []string
	client           *http.Client // http.DefaultClient when nil
	sessions         *session.Store
	what             string // "citizens' sign-in", for errors
}

// newRelyingParty reads the provider's discovery document and checks the configuration.
func newRelyingParty(ctx context.Context, cfg relyingPartyConfig) (*relyingParty, error) {
	switch {
	case cfg.issuer == "" || cfg.clientID == "" || cfg.redirectURL == "":
		return nil, fmt.Errorf("%s: the issuer, the client id and the redirect URL are all required", cfg.what)
	case cfg.sessions == nil:
		return nil, fmt.Errorf("%s: a session store is required", cfg.what)
	}
	redirect, err := url.Parse(cfg.redirectURL)
	if err != nil || redirect.Host == "" || redirect.Path != cfg.callbackPath {
		return nil, fmt.Errorf("%s: the redirect URL %q must be motcua's absolute address followed by %s", cfg.what, cfg.redirectURL, cfg.callbackPath)
	}
	client := cfg.client
	if client == nil {
		client = http.DefaultClient
	}
	// Key fetches outlive the start-up context: they follow the provider's key rotation.
	keyCtx := oidc.ClientContext(context.WithoutCancel(ctx), client)
	discoverCtx, cancel := context.WithTimeout(keyCtx, 30*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(discoverCtx, cfg.issuer)
	if err != nil {
		return nil, fmt.Errorf("%s: discovery at %s: %w", cfg.what, cfg.issuer, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = provider.Claims(&extra) // an optional member: absent, there is no RP-initiated logout
	return &relyingParty{kind: cfg.kind, callbackPath: cfg.callbackPath, sessions: cfg.sessions, client: client, ctx: keyCtx, endSession: extra.EndSession,
		oauth: oauth2.Config{ClientID: cfg.clientID, ClientSecret: cfg.clientSecret, Endpoint: provider.Endpoint(),
			RedirectURL: cfg.redirectURL, Scopes: append([]string{oidc.ScopeOpenID}, cfg.scopes...)},
		verifier: provider.VerifierContext(keyCtx, &oidc.Config{ClientID: cfg.clientID})}, nil
}

// begin starts a sign-in: a new state, nonce and PKCE verifier kept server-side, the state also in
// a short-lived cookie so the answer is accepted only in the browser that asked; the browser is
// sent to the provider.
func (rp *relyingParty) begin(w http.ResponseWriter, r *http.Request, next string) error {
	nonce, verifier := session.RandomToken(), oauth2.GenerateVerifier()
	state, err := rp.sessions.Begin(r.Context(), session.Attempt{Kind: rp.kind, Nonce: nonce, Verifier: verifier, Next: next})
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: attemptCookie, Value: state, Path: rp.callbackPath, MaxAge: int(rp.sessions.Timeouts().Attempt.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: httpkit.SecureCookie(r)})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, rp.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusSeeOther)
	return nil
}

// answer is a provider's answer the callback accepted.
type answer struct {
	token   *oidc.IDToken
	raw     string // the ID token as the provider signed it (the hint of an RP-initiated logout)
	claims  map[string]any
	attempt session.Attempt
}

// errRefused marks a refused answer (the caller tells the browser it failed); any other error is
// the server's own failure.
var errRefused = errors.New("sign-in refused")

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errRefused, fmt.Sprintf(format, args...))
}

// finish takes the provider's answer: the state must be this browser's and unused, the code is
// exchanged with the PKCE verifier, the ID token must be signed by the provider, for us, unexpired
// and carry our nonce. A refused answer is an error wrapping errRefused; it leaves no session.
func (rp *relyingParty) finish(w http.ResponseWriter, r *http.Request) (answer, error) {
	ctx := r.Context()
	q := r.URL.Query()
	http.SetCookie(w, &http.Cookie{Name: attemptCookie, Value: "", Path: rp.callbackPath, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: httpkit.SecureCookie(r)})
	w.Header().Set("Cache-Control", "no-store")
	state := q.Get("state")
	cookie, err := r.Cookie(attemptCookie)
	if state == "" || err != nil || subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(state)) != 1 {
		return answer{}, fmt.Errorf("%w: %w", errRefused, invalid("state", "is not the sign-in this browser began; start again"))
	}
	attempt, err := rp.sessions.Take(ctx, state)
	if errors.Is(err, session.ErrNoAttempt) || (err == nil && attempt.Kind != rp.kind) {
		return answer{}, fmt.Errorf("%w: %w", errRefused, invalid("state", "is unknown, used already or expired; start again"))
	}
	if err != nil {
		return answer{}, err
	}
	if e := q.Get("error"); e != "" {
		return answer{attempt: attempt}, refused("the identity provider refused the sign-in: %s", e)
	}
	token, err := rp.oauth.Exchange(oidc.ClientContext(ctx, rp.client), q.Get("code"), oauth2.VerifierOption(attempt.Verifier))
	if err != nil {
		return answer{attempt: attempt}, refused("the identity provider did not accept the code: %v", err)
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return answer{attempt: attempt}, refused("the identity provider returned no ID token")
	}
	idToken, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		return answer{attempt: attempt}, refused("invalid ID token: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(attempt.Nonce)) != 1 {
		return answer{attempt: attempt}, refused("the ID token's nonce is not this sign-in's")
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		return answer{attempt: attempt}, refused("invalid ID token: %v", err)
	}
	return answer{token: idToken, raw: raw, claims: claims, attempt: attempt}, nil
}

// refusal is the problem a refused sign-in answers an API client with: the field at fault when
// the state was, else unauthorized.
func refusal(err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return de
	}
	return domain.Errorf(domain.EUNAUTHORIZED, "%s", err.Error())
}

// logoutURL is the provider's end of session for an ID token it issued, coming back to after; ""
// when the provider offers none.
func (rp *relyingParty) logoutURL(idToken, after string) string {
	if rp.endSession == "" {
		return ""
	}
	q := url.Values{"client_id": {rp.oauth.ClientID}, "post_logout_redirect_uri": {after}}
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	return rp.endSession + "?" + q.Encode()
}
