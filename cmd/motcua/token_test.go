package main

import (
	"bytes"
	"crypto/ed25519"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/motcua/motcua/commands"
	mhttp "github.com/motcua/motcua/http"
)

// motcua token refuses an official of an agency role without an agency, and a lifetime over the
// cap; it mints what it accepts, and the token verifies with the data directory's key.
func TestTokenCommandRefusals(t *testing.T) {
	dataDir := t.TempDir()
	mint := func(args ...string) (string, error) {
		var stdout bytes.Buffer
		err := runToken(append([]string{"--data", dataDir, "--sub", "cb1", "--name", "Nguyễn Văn Một"}, args...), &stdout, io.Discard)
		return strings.TrimSpace(stdout.String()), err
	}
	refused := map[string][]string{
		"reception without an agency":        {"--role", "reception"},
		"an agency role beside inspector":    {"--role", "inspector,specialist"},
		"an agency that is no QCVN 102 code": {"--role", "head", "--agency", "Sở Xây dựng"},
		"a hundred years":                    {"--role", "reception", "--agency", "000.00.00.H56", "--ttl", "876000h"},
		"a day over a lowered cap":           {"--role", "reception", "--agency", "000.00.00.H56", "--ttl", "24h", "--token-max-ttl", "12h"},
		"a lifetime of nothing":              {"--role", "reception", "--agency", "000.00.00.H56", "--ttl", "0s"},
		"a negative lifetime":                {"--role", "reception", "--agency", "000.00.00.H56", "--ttl", "-1h"},
		"a cap that is not positive":         {"--role", "admin", "--ttl", "1h", "--token-max-ttl", "-1h"},
	}
	for name, args := range refused {
		if token, err := mint(args...); err == nil || token != "" {
			t.Errorf("%s: minted %q (err %v)", name, token, err)
		}
	}
	if _, err := mint("--role", "reception"); err == nil || !strings.Contains(err.Error(), "agency") {
		t.Errorf("the refusal does not name the agency: %v", err)
	}

	key, err := loadOrCreateTokenKey(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	verifier := mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey), MaxLifetime: defaultTokenMaxTTL}
	for _, args := range [][]string{
		{"--role", "reception,cashier", "--agency", "000.00.00.H56"},
		{"--role", "inspector"}, // province-wide: no agency needed
		{"--role", "admin", "--ttl", "168h"},
	} {
		token, err := mint(args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		caller, err := verifier.Verify("Bearer " + token)
		if err != nil || caller.ID != "cb1" {
			t.Fatalf("%v: minted token verifies as %+v, %v", args, caller, err)
		}
	}
}

// motcua serve refuses local tokens meant to outlive its cap, and tokens that hide their lifetime
// by leaving out when they were issued; without a cap (library use, tests) they pass.
func TestServeCapsLocalTokenLifetimes(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	official := commands.Caller{ID: "cb1", Name: "Nguyễn Văn Một", Roles: []commands.Role{commands.RoleReception}, Agency: "000.00.00.H56"}
	century, err := mhttp.MintToken(key, official, 100*365*24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	shift, err := mhttp.MintToken(key, official, 12*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	o := parseSignIn(t)
	if o.tokenMaxTTL != defaultTokenMaxTTL {
		t.Fatalf("serve's default cap is %v, want %v", o.tokenMaxTTL, defaultTokenMaxTTL)
	}
	capped := mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey), Now: clock, MaxLifetime: o.tokenMaxTTL}
	if caller, err := capped.Verify("Bearer " + century); err == nil {
		t.Errorf("a hundred-year token was accepted as %+v", caller)
	}
	if _, err := capped.Verify("Bearer " + shift); err != nil {
		t.Errorf("a shift's token was refused: %v", err)
	}
	undated, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": "motcua", "sub": "cb1", "name": "Nguyễn Văn Một",
		"roles": []string{"reception"}, "agency": "000.00.00.H56", "exp": now.Add(100 * 365 * 24 * time.Hour).Unix()}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	if caller, err := capped.Verify("Bearer " + undated); err == nil {
		t.Errorf("a token without an issue time was accepted as %+v", caller)
	}
	lowered := parseSignIn(t, "--token-max-ttl", "8h")
	capped.MaxLifetime = lowered.tokenMaxTTL
	if _, err := capped.Verify("Bearer " + shift); err == nil {
		t.Error("a 12-hour token passed an 8-hour cap")
	}
	uncapped := mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey), Now: clock}
	if _, err := uncapped.Verify("Bearer " + century); err != nil {
		t.Errorf("without a cap: %v", err)
	}
}
