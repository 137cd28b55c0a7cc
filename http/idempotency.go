package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
)

// Retried writes (docs/api.md, "Retries"), after the IETF draft "The Idempotency-Key HTTP Header
// Field": a write sent with an Idempotency-Key is applied once. A repeat of it by the same caller
// within the window gets the first answer again; the same key with another request is refused
// (422); a repeat while the first is still running is told to wait (409).
const (
	idempotencyHeader = "Idempotency-Key"
	// replayedHeader marks an answer that is a replay of the first one, not a new application.
	replayedHeader = "Idempotent-Replayed"
	// DefaultIdempotencyWindow is how long a key's first answer is kept for repeats.
	DefaultIdempotencyWindow = 24 * time.Hour
	// idempotencyLease is how long a request may hold its key before a repeat may take it over: a
	// reservation older than any request lasts was left by a node that stopped mid-request.
	idempotencyLease = time.Minute
	// maxIdempotencyKeyLength bounds a key; a UUID, the draft's advice, is 36.
	maxIdempotencyKeyLength = 255
	// purgeBatch bounds one clean-up of expired keys, so it never holds the write lock for long.
	purgeBatch = 1000
)

// replayedHeaders are the headers of the first answer that a replay repeats.
var replayedHeaders = []string{"Content-Type", "Location", "ETag"}

// idempotencyKeys keeps the first answers to keyed writes in a table beside the event store (the
// read database: the read models' file on SQLite, the store's database on PostgreSQL, so every node
// sees the same keys and they survive restarts). A key is reserved before the request runs and completed with
// the answer after it; the events the request appends carry the key too (commands.Idempotency).
type idempotencyKeys struct {
	db     *sql.DB
	window time.Duration
	now    func() time.Time

	mu        sync.Mutex
	ready     bool      // the table exists
	lastPurge time.Time // when expired keys were last removed
}

// storedAnswer is an answer kept for replay.
type storedAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// reservation is the outcome of asking for a key.
type reservation struct {
	owner    string        // set when the request is to run: the token that completes or releases it
	answer   *storedAnswer // the first answer, to replay
	reused   bool          // the key belongs to another request
	inFlight bool          // the first request is still running
}

// MigrateIdempotencyKeys creates the table of idempotency keys in db when it is missing. A server
// creates it on its first write with a key; the wiring creates it at start, with every other table,
// so that two nodes never create it at once.
func MigrateIdempotencyKeys(ctx context.Context, db *sql.DB) error {
	return (&idempotencyKeys{db: db}).ensureTable(ctx)
}

func (k *idempotencyKeys) ensureTable(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ready {
		return nil
	}
	bodyType := "BLOB"
	if isPostgresDB(k.db) {
		bodyType = "BYTEA"
	}
	// status is 0 while the first request runs; created_at is in Unix microseconds.
	_, err := k.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS idempotency_keys (
		caller TEXT NOT NULL,
		idempotency_key TEXT NOT NULL,
		fingerprint TEXT NOT NULL,
		owner TEXT NOT NULL,
		status INTEGER NOT NULL,
		header TEXT NOT NULL,
		body `+bodyType+`,
		created_at BIGINT NOT NULL,
		PRIMARY KEY (caller, idempotency_key));
	CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at)`)
	if err != nil {
		return fmt.Errorf("idempotency keys: create table: %w", err)
	}
	k.ready = true
	return nil
}

// reserve claims caller's key for a request with the given fingerprint, or says why it may not run.
func (k *idempotencyKeys) reserve(ctx context.Context, caller, key, fingerprint string) (reservation, error) {
	if err := k.ensureTable(ctx); err != nil {
		return reservation{}, err
	}
	if err := k.purge(ctx); err != nil {
		return reservation{}, err
	}
	owner := httpkit.NewIdempotencyKey() // a random token marking this request as the key's owner
	// A few rounds at most: each lost one means another request changed the row in between.
	for range 5 {
		now := k.now().UnixMicro()
		inserted, err := k.db.ExecContext(ctx, `INSERT INTO idempotency_keys (caller, idempotency_key, fingerprint, owner, status, header, body, created_at)
			VALUES ($1, $2, $3, $4, 0, '{}', NULL, $5) ON CONFLICT (caller, idempotency_key) DO NOTHING`, caller, key, fingerprint, owner, now)
		if err != nil {
			return reservation{}, fmt.Errorf("idempotency keys: reserve: %w", err)
		}
		if n, err := inserted.RowsAffected(); err != nil {
			return reservation{}, fmt.Errorf("idempotency keys: reserve: %w", err)
		} else if n == 1 {
			return reservation{owner: owner}, nil
		}

		var (
			storedFingerprint, header string
			status                    int
			body                      []byte
			createdAt                 int64
		)
		err = k.db.QueryRowContext(ctx, `SELECT fingerprint, status, header, body, created_at FROM idempotency_keys
			WHERE caller = $1 AND idempotency_key = $2`, caller, key).Scan(&storedFingerprint, &status, &header, &body, &createdAt)
		if errors.Is(err, sql.ErrNoRows) {
			continue // released or purged in between
		}
		if err != nil {
			return reservation{}, fmt.Errorf("idempotency keys: read: %w", err)
		}
		switch {
		case createdAt < now-k.window.Microseconds():
			// Expired but not yet purged: the key is free again.
			if _, err := k.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE caller = $1 AND idempotency_key = $2 AND created_at = $3`,
				caller, key, createdAt); err != nil {
				return reservation{}, fmt.Errorf("idempotency keys: drop expired: %w", err)
			}
			continue
		case storedFingerprint != fingerprint:
			return reservation{reused: true}, nil
		case status != 0:
			answer := &storedAnswer{Status: status, Body: body}
			if err := json.Unmarshal([]byte(header), &answer.Header); err != nil {
				return reservation{}, fmt.Errorf("idempotency keys: stored header: %w", err)
			}
			return reservation{answer: answer}, nil
		case createdAt >= now-idempotencyLease.Microseconds():
			return reservation{inFlight: true}, nil
		}
		// Abandoned mid-request: take it over. Whether the abandoned run appended is read from the
		// dossier's events, which carry the key (commands.Idempotency), so it is not applied twice.
		taken, err := k.db.ExecContext(ctx, `UPDATE idempotency_keys SET owner = $1, created_at = $2
			WHERE caller = $3 AND idempotency_key = $4 AND status = 0 AND created_at = $5`, owner, now, caller, key, createdAt)
		if err != nil {
			return reservation{}, fmt.Errorf("idempotency keys: take over: %w", err)
		}
		if n, err := taken.RowsAffected(); err == nil && n == 1 {
			return reservation{owner: owner}, nil
		}
	}
	return reservation{inFlight: true}, nil
}

// complete stores the answer of the request that holds the key.
func (k *idempotencyKeys) complete(ctx context.Context, caller, key, owner string, answer storedAnswer) error {
	header, err := json.Marshal(answer.Header)
	if err != nil {
		return err
	}
	_, err = k.db.ExecContext(ctx, `UPDATE idempotency_keys SET status = $1, header = $2, body = $3
		WHERE caller = $4 AND idempotency_key = $5 AND owner = $6`, answer.Status, string(header), answer.Body, caller, key, owner)
	if err != nil {
		return fmt.Errorf("idempotency keys: complete: %w", err)
	}
	return nil
}

// release frees the key of a request that wrote nothing, so that it may be sent again.
func (k *idempotencyKeys) release(ctx context.Context, caller, key, owner string) error {
	_, err := k.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE caller = $1 AND idempotency_key = $2 AND owner = $3 AND status = 0`,
		caller, key, owner)
	if err != nil {
		return fmt.Errorf("idempotency keys: release: %w", err)
	}
	return nil
}

// purge removes keys older than the window, a batch at a time and about once a minute; a full batch
// means more are waiting, so the next request purges again.
func (k *idempotencyKeys) purge(ctx context.Context) error {
	now := k.now()
	k.mu.Lock()
	due := now.Sub(k.lastPurge) >= time.Minute
	if due {
		k.lastPurge = now
	}
	k.mu.Unlock()
	if !due {
		return nil
	}
	deleted, err := k.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE (caller, idempotency_key) IN (
		SELECT caller, idempotency_key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)`,
		now.Add(-k.window).UnixMicro(), purgeBatch)
	if err != nil {
		return fmt.Errorf("idempotency keys: purge: %w", err)
	}
	if n, err := deleted.RowsAffected(); err == nil && n == purgeBatch {
		k.mu.Lock()
		k.lastPurge = time.Time{}
		k.mu.Unlock()
	}
	return nil
}

// parseIdempotencyKey reads the header: a Structured Fields string ("…") per the draft, or the bare
// key most clients send. Keys are printable ASCII, at most maxIdempotencyKeyLength characters.
func parseIdempotencyKey(h string) (string, error) {
	key := strings.TrimSpace(h)
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		key = key[1 : len(key)-1]
	}
	if key == "" || len(key) > maxIdempotencyKeyLength {
		return "", invalid(idempotencyHeader, fmt.Sprintf("must be 1 to %d printable ASCII characters, e.g. a UUID", maxIdempotencyKeyLength))
	}
	for _, c := range []byte(key) {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "", invalid(idempotencyHeader, fmt.Sprintf("must be 1 to %d printable ASCII characters, e.g. a UUID", maxIdempotencyKeyLength))
		}
	}
	return key, nil
}

// requestFingerprint is the hex SHA-256 of what makes two requests the same request: method, path
// and query, caller, and body, each length-prefixed.
func requestFingerprint(r *http.Request, caller string, body []byte) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(r.Method), []byte(r.URL.RequestURI()), []byte(caller), body} {
		fmt.Fprintf(h, "%d:", len(part))
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// idempotent applies the Idempotency-Key of writes; requests without one, and reads, pass through.
func (s *Server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get(idempotencyHeader)
		if h == "" || s.idempotency == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		key, err := parseIdempotencyKey(h)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		// One byte over the limit is enough for decodeBody to refuse the body as too large.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil {
			s.writeError(w, r, invalid("body", "could not be read"))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		caller := callerOf(r.Context()).ID
		fingerprint := requestFingerprint(r, caller, body)
		res, err := s.idempotency.reserve(r.Context(), caller, key, fingerprint)
		switch {
		case err != nil:
			s.writeError(w, r, err)
			return
		case res.reused:
			s.writeError(w, r, domain.Errorf(domain.EIDEMPOTENCY, "Idempotency-Key %q was sent with another request: send a new key for a new request", key))
			return
		case res.inFlight:
			w.Header().Set("Retry-After", "1")
			writeProblem(w, httpkit.Problem{Type: "https://motcua.vn/problems/idempotency_key_in_flight", Status: http.StatusConflict,
				Title:    "Yêu cầu đang được xử lý / Request in progress",
				Detail:   fmt.Sprintf("the first request with Idempotency-Key %q is still being processed: send it again in a moment for its answer", key),
				Instance: r.URL.Path, Code: "idempotency_key_in_flight"})
			return
		case res.answer != nil:
			for _, name := range replayedHeaders {
				if v := res.answer.Header.Get(name); v != "" {
					w.Header().Set(name, v)
				}
			}
			w.Header().Set(replayedHeader, "true")
			w.WriteHeader(res.answer.Status)
			_, _ = w.Write(res.answer.Body)
			return
		}

		ctx := commands.WithIdempotency(r.Context(), commands.Idempotency{Key: key, RequestHash: fingerprint,
			Since: s.now().Add(-s.idempotency.window)})
		rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))
		// The answer is stored, or the key released, even if the client has gone: a retry is coming.
		store := context.WithoutCancel(r.Context())
		if rec.status >= 200 && rec.status < 300 {
			answer := storedAnswer{Status: rec.status, Header: http.Header{}, Body: rec.body.Bytes()}
			for _, name := range replayedHeaders {
				if v := rec.header.Get(name); v != "" {
					answer.Header.Set(name, v)
				}
			}
			if err := s.idempotency.complete(store, caller, key, res.owner, answer); err != nil {
				// The events carry the key: a repeat after the lease is answered from them.
				s.logger.ErrorContext(r.Context(), "store the answer of a keyed request", "err", err)
			}
		} else if err := s.idempotency.release(store, caller, key, res.owner); err != nil {
			s.logger.ErrorContext(r.Context(), "release an idempotency key", "err", err)
		}
		for name, values := range rec.header {
			w.Header()[name] = values
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

// markReplayed flags an answer rebuilt from the events of a keyed request that had already run.
func markReplayed(w http.ResponseWriter, replayed bool) {
	if replayed {
		w.Header().Set(replayedHeader, "true")
	}
}

// isPostgresDB tells a database/sql handle on pgx from one on SQLite.
func isPostgresDB(db *sql.DB) bool {
	return strings.Contains(fmt.Sprintf("%T", db.Driver()), "stdlib")
}
