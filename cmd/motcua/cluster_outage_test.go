package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
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

// Two nodes under load, reads and writes through both, while PostgreSQL stops and starts again:
// every node answers 503 with Retry-After, never a 500; /readyz on each says not ready while the
// database is away and ready once it is back; and every receipt a node acknowledged (201) is in
// the log afterwards.
func TestRestartingPostgreSQLUnderLoadGives503OnEveryNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster, err := pgtest.StartCluster(ctx) // its own: the test stops it
	if err != nil {
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	c := newTestClusterOn(t, cluster.DSN("postgres"))
	names := []string{"r1", "r2"}
	c.start(names...)
	c.spread(names...)
	known := c.receive("r1")
	eventually(t, "the dossier is in the public status", func() bool {
		status, _ := get(c.nodes["r2"].base + "/api/v1/public/dossiers/" + known)
		return status == http.StatusOK
	})

	var mu sync.Mutex
	answers := map[string]map[int]int{} // node → status → count
	acknowledged := map[string]bool{}   // dossier ids
	record := func(node string, resp *http.Response, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		if answers[node] == nil {
			answers[node] = map[int]int{}
		}
		answers[node][resp.StatusCode]++
		switch {
		case resp.StatusCode == http.StatusCreated:
			if m := regexp.MustCompile(`"id":"([^"]+)"`).FindSubmatch(body); m != nil {
				acknowledged[string(m[1])] = true
			} else {
				t.Errorf("a receipt without its dossier's id: %s", body)
			}
		case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		case resp.StatusCode == http.StatusOK:
		default:
			t.Errorf("node %s answered %s %d (Retry-After %q): %s", node, resp.Request.URL.Path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			client := http.Client{Timeout: 10 * time.Second}
			for i := 0; loadCtx.Err() == nil; i++ {
				node := names[(w+i)%len(names)]
				var req *http.Request
				if w%2 == 0 {
					req, _ = http.NewRequestWithContext(loadCtx, http.MethodPost, c.nodes[node].base+"/api/v1/dossiers", strings.NewReader(`{"procedure_code": "1.013225",
						"channel": "direct", "applicant": {"type": "citizen", "name": "Nguyễn Văn An", "id_number": "038012345678", "phone": "0912345678",
						"address": "12 Lê Lợi, TP Thanh Hóa"}, "components": [{"name": "Đơn đề nghị cấp giấy phép xây dựng", "copies": 1}]}`))
					req.Header.Set("Authorization", "Bearer "+c.token)
					req.Header.Set("Content-Type", "application/json")
				} else {
					req, _ = http.NewRequestWithContext(loadCtx, http.MethodGet, c.nodes[node].base+"/api/v1/public/dossiers/"+known, nil)
				}
				resp, err := client.Do(req)
				if err != nil {
					continue // the load's end cancels requests under way
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if loadCtx.Err() == nil {
					record(node, resp, body)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(time.Second)
	if err := cluster.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	for _, n := range names {
		eventually(t, "/readyz on "+n+" says not ready while PostgreSQL is down", func() bool {
			status, _ := get(c.nodes[n].base + "/readyz")
			return status == http.StatusServiceUnavailable
		})
		expectUnavailable(t, c.nodes[n].base+"/api/v1/public/dossiers/"+known)
	}
	time.Sleep(max(0, 3*time.Second-time.Since(stopped)))
	if err := cluster.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	for _, n := range names {
		eventually(t, n+" is ready again once PostgreSQL is back", func() bool {
			status, _ := get(c.nodes[n].base + "/readyz")
			return status == http.StatusOK
		})
	}
	t.Logf("both nodes ready %s after PostgreSQL came back", time.Since(resumed).Round(10*time.Millisecond))
	time.Sleep(time.Second)
	stopLoad()
	wg.Wait()
	t.Logf("answers: %v", answers)
	for _, n := range names {
		if answers[n][http.StatusServiceUnavailable] == 0 || answers[n][http.StatusCreated] == 0 {
			t.Errorf("node %s answered %v: want receipts and 503s of the outage", n, answers[n])
		}
	}
	rows, err := c.db.QueryContext(ctx, `SELECT DISTINCT stream FROM eventstore.events`)
	if err != nil {
		t.Fatal(err)
	}
	inLog := map[string]bool{}
	for rows.Next() {
		var stream string
		if err := rows.Scan(&stream); err != nil {
			t.Fatal(err)
		}
		inLog[stream] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for id := range acknowledged {
		if !inLog[commands.StreamName(id)] {
			lost++
		}
	}
	t.Logf("%d receipts acknowledged, %d streams in the log", len(acknowledged), len(inLog))
	if lost > 0 {
		t.Errorf("%d of %d acknowledged receipts are not in the log", lost, len(acknowledged))
	}
	for _, n := range names {
		c.nodes[n].child.stop(t)
	}
}
