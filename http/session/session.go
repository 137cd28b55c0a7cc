// Package session keeps the server-side sessions of people signed in through an OpenID Connect
// provider — citizens through VNeID, officials through the province's provider or a local account — and
// the sign-in attempts in flight (state, nonce, PKCE verifier), and officials' local accounts
// (accounts.go). They live in the deployment's
// durable database (SQLite or PostgreSQL), so a session survives a restart, every node of a
// deployment sees it, and signing out ends it for good: the browser holds only a random token,
// the table only its SHA-256, so neither a stolen cookie jar of old tokens nor a copy of the table
// opens a session once it is deleted or expired.
//
// A session has a kind; a lookup names the kind it accepts, so a citizen's session never opens
// an official's door nor the reverse.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/motcua/motcua/engine"
)

// Kind is the kind of account a session signs in.
type Kind string

// Citizen is a citizen signed in through the national identity provider (VNeID).
const Citizen Kind = "citizen"

// Official is an official signed in to the pages: through the province's identity provider, a
// local account's password, or an API token (docs/security.md, "Officials' sign-in").
const Official Kind = "official"

// Session is who signed in, as the provider said at sign-in.
type Session struct {
	Kind    Kind
	Subject string // the provider's subject
	// Holder finds the sessions of one person when they must all end: for a citizen, the blind
	// index of their identification number (an erasure ends their sessions). Never shown.
	Holder string
	// Claims are the identity claims motcua keeps for the session's life (for a citizen: name,
	// identification number, phone, e-mail), deleted with it.
	Claims   map[string]string
	Created  time.Time
	LastSeen time.Time
}

// Attempt is a sign-in in flight: what the callback must find to accept the provider's answer.
type Attempt struct {
	Kind     Kind
	Nonce    string // echoed in the ID token
	Verifier string // PKCE code verifier (RFC 7636)
	Next     string // where to go once signed in
	Created  time.Time
}

// Timeouts bound a session: it ends after Idle without a request, and after Absolute whatever.
type Timeouts struct {
	Idle, Absolute time.Duration
	// Attempt is how long a sign-in may take at the provider.
	Attempt time.Duration
}

// DefaultTimeouts: 30 minutes idle, 8 hours in all, 10 minutes at the provider.
var DefaultTimeouts = Timeouts{Idle: 30 * time.Minute, Absolute: 8 * time.Hour, Attempt: 10 * time.Minute}

// ErrNoSession is a token no live session of the kind asked for has: unknown, expired, ended,
// or of another kind.
var ErrNoSession = errors.New("no session")

// ErrNoAttempt is a state no sign-in in flight has: unknown, used already, or too old.
var ErrNoAttempt = errors.New("no sign-in attempt")

// Store keeps sessions and attempts in a SQL database.
type Store struct {
	db       *sql.DB
	dialect  engine.Dialect
	timeouts Timeouts
	now      func() time.Time

	mu    sync.Mutex
	ready bool
}

// New returns the store kept in db, written in dialect (named by the wiring).
func New(db *sql.DB, dialect engine.Dialect, timeouts Timeouts) (*Store, error) {
	if err := dialect.Check(); err != nil {
		return nil, err
	}
	if timeouts.Idle <= 0 || timeouts.Absolute <= 0 || timeouts.Attempt <= 0 {
		return nil, errors.New("session: the idle, absolute and attempt timeouts must be positive")
	}
	if timeouts.Idle > timeouts.Absolute {
		return nil, errors.New("session: the idle timeout cannot be longer than the absolute one")
	}
	return &Store{db: db, dialect: dialect, timeouts: timeouts, now: time.Now}, nil
}

// WithClock makes the store tell time by now (tests).
func (s *Store) WithClock(now func() time.Time) *Store { s.now = now; return s }

// Timeouts are the store's.
func (s *Store) Timeouts() Timeouts { return s.timeouts }

// Migrate creates the tables; harmless when they exist. Every other method calls it on first use.
func (s *Store) Migrate(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return nil
	}
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS sessions (
			id TEXT PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL, holder TEXT NOT NULL, claims TEXT NOT NULL,
			created BIGINT NOT NULL, last_seen BIGINT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS sessions_last_seen ON sessions (last_seen)`,
		`CREATE INDEX IF NOT EXISTS sessions_holder ON sessions (kind, holder)`,
		`CREATE TABLE IF NOT EXISTS signin_attempts (
			state TEXT PRIMARY KEY, kind TEXT NOT NULL, nonce TEXT NOT NULL, verifier TEXT NOT NULL,
			next TEXT NOT NULL, created BIGINT NOT NULL)`,
	} {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("session: migrate: %w", err)
		}
	}
	s.ready = true
	return nil
}

// RandomToken returns 32 random bytes, base64url: a session token, a state, a nonce or a PKCE
// verifier (43 characters, within RFC 7636's 43–128).
func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashed is what the tables keep of a token.
func hashed(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Create starts a session and returns its token, for the cookie. It first removes sessions and
// attempts past their time, so the tables hold only live ones.
func (s *Store) Create(ctx context.Context, sess Session) (string, error) {
	if err := s.Migrate(ctx); err != nil {
		return "", err
	}
	if sess.Kind == "" || sess.Subject == "" {
		return "", errors.New("session: a session needs a kind and a subject")
	}
	if err := s.purge(ctx, sess.Kind); err != nil {
		return "", err
	}
	claims, err := json.Marshal(sess.Claims)
	if err != nil {
		return "", err
	}
	token := RandomToken()
	now := s.now().UTC().UnixMicro()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id, kind, subject, holder, claims, created, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		hashed(token), string(sess.Kind), sess.Subject, sess.Holder, string(claims), now, now); err != nil {
		return "", fmt.Errorf("session: create: %w", err)
	}
	return token, nil
}

// purge removes the sessions of kind past this store's timeouts — each kind has its own (the
// citizens' and the officials' stores share the table) — and the attempts past theirs.
func (s *Store) purge(ctx context.Context, kind Kind) error {
	now := s.now().UTC()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE kind = $1 AND (last_seen < $2 OR created < $3)`,
		string(kind), now.Add(-s.timeouts.Idle).UnixMicro(), now.Add(-s.timeouts.Absolute).UnixMicro()); err != nil {
		return fmt.Errorf("session: purge: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM signin_attempts WHERE created < $1`, now.Add(-s.timeouts.Attempt).UnixMicro()); err != nil {
		return fmt.Errorf("session: purge: %w", err)
	}
	return nil
}

// touchEvery is how stale a session's last request may be recorded: a page's burst of requests
// writes once, and the idle timeout is off by at most this much.
const touchEvery = time.Minute

// Get returns the live session of kind whose token this is, and records the request (the idle
// timeout counts from it). An expired session is deleted; any failure to find one is ErrNoSession.
func (s *Store) Get(ctx context.Context, token string, kind Kind) (Session, error) {
	if token == "" {
		return Session{}, ErrNoSession
	}
	if err := s.Migrate(ctx); err != nil {
		return Session{}, err
	}
	id := hashed(token)
	var sess Session
	var k, claims string
	var created, lastSeen int64
	err := s.db.QueryRowContext(ctx, `SELECT kind, subject, holder, claims, created, last_seen FROM sessions WHERE id = $1`, id).
		Scan(&k, &sess.Subject, &sess.Holder, &claims, &created, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: get: %w", err)
	}
	sess.Kind, sess.Created, sess.LastSeen = Kind(k), time.UnixMicro(created).UTC(), time.UnixMicro(lastSeen).UTC()
	if sess.Kind != kind {
		return Session{}, ErrNoSession
	}
	now := s.now().UTC()
	if now.Sub(sess.LastSeen) > s.timeouts.Idle || now.Sub(sess.Created) > s.timeouts.Absolute {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
			return Session{}, fmt.Errorf("session: end expired: %w", err)
		}
		return Session{}, ErrNoSession
	}
	if err := json.Unmarshal([]byte(claims), &sess.Claims); err != nil {
		return Session{}, fmt.Errorf("session: claims: %w", err)
	}
	if now.Sub(sess.LastSeen) >= touchEvery {
		if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen = $1 WHERE id = $2`, now.UnixMicro(), id); err != nil {
			return Session{}, fmt.Errorf("session: touch: %w", err)
		}
		sess.LastSeen = now
	}
	return sess, nil
}

// End deletes the session of this token (signing out); ending one that is gone is no error.
func (s *Store) End(ctx context.Context, token string) error {
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, hashed(token)); err != nil {
		return fmt.Errorf("session: end: %w", err)
	}
	return nil
}

// EndHolder ends every session of kind held by holder (a person whose data was erased) and says
// how many there were. An empty holder ends nothing.
func (s *Store) EndHolder(ctx context.Context, kind Kind, holder string) (int64, error) {
	if holder == "" {
		return 0, nil
	}
	if err := s.Migrate(ctx); err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE kind = $1 AND holder = $2`, string(kind), holder)
	if err != nil {
		return 0, fmt.Errorf("session: end the holder's sessions: %w", err)
	}
	return res.RowsAffected()
}

// Begin records a sign-in attempt and returns its state, which goes to the provider and, in a
// cookie, stays with the browser that began it.
func (s *Store) Begin(ctx context.Context, a Attempt) (string, error) {
	if err := s.Migrate(ctx); err != nil {
		return "", err
	}
	state := RandomToken()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO signin_attempts (state, kind, nonce, verifier, next, created) VALUES ($1, $2, $3, $4, $5, $6)`,
		hashed(state), string(a.Kind), a.Nonce, a.Verifier, a.Next, s.now().UTC().UnixMicro()); err != nil {
		return "", fmt.Errorf("session: begin sign-in: %w", err)
	}
	return state, nil
}

// Take returns the attempt of state and removes it: a state is good for one answer only, within
// the attempt timeout.
func (s *Store) Take(ctx context.Context, state string) (Attempt, error) {
	if state == "" {
		return Attempt{}, ErrNoAttempt
	}
	if err := s.Migrate(ctx); err != nil {
		return Attempt{}, err
	}
	var a Attempt
	var kind string
	var created int64
	err := s.db.QueryRowContext(ctx, `DELETE FROM signin_attempts WHERE state = $1 RETURNING kind, nonce, verifier, next, created`, hashed(state)).
		Scan(&kind, &a.Nonce, &a.Verifier, &a.Next, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Attempt{}, ErrNoAttempt
	}
	if err != nil {
		return Attempt{}, fmt.Errorf("session: take sign-in: %w", err)
	}
	a.Kind, a.Created = Kind(kind), time.UnixMicro(created).UTC()
	if s.now().Sub(a.Created) > s.timeouts.Attempt {
		return Attempt{}, ErrNoAttempt
	}
	return a, nil
}
