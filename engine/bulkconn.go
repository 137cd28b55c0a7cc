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
// and every write of the run goes through it (the write gate already lets one write at a time):
// SQLite drops a connection's whole page cache when it begins a transaction after another
// connection committed, and the writes of a run taking whichever connection the pool handed out —
// a flush after another read model's page, on a connection the folds' read-backs had just used —
// began with an empty cache.
//
// When the database is larger than the part SQLite maps into memory (mmap_size, at most 2 GiB),
// the connection's page cache is raised to cacheBytes for the run: beyond the map every page not
// in the cache is a pread(2), and at 1 M dossiers the read models' tables (≈ 8 GB) lie wholly
// beyond it, where the DSN's 64 MiB is < 1 % of them (pread was 24 % of that catch-up's profile).
// Within the map a larger cache only costs: the driver's allocator commits and decommits each
// page it holds (≈ 15 CPU s to fill and free 1 GiB, measured at 100 k dossiers).
//
// The connection is closed at the end (releasePinned), not returned to the pool with its cache.
// On PostgreSQL, or when the connection cannot be had, it returns nil and the writes take pooled
// connections as before.
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
	var pages, pageSize, mapped int64
	if err := conn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		releasePinned(conn)
		return nil
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		releasePinned(conn)
		return nil
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA mmap_size").Scan(&mapped); err != nil {
		releasePinned(conn)
		return nil
	}
	if pages*pageSize > mapped {
		// A negative cache_size is in KiB rather than pages.
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", -cacheBytes/1024)); err != nil {
			releasePinned(conn)
			return nil
		}
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
