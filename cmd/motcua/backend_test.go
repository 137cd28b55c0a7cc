package main

import (
	"context"
	"database/sql"
	"testing"
)

// On SQLite the projections write through a pool that skips the fsync; queries and the
// crypto-shredding keys — which no replay can bring back — stay on the durable one.
func TestSQLiteBackendKeepsKeysDurableAndReadModelsFast(t *testing.T) {
	b, err := openBackend(context.Background(), "", t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	synchronous := func(db *sql.DB) int {
		t.Helper()
		var level int
		if err := db.QueryRow(`PRAGMA synchronous`).Scan(&level); err != nil {
			t.Fatal(err)
		}
		return level
	}
	if got := synchronous(b.ReadDB); got != 2 {
		t.Errorf("ReadDB: synchronous = %d, want 2 (FULL)", got)
	}
	if got := synchronous(b.ProjectionDB); got != 1 {
		t.Errorf("ProjectionDB: synchronous = %d, want 1 (NORMAL)", got)
	}
}
