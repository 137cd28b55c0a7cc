package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

// Authenticator turns an Authorization header into the official it stands for: local tokens
// (TokenVerifier) for development, tests and the demo, the province's identity provider (OIDC) in
// production.
type Authenticator interface {
	Verify(authorization string) (commands.Caller, error)
}

// TokenVerifier is an Authenticator.
var _ Authenticator = TokenVerifier{}

// Authenticators accepts a token that any of its members accepts, tried in order — e.g. the
// identity provider's tokens and, for a break-glass administrator, local ones.
type Authenticators []Authenticator

// Verify returns the caller of the first member that accepts the token.
func (as Authenticators) Verify(authorization string) (commands.Caller, error) {
	errs := make([]error, 0, len(as))
	for _, a := range as {
		caller, err := a.Verify(authorization)
		if err == nil {
			return caller, nil
		}
		if errors.Is(err, errNoToken) {
			return commands.Caller{}, err
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return commands.Caller{}, errNoToken
	}
	return commands.Caller{}, errors.Join(errs...)
}

// OIDCConfig says how to trust an OpenID Connect provider and read officials from its ID tokens.
// The claim names are paths: "roles", or "realm_access.roles" for a claim nested in an object (a
// claim whose own name holds dots, like "https://motcua.vn/roles", is found first).
type OIDCConfig struct {
	Issuer      string // the provider's issuer URL; its discovery document is read from Issuer + "/.well-known/openid-configuration"
	ClientID    string // the audience every accepted token must carry
	IDClaim     string // the official's identifier recorded as the actor of events; "sub" when empty
	NameClaim   string // display name; "name" when empty
	RolesClaim  string // motcua roles, a list or a space- or comma-separated string; "roles" when empty
	AgencyClaim string // QCVN 102 identifier of the official's agency; "agency" when empty
	// RolePrefix is stripped from role values before they are matched, for providers whose roles
	// are shared with other applications ("motcua:reception"). Values without it are ignored.
	RolePrefix string
	HTTPClient *http.Client     // for discovery and signing keys; http.DefaultClient when nil
	Now        func() time.Time // the clock for expiry; time.Now when nil
}

// OIDCVerifier accepts ID tokens signed by an OpenID Connect provider.
type OIDCVerifier struct {
	cfg      OIDCConfig
	verifier *oidc.IDTokenVerifier
	ctx      context.Context // for fetching rotated signing keys, long after start-up
}

// NewOIDCVerifier reads the provider's discovery document; its signing keys are fetched when a
// token needs them and again whenever the provider rotates them.
func NewOIDCVerifier(ctx context.Context, cfg OIDCConfig) (*OIDCVerifier, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, errors.New("oidc: the issuer and the client id are both required")
	}
	cfg = cfg.withDefaults()
	// Key fetches outlive the start-up context: they follow the provider's key rotation.
	keyCtx := context.WithoutCancel(ctx)
	if cfg.HTTPClient != nil {
		keyCtx = oidc.ClientContext(keyCtx, cfg.HTTPClient)
	}
	discoverCtx, cancel := context.WithTimeout(keyCtx, 30*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(discoverCtx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovery at %s: %w", cfg.Issuer, err)
	}
	verifier := provider.VerifierContext(keyCtx, &oidc.Config{ClientID: cfg.ClientID, Now: cfg.Now})
	return &OIDCVerifier{cfg: cfg, verifier: verifier, ctx: keyCtx}, nil
}

func setDefault(s *string, value string) {
	if *s == "" {
		*s = value
	}
}

// Verify checks the token's signature, issuer, audience and expiry, then maps its claims to the
// caller. Unknown roles are ignored (the provider may hold roles of other applications). An agency
// that is not a QCVN 102 identifier refuses the token, since every agency check would fail on it;
// so does a missing agency claim for an official holding an agency role (commands.AgencyRoles):
// a provider that forgot the claim must not sign in officials who belong nowhere.
func (v *OIDCVerifier) Verify(authorization string) (commands.Caller, error) {
	raw, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || raw == "" {
		return commands.Caller{}, errNoToken
	}
	ctx, cancel := context.WithTimeout(v.ctx, 10*time.Second)
	defer cancel()
	token, err := v.verifier.Verify(ctx, raw)
	if err != nil {
		return commands.Caller{}, fmt.Errorf("invalid token: %w", err)
	}
	var claims map[string]any
	if err := token.Claims(&claims); err != nil {
		return commands.Caller{}, fmt.Errorf("invalid token: %w", err)
	}
	caller, err := v.cfg.officialOf(claims)
	if err != nil {
		return commands.Caller{}, fmt.Errorf("invalid token: %w", err)
	}
	return caller, nil
}

// officialOf maps a provider's claims to the official they stand for, as the API's bearer tokens
// and the pages' sign-in (officials.go) both read them. Unknown roles are ignored; an agency that
// is not a QCVN 102 identifier, or none for an official holding an agency role, is an error.
func (cfg OIDCConfig) officialOf(claims map[string]any) (commands.Caller, error) {
	caller := commands.Caller{ID: claimString(claims, cfg.IDClaim), Name: claimString(claims, cfg.NameClaim), Agency: claimString(claims, cfg.AgencyClaim)}
	if caller.ID == "" {
		return commands.Caller{}, fmt.Errorf("no %q claim", cfg.IDClaim)
	}
	if caller.Name == "" {
		caller.Name = caller.ID
	}
	for _, value := range claimStrings(claims, cfg.RolesClaim) {
		role, ok := strings.CutPrefix(value, cfg.RolePrefix)
		if ok && validRole(commands.Role(role)) && !caller.Has(commands.Role(role)) {
			caller.Roles = append(caller.Roles, commands.Role(role))
		}
	}
	var agency domain.Validation
	caller.CheckAgency(&agency)
	if err := agency.Err(); err != nil {
		return commands.Caller{}, fmt.Errorf("claim %q = %q: %w", cfg.AgencyClaim, caller.Agency, err)
	}
	return caller, nil
}

// withDefaults fills the claim names left empty.
func (cfg OIDCConfig) withDefaults() OIDCConfig {
	setDefault(&cfg.IDClaim, "sub")
	setDefault(&cfg.NameClaim, "name")
	setDefault(&cfg.RolesClaim, "roles")
	setDefault(&cfg.AgencyClaim, "agency")
	return cfg
}

// claim finds a claim by its full name, else by a dotted path through nested objects.
func claim(claims map[string]any, name string) any {
	if value, ok := claims[name]; ok {
		return value
	}
	var current any = claims
	for part := range strings.SplitSeq(name, ".") {
		object, ok := current.(map[string]any)
		if !ok {
			return nil
		}
		current = object[part]
	}
	return current
}

func claimString(claims map[string]any, name string) string {
	switch value := claim(claims, name).(type) {
	case string:
		return strings.TrimSpace(value)
	case []any:
		if len(value) == 1 {
			s, _ := value[0].(string)
			return strings.TrimSpace(s)
		}
	}
	return ""
}

func claimStrings(claims map[string]any, name string) []string {
	switch value := claim(claims, name).(type) {
	case string:
		return strings.FieldsFunc(value, func(r rune) bool { return r == ' ' || r == ',' })
	case []any:
		out := make([]string, 0, len(value))
		for _, v := range value {
			if s, ok := v.(string); ok {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return out
	}
	return nil
}
