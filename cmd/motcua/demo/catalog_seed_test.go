package demo

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// TestDemoCatalogSeeds seeds the demo dossiers with the demo catalog on a real SQLite store: every
// story either completes or stops where the rules refuse, and the building permits go through the
// parallel consultation step.
func TestDemoCatalogSeeds(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cal := calendar.Default()
	catalog, err := Catalog(cal)
	if err != nil {
		t.Fatal(err)
	}
	app := commands.New(store, catalog, cal)
	app.Logger = slog.New(slog.DiscardHandler)
	app.Now = func() time.Time { return time.Date(2026, 3, 20, 9, 0, 0, 0, domain.VietnamTime) }
	if _, err := Seed(ctx, app); err != nil {
		t.Fatal(err)
	}
	events, err := store.ReadAll(ctx, eventstore.Start, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range events {
		counts[e.Type]++
	}
	if counts[domain.TypeReceived] == 0 || counts[domain.TypeParallelStepStarted] == 0 || counts[domain.TypeResultReturned] == 0 {
		t.Errorf("event counts %v: want receipts, parallel steps and returned results", counts)
	}
	// Every part of a parallel step the seed started gets its answer before the dossier moves on.
	if counts[domain.TypePartCompleted] == 0 {
		t.Errorf("event counts %v: no part of a parallel step was completed", counts)
	}
	streams := map[string]bool{}
	for _, e := range events {
		if e.Type == domain.TypeSigned {
			streams[e.Stream] = true
		}
	}
	for stream := range streams {
		d, _, err := app.Load(ctx, stream[len("dossier-"):])
		if err != nil {
			t.Fatal(err)
		}
		if len(d.OpenParts) > 0 {
			t.Errorf("dossier %s was signed with parts still open: %+v", d.Code, d.OpenParts)
		}
	}
}
