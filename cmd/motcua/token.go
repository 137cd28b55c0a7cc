package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/motcua/motcua/commands"
	mhttp "github.com/motcua/motcua/http"
)

// defaultTokenMaxTTL caps how long a local token may live, at minting (motcua token) and at
// verification (motcua serve): a week covers the demo's tokens; an official's working token lasts
// a shift (--ttl 12h). Both commands take --token-max-ttl to set another cap.
const defaultTokenMaxTTL = 7 * 24 * time.Hour

// runToken mints an official's bearer token with the deployment's local key and prints it.
func runToken(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "./data", "data directory holding the token signing key")
	sub := fs.String("sub", "", "the official's id")
	name := fs.String("name", "", "the official's full name")
	roles := fs.String("role", "", "comma-separated roles: reception, specialist, head, signer, cashier, inspector, admin")
	agency := fs.String("agency", "", "the official's agency identifier (QCVN 102), e.g. 000.00.06.H56; required for every role but inspector and admin")
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token is valid")
	maxTTL := fs.Duration("token-max-ttl", defaultTokenMaxTTL, "the longest --ttl allowed; motcua serve refuses longer-lived tokens with the same flag")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ttl > *maxTTL {
		return fmt.Errorf("--ttl %v is longer than --token-max-ttl %v", *ttl, *maxTTL)
	}
	key, err := loadOrCreateTokenKey(*dataDir)
	if err != nil {
		return err
	}
	caller := commands.Caller{ID: *sub, Name: *name, Agency: *agency}
	for _, r := range strings.Split(*roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			caller.Roles = append(caller.Roles, commands.Role(r))
		}
	}
	token, err := mhttp.MintToken(key, caller, *ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	return nil
}
