package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/demo"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/projections"
)

// seedDataDir records the demo dossiers in a fresh data directory and returns it and the number of
// events in the log.
func seedDataDir(t *testing.T) (string, int) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	calendar := domain.DefaultCalendar()
	catalog, err := demo.Catalog(calendar)
	if err != nil {
		t.Fatal(err)
	}
	app := commands.New(store, catalog, calendar)
	app.Logger = slog.New(slog.DiscardHandler)
	app.Now = func() time.Time { return time.Date(2026, 3, 20, 9, 0, 0, 0, domain.VietnamTime) }
	if _, err := demo.Seed(ctx, app); err != nil {
		t.Fatal(err)
	}
	n, err := projections.CountEvents(ctx, store, eventstore.Start, 0)
	if err != nil || n == 0 {
		t.Fatalf("%d events, %v", n, err)
	}
	return dir, n
}

// statusLags runs `motcua projections status` and returns each read model's lag.
func statusLags(t *testing.T, dir string) map[string]int {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"projections", "status", "--data", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("status: %v (%s)", err, stderr.String())
	}
	lags := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n")[1:] {
		fields := strings.Fields(line)
		lag, err := strconv.Atoi(fields[2])
		if err != nil {
			t.Fatalf("status line %q: %v", line, err)
		}
		lags[fields[0]] = lag
	}
	for _, name := range projections.Names() {
		if _, ok := lags[name]; !ok {
			t.Fatalf("status does not list %s:\n%s", name, stdout.String())
		}
	}
	return lags
}

func TestProjectionsStatusAndRebuild(t *testing.T) {
	dir, events := seedDataDir(t)
	for name, lag := range statusLags(t, dir) {
		if lag != events {
			t.Errorf("before any projection ran, %s lags %d events, want the whole log's %d", name, lag, events)
		}
	}

	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"projections", "rebuild", "--data", dir, "--batch", "50", "public_status"}, &stdout, &stderr); err != nil {
		t.Fatalf("rebuild: %v (%s)", err, stderr.String())
	}
	if want := "rebuilt public_status: " + strconv.Itoa(events) + " events in "; !strings.Contains(stdout.String(), want) || !strings.Contains(stdout.String(), "events/s") {
		t.Fatalf("rebuild said %q, want %q… events/s", stdout.String(), want)
	}
	if !strings.Contains(stderr.String(), "events") {
		t.Fatalf("no progress on stderr: %q", stderr.String())
	}
	for name, lag := range statusLags(t, dir) {
		want := events
		if name == "public_status" {
			want = 0
		}
		if lag != want {
			t.Errorf("after rebuilding public_status, %s lags %d events, want %d", name, lag, want)
		}
	}

	// The rebuilt view answers a public lookup.
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var code string
	if err := store.DB().QueryRow(`SELECT code FROM public_status WHERE code IS NOT NULL LIMIT 1`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	if _, err := projections.LookupPublicStatus(context.Background(), store.DB(), code, time.Now()); err != nil {
		t.Fatalf("lookup %s after the rebuild: %v", code, err)
	}

	if err := run(context.Background(), []string{"projections", "rebuild", "--data", dir, "no_such_view"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "no_such_view") {
		t.Fatalf("rebuilding an unknown read model: %v", err)
	}
}
