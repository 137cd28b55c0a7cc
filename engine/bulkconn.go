package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// DefaultBulkPageCache is the page cache, in bytes, of the one SQLite connection a bulk catch-up
// writes through when the database is larger than what SQLite maps (see pinWriter).
const DefaultBulkPageCache = 1 << 30

// pinnedWriter is the connection a bulk run writes through (pinWriter).
type pinnedWriter struct {
	conn *sql.Conn
	// dsnCache is the connection's cache_size before the run raised it; 0 when the run did not.
	dsnCache int64
}

// pinWriter takes, on SQLite, one connection of db for the length of a bulk catch-up, and every
// write of the run goes through it (the write gate already lets one write at a time):
// SQLite drops a connection's whole page cache when it begins a transaction after another
// connection committed, and the writes of a run taking whichever connection the pool handed out —
// a flush after another read model's page, on a connection the folds' read-backs had just used —
// began with an empty cache, which the driver's allocator then freed and filled again page by page.
//
// When the database is larger than the part SQLite maps into memory (mmap_size, at most 2 GiB),
// the connection's page cache is raised to cacheBytes for the run: beyond the map every page not
// in the cache is a pread(2), and at 1 M dossiers the read models' tables (≈ 8 GB) lie wholly
// beyond it, where the DSN's 64 MiB is < 1 % of them (pread was 24 % of that catch-up's profile).
// Within the map a larger cache only costs: the driver's allocator commits and decommits each
// page it holds (≈ 15 CPU s to fill and free 1 GiB, measured at 100 k dossiers under load).
//
// On PostgreSQL, or when the connection cannot be had, it returns nil and the writes take pooled
// connections as before. A rebuild pins one too since its folds flush every FlushInterval as a
// catch-up's do (session 29); when they flushed once, at the end, a rebuild writing through one
// connection took 10–20 % more CPU in three pairs on 20 k dossiers (session 13, not explained).
func pinWriter(ctx context.Context, db *sql.DB, d Dialect, cacheBytes int) *pinnedWriter {
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
	p := &pinnedWriter{conn: conn}
	var pages, pageSize, mapped, cache int64
	for _, q := range []struct {
		pragma string
		into   *int64
	}{{"page_count", &pages}, {"page_size", &pageSize}, {"mmap_size", &mapped}, {"cache_size", &cache}} {
		if err := conn.QueryRowContext(ctx, "PRAGMA "+q.pragma).Scan(q.into); err != nil {
			p.release()
			return nil
		}
	}
	if pages*pageSize > mapped {
		// A negative cache_size is in KiB rather than pages.
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", -cacheBytes/1024)); err != nil {
			p.release()
			return nil
		}
		p.dsnCache = cache
	}
	return p
}

// release gives the connection back to the pool with the cache it had before the run (shrinking a
// raised cache frees what is over), or closes it when that fails. Closing rather than pooling a
// connection whose cache is full costs the driver's allocator as much as shrinking it: 0.7 CPU s
// for 64 MiB at 20 k dossiers, so a connection left as it was goes back as it is.
func (p *pinnedWriter) release() {
	if p == nil {
		return
	}
	if p.dsnCache != 0 {
		if _, err := p.conn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA cache_size = %d", p.dsnCache)); err != nil {
			// Raw returning driver.ErrBadConn has database/sql close the connection rather than pool it.
			_ = p.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}
	_ = p.conn.Close()
}

// connection is the pinned connection, nil when there is none.
func (p *pinnedWriter) connection() *sql.Conn {
	if p == nil {
		return nil
	}
	return p.conn
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
