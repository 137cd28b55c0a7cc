package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"

	mhttp "github.com/motcua/motcua/http"
)

// signInOptions are serve's flags for how officials sign in and where clients are.
type signInOptions struct {
	issuer, clientID, idClaim, nameClaim, rolesClaim, agencyClaim, rolePrefix string
	localTokens                                                               bool
	trustedProxies                                                            string
	tokenMaxTTL                                                               time.Duration
}

func addSignInFlags(fs *flag.FlagSet) *signInOptions {
	o := &signInOptions{}
	fs.StringVar(&o.issuer, "oidc-issuer", "", "OpenID Connect issuer URL of the officials' identity provider; without it, only local tokens (minted by motcua token) sign in")
	fs.StringVar(&o.clientID, "oidc-client-id", "", "client id registered at the identity provider: the audience of accepted ID tokens")
	fs.StringVar(&o.idClaim, "oidc-id-claim", "sub", "claim holding the official's identifier")
	fs.StringVar(&o.nameClaim, "oidc-name-claim", "name", "claim holding the official's display name")
	fs.StringVar(&o.rolesClaim, "oidc-roles-claim", "roles", "claim holding motcua roles (a list or a space-separated string; dotted path for nested claims, e.g. realm_access.roles)")
	fs.StringVar(&o.agencyClaim, "oidc-agency-claim", "agency", "claim holding the official's agency (QCVN 102 identifier)")
	fs.StringVar(&o.rolePrefix, "oidc-role-prefix", "", "prefix the identity provider puts before motcua role names, e.g. motcua:")
	fs.DurationVar(&o.tokenMaxTTL, "token-max-ttl", defaultTokenMaxTTL, "refuse local tokens (motcua token) meant to live longer than this")
	fs.BoolVar(&o.localTokens, "local-tokens", false, "with --oidc-issuer, accept local tokens too (break-glass admin, demo)")
	fs.StringVar(&o.trustedProxies, "trusted-proxies", "", "comma-separated CIDR prefixes of reverse proxies whose X-Forwarded-For is believed (rate limits key on the client address)")
	return o
}

// authenticator returns how bearer tokens are checked: nil for local tokens alone (the server's
// default), else the identity provider's, with local tokens beside it when asked for.
func (o *signInOptions) authenticator(ctx context.Context, local mhttp.TokenVerifier) (mhttp.Authenticator, error) {
	if o.issuer == "" {
		if o.clientID != "" {
			return nil, errors.New("--oidc-client-id needs --oidc-issuer")
		}
		return nil, nil
	}
	verifier, err := mhttp.NewOIDCVerifier(ctx, mhttp.OIDCConfig{Issuer: o.issuer, ClientID: o.clientID, IDClaim: o.idClaim,
		NameClaim: o.nameClaim, RolesClaim: o.rolesClaim, AgencyClaim: o.agencyClaim, RolePrefix: o.rolePrefix})
	if err != nil {
		return nil, err
	}
	if o.localTokens {
		return mhttp.Authenticators{verifier, local}, nil
	}
	return verifier, nil
}

// proxies parses --trusted-proxies.
func (o *signInOptions) proxies() ([]string, error) {
	var prefixes []string
	for part := range strings.SplitSeq(o.trustedProxies, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		if _, err := netip.ParsePrefix(part); err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not a CIDR prefix (e.g. 10.0.0.0/8)", part)
		}
		prefixes = append(prefixes, part)
	}
	return prefixes, nil
}
