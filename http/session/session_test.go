package session_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/http/session"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// forEachDatabase runs test on a SQLite file and on a PostgreSQL database.
func forEachDatabase(t *testing.T, test func(t *testing.T, db *sql.DB, dialect engine.Dialect)) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := sql.Open("sqlite", sqlite.ReadModelDSN(filepath.Join(t.TempDir(), "sessions.db")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		test(t, db, engine.SQLite)
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := sql.Open("pgx", pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		test(t, db, engine.PostgreSQL)
	})
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newStore(t *testing.T, db *sql.DB, dialect engine.Dialect) (*session.Store, *clock) {
	t.Helper()
	c := &clock{now: time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)}
	store, err := session.New(db, dialect, session.Timeouts{Idle: 30 * time.Minute, Absolute: 2 * time.Hour, Attempt: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return store.WithClock(c.Now), c
}

func TestSessionsLiveUntilIdleOrAbsoluteTimeoutAndEndOnSignOut(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *sql.DB, dialect engine.Dialect) {
		ctx := context.Background()
		store, c := newStore(t, db, dialect)
		citizen := session.Session{Kind: session.Citizen, Subject: "u1", Claims: map[string]string{"name": "Nguyễn Văn An", "id_number": "001090000001"}}
		token, err := store.Create(ctx, citizen)
		if err != nil {
			t.Fatal(err)
		}
		got, err := store.Get(ctx, token, session.Citizen)
		if err != nil || got.Subject != "u1" || got.Claims["name"] != "Nguyễn Văn An" {
			t.Fatalf("get: %+v, %v", got, err)
		}
		if _, err := store.Get(ctx, token, "official"); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("a citizen's session looked up as an official's: %v, want ErrNoSession", err)
		}
		var stored int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE id = $1`, token).Scan(&stored); err != nil || stored != 0 {
			t.Errorf("the table holds the token itself (%d rows, %v): it must hold only its hash", stored, err)
		}

		// Requests every 20 minutes keep it alive past the idle timeout, not past the absolute one.
		for range 5 {
			c.Advance(20 * time.Minute)
			if _, err := store.Get(ctx, token, session.Citizen); err != nil {
				t.Fatalf("after %v of activity: %v", c.Now().Sub(got.Created), err)
			}
		}
		c.Advance(21 * time.Minute) // 2h01 after sign-in
		if _, err := store.Get(ctx, token, session.Citizen); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("past the absolute timeout: %v, want ErrNoSession", err)
		}

		idle, err := store.Create(ctx, citizen)
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(31 * time.Minute)
		if _, err := store.Get(ctx, idle, session.Citizen); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("past the idle timeout: %v, want ErrNoSession", err)
		}

		ended, err := store.Create(ctx, citizen)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.End(ctx, ended); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Get(ctx, ended, session.Citizen); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("after signing out: %v, want ErrNoSession", err)
		}
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&stored); err != nil || stored != 0 {
			t.Errorf("%d sessions kept after every one ended or expired (%v)", stored, err)
		}

		// An erasure ends every session of the person, and no one else's.
		held := session.Session{Kind: session.Citizen, Subject: "u1", Holder: "index-of-u1"}
		phone, _ := store.Create(ctx, held)
		laptop, _ := store.Create(ctx, held)
		other, _ := store.Create(ctx, session.Session{Kind: session.Citizen, Subject: "u2", Holder: "index-of-u2"})
		if n, err := store.EndHolder(ctx, session.Citizen, "index-of-u1"); err != nil || n != 2 {
			t.Fatalf("EndHolder: %d, %v; want 2 sessions ended", n, err)
		}
		for _, token := range []string{phone, laptop} {
			if _, err := store.Get(ctx, token, session.Citizen); !errors.Is(err, session.ErrNoSession) {
				t.Errorf("a session of the erased person lives on: %v", err)
			}
		}
		if got, err := store.Get(ctx, other, session.Citizen); err != nil || got.Holder != "index-of-u2" {
			t.Errorf("another person's session: %+v, %v", got, err)
		}
	})
}

func TestAnAttemptIsTakenOnceWithinItsTime(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *sql.DB, dialect engine.Dialect) {
		ctx := context.Background()
		store, c := newStore(t, db, dialect)
		want := session.Attempt{Kind: session.Citizen, Nonce: "n", Verifier: "v", Next: "/ho-so-cua-toi"}
		state, err := store.Begin(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := store.Take(ctx, state)
		if err != nil || got.Nonce != "n" || got.Verifier != "v" || got.Next != "/ho-so-cua-toi" || got.Kind != session.Citizen {
			t.Fatalf("take: %+v, %v", got, err)
		}
		if _, err := store.Take(ctx, state); !errors.Is(err, session.ErrNoAttempt) {
			t.Errorf("a state taken twice: %v, want ErrNoAttempt", err)
		}
		late, err := store.Begin(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(11 * time.Minute)
		if _, err := store.Take(ctx, late); !errors.Is(err, session.ErrNoAttempt) {
			t.Errorf("a state taken after the attempt timeout: %v, want ErrNoAttempt", err)
		}
	})
}
