package http

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/projections"
)

// advancing is a Notifier the test moves by hand, as engine.Runner does after each batch.
type advancing struct {
	mu sync.Mutex
	ch chan struct{}
}

func (a *advancing) Advanced() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ch
}

func (a *advancing) advance() {
	a.mu.Lock()
	defer a.mu.Unlock()
	close(a.ch)
	a.ch = make(chan struct{})
}

// A change of one dossier wakes the streams of that dossier only; before, every open stream woke
// and read its dossier again on any change.
func TestFeedHubWakesOnlyTheStreamsOfTheDossierThatMoved(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	db := store.DB()
	if err := projections.MigrateAll(ctx, db, engine.SQLite); err != nil {
		t.Fatal(err)
	}
	codes := []string{"000.00.00.H56-260302-0001", "000.00.00.H56-260302-0002"}
	for i, code := range codes {
		if _, err := db.ExecContext(ctx, `INSERT INTO public_status (dossier_id, code, status, state_json, steps_json, version)
			VALUES ($1, $2, 'received', '{}', '[]', 1)`, "d"+string(rune('0'+i)), code); err != nil {
			t.Fatal(err)
		}
	}
	updates := &advancing{ch: make(chan struct{})}
	hub := newFeedHub(db, updates, Limits{}.withDefaults(), slog.New(slog.DiscardHandler))
	quiet, moving := codes[0], codes[1]
	for _, code := range codes {
		for range 3 { // several streams per dossier
			leave, err := hub.join(code, "198.51.100."+code[len(code)-1:], 1)
			if err != nil {
				t.Fatal(err)
			}
			defer leave()
		}
	}
	quietWake, movingWake := hub.changed(quiet, 1), hub.changed(moving, 1)

	if _, err := db.ExecContext(ctx, `UPDATE public_status SET version = 2 WHERE code = $1`, moving); err != nil {
		t.Fatal(err)
	}
	updates.advance()
	select {
	case <-movingWake:
	case <-time.After(3 * time.Second):
		t.Fatal("the streams of the dossier that moved were not woken")
	}
	select {
	case <-quietWake:
		t.Fatal("the streams of a dossier that did not move were woken")
	default:
	}
	// A stream that read the new version waits for the next change; one that read the old one
	// is woken at once.
	select {
	case <-hub.changed(moving, 2):
		t.Fatal("woken for a version already read")
	default:
	}
	select {
	case <-hub.changed(moving, 1):
	default:
		t.Fatal("a stream behind the hub was not woken")
	}
}
