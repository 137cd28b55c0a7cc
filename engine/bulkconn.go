package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// DefaultBulkPageCache is the page cache, in bytes, of the one SQLite connection a bulk catch-up or
// rebuild writes through (see pinWriter).
const DefaultBulkPageCache = 1 << 30

// pinWriter takes, on SQLite, one connection of db for the length of a bulk catch-up or rebuild,
// with a page cache of cacheBytes, and every write of the run goes through it (the write gate
// already lets one write at a time). Two reasons, both measured at 1 M dossiers, where the read
// models' tables (≈ 8 GB) lie beyond the 2 GiB that SQLite maps into memory and every page outside
// a connection's cache is a pread(2):
//   - SQLite drops a connection's whole page cache when it begins a transaction after another
//     connection committed. Flushes taking whichever connection the pool handed out (the folds'
//     read-backs return theirs in any order) began nearly every flush with an empty cache; the
//     connection that committed last keeps its cache valid.
//   - 64 MiB (the DSN's cache_size) is < 1 % of the read models at 1 M: the upper levels of their
//     b-trees and the rows of the dossiers in progress — the recent end of tables keyed by
//     time-ordered ids — are what a flush touches again and again.
//
// The cache is memory only while it fills, and only for the run: the connection is closed at the
// end (release), not returned to the pool with its cache. On PostgreSQL, or when the connection
// cannot be had, it returns nil and the writes take pooled connections as before.
func pinWriter(ctx context.Context, db *sql.DB, d Dialect, cacheBytes int) *sql.Conn {
	if d != SQLite {
		return nil
	}
	if cacheBytes <= 0 {
		cacheBytes = DefaultBulkPageCache
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil
	}
	// A negative cache_size is in KiB rather than pages.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", -cacheBytes/1024)); err != nil {
		releasePinned(conn)
		return nil
	}
	return conn
}

// releasePinned closes a connection pinWriter took, whatever its state: the pool gets a fresh one
// with the DSN's settings when it needs one.
func releasePinned(conn *sql.Conn) {
	if conn == nil {
		return
	}
	// Raw returning driver.ErrBadConn has database/sql close the connection rather than pool it.
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// writeConn is the connection a write transaction of a bulk run takes: the pinned one when there
// is one, else one of db's, which done gives back.
func writeConn(ctx context.Context, db *sql.DB, pinned *sql.Conn) (conn *sql.Conn, done func(), err error) {
	if pinned != nil {
		return pinned, func() {}, nil
	}
	conn, err = db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	return conn, func() { conn.Close() }, nil
}
