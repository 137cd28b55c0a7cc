package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
)

// The SQL dialect is the wiring's to name: an engine or a rebuild without one refuses to start
// rather than guess (it used to be guessed from the driver's package path).
func TestNoDialectNoStart(t *testing.T) {
	t.Parallel()
	store := openSQLite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	feeder := engine.NewEngine(store, store.DB(), "", journal{})
	feeder.Logger = quiet
	if err := feeder.Run(ctx); err == nil || !strings.Contains(err.Error(), "dialect") {
		t.Errorf("engine without a dialect: %v, want an error naming the dialect", err)
	}
	rebuilder := &engine.Rebuilder{Store: store, DB: store.DB(), Dialect: "mysql", Consumers: []engine.Consumer{journal{}}, Logger: quiet}
	if _, err := rebuilder.Run(ctx); err == nil || !strings.Contains(err.Error(), "dialect") {
		t.Errorf("rebuild in an unknown dialect: %v, want an error naming the dialect", err)
	}
	var tables int
	if err := store.DB().QueryRow(`SELECT count(*) FROM sqlite_master WHERE name LIKE '%test_journal%'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("%d tables created without a dialect", tables)
	}
}
