package pgtest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMissingServerBinariesSayHowToInstallThem(t *testing.T) {
	empty := t.TempDir()
	clientOnly := t.TempDir()
	for _, program := range []string{"initdb", "pg_ctl"} { // no postgres: a client-only installation
		if err := os.WriteFile(filepath.Join(clientOnly, program), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, err := firstServerBinDir([]string{empty, clientOnly, filepath.Join(empty, "missing")})
	if !errors.Is(err, ErrNoServerBinaries) || !strings.Contains(err.Error(), "scripts/ensure-postgres.sh") {
		t.Fatalf("error = %v, want ErrNoServerBinaries naming scripts/ensure-postgres.sh", err)
	}

	complete := t.TempDir()
	for _, program := range []string{"initdb", "pg_ctl", "postgres"} {
		if err := os.WriteFile(filepath.Join(complete, program), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if dir, err := firstServerBinDir([]string{empty, clientOnly, complete}); err != nil || dir != complete {
		t.Fatalf("firstServerBinDir = %q, %v; want %q", dir, err, complete)
	}
}
