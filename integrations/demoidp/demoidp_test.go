package demoidp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/motcua/motcua/integrations/demoidp"
)

func newProvider(t *testing.T) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	p, err := demoidp.New(demoidp.Config{Issuer: issuer,
		Clients: []demoidp.Client{{ID: "rp", Secret: "s", RedirectURIs: []string{"http://127.0.0.1:1/cb"}}},
		People:  []demoidp.Person{{Subject: "p1", Name: "Nguyễn Văn An", IDNumber: "038012345678"}}})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = p
	ts.Start()
	t.Cleanup(ts.Close)
	return issuer
}

// The provider publishes a discovery document for its issuer, with S256 PKCE and the code flow.
func TestDiscovery(t *testing.T) {
	issuer := newProvider(t)
	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer     string   `json:"issuer"`
		Methods    []string `json:"code_challenge_methods_supported"`
		Responses  []string `json:"response_types_supported"`
		Authorize  string   `json:"authorization_endpoint"`
		JWKSURI    string   `json:"jwks_uri"`
		TokenPoint string   `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Issuer != issuer || len(doc.Methods) == 0 || doc.Methods[0] != "S256" || doc.Authorize == "" || doc.JWKSURI == "" || doc.TokenPoint == "" {
		t.Fatalf("discovery: %+v", doc)
	}
}

// Like the national provider, it refuses a code flow without PKCE (S256): the browser goes back
// to the relying party with invalid_request, never to the sign-in page.
func TestACodeFlowWithoutPKCEIsRefused(t *testing.T) {
	issuer := newProvider(t)
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	query := url.Values{"client_id": {"rp"}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"st"}, "nonce": {"n"}}
	for name, extra := range map[string]url.Values{
		"no challenge": {},
		"plain":        {"code_challenge": {"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq"}, "code_challenge_method": {"plain"}},
		"S256":         {"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}},
	} {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		for k, v := range extra {
			q[k] = v
		}
		resp, err := noRedirects.Get(issuer + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		location, _ := url.Parse(resp.Header.Get("Location"))
		refused := location != nil && location.Query().Get("error") == "invalid_request"
		if refused != (name != "S256") {
			t.Errorf("%s: answered %d, Location %s", name, resp.StatusCode, location)
		}
	}
}

// A person restricted to one client is neither listed to nor signed in at another: the demo's
// citizens never appear on the officials' sign-in page, nor its officials on the citizens'.
func TestPeopleSignInToTheirOwnClientsOnly(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	p, err := demoidp.New(demoidp.Config{Issuer: issuer,
		Clients: []demoidp.Client{{ID: "citizens", Secret: "s", RedirectURIs: []string{"http://127.0.0.1:1/cb"}},
			{ID: "officials", Secret: "s", RedirectURIs: []string{"http://127.0.0.1:1/can-bo/cb"}}},
		People: []demoidp.Person{{Subject: "an", Name: "Nguyễn Văn An", IDNumber: "038012345678", Clients: []string{"citizens"}},
			{Subject: "hoa", Name: "Lê Thị Hoa", About: "reception · 000.00.00.H56", Clients: []string{"officials"}}}})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = p
	ts.Start()
	t.Cleanup(ts.Close)
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for client, redirect := range map[string]string{"citizens": "http://127.0.0.1:1/cb", "officials": "http://127.0.0.1:1/can-bo/cb"} {
		q := url.Values{"client_id": {client}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid profile"}, "state": {"st"},
			"nonce": {"n"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
		resp, err := noRedirects.Get(issuer + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		login, _ := url.Parse(issuer + resp.Header.Get("Location"))
		page, err := http.Get(login.String())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(page.Body)
		page.Body.Close()
		own, other := "Nguyễn Văn An", "Lê Thị Hoa"
		if client == "officials" {
			own, other = other, own
		}
		if !strings.Contains(string(body), own) || strings.Contains(string(body), other) {
			t.Errorf("%s' sign-in page lists:\n%s", client, body)
		}
		otherSubject := map[string]string{"citizens": "hoa", "officials": "an"}[client]
		resp, err = noRedirects.PostForm(issuer+"/dang-nhap", url.Values{"id": {login.Query().Get("id")}, "subject": {otherSubject}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: the other client's person signed in: %d", client, resp.StatusCode)
		}
	}
}
