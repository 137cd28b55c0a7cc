package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
)

// generateSmallProvince writes 300 dossiers over 60 days into a new data directory.
func generateSmallProvince(t *testing.T) (dir, output string) {
	t.Helper()
	return generateProvince(t, 300)
}

// generateProvince generates a province of the given number of dossiers over 60 days.
func generateProvince(t *testing.T, dossiers int) (dir, output string) {
	t.Helper()
	dir = t.TempDir()
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"bench", "generate", "--data", dir, "--dossiers", strconv.Itoa(dossiers), "--days", "60",
		"--end", "2026-11-27T09:00:00Z", "--seed", "7", "--progress", "1h"}, &stdout, io.Discard)
	if err != nil {
		t.Fatalf("bench generate: %v\n%s", err, stdout.String())
	}
	return dir, stdout.String()
}

// The generated store verifies, holds a province's mix of dossiers whose events interleave over
// the period, and serve opens it with the generated catalog.
func TestBenchGenerateWritesAProvinceServeOpens(t *testing.T) {
	dir, output := generateSmallProvince(t)
	if !strings.Contains(output, "generated 300 dossiers") {
		t.Fatalf("output:\n%s", output)
	}

	// The log carries its integrity checkpoints, as a deployment's does: every event but the last
	// checkpoint's own two (its detail and its summary) is signed by one.
	var verified bytes.Buffer
	if err := run(context.Background(), []string{"verify", "--data", dir, "--json"}, &verified, io.Discard); err != nil {
		t.Fatalf("verify: %v\n%s", err, verified.String())
	}
	var report struct {
		Events       uint64 `json:"events"`
		Checkpoints  int    `json:"checkpoints"`
		Checkpointed uint64 `json:"checkpointed_events"`
	}
	if err := json.Unmarshal(verified.Bytes(), &report); err != nil {
		t.Fatal(err)
	}
	if report.Checkpoints == 0 || report.Events-report.Checkpointed != 2 {
		t.Fatalf("%d events, %d of them under %d checkpoints: the generated log is not checkpointed\n%s", report.Events, report.Checkpointed, report.Checkpoints, verified.String())
	}

	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	var log []eventstore.RecordedEvent
	for after := eventstore.Start; ; {
		page, err := store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		log = append(log, page...)
		after = page[len(page)-1].Position
	}
	store.Close()

	count := map[string]int{}
	first, last := map[string]int{}, map[string]int{}
	var previous string
	switches, dossierEvents := 0, 0
	for i, e := range log {
		count[e.Type]++
		if !strings.HasPrefix(e.Stream, "dossier-") {
			continue
		}
		if _, ok := first[e.Stream]; !ok {
			first[e.Stream] = i
		}
		last[e.Stream] = i
		if previous != "" && e.Stream != previous {
			switches++
		}
		previous = e.Stream
		dossierEvents++
		if i > 0 && e.Metadata.OccurredAt.Before(log[i-1].Metadata.OccurredAt) {
			t.Fatalf("event %d (%s) occurred at %s, before the event logged before it (%s)", i, e.Type, e.Metadata.OccurredAt, log[i-1].Metadata.OccurredAt)
		}
	}
	if len(first) != 300 {
		t.Fatalf("%d dossier streams, want 300", len(first))
	}
	// Shares of the 300 dossiers, loosely: the generator's intended shares are 50 % online, 15 %
	// supplement requests, about a quarter rated.
	within := func(what string, n int, lo, hi float64) {
		t.Helper()
		if share := float64(n) / 300; share < lo || share > hi {
			t.Errorf("%s: %d of 300 dossiers (%.0f %%), want %.0f–%.0f %%", what, n, 100*share, 100*lo, 100*hi)
		}
	}
	within("submitted online", count[domain.TypeSubmitted], 0.35, 0.65)
	within("supplement requests", count[domain.TypeSupplementRequested], 0.07, 0.25)
	within("rated", count[domain.TypeRated], 0.12, 0.35)
	within("returned", count[domain.TypeResultReturned], 0.55, 0.9)
	if count[domain.TypeApologyIssued] == 0 || count[domain.TypeWithdrawn]+count[domain.TypeReceptionRefused] == 0 || count[domain.TypePaid] == 0 {
		t.Errorf("no apology, withdrawal or refusal, or payment among %v", count)
	}
	// Interleaving: consecutive dossier events mostly belong to different dossiers, and a dossier's
	// events lie far apart in the log.
	if switches < dossierEvents/2 {
		t.Errorf("only %d of %d consecutive dossier events change dossier", switches, dossierEvents)
	}
	spread := 0
	for stream := range first {
		spread += last[stream] - first[stream]
	}
	if mean := spread / len(first); mean < 100 {
		t.Errorf("a dossier's events span %d log positions on average; the log does not interleave", mean)
	}

	// serve opens the store with the generated catalog and answers an inspector about a dossier.
	url, stop := serveData(t, dir)
	defer stop()
	token := mintToken(t, dir, commands.Caller{ID: "inspector-1", Name: "Thanh tra", Roles: []commands.Role{commands.RoleInspector}, Agency: "000.00.00.H56"})
	var someDossier string
	for stream := range first {
		someDossier = strings.TrimPrefix(stream, "dossier-")
		break
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/dossiers/"+someDossier, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var dossier struct {
		Procedure struct {
			Code string `json:"code"`
		} `json:"procedure"`
	}
	if err := json.NewDecoder(res.Body).Decode(&dossier); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET dossier: %d %v", res.StatusCode, err)
	}
	res, err = http.Get(url + "/api/v1/procedures")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"`+dossier.Procedure.Code+`"`) {
		t.Errorf("serve does not list the generated procedure %q: it did not read the generated catalog", dossier.Procedure.Code)
	}
}

// serveData runs `motcua serve --data dir` on a free port until stop.
func serveData(t *testing.T, dir string) (url string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(contractCheckedBy(context.Background(), t))
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, &stdout, io.Discard)
	}()
	stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("motcua serve: %v", err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := listeningLine.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stop
		}
		select {
		case err := <-done:
			t.Fatalf("motcua serve stopped: %v\n%s", err, stdout.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("motcua serve did not start:\n%s", stdout.String())
		}
	}
}

// mintToken signs a token for caller with the data directory's token key, as `motcua token` does.
func mintToken(t *testing.T, dir string, caller commands.Caller) string {
	t.Helper()
	key, err := loadOrCreateTokenKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	token, err := mhttp.MintToken(key, caller, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// On PostgreSQL the generation appends through several writers, and the store verifies.
func TestBenchGenerateOnPostgreSQL(t *testing.T) {
	dsn := pgtest.NewDatabaseInTurn(t)
	dir := t.TempDir()
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"bench", "generate", "--data", dir, "--store", dsn, "--dossiers", "200", "--days", "30",
		"--end", "2026-11-27T09:00:00Z", "--writers", "4", "--progress", "1h"}, &stdout, io.Discard)
	if err != nil || !strings.Contains(stdout.String(), "generated 200 dossiers") {
		t.Fatalf("bench generate: %v\n%s", err, stdout.String())
	}
	var verified bytes.Buffer
	if err := run(context.Background(), []string{"verify", "--store", dsn, "--data", dir}, &verified, io.Discard); err != nil || !strings.Contains(verified.String(), "history intact") {
		t.Fatalf("verify: %v\n%s", err, verified.String())
	}
	// The log holds every event the generation counted, each signed by an integrity checkpoint;
	// only the last checkpoint's own two events are not.
	generated := regexp.MustCompile(`generated 200 dossiers, ([0-9]+) events`).FindStringSubmatch(stdout.String())
	if generated == nil || !strings.Contains(verified.String(), " "+generated[1]+" events confirmed by a checkpoint, 2 by their links only") {
		t.Errorf("generated %v events; verify says:\n%s", generated, verified.String())
	}
}
