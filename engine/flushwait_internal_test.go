package engine

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// heldRows is a fold that holds a set number of rows.
type heldRows int

func (heldRows) Add(context.Context, Querier, Batch) error   { return nil }
func (h heldRows) Held() int                                 { return int(h) }
func (heldRows) Flush(context.Context, *sql.Tx, Batch) error { return nil }

// A fold whose flush is due folds on while another holds SQLite's write gate, but not beyond its
// rows' budget nor a second interval; without a gate (PostgreSQL) or with the gate free it flushes.
func TestAFoldDueForAFlushFoldsOnWhileAnotherWrites(t *testing.T) {
	const budget, interval = 100, 30 * time.Second
	held := make(chan struct{}, 1)
	held <- struct{}{}
	free := make(chan struct{}, 1)
	for _, c := range []struct {
		name  string
		gate  chan struct{}
		rows  int
		since time.Duration
		wait  bool
	}{
		{"another writes", held, budget, interval, true},
		{"the gate is free", free, budget, interval, false},
		{"no gate", nil, budget, interval, false},
		{"over its budget", held, budget + 1, interval, false},
		{"a second interval past", held, budget, 2 * interval, false},
	} {
		f := &folding{fold: heldRows(c.rows), since: time.Now().Add(-c.since), pending: 1}
		if got := flushCanWait(c.gate, f, budget, interval); got != c.wait {
			t.Errorf("%s: may wait %v, want %v", c.name, got, c.wait)
		}
	}
}
