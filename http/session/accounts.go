package session

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/motcua/motcua/engine"
)

// Local accounts let officials sign in with a password where the province runs no identity
// provider — the embedded default, with nothing to install. Only an argon2id hash of each password
// is kept (RFC 9106), in the deployment's durable database beside the sessions; `motcua officials`
// adds, lists and disables them.

// Account is an official's local account: who they are in motcua, never their password.
type Account struct {
	Login    string // what they type to sign in: lower-case letters, digits, '.', '-', '_'
	ID       string // recorded as the actor of their events
	Name     string
	Roles    []string
	Agency   string // QCVN 102 identifier; empty for province-wide roles (inspector, admin)
	Disabled bool
	Created  time.Time
	Updated  time.Time
}

// The argon2id parameters of new hashes: OWASP's password storage cheat sheet's second
// configuration (19 MiB, 2 passes, 1 lane), about 30–60 ms on a server core — slow for a guesser,
// and a sign-in's memory stays small under the sign-in rate limit. Each hash records its own
// parameters, so raising them later leaves older hashes valid.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// MinPasswordLength is the shortest password accepted (NIST SP 800-63B: at least 8 characters;
// officials' accounts guard personal data, so more).
const MinPasswordLength = 12

// MaxPasswordBytes bounds a password: argon2id hashes all of it, and a sign-in form is bounded.
const MaxPasswordBytes = 1024

var loginPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// ErrBadCredentials is a login that does not exist, is disabled, or whose password is wrong: a
// sign-in is told nothing more, so it cannot find out which logins exist.
var ErrBadCredentials = errors.New("unknown login, disabled account or wrong password")

// ErrNoAccount is a login no account has.
var ErrNoAccount = errors.New("no such account")

// Accounts keeps officials' local accounts in a SQL database.
type Accounts struct {
	db      *sql.DB
	dialect engine.Dialect
	now     func() time.Time
	cost    HashCost

	mu    sync.Mutex
	ready bool
}

// NewAccounts returns the accounts kept in db, written in dialect (named by the wiring).
func NewAccounts(db *sql.DB, dialect engine.Dialect) (*Accounts, error) {
	if err := dialect.Check(); err != nil {
		return nil, err
	}
	return &Accounts{db: db, dialect: dialect, now: time.Now, cost: DefaultHashCost}, nil
}

// HashCost is the argon2id memory (KiB) and passes of the hashes Put makes.
type HashCost struct{ MemoryKiB, Passes uint32 }

// DefaultHashCost is every real account's (above).
var DefaultHashCost = HashCost{MemoryKiB: argonMemoryKiB, Passes: argonTime}

// DemoHashCost is for the demo's throwaway passwords only, printed on the console and new at every
// start: twenty accounts at the default cost held `serve --demo` back for over a minute on a loaded
// machine under the race detector. Verification reads the cost from each hash.
var DemoHashCost = HashCost{MemoryKiB: 1024, Passes: 1}

// WithHashCost makes Put hash passwords at cost.
func (a *Accounts) WithHashCost(cost HashCost) *Accounts { a.cost = cost; return a }

// Migrate creates the table; harmless when it exists. Every other method calls it on first use.
func (a *Accounts) Migrate(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ready {
		return nil
	}
	if _, err := a.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS official_accounts (
		login TEXT PRIMARY KEY, official_id TEXT NOT NULL, name TEXT NOT NULL, roles TEXT NOT NULL, agency TEXT NOT NULL,
		password_hash TEXT NOT NULL, disabled INTEGER NOT NULL, created BIGINT NOT NULL, updated BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("accounts: migrate: %w", err)
	}
	a.ready = true
	return nil
}

// CheckLogin says what is wrong with a login name, or nil.
func CheckLogin(login string) error {
	if !loginPattern.MatchString(login) {
		return errors.New("a login is 2–64 lower-case letters, digits, '.', '-' or '_', beginning with a letter or digit")
	}
	return nil
}

// CheckPassword says what is wrong with a new password, or nil.
func CheckPassword(password string) error {
	switch {
	case !utf8.ValidString(password):
		return errors.New("the password is not valid UTF-8")
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return fmt.Errorf("the password must be at least %d characters", MinPasswordLength)
	case len(password) > MaxPasswordBytes:
		return fmt.Errorf("the password must be at most %d bytes", MaxPasswordBytes)
	}
	return nil
}

// Put creates the account of acc.Login, or replaces its details and password when it exists (and
// enables it again). The caller has checked who the official is (roles, agency); Put checks the
// login and the password.
func (a *Accounts) Put(ctx context.Context, acc Account, password string) error {
	if err := CheckLogin(acc.Login); err != nil {
		return err
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	if acc.ID == "" || acc.Name == "" || len(acc.Roles) == 0 {
		return errors.New("accounts: an account needs an official id, a name and a role")
	}
	if err := a.Migrate(ctx); err != nil {
		return err
	}
	hash := hashPassword(password, a.cost)
	now := a.now().UTC().UnixMicro()
	if _, err := a.db.ExecContext(ctx, `INSERT INTO official_accounts (login, official_id, name, roles, agency, password_hash, disabled, created, updated)
		VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7)
		ON CONFLICT (login) DO UPDATE SET official_id = excluded.official_id, name = excluded.name, roles = excluded.roles,
			agency = excluded.agency, password_hash = excluded.password_hash, disabled = 0, updated = excluded.updated`,
		acc.Login, acc.ID, acc.Name, strings.Join(acc.Roles, " "), acc.Agency, hash, now); err != nil {
		return fmt.Errorf("accounts: put %s: %w", acc.Login, err)
	}
	return nil
}

// Disable stops the account of login from signing in (ErrNoAccount when there is none). Its
// sessions are the caller's to end (Store.EndHolder with the login).
func (a *Accounts) Disable(ctx context.Context, login string) error {
	if err := a.Migrate(ctx); err != nil {
		return err
	}
	res, err := a.db.ExecContext(ctx, `UPDATE official_accounts SET disabled = 1, updated = $1 WHERE login = $2`, a.now().UTC().UnixMicro(), login)
	if err != nil {
		return fmt.Errorf("accounts: disable %s: %w", login, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNoAccount
	}
	return nil
}

// List returns up to limit accounts in login order, after the login given ("" from the first).
func (a *Accounts) List(ctx context.Context, after string, limit int) ([]Account, error) {
	if err := a.Migrate(ctx); err != nil {
		return nil, err
	}
	rows, err := a.db.QueryContext(ctx, `SELECT login, official_id, name, roles, agency, disabled, created, updated FROM official_accounts
		WHERE login > $1 ORDER BY login LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("accounts: list: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		acc, _, err := scanAccount(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, acc)
	}
	return out, rows.Err()
}

func scanAccount(row interface{ Scan(...any) error }, withHash bool) (Account, string, error) {
	var acc Account
	var roles, hash string
	var disabled int
	var created, updated int64
	dest := []any{&acc.Login, &acc.ID, &acc.Name, &roles, &acc.Agency, &disabled, &created, &updated}
	if withHash {
		dest = append(dest, &hash)
	}
	if err := row.Scan(dest...); err != nil {
		return Account{}, "", err
	}
	acc.Roles, acc.Disabled = strings.Fields(roles), disabled != 0
	acc.Created, acc.Updated = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return acc, hash, nil
}

// Authenticate returns the enabled account whose login and password these are, or
// ErrBadCredentials. It takes as long for a login that does not exist as for a wrong password, so
// timing does not tell which logins exist.
func (a *Accounts) Authenticate(ctx context.Context, login, password string) (Account, error) {
	if err := a.Migrate(ctx); err != nil {
		return Account{}, err
	}
	acc, hash, err := scanAccount(a.db.QueryRowContext(ctx, `SELECT login, official_id, name, roles, agency, disabled, created, updated, password_hash
		FROM official_accounts WHERE login = $1`, strings.ToLower(strings.TrimSpace(login))), true)
	if errors.Is(err, sql.ErrNoRows) {
		VerifyPassword(unknownLoginHash(), password)
		return Account{}, ErrBadCredentials
	}
	if err != nil {
		return Account{}, fmt.Errorf("accounts: authenticate: %w", err)
	}
	if !VerifyPassword(hash, password) || acc.Disabled {
		return Account{}, ErrBadCredentials
	}
	return acc, nil
}

// unknownLoginHash is hashed against when the login does not exist, to take the same time.
// Made at the first unknown login, not at start: every binary importing the package paid an
// argon2id hash (tens of MiB) at init.
var unknownLoginHash = sync.OnceValue(func() string { return HashPassword(RandomToken()) })

// HashPassword returns the argon2id hash of password in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), with a fresh random salt.
func HashPassword(password string) string { return hashPassword(password, DefaultHashCost) }

func hashPassword(password string, cost HashCost) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt) // never fails (crypto/rand)
	key := argon2.IDKey([]byte(password), salt, cost.Passes, cost.MemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, cost.MemoryKiB, cost.Passes, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// VerifyPassword tells whether password is the one hash was made of, with the parameters the hash
// records; a malformed hash matches nothing.
func VerifyPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var memory, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil || passes == 0 || threads == 0 ||
		memory > 1<<22 { // refuse a hash asking for more than 4 GiB
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, passes, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
