package http

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

// tokenIssuer is the iss claim of motcua's local tokens.
const tokenIssuer = "motcua"

// OfficialClaims are the claims of an official's bearer token.
type OfficialClaims struct {
	Name   string   `json:"name"`
	Roles  []string `json:"roles"`
	Agency string   `json:"agency"`
	jwt.RegisteredClaims
}

// MintToken signs a bearer token for an official with the deployment's local Ed25519 key. Production
// deployments sign officials in through their identity provider; local tokens serve development,
// tests and the demo. An official holding an agency role must name the agency
// (commands.Caller.CheckAgency); how long a token may live is capped by the caller of MintToken
// (motcua token --token-max-ttl) and by TokenVerifier.MaxLifetime.
func MintToken(key ed25519.PrivateKey, caller commands.Caller, ttl time.Duration, now time.Time) (string, error) {
	var v domain.Validation
	checkOfficial(&v, caller)
	v.Check(ttl > 0, "ttl", "must be a positive duration")
	if err := v.Err(); err != nil {
		return "", err
	}
	roles := make([]string, len(caller.Roles))
	for i, r := range caller.Roles {
		roles[i] = string(r)
	}
	claims := OfficialClaims{
		Name: caller.Name, Roles: roles, Agency: caller.Agency,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: tokenIssuer, Subject: caller.ID,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims).SignedString(key)
}

// CheckOfficial says what is wrong with an official as a token or a local account would name them:
// an id, a name, known roles, and the agency an agency role needs.
func CheckOfficial(caller commands.Caller) error {
	var v domain.Validation
	checkOfficial(&v, caller)
	return v.Err()
}

func checkOfficial(v *domain.Validation, caller commands.Caller) {
	v.Check(caller.ID != "", "sub", "is required")
	v.Check(caller.Name != "", "name", "is required")
	v.Check(len(caller.Roles) > 0, "role", "at least one role is required")
	for _, r := range caller.Roles {
		v.Check(validRole(r), "role", "%q is not one of %v", r, commands.Roles)
	}
	caller.CheckAgency(v)
}

func validRole(r commands.Role) bool {
	for _, known := range commands.Roles {
		if r == known {
			return true
		}
	}
	return false
}

// TokenVerifier checks bearer tokens signed with the deployment's key.
type TokenVerifier struct {
	Key ed25519.PublicKey
	Now func() time.Time
	// MaxLifetime, when set, refuses tokens meant to live longer (expiry minus issue time), and
	// tokens that do not say when they were issued: a token minted for a hundred years before the
	// cap existed stops working once the server runs with one.
	MaxLifetime time.Duration
}

var errNoToken = errors.New("no bearer token")

// Verify returns the caller a bearer token stands for.
func (v TokenVerifier) Verify(authorization string) (commands.Caller, error) {
	raw, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || raw == "" {
		return commands.Caller{}, errNoToken
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer(tokenIssuer), jwt.WithExpirationRequired()}
	if v.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(v.Now))
	}
	var claims OfficialClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return v.Key, nil }, opts...)
	if err != nil {
		return commands.Caller{}, fmt.Errorf("invalid token: %w", err)
	}
	if v.MaxLifetime > 0 {
		if claims.IssuedAt == nil {
			return commands.Caller{}, errors.New("invalid token: no issue time (iat), so its lifetime cannot be checked")
		}
		if lifetime := claims.ExpiresAt.Sub(claims.IssuedAt.Time); lifetime > v.MaxLifetime {
			return commands.Caller{}, fmt.Errorf("invalid token: it lives %v, longer than the %v this server allows", lifetime, v.MaxLifetime)
		}
	}
	caller := commands.Caller{ID: claims.Subject, Name: claims.Name, Agency: claims.Agency}
	for _, r := range claims.Roles {
		if validRole(commands.Role(r)) {
			caller.Roles = append(caller.Roles, commands.Role(r))
		}
	}
	return caller, nil
}
