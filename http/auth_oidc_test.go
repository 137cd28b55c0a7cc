package http_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	mhttp "github.com/motcua/motcua/http"
)

// identityProvider is a real OpenID Connect provider in the test process: it serves discovery and
// its JSON Web Key Set over HTTP and signs ID tokens with RSA keys it can rotate.
type identityProvider struct {
	t      *testing.T
	server *httptest.Server
	mu     sync.Mutex
	keys   map[string]*rsa.PrivateKey // by kid, all published
	signer string                     // kid signing new tokens
	hits   int                        // JWKS fetches
}

func newIdentityProvider(t *testing.T) *identityProvider {
	t.Helper()
	p := &identityProvider{t: t, keys: map[string]*rsa.PrivateKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.server.URL, "jwks_uri": p.server.URL + "/jwks",
			"authorization_endpoint": p.server.URL + "/auth", "token_endpoint": p.server.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.hits++
		var keys []map[string]string
		for kid, key := range p.keys {
			keys = append(keys, map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
				"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	p.server = httptest.NewServer(mux)
	t.Cleanup(p.server.Close)
	p.rotate()
	return p
}

// rotate publishes a new key and signs with it from now on.
func (p *identityProvider) rotate() {
	p.t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	kid := "key-" + string(rune('a'+len(p.keys)))
	p.keys[kid], p.signer = key, kid
}

// idToken signs claims over the standard ones (this provider's iss, the given audience, one hour).
func (p *identityProvider) idToken(audience string, now time.Time, claims map[string]any) string {
	p.t.Helper()
	all := jwt.MapClaims{"iss": p.server.URL, "aud": audience, "sub": "u-1001", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range claims {
		all[k] = v
	}
	p.mu.Lock()
	kid, key := p.signer, p.keys[p.signer]
	p.mu.Unlock()
	token := jwt.NewWithClaims(jwt.SigningMethodRS256, all)
	token.Header["kid"] = kid
	signed, err := token.SignedString(key)
	if err != nil {
		p.t.Fatal(err)
	}
	return signed
}

const clientID = "motcua-thanhhoa"

func TestOIDCTokensMapToOfficials(t *testing.T) {
	idp := newIdentityProvider(t)
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	verifier, err := mhttp.NewOIDCVerifier(context.Background(), mhttp.OIDCConfig{
		Issuer: idp.server.URL, ClientID: clientID, NameClaim: "name",
		RolesClaim: "resource_access.motcua.roles", AgencyClaim: "https://motcua.vn/agency", RolePrefix: "motcua:",
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	withRoles := func(roles any) map[string]any {
		return map[string]any{"name": "Lê Thị Tiếp", "https://motcua.vn/agency": centre,
			"resource_access": map[string]any{"motcua": map[string]any{"roles": roles}, "other-app": map[string]any{"roles": []string{"motcua:admin"}}}}
	}

	caller, err := verifier.Verify("Bearer " + idp.idToken(clientID, now, withRoles([]string{"motcua:reception", "motcua:cashier", "motcua:superuser", "admin"})))
	if err != nil {
		t.Fatal(err)
	}
	want := commands.Caller{ID: "u-1001", Name: "Lê Thị Tiếp", Agency: centre, Roles: []commands.Role{commands.RoleReception, commands.RoleCashier}}
	if caller.ID != want.ID || caller.Name != want.Name || caller.Agency != want.Agency || strings.Join(rolesOf(caller), ",") != "reception,cashier" {
		t.Fatalf("caller %+v, want %+v (unknown and unprefixed roles and other applications' roles dropped)", caller, want)
	}
	// A space-separated string of roles is read too.
	if caller, err := verifier.Verify("Bearer " + idp.idToken(clientID, now, withRoles("motcua:head motcua:signer"))); err != nil || strings.Join(rolesOf(caller), ",") != "head,signer" {
		t.Fatalf("roles from a string: %+v, %v", caller, err)
	}

	// Signing keys rotate: a token signed by the new key is accepted after a fresh key fetch.
	idp.rotate()
	if _, err := verifier.Verify("Bearer " + idp.idToken(clientID, now, withRoles([]string{"motcua:head"}))); err != nil {
		t.Fatalf("after key rotation: %v", err)
	}

	stranger := newIdentityProvider(t) // another provider, with its own keys
	refused := map[string]string{
		"another audience": idp.idToken("some-other-client", now, withRoles([]string{"motcua:admin"})),
		"expired":          idp.idToken(clientID, now.Add(-2*time.Hour), withRoles([]string{"motcua:admin"})),
		"another issuer":   stranger.idToken(clientID, now, withRoles([]string{"motcua:admin"})),
		"bad agency":       idp.idToken(clientID, now, map[string]any{"https://motcua.vn/agency": "Sở Xây dựng", "resource_access": withRoles([]string{"motcua:head"})["resource_access"]}),
		"tampered":         tamper(idp.idToken(clientID, now, withRoles([]string{"motcua:reception"}))),
		"a local token":    localToken(t),
	}
	for name, token := range refused {
		if caller, err := verifier.Verify("Bearer " + token); err == nil {
			t.Errorf("%s: accepted as %+v", name, caller)
		}
	}
}

func rolesOf(c commands.Caller) []string {
	out := make([]string, len(c.Roles))
	for i, r := range c.Roles {
		out[i] = string(r)
	}
	return out
}

// tamper raises the token's privileges without re-signing it.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), "motcua:reception", "motcua:admin", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

func localToken(t *testing.T) string {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	token, err := mhttp.MintToken(key, commands.Caller{ID: "quantri", Name: "Quản trị", Roles: []commands.Role{commands.RoleAdmin}}, time.Hour, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// Through the router: officials signed in at the identity provider act within their roles and
// agency; a deployment may keep local tokens beside OIDC (Authenticators) for a break-glass admin.
func TestOIDCThroughTheRouter(t *testing.T) {
	idp := newIdentityProvider(t)
	e := newSecureEnv(t, func(cfg *mhttp.Config) {
		testNow := func() time.Time { return time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime) }
		verifier, err := mhttp.NewOIDCVerifier(context.Background(), mhttp.OIDCConfig{Issuer: idp.server.URL, ClientID: clientID, Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		local := cfg.Tokens
		local.Now = testNow
		cfg.Authenticator = mhttp.Authenticators{verifier, local}
	})
	now := e.clock.Now()
	reception := idp.idToken(clientID, now, map[string]any{"name": "Lê Thị Tiếp", "roles": []string{"reception"}, "agency": centre})
	created := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated)
	code := created.body["code"].(string)
	history := e.expect(e.do("GET", "/api/v1/dossiers/"+code+"/events", reception, nil), http.StatusOK)
	actor := history.body["events"].([]any)[0].(map[string]any)["actor"].(map[string]any)
	if actor["id"] != "u-1001" || actor["name"] != "Lê Thị Tiếp" || actor["role"] != "reception" || actor["agency"] != centre {
		t.Fatalf("the event's actor is %v, want the signed-in official", actor)
	}
	outsider := idp.idToken(clientID, now, map[string]any{"name": "Cán bộ khác", "roles": []string{"head"}, "agency": land})
	e.expect(e.do("GET", "/api/v1/dossiers/"+code, outsider, nil), http.StatusForbidden)
	noRoles := idp.idToken(clientID, now, map[string]any{"name": "Khách", "agency": centre})
	e.expect(e.do("POST", "/api/v1/dossiers", noRoles, validReceipt()), http.StatusForbidden)
	e.expect(e.do("POST", "/api/v1/dossiers", idp.idToken("another-client", now, map[string]any{"roles": []string{"admin"}}), validReceipt()), http.StatusUnauthorized)
	// The break-glass local token still works beside OIDC.
	e.expect(e.do("GET", "/api/v1/dossiers/"+code, e.token("quantri", "", commands.RoleAdmin), nil), http.StatusOK)
}

// With only OIDC configured, a token minted with the local key is refused.
func TestOIDCAloneRefusesLocalTokens(t *testing.T) {
	idp := newIdentityProvider(t)
	e := newSecureEnv(t, func(cfg *mhttp.Config) {
		verifier, err := mhttp.NewOIDCVerifier(context.Background(), mhttp.OIDCConfig{Issuer: idp.server.URL, ClientID: clientID})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Authenticator = verifier
	})
	e.expect(e.do("POST", "/api/v1/dossiers", e.token("quantri", centre, commands.RoleAdmin, commands.RoleReception), validReceipt()), http.StatusUnauthorized)
	if n := e.eventCount(); n != 0 {
		t.Fatalf("%d events written", n)
	}
}

func TestOIDCDiscoveryFailureStopsStartUp(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	if _, err := mhttp.NewOIDCVerifier(context.Background(), mhttp.OIDCConfig{Issuer: down.URL, ClientID: clientID}); err == nil {
		t.Fatal("a provider that cannot be reached was accepted")
	}
	if _, err := mhttp.NewOIDCVerifier(context.Background(), mhttp.OIDCConfig{Issuer: "https://sso.example.vn"}); err == nil {
		t.Fatal("no client id was accepted")
	}
}

// An identity provider that leaves out the agency claim of an official holding an agency role
// signs nobody in: the token is refused at the API and at the pages' sign-in, so the official
// never reaches a page. Inspectors and admins work province-wide and need no agency.
func TestOIDCRefusesAgencyRolesWithoutAnAgency(t *testing.T) {
	idp := newIdentityProvider(t)
	e := newSecureEnv(t, func(cfg *mhttp.Config) {
		testNow := func() time.Time { return time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime) }
		verifier, err := mhttp.NewOIDCVerifier(context.Background(), mhttp.OIDCConfig{Issuer: idp.server.URL, ClientID: clientID, Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Authenticator = verifier
	})
	now := e.clock.Now()
	for name, claims := range map[string]map[string]any{
		"reception, no agency claim":    {"roles": []string{"reception"}},
		"specialist, an empty agency":   {"roles": []string{"specialist"}, "agency": ""},
		"head and inspector, no agency": {"roles": []string{"head", "inspector"}},
		"cashier, an agency of spaces":  {"roles": "cashier", "agency": "   "},
	} {
		token := idp.idToken(clientID, now, claims)
		e.expect(e.do("GET", "/api/v1/reports/resolution", token, nil), http.StatusUnauthorized)
		resp, err := noRedirects.PostForm(e.url+"/can-bo/dang-nhap", url.Values{"token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) > 0 {
			t.Errorf("%s: page sign-in answered %d, setting %v", name, resp.StatusCode, resp.Cookies())
		}
	}
	inspector := idp.idToken(clientID, now, map[string]any{"name": "Thanh tra", "roles": []string{"inspector"}})
	if r := e.expect(e.do("GET", "/api/v1/reports/resolution", inspector, nil), http.StatusOK); r.body["agency"] != nil {
		t.Fatalf("an inspector of no agency reads %v, want every agency", r.body["agency"])
	}
	e.expect(e.do("GET", "/api/v1/reports/resolution", idp.idToken(clientID, now, map[string]any{"roles": []string{"head"}, "agency": building}), nil), http.StatusOK)
}
