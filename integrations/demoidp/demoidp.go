// Package demoidp is a real OpenID Connect provider, in-process, standing in for the national
// identity provider (VNeID) in `motcua serve --demo` and in the tests: the protocol is
// github.com/zitadel/oidc/v3's OP package (discovery, authorization code flow with PKCE, token,
// userinfo and key endpoints, signed RS256 ID tokens); this package keeps its clients and people in
// memory and offers a one-click sign-in page instead of a password or the VNeID app. Nothing here
// mints a token by hand: motcua signs citizens in against it exactly as against VNeID, through
// discovery and the code flow.
//
// It knows nothing of motcua: the people, their claims and the clients are given by the caller, so
// the officials' sign-in can register its own client and officials (with their roles and agency as
// extra claims) on the same provider.
package demoidp

import (
	"crypto/rand"
	"crypto/rsa"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Person is someone who may sign in.
type Person struct {
	Subject  string // the provider's stable identifier of the person
	Name     string
	IDNumber string // the 12-digit personal identification number (số định danh cá nhân)
	Phone    string
	Email    string
	// Claims are more claims of the ID token (an official's roles and agency).
	Claims map[string]any
	// About says who they are on the sign-in page (an official's role and agency), beside the
	// identification number, phone and e-mail.
	About string
	// Clients are the relying parties the person may sign in to; any when empty. The demo's
	// citizens sign in to motcua's citizens' client only and its officials to the officials'
	// client only, so the sign-in page of one lists none of the other's.
	Clients []string
}

// mayUse tells whether the person may sign in to the client.
func (p Person) mayUse(clientID string) bool {
	return len(p.Clients) == 0 || slices.Contains(p.Clients, clientID)
}

// Client is a relying party registered at the provider.
type Client struct {
	ID, Secret             string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
}

// Config describes the provider.
type Config struct {
	// Issuer is the provider's URL as browsers and relying parties reach it, e.g.
	// http://localhost:8081; http is accepted (a demo).
	Issuer  string
	Clients []Client
	People  []Person
	// IDClaim names the claim carrying the identification number; "identification_number" when empty.
	IDClaim string
}

// DefaultIDClaim is the claim the demo provider puts the identification number in.
const DefaultIDClaim = "identification_number"

// Provider is the running provider: an http.Handler serving the issuer's paths.
type Provider struct {
	handler http.Handler
	people  []Person
	issuer  string
}

const loginPath = "/dang-nhap"

//go:embed login.html
var files embed.FS

var loginPage = template.Must(template.ParseFS(files, "login.html"))

// New builds the provider. Its signing key is new at every start: relying parties fetch it
// through discovery.
func New(cfg Config) (*Provider, error) {
	if cfg.Issuer == "" || len(cfg.Clients) == 0 || len(cfg.People) == 0 {
		return nil, errors.New("demoidp: an issuer, a client and a person are required")
	}
	if cfg.IDClaim == "" {
		cfg.IDClaim = DefaultIDClaim
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	s := &storage{clients: map[string]Client{}, people: map[string]Person{}, idClaim: cfg.IDClaim,
		key: signingKey{id: uuid.NewString(), key: key}, requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]accessToken{}}
	for _, c := range cfg.Clients {
		s.clients[c.ID] = c
	}
	for _, p := range cfg.People {
		s.people[p.Subject] = p
	}
	var cryptoKey [32]byte
	_, _ = rand.Read(cryptoKey[:])
	provider, err := op.NewProvider(&op.Config{
		CryptoKey: cryptoKey, CodeMethodS256: true, AuthMethodPost: true,
		SupportedUILocales: []language.Tag{language.Vietnamese, language.English},
	}, s, op.StaticIssuer(strings.TrimSuffix(cfg.Issuer, "/")), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("demoidp: %w", err)
	}
	mux := http.NewServeMux()
	callback := op.AuthCallbackURL(provider)
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux.HandleFunc("GET "+loginPath, func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		req, err := s.request(id)
		if err != nil {
			http.Error(w, "Phiên đăng nhập đã hết hạn — this sign-in has expired; start again from motcua.", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// No form-action: browsers apply it to the redirects back to the relying party too.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		var people []Person
		for _, p := range cfg.People {
			if p.mayUse(req.clientID) {
				people = append(people, p)
			}
		}
		_ = loginPage.Execute(w, map[string]any{"ID": id, "People": people})
	})
	mux.Handle("POST "+loginPath, interceptor.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PostFormValue("id")
		if err := s.signIn(id, r.PostFormValue("subject")); err != nil {
			http.Error(w, "Không đăng nhập được — cannot sign in: unknown person or expired sign-in.", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	}))
	mux.Handle("/", provider)
	return &Provider{handler: mux, people: cfg.People, issuer: cfg.Issuer}, nil
}

// ServeHTTP serves the provider's endpoints and its sign-in page.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// People are those who may sign in.
func (p *Provider) People() []Person { return p.people }

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.issuer }
