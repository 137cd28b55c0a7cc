// Package sqlite is the embedded eventstore.Store: one SQLite file (pure Go driver modernc.org/sqlite)
// in WAL mode with synchronous=FULL, so an acknowledged append survives a crash of the process.
//
// SQLite allows one writer at a time. The store serialises its own appends in-process and begins
// every write transaction with BEGIN IMMEDIATE, which takes the write lock up front: a transaction
// that began as a reader and later tried to write could fail with SQLITE_BUSY without waiting
// (SQLite cannot let two such upgrades wait on each other). Other processes on the same file are
// safe as long as they use the same conventions (see DSN).
//
// The global log is the events table's sequence number: an event's Position has it as both Commit
// and Prepare. Read models may keep their tables in the same file, through DB(); see DB for the rules.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/motcua/motcua/eventstore"
)

var _ eventstore.Store = (*Store)(nil)

// DefaultPollInterval is how often an idle subscription looks for events appended by other
// processes, whose commits do not reach this process's in-memory broadcast.
const DefaultPollInterval = 500 * time.Millisecond

// busyTimeout is how long a connection waits for another writer (another process, or a read model's
// transaction) to release the write lock before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// catchUpPageSize is how many events a subscription reads per query while catching up.
const catchUpPageSize = 512

// Store is the SQLite event store. It is safe for concurrent use.
type Store struct {
	db           *sql.DB
	pollInterval time.Duration

	// writeSlot holds one token: the right to run an append transaction. A channel rather than a
	// mutex so that a writer waiting its turn still honours its context.
	writeSlot chan struct{}
	// committed wakes live subscriptions after each append this process commits.
	committed broadcast

	stmts statements
}

// Option configures Open.
type Option func(*Store)

// WithPollInterval sets how often an idle subscription polls the file for events appended by other
// processes (DefaultPollInterval unless set). Appends made through this Store wake subscriptions at
// once regardless.
func WithPollInterval(interval time.Duration) Option {
	return func(s *Store) {
		if interval > 0 {
			s.pollInterval = interval
		}
	}
}

// DSN returns the database/sql data source name (driver "sqlite") the store uses for path: WAL
// journal, synchronous=FULL (a commit is on disk before it returns), a busy timeout, foreign keys on,
// a larger page cache, memory-mapped reads, and immediate write transactions (_txlock=immediate).
// Any other process or *sql.DB that writes to the same file must use it too, or at least begin its
// write transactions with BEGIN IMMEDIATE.
func DSN(path string) string {
	query := url.Values{}
	query.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	query.Add("_pragma", "journal_mode(WAL)")
	query.Add("_pragma", "synchronous(FULL)")
	query.Add("_pragma", "foreign_keys(ON)")
	// A 64 MiB page cache per connection, and the file's first 2 GiB (SQLite's ceiling) read
	// through memory mapping: the read models' replays and loads otherwise spent much of their time
	// in read(2) of single pages. Writes still go through write(2) and the WAL.
	query.Add("_pragma", "cache_size(-65536)")
	query.Add("_pragma", "mmap_size(2147483648)")
	query.Set("_txlock", "immediate")
	return path + "?" + query.Encode()
}

// ReadModelDSN is DSN with synchronous=NORMAL, for a second pool on a file (the store's, or one of
// their own) that only writes read models (projections and their checkpoints). In WAL mode such a
// commit skips the fsync: a power loss may undo the last read-model transactions, never leaving
// them half-done, and since each carries its own checkpoint the projection replays them from the
// store, whose appends stay FULL. It removes one fsync per read model and batch, which is what kept
// six read models and the appends queuing behind one another for SQLite's single write lock. Never
// append events, or write anything that is not rebuilt from the log (crypto-shredding keys, for
// one), through such a pool.
//
// It also keeps temporary data in memory (temp_store=MEMORY): the statement journal of every
// multi-row write — its undo record should a row fail — went to a temporary file, 15–20 % of a
// rebuild's time. The store's own pool, which serves the dashboards' large sorts, keeps temporary
// data in files.
func ReadModelDSN(path string) string {
	dsn := strings.Replace(DSN(path), url.QueryEscape("synchronous(FULL)"), url.QueryEscape("synchronous(NORMAL)"), 1)
	return dsn + "&_pragma=" + url.QueryEscape("temp_store(MEMORY)")
}

// IdleConns is how many connections the store's pool keeps idle, and a pool of readers beside it
// should: readers (subscriptions, loads, queries) each hold a connection while they query, and a
// connection given back beyond it closes — the next reopens the file, reruns the pragmas and maps
// 2 GiB again.
const IdleConns = 8

// Open opens (creating if needed) the event store in the SQLite file at path and brings its schema
// up to date.
func Open(ctx context.Context, path string, options ...Option) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, "file:") || strings.Contains(path, ":memory:") {
		// The driver reads everything after '?' as options, and an in-memory database is neither
		// durable nor shared between connections.
		return nil, fmt.Errorf("eventstore/sqlite: open %q: want a plain file path", path)
	}
	if err := CreatePrivate(path); err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: open %q: %w", path, err)
	}
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: open %q: %w", path, err)
	}
	db.SetMaxIdleConns(IdleConns)

	store := &Store{db: db, pollInterval: DefaultPollInterval, writeSlot: make(chan struct{}, 1)}
	store.committed.init()
	for _, option := range options {
		option(store)
	}
	if err := store.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("eventstore/sqlite: open %q: %w", path, err)
	}
	return store, nil
}

// CreatePrivate creates the database file at path with mode 0600 unless it exists, and takes group
// and other access away from it and its -wal and -shm files when they have it. SQLite would create
// the file 0644 under the usual umask — readable by every user of the machine, and it holds the
// applicants' personal data — and gives the -wal and -shm files the database file's mode.
func CreatePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, file := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(file, info.Mode().Perm()&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) init(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	if err := migrate(ctx, s.db); err != nil {
		return err
	}
	return s.stmts.prepare(ctx, s.db)
}

// DB returns the store's connection pool, for read models that keep their tables in the same file.
// Its transactions begin IMMEDIATE, taking the write lock at BEGIN: keep them short, since appends
// wait for them, and use sql.TxOptions{ReadOnly: true} (a plain deferred BEGIN) or queries outside a
// transaction for reading. Never write to the events table; it is append-only and owned by the store.
func (s *Store) DB() *sql.DB { return s.db }

// Close releases the store's connections. Subscriptions still running end with an error.
func (s *Store) Close() error {
	s.stmts.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("eventstore/sqlite: close: %w", err)
	}
	return nil
}
