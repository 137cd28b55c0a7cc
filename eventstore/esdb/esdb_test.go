package esdb_test

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/esdb"
	"github.com/motcua/motcua/eventstore/eventstoretest"
)

// TestConformance runs the shared suite against the server named by MOTCUA_ESDB_URL. Every store
// it opens gets a fresh namespace, so each test sees an empty store on one shared server.
func TestConformance(t *testing.T) {
	url := os.Getenv("MOTCUA_ESDB_URL")
	if url == "" {
		t.Skip("MOTCUA_ESDB_URL not set: no EventStoreDB server on this machine; see docs/eventstore-esdb.md")
	}
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		store, err := esdb.Open(ctx, withNamespace(url, "conformance_"+rand.Text()))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := store.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return store
	})
}

// withNamespace adds the namespace parameter to a connection string.
func withNamespace(url, namespace string) string {
	separator := "?"
	if strings.Contains(url, "?") {
		separator = "&"
	}
	return url + separator + "namespace=" + namespace
}

func TestOpenRejectsBadURLs(t *testing.T) {
	cases := []struct{ name, url string }{
		{"another database's scheme", "postgres://localhost:5432/motcua"},
		{"no scheme", "localhost:2113"},
		{"namespace with a dash", "esdb://localhost:2113?tls=false&namespace=ho-chi-minh"},
		{"namespace starting with $", "esdb://localhost:2113?tls=false&namespace=$all"},
		{"empty namespace", "esdb://localhost:2113?tls=false&namespace="},
		{"two namespaces", "esdb://localhost:2113?tls=false&namespace=a&namespace=b"},
		{"bad port", "esdb://localhost:port?tls=false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store, err := esdb.Open(context.Background(), tc.url)
			if err == nil {
				store.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tc.url)
			}
		})
	}
}

// TestOpenFailsWithoutServer checks that Open pings the server rather than connecting lazily: port 1
// on this machine has no server.
func TestOpenFailsWithoutServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	store, err := esdb.Open(ctx, "kurrentdb://127.0.0.1:1?tls=false&maxDiscoverAttempts=1")
	if err == nil {
		store.Close()
		t.Fatal("Open succeeded with no server listening")
	}
	if ctx.Err() != nil {
		t.Fatalf("Open did not give up before the test's deadline: %v", err)
	}
}
