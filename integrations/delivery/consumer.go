package delivery

import (
	"context"
	"database/sql"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
)

// ConsumerName is the delivery consumer's name: its checkpoint in projection_checkpoints.
const ConsumerName = "deliveries"

// The consumer's tables, without prefix.
const (
	deliveriesTable = "deliveries"
	// dossiersTable holds each dossier's state folded so far, without the applicant's identity:
	// what Plan needs to tell a status change from a step inside one status.
	dossiersTable = "delivery_dossiers"
	// originTable holds the moment deliveries were first enabled: events recorded before it are
	// folded but never delivered, so that turning notifications on in a deployment with years of
	// history does not send years of mail.
	originTable = "delivery_origin"
)

// Consumer is the engine.Consumer that records deliveries: for every dossier event and every
// destination whose Plan names a kind, one row in the deliveries table, in the transaction that
// moves the consumer's checkpoint. A redelivered event finds its row there already (the
// idempotency key is unique) and a crash before the commit loses nothing: the event comes again.
//
// The consumer is an outbox, not a read model: never rebuild it (its SchemaVersion stays 1 and its
// tables change by additive migrations). A rebuild would start a fresh origin — so it would deliver
// no past event again, but it would forget the deliveries still waiting.
type Consumer struct {
	prefix       string
	destinations []Destination
}

// NewConsumer returns the consumer recording deliveries for destinations.
func NewConsumer(destinations ...Destination) (*Consumer, error) {
	if err := checkDestinations(destinations); err != nil {
		return nil, err
	}
	return &Consumer{destinations: destinations}, nil
}

func (c *Consumer) Name() string { return ConsumerName }

func (c *Consumer) Tables() []string { return []string{deliveriesTable, dossiersTable, originTable} }

func (c *Consumer) SchemaVersion() int { return 1 }

func (c *Consumer) WithPrefix(prefix string) engine.Consumer {
	copied := *c
	copied.prefix = prefix
	return &copied
}

func (c *Consumer) table(name string) string { return c.prefix + name }

// Migrate creates the tables and, the first time, records the origin.
func (c *Consumer) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	now := time.Now()
	return migrate(ctx, db, d, c.prefix, &now)
}

// folded is what the consumer keeps of a dossier between events.
type folded struct {
	Dossier domain.Dossier `json:"dossier"`
	Contact Contact        `json:"contact"`
}

// Apply folds each dossier event into its dossier's state and records what each destination plans
// for it: the fold of that batch alone (fold.go).
func (c *Consumer) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	return engine.ApplyFold(ctx, tx, batch, c.NewFold(false))
}

// migrate creates the delivery tables under prefix and, when origin is given, records it unless
// an origin is recorded already.
func migrate(ctx context.Context, db *sql.DB, d engine.Dialect, prefix string, origin *time.Time) error {
	id := d.IdentityColumn()
	deliveries := prefix + deliveriesTable
	statements := []string{
		`CREATE TABLE IF NOT EXISTS ` + deliveries + ` (
			` + id + `,
			destination TEXT NOT NULL,
			idempotency_key TEXT NOT NULL UNIQUE,
			dossier_id TEXT NOT NULL,
			event_id TEXT NOT NULL,
			event_type TEXT NOT NULL,
			kind TEXT NOT NULL,
			stream_version BIGINT NOT NULL,
			commit_position BIGINT NOT NULL,
			prepare_position BIGINT NOT NULL,
			occurred_at BIGINT NOT NULL,
			state TEXT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			last_error TEXT NOT NULL DEFAULT '',
			next_attempt_at BIGINT NOT NULL,
			lease_until BIGINT NOT NULL DEFAULT 0,
			created_at BIGINT NOT NULL,
			done_at BIGINT NOT NULL DEFAULT 0,
			detail TEXT NOT NULL DEFAULT '')`,
		// The dispatcher's two questions: what is due, and is an earlier delivery of the same
		// dossier to the same destination still waiting. Both look at pending rows only.
		`CREATE INDEX IF NOT EXISTS ` + deliveries + `_due ON ` + deliveries + ` (next_attempt_at) WHERE state = 'pending'`,
		`CREATE INDEX IF NOT EXISTS ` + deliveries + `_queue ON ` + deliveries + ` (destination, dossier_id, id) WHERE state = 'pending'`,
		`CREATE INDEX IF NOT EXISTS ` + deliveries + `_state ON ` + deliveries + ` (destination, state)`,
		// The public lookup's question: the latest deliveries sent about one dossier (SentLog).
		`CREATE INDEX IF NOT EXISTS ` + deliveries + `_dossier_sent ON ` + deliveries + ` (dossier_id, state, done_at)`,
		`CREATE TABLE IF NOT EXISTS ` + prefix + dossiersTable + ` (dossier_id TEXT PRIMARY KEY, state_json TEXT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + prefix + originTable + ` (id INTEGER PRIMARY KEY, started_at BIGINT NOT NULL)`,
	}
	return engine.MigrateWithOrigin(ctx, db, d, "delivery", migrationLock, statements, prefix+originTable, origin)
}

// migrationLock is the PostgreSQL advisory lock held while the delivery tables migrate ("motcuad"
// in ASCII).
const migrationLock int64 = 0x6d6f74637561_64

// Migrate creates the delivery tables in db, for the operators' commands, which read them without
// running the consumer. It records no origin: deliveries start when the consumer first runs.
func Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	return migrate(ctx, db, d, "", nil)
}
