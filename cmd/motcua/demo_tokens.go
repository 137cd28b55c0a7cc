package main

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"time"

	"github.com/motcua/motcua/commands"
	mhttp "github.com/motcua/motcua/http"
)

// printDemoTokens prints a bearer token for each demo official, valid for a week, for the API
// (the pages take the log-ins demoLogins printed).
func printDemoTokens(w io.Writer, key ed25519.PrivateKey, officials []commands.Caller) {
	fmt.Fprintln(w, "Demo officials' API bearer tokens (valid 7 days):")
	for _, o := range officials {
		token, err := mhttp.MintToken(key, o, 7*24*time.Hour, time.Now())
		if err != nil {
			fmt.Fprintf(w, "  %s: %v\n", o.ID, err)
			continue
		}
		fmt.Fprintf(w, "  %-22s %-11s %-15s %s\n  export TOKEN_%s=%s\n", o.Name, o.Roles[0], o.Agency, o.ID, envName(o.ID), token)
	}
}

func envName(id string) string {
	out := []rune{}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z':
			out = append(out, r-'a'+'A')
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			out = append(out, r)
		default:
			out = append(out, '_')
		}
	}
	return string(out)
}
