package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	mhttp "github.com/motcua/motcua/http"
)

func parseSignIn(t *testing.T, args ...string) *signInOptions {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := addSignInFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestSignInFlags(t *testing.T) {
	ctx := context.Background()
	if a, err := parseSignIn(t).authenticator(ctx, mhttp.TokenVerifier{}); a != nil || err != nil {
		t.Fatalf("without OIDC: %v, %v; want local tokens alone (nil)", a, err)
	}
	if _, err := parseSignIn(t, "--oidc-client-id", "motcua").authenticator(ctx, mhttp.TokenVerifier{}); err == nil {
		t.Fatal("a client id without an issuer was accepted")
	}
	var provider *httptest.Server
	provider = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": provider.URL, "jwks_uri": provider.URL + "/jwks",
			"authorization_endpoint": provider.URL + "/auth", "id_token_signing_alg_values_supported": []string{"RS256"}})
	}))
	defer provider.Close()
	oidcOnly, err := parseSignIn(t, "--oidc-issuer", provider.URL, "--oidc-client-id", "motcua").authenticator(ctx, mhttp.TokenVerifier{})
	if _, ok := oidcOnly.(*mhttp.OIDCVerifier); !ok || err != nil {
		t.Fatalf("OIDC alone: %T, %v", oidcOnly, err)
	}
	both, err := parseSignIn(t, "--oidc-issuer", provider.URL, "--oidc-client-id", "motcua", "--local-tokens").authenticator(ctx, mhttp.TokenVerifier{})
	if list, ok := both.(mhttp.Authenticators); !ok || len(list) != 2 || err != nil {
		t.Fatalf("OIDC and local tokens: %T, %v", both, err)
	}

	if got, err := parseSignIn(t, "--trusted-proxies", "10.0.0.0/8, ::1/128").proxies(); err != nil || len(got) != 2 {
		t.Fatalf("proxies %v, %v", got, err)
	}
	if _, err := parseSignIn(t, "--trusted-proxies", "10.0.0.1").proxies(); err == nil {
		t.Fatal("an address without a prefix length was accepted as a trusted proxy range")
	}
}
