package main

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/demo"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
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
	calendar := calendar.Default()
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
	n, err := engine.CountEvents(ctx, store, eventstore.Start, 0)
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
	readDB, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, "motcua-readmodels.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer readDB.Close()
	var code string
	if err := readDB.QueryRow(`SELECT code FROM public_status WHERE code IS NOT NULL LIMIT 1`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	if _, err := projections.LookupPublicStatus(context.Background(), readDB, code, time.Now()); err != nil {
		t.Fatalf("lookup %s after the rebuild: %v", code, err)
	}

	if err := run(context.Background(), []string{"projections", "rebuild", "--data", dir, "no_such_view"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "no_such_view") {
		t.Fatalf("rebuilding an unknown read model: %v", err)
	}
}

// An event no read model can apply does not fail a rebuild: each read model parks it, the rebuild
// says so, and status counts and lists it.
func TestProjectionsRebuildAndStatusShowParkedEvents(t *testing.T) {
	dir, _ := seedDataDir(t)
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	poison := eventstore.EventData{ID: eventstore.NewEventID(), Type: "dossier.received.v1", Data: []byte(`{"dossier_id":5}`)}
	if _, err := store.Append(context.Background(), "dossier-0199d0b2-0000-7000-8000-000000000001", eventstore.NoStream, poison); err != nil {
		t.Fatal(err)
	}
	// The feedback's read model reads only the feedback's events: it parks one of its own, which
	// the dossier's read models ignore.
	feedbackPoison := eventstore.EventData{ID: eventstore.NewEventID(), Type: "feedback.received.v1", Data: []byte(`{"feedback_id":5}`)}
	if _, err := store.Append(context.Background(), "feedback-0199d0b2-0000-7000-8000-000000000002", eventstore.NoStream, feedbackPoison); err != nil {
		t.Fatal(err)
	}
	store.Close()

	// Every read model, the keyed citizens' index included, parks the event.
	readModels := append(projections.Names(), projections.CitizenDossiersView{}.Name())
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"projections", "rebuild", "--data", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("rebuild failed on an undecodable event: %v (%s)", err, stderr.String())
	}
	for _, name := range readModels {
		if want := name + " parked 1 events it cannot apply"; !strings.Contains(stdout.String(), want) {
			t.Errorf("rebuild said %q, want %q", stdout.String(), want)
		}
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"projections", "status", "--data", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("status: %v", err)
	}
	lines := strings.Split(stdout.String(), "\n")
	if !strings.HasSuffix(strings.TrimSpace(lines[0]), "PARKED") {
		t.Fatalf("status header %q has no PARKED column", lines[0])
	}
	parked := map[string]string{}
	listed := 0
	for _, line := range lines[1:] {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case fields[0] == "parked":
			listed++
			if !(strings.Contains(line, poison.ID.String()) && strings.Contains(line, "dossier_id")) &&
				!(strings.Contains(line, feedbackPoison.ID.String()) && strings.Contains(line, "feedback_id")) {
				t.Errorf("parked line %q does not name the event and the error", line)
			}
		default:
			parked[fields[0]] = fields[len(fields)-1]
		}
	}
	for _, name := range readModels {
		if parked[name] != "1" {
			t.Errorf("status: %s parked %q, want 1\n%s", name, parked[name], stdout.String())
		}
	}
	if listed != len(readModels) {
		t.Errorf("status lists %d parked events, want one per read model:\n%s", listed, stdout.String())
	}
}
