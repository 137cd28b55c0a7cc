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
// tests and the demo.
func MintToken(key ed25519.PrivateKey, caller commands.Caller, ttl time.Duration, now time.Time) (string, error) {
	var v domain.Validation
	v.Check(caller.ID != "", "sub", "is required")
	v.Check(caller.Name != "", "name", "is required")
	v.Check(len(caller.Roles) > 0, "role", "at least one role is required")
	for _, r := range caller.Roles {
		v.Check(validRole(r), "role", "%q is not one of %v", r, commands.Roles)
	}
	v.Check(caller.Agency == "" || domain.ValidUnitCode(caller.Agency), "agency", "%q is not a QCVN 102 identifier", caller.Agency)
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
	caller := commands.Caller{ID: claims.Subject, Name: claims.Name, Agency: claims.Agency}
	for _, r := range claims.Roles {
		if validRole(commands.Role(r)) {
			caller.Roles = append(caller.Roles, commands.Role(r))
		}
	}
	return caller, nil
}
