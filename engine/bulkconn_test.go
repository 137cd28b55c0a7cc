package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/projections"
)

// openSQLiteUnmapped opens a store and, on the same file, the read models' pool with mmap_size 0
// — mapped, SQLite reads the test's small file without its page cache: at 1 M dossiers the read
// models lie beyond the 2 GiB mapped — or, mapped, with the DSN's own.
func openSQLiteUnmapped(t *testing.T, mapped bool) (*sqlite.Store, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "motcua.db")
	store, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	dsn := sqlite.ReadModelDSN(path)
	if !mapped {
		dsn = strings.Replace(dsn, url.QueryEscape("mmap_size(2147483648)"), url.QueryEscape("mmap_size(0)"), 1)
		if dsn == sqlite.ReadModelDSN(path) {
			t.Fatalf("the read models' DSN no longer maps 2 GiB: %s", dsn)
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return store, db
}

// dsnCacheSize is the cache_size sqlite.DSN gives every connection, in KiB (negative).
const dsnCacheSize = -65536

// writeSightings records, inside each write transaction of the consumers below, which SQLite
// connection ran it (a random mark kept in a temporary table, which is the connection's own), the
// connection's PRAGMA data_version (it changes when another connection committed since this one's
// last transaction — the moment SQLite drops the connection's whole page cache) and its cache_size.
type writeSightings struct {
	mu   sync.Mutex
	seen []string // "mark data_version cache_size", one per write transaction
}

func (w *writeSightings) record(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS connection_mark (mark INTEGER NOT NULL)`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO connection_mark SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM connection_mark)`, rand.Int64()); err != nil {
		return err
	}
	var mark, version, cache int64
	if err := tx.QueryRowContext(ctx, `SELECT mark FROM connection_mark`).Scan(&mark); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&version); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, fmt.Sprintf("%d %d %d", mark, version, cache))
	return nil
}

// sightedStatus is the public status view whose flushes are sighted.
type sightedStatus struct {
	projections.PublicStatusView
	w *writeSightings
}

func (s sightedStatus) NewFold(fresh bool) engine.Fold {
	return sightedFold{Fold: s.PublicStatusView.NewFold(fresh), w: s.w}
}

func (s sightedStatus) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	return engine.ApplyFold(ctx, tx, batch, s.NewFold(false))
}

type sightedFold struct {
	engine.Fold
	w *writeSightings
}

func (f sightedFold) Flush(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	if err := f.w.record(ctx, tx); err != nil {
		return err
	}
	return f.Fold.Flush(ctx, tx, batch)
}

// sightedJournal is the journal, which does not fold: each page is a transaction of its own.
type sightedJournal struct {
	journal
	w *writeSightings
}

func (j sightedJournal) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	if err := j.w.record(ctx, tx); err != nil {
		return err
	}
	return j.journal.Apply(ctx, tx, batch)
}

// On SQLite every write of a bulk catch-up — the folds' flushes and the pages of a consumer that
// does not fold — goes through one connection, so no write of the catch-up finds its cache
// dropped by another's commit; with the bulk page cache when the database is larger than what
// SQLite maps; the connection goes back to the pool with the DSN's cache afterwards.
func TestBulkCatchUpWritesThroughOneConnectionWithItsOwnPageCache(t *testing.T) {
	t.Parallel()
	store, db := openSQLiteUnmapped(t, false)
	seedDossiers(t, store)
	writeLog(t, store, 1500, 2)
	log := readLog(t, store)
	last := log[len(log)-1].Position

	var w writeSightings
	var logs lockedBuffer
	e := bulkEngine(store, db, engine.SQLite, &logs, sightedStatus{w: &w}, sightedJournal{w: &w})
	const cacheBytes = 8 << 20
	e.BulkPageCache = cacheBytes
	stop := runEngine(t, e)
	waitFor(t, e, last)
	stop()
	if !strings.Contains(logs.String(), "caught up in bulk") {
		t.Fatalf("the engine did not catch up in bulk:\n%s", logs.String())
	}
	checkJournal(t, db, log)
	checkPublicStatus(t, db, log)

	w.mu.Lock()
	seen := w.seen
	w.mu.Unlock()
	if len(seen) < 10 {
		t.Fatalf("%d write transactions sighted, want the catch-up's many pages and flushes", len(seen))
	}
	for i, s := range seen {
		if s != seen[0] {
			t.Fatalf("write %d of %d ran as %q (connection, data_version, cache_size), the first as %q: want one connection that nobody else committed beside",
				i+1, len(seen), s, seen[0])
		}
	}
	if want := fmt.Sprintf(" %d", -cacheBytes/1024); !strings.HasSuffix(seen[0], want) {
		t.Fatalf("the catch-up wrote with cache_size %q, want%s KiB", seen[0], want)
	}

	// Every connection the pool hands out now has the DSN's cache, the catch-up's too.
	ctx := context.Background()
	var held []*sql.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 10 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		var cache int64
		if err := c.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
			t.Fatal(err)
		}
		if cache != dsnCacheSize {
			t.Fatalf("a pooled connection has cache_size %d, want the DSN's %d", cache, dsnCacheSize)
		}
	}
}
