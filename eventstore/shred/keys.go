package shred

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// SQLKeys keeps data keys in a table of an SQL database — the event store's own (SQLite, or
// PostgreSQL through pgx's database/sql driver), so keys and events are backed up together and no
// other service is needed. Deleting a row is the erasure: nothing else holds the key.
type SQLKeys struct {
	db  *sql.DB
	now func() time.Time
}

var _ KeyStore = (*SQLKeys)(nil)

// OpenSQLKeys returns the key store in db, creating its tables when missing.
func OpenSQLKeys(ctx context.Context, db *sql.DB) (*SQLKeys, error) {
	statements := sqliteKeySchema
	if isPostgres(db) {
		statements = postgresKeySchema
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("shred: create key table: %w", err)
	}
	defer tx.Rollback()
	if isPostgres(db) {
		// Nodes starting together would collide in PostgreSQL's catalog (CREATE OR REPLACE too).
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, keySchemaLock); err != nil {
			return nil, fmt.Errorf("shred: create key table: %w", err)
		}
	}
	for _, stmt := range statements {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("shred: create key table: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("shred: create key table: %w", err)
	}
	return &SQLKeys{db: db, now: time.Now}, nil
}

// keySchemaLock is the PostgreSQL advisory lock held while the key tables are created ("motcuas").
const keySchemaLock int64 = 0x6d6f74637561_73

// shred_erasures counts the changes to existing keys — an erasure's DELETE, or a row deleted or
// altered by hand — in the same transaction, by trigger, so a reader caching keys (openedKeys)
// learns of every one, from any process, with one small query.
var sqliteKeySchema = []string{
	`CREATE TABLE IF NOT EXISTS shred_keys (
		key_id TEXT PRIMARY KEY,
		subject TEXT NOT NULL UNIQUE,
		secret BLOB NOT NULL,
		created_at TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS shred_erasures (id INTEGER PRIMARY KEY CHECK (id = 1), changes BIGINT NOT NULL)`,
	`INSERT INTO shred_erasures (id, changes) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`,
	`CREATE TRIGGER IF NOT EXISTS shred_keys_deleted AFTER DELETE ON shred_keys
		BEGIN UPDATE shred_erasures SET changes = changes + 1 WHERE id = 1; END`,
	`CREATE TRIGGER IF NOT EXISTS shred_keys_updated AFTER UPDATE ON shred_keys
		BEGIN UPDATE shred_erasures SET changes = changes + 1 WHERE id = 1; END`,
}

var postgresKeySchema = []string{
	`CREATE TABLE IF NOT EXISTS shred_keys (
		key_id TEXT PRIMARY KEY,
		subject TEXT NOT NULL UNIQUE,
		secret BYTEA NOT NULL,
		created_at TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS shred_erasures (id INTEGER PRIMARY KEY CHECK (id = 1), changes BIGINT NOT NULL)`,
	`INSERT INTO shred_erasures (id, changes) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`,
	`CREATE OR REPLACE FUNCTION shred_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN UPDATE shred_erasures SET changes = changes + 1 WHERE id = 1; RETURN NULL; END $$`,
	`CREATE OR REPLACE TRIGGER shred_keys_changed AFTER UPDATE OR DELETE OR TRUNCATE ON shred_keys
		FOR EACH STATEMENT EXECUTE FUNCTION shred_keys_changed()`,
}

// Erasures returns how many times existing keys were deleted or changed (ErasureCounter).
func (k *SQLKeys) Erasures(ctx context.Context) (int64, error) {
	var changes int64
	if err := k.db.QueryRowContext(ctx, `SELECT changes FROM shred_erasures WHERE id = 1`).Scan(&changes); err != nil {
		return 0, fmt.Errorf("shred: count erasures: %w", err)
	}
	return changes, nil
}

func isPostgres(db *sql.DB) bool {
	driver := reflect.TypeOf(db.Driver())
	for driver.Kind() == reflect.Pointer {
		driver = driver.Elem()
	}
	return driver.PkgPath() == "github.com/jackc/pgx/v5/stdlib"
}

// KeyFor returns subject's key, making it on first use. Concurrent first uses agree on one key: the
// insert that loses the race on the subject's uniqueness changes nothing.
func (k *SQLKeys) KeyFor(ctx context.Context, subject Subject) (Key, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("shred: new key: %w", err)
	}
	_, err := k.db.ExecContext(ctx, `INSERT INTO shred_keys (key_id, subject, secret, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (subject) DO NOTHING`, uuid.NewString(), string(subject), secret, k.now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return Key{}, fmt.Errorf("shred: store key: %w", err)
	}
	var key Key
	err = k.db.QueryRowContext(ctx, `SELECT key_id, secret FROM shred_keys WHERE subject = $1`, string(subject)).Scan(&key.ID, &key.Secret)
	if errors.Is(err, sql.ErrNoRows) {
		// Erased between the insert and the read: the caller's new data must not go in clear.
		return Key{}, fmt.Errorf("shred: key of a subject being erased: %w", ErrNoKey)
	}
	if err != nil {
		return Key{}, fmt.Errorf("shred: read key: %w", err)
	}
	return key, nil
}

// SubjectKey is a key made for a subject, for Put.
type SubjectKey struct {
	Subject Subject
	Key     Key
}

// Put stores keys made by the caller, in one transaction: a bulk load (`motcua bench generate`)
// seals with keys it makes in memory and stores them from its own writer, behind the events'
// appends. A subject that has a key already keeps it, and Put fails, storing none: its data would
// be sealed under two keys.
func (k *SQLKeys) Put(ctx context.Context, keys []SubjectKey) (err error) {
	tx, err := k.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("shred: store keys: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	insert, err := tx.PrepareContext(ctx, `INSERT INTO shred_keys (key_id, subject, secret, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (subject) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("shred: store keys: %w", err)
	}
	defer insert.Close()
	created := k.now().UTC().Format(time.RFC3339Nano)
	for _, sk := range keys {
		res, err := insert.ExecContext(ctx, sk.Key.ID, string(sk.Subject), sk.Key.Secret, created)
		if err != nil {
			return fmt.Errorf("shred: store key: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("shred: store key: %w", err)
		}
		if n != 1 {
			return fmt.Errorf("shred: store key: subject %s has a key already", sk.Subject)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("shred: store keys: %w", err)
	}
	return nil
}

// NewKey makes a random key, for Put.
func NewKey() (Key, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("shred: new key: %w", err)
	}
	return Key{ID: uuid.NewString(), Secret: secret}, nil
}

// Key returns the key with the given id, or ErrNoKey when it was erased.
func (k *SQLKeys) Key(ctx context.Context, id string) (Key, error) {
	key := Key{ID: id}
	err := k.db.QueryRowContext(ctx, `SELECT secret FROM shred_keys WHERE key_id = $1`, id).Scan(&key.Secret)
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, ErrNoKey
	}
	if err != nil {
		return Key{}, fmt.Errorf("shred: read key: %w", err)
	}
	return key, nil
}

// keysPerQuery bounds the ids one KeysByID query asks for.
const keysPerQuery = 500

// KeysByID returns the keys of ids that exist, a few hundred per query (shred.KeysByID).
func (k *SQLKeys) KeysByID(ctx context.Context, ids []string) (map[string]Key, error) {
	found := make(map[string]Key, len(ids))
	for chunk := range slices.Chunk(ids, keysPerQuery) {
		args := make([]any, len(chunk))
		marks := make([]string, len(chunk))
		for i, id := range chunk {
			args[i], marks[i] = id, "$"+strconv.Itoa(i+1)
		}
		rows, err := k.db.QueryContext(ctx, `SELECT key_id, secret FROM shred_keys WHERE key_id IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("shred: read keys: %w", err)
		}
		for rows.Next() {
			var key Key
			if err := rows.Scan(&key.ID, &key.Secret); err != nil {
				rows.Close()
				return nil, fmt.Errorf("shred: read keys: %w", err)
			}
			found[key.ID] = key
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("shred: read keys: %w", err)
		}
	}
	return found, nil
}

// Erase deletes subject's key. Data appended for the same subject afterwards gets a new key.
//
// On SQLite the deleted row is overwritten with zeros (secure_delete) and the write-ahead log is
// checkpointed and truncated, so the key's bytes do not linger in free pages or the WAL of the
// file. PostgreSQL keeps a deleted row until VACUUM reuses its space, and both keep it in backups
// and WAL archives made before the erasure: see docs/security.md.
func (k *SQLKeys) Erase(ctx context.Context, subject Subject) (bool, error) {
	conn, err := k.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("shred: erase: %w", err)
	}
	defer conn.Close()
	sqlite := !isPostgres(k.db)
	if sqlite {
		if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
			return false, fmt.Errorf("shred: erase: %w", err)
		}
		// The connection goes back to the pool: leave it as it was (a failure only costs speed).
		defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`) }()
	}
	res, err := conn.ExecContext(ctx, `DELETE FROM shred_keys WHERE subject = $1`, string(subject))
	if err != nil {
		return false, fmt.Errorf("shred: erase: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("shred: erase: %w", err)
	}
	if sqlite && n > 0 {
		// Readers still holding old WAL frames keep the checkpoint from truncating; the key is gone
		// from the table either way, and the next checkpoint overwrites the frames.
		if _, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return true, fmt.Errorf("shred: erased, but the WAL checkpoint failed: %w", err)
		}
	}
	return n > 0, nil
}
