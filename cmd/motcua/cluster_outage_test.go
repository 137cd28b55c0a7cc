package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

// `motcua serve` on PostgreSQL starts while the database is down: it listens at once, says it lives
// (/healthz 200) and is not ready (/readyz 503), answers every other request 503 problem+json with
// Retry-After, and keeps trying with backoff; once PostgreSQL is up it migrates and becomes ready.
// Stopping PostgreSQL under load then gives 503s with Retry-After and never a 500, /readyz says
// not ready, and when PostgreSQL is back the node is ready again by itself.
func TestServeStartsWithoutPostgreSQLAndRidesOutAnOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster, err := pgtest.StartCluster(ctx) // its own: the test stops it
	if err != nil {
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	if err := cluster.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	child := startChild(t, []string{"serve", "--store", cluster.DSN("postgres"), "--data", t.TempDir(), "--addr", addr,
		"--node", "outage-1", "--public-per-minute", "1000000"})
	base := "http://" + addr
	eventually(t, "the node listens while PostgreSQL is down", func() bool {
		status, _ := get(base + "/healthz")
		return status == http.StatusOK
	})
	for range 3 {
		expectUnavailable(t, base+"/readyz")
		expectUnavailable(t, base+"/api/v1/public/dossiers/000.00.00.H56-260302-0001")
		time.Sleep(300 * time.Millisecond)
	}
	if err := cluster.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	eventually(t, "the node is ready once PostgreSQL is up", func() bool {
		status, _ := get(base + "/readyz")
		return status == http.StatusOK
	})
	t.Logf("ready %s after PostgreSQL came up", time.Since(started).Round(10*time.Millisecond))
	if status, _ := get(base + "/api/v1/public/dossiers/000.00.00.H56-260302-0001"); status != http.StatusNotFound {
		t.Fatalf("a lookup once ready answered %d, want 404", status)
	}

	// Under load, stop PostgreSQL for a few seconds and start it again.
	var mu sync.Mutex
	counts := map[int]int{}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for loadCtx.Err() == nil {
				status, problem := get(base + "/api/v1/public/dossiers/000.00.00.H56-260302-0001")
				mu.Lock()
				counts[status]++
				mu.Unlock()
				if status != http.StatusNotFound && status != http.StatusServiceUnavailable {
					t.Errorf("under an outage a lookup answered %d: %s", status, problem)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	if err := cluster.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "/readyz says not ready while PostgreSQL is down", func() bool {
		status, _ := get(base + "/readyz")
		return status == http.StatusServiceUnavailable
	})
	expectUnavailable(t, base+"/api/v1/public/dossiers/000.00.00.H56-260302-0001")
	time.Sleep(2 * time.Second)
	if err := cluster.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the node is ready again once PostgreSQL is back", func() bool {
		status, _ := get(base + "/readyz")
		return status == http.StatusOK
	})
	time.Sleep(500 * time.Millisecond)
	stopLoad()
	wg.Wait()
	t.Logf("answers under the outage: %v", counts)
	if counts[http.StatusServiceUnavailable] == 0 || counts[http.StatusNotFound] == 0 {
		t.Errorf("the load saw %v: want both answers of a live node and 503s of the outage", counts)
	}
	child.stop(t)
}

// expectUnavailable checks that url answers 503 problem+json with Retry-After.
func expectUnavailable(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var problem struct {
		Status int `json:"status"`
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &problem) != nil || problem.Status != 503 {
		t.Fatalf("%s answered %d (Retry-After %q, %s): %s, want a 503 problem with Retry-After", url, resp.StatusCode,
			resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), body)
	}
}

// get returns the status of a GET of url (0 when it could not be sent) and the body.
func get(url string) (int, string) {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// freeAddr returns a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprintf("127.0.0.1:%d", l.Addr().(*net.TCPAddr).Port)
}
