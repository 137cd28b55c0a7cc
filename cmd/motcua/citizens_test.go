package main

import (
	"context"
	"flag"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/motcua/motcua/cmd/motcua/demo"
)

// The citizens' flags refuse what cannot work before anything is opened.
func TestCitizenFlagsRefuseWhatCannotWork(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--citizen-oidc-client-id", "motcua"}, "need --citizen-oidc-issuer"},
		{[]string{"--citizen-oidc-client-secret-file", "/tmp/x"}, "need --citizen-oidc-issuer"},
		{[]string{"--citizen-session-idle", "9h"}, "no longer than the other"},
		{[]string{"--citizen-session-max", "0s"}, "must be positive"},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o := addCitizenFlags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		_, err := o.build(context.Background(), nil, t.TempDir(), false, "", &net.TCPAddr{}, nil, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
	// Without a provider and without --demo, citizens simply do not sign in.
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o := addCitizenFlags(fs)
	if c, err := o.build(context.Background(), nil, t.TempDir(), false, "", &net.TCPAddr{}, nil, io.Discard, nil); err != nil || c.signIn != nil {
		t.Errorf("no provider: %+v, %v", c, err)
	}
}

// A browser on this machine reaches a wildcard listener at localhost.
func TestLocalAddress(t *testing.T) {
	for addr, want := range map[string]string{"0.0.0.0:8080": "localhost:8080", "[::]:8080": "localhost:8080", "127.0.0.1:9": "127.0.0.1:9"} {
		tcp, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := localAddress(tcp); got != want {
			t.Errorf("localAddress(%s) = %s, want %s", addr, got, want)
		}
	}
}

// Each demo citizen owns one of the demo's seeded dossiers.
func TestDemoCitizensCarryTheSeededNumbers(t *testing.T) {
	for i, p := range demoCitizens() {
		if p.IDNumber != demo.ApplicantIDNumber(i) || len(p.IDNumber) != 12 || i >= demo.DossierCount {
			t.Errorf("demo citizen %d: %+v", i, p)
		}
	}
}
