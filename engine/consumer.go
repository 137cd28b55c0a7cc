package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// Consumer is one consumer of the log fed by the engine: a read model (projections/), an
// integration that tells the outside world, a timer that acts when a deadline passes. It keeps
// what it derives in SQL tables of the database the engine writes its checkpoint to, so that both
// move in one transaction: a redelivered event changes nothing and a crash loses nothing.
//
// A consumer writes only to its own tables, all named with the prefix it was given by WithPrefix
// (empty for the serving tables). A rebuild runs a copy with a scratch prefix into fresh tables
// while the serving ones keep answering, then swaps them in: so every table and index name a
// consumer uses must start with its prefix.
type Consumer interface {
	// Name identifies the consumer and its checkpoint.
	Name() string
	// Tables lists the tables the consumer owns, without prefix.
	Tables() []string
	// SchemaVersion is the version of the tables' shape: raise it whenever Migrate would create
	// them differently (a column added, a key changed). The engine keeps it beside the checkpoint
	// and, when it finds tables of another version at start, rebuilds them (schema.go).
	SchemaVersion() int
	// WithPrefix returns the same consumer writing to tables named prefix+table.
	WithPrefix(prefix string) Consumer
	// Migrate creates the consumer's tables if they do not exist, in dialect d.
	Migrate(ctx context.Context, db *sql.DB, d Dialect) error
	// Apply applies a batch of consecutive events, inside tx. The result must be exactly that of
	// applying them one at a time in order: catch-up and rebuild hand thousands of events per
	// transaction, deliveries one or a few, and a failed batch is applied again one event at a time.
	Apply(ctx context.Context, tx *sql.Tx, batch Batch) error
}

// Dialect is the SQL database a consumer writes to, for the few statements that differ. The wiring
// names it (it opened the database); nothing guesses it from the driver.
type Dialect string

// The databases consumers write to.
const (
	SQLite     Dialect = "sqlite"
	PostgreSQL Dialect = "postgres"
)

// Check reports an error unless d is one of the known dialects.
func (d Dialect) Check() error {
	if d != SQLite && d != PostgreSQL {
		return fmt.Errorf("engine: unknown SQL dialect %q (want %q or %q)", string(d), SQLite, PostgreSQL)
	}
	return nil
}

// Placeholders returns parameters for rows of columns values each, from the first-th: with one
// column "$1, $2, …", with more "($1, $2), ($3, $4), …". SQLite gets anonymous "?" instead, bound
// in the same order: it looks each numbered or named parameter up in a list as it binds, which made
// statements of a few hundred parameters cost more to bind than to run.
func (d Dialect) Placeholders(rows, columns, first int) string {
	var b strings.Builder
	n := first
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		if columns > 1 {
			b.WriteByte('(')
		}
		for c := range columns {
			if c > 0 {
				b.WriteString(", ")
			}
			if d == SQLite {
				b.WriteByte('?')
			} else {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
			}
			n++
		}
		if columns > 1 {
			b.WriteByte(')')
		}
	}
	return b.String()
}

// StringArgs returns values as a statement's arguments.
func StringArgs(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// CopyRowsFunc writes rows into table with PostgreSQL's COPY, inside the transaction under way.
type CopyRowsFunc func(ctx context.Context, table string, columns []string, rows [][]any) error

// Batch is what a consumer applies in one transaction: the events, and what the engine knows about
// writing them.
type Batch struct {
	// Dialect is the database the transaction writes to.
	Dialect Dialect
	// Events are consecutive events of the log, above the consumer's checkpoint.
	Events []eventstore.RecordedEvent
	// Decoded, when set, holds the domain event of each of Events (nil where the event is not a
	// dossier's), decoded once for every consumer the batch goes to: a rebuild hands the same page
	// to six read models, and decoding JSON was a third of their time. The values are shared
	// between consumers: read them, never modify what they hold. Read through DossierEvents.
	Decoded []domain.Event
	// CopyRows, when set (a rebuild on PostgreSQL), writes rows the tables cannot hold yet by COPY:
	// the rows a replay writes are nearly all new, and COPY takes them for a fraction of what
	// multi-row INSERTs cost the client (building and binding statements) and the server (parsing,
	// planning, conflict checks per statement).
	CopyRows CopyRowsFunc
	// Raw, when set (a catch-up's or a rebuild's own transaction), runs f with the driver
	// connection the transaction is on, for the duration of f: a flush on SQLite writes its rows
	// through the driver's own prepared statements, inside the transaction, without database/sql
	// converting and checking every one of a few million arguments again (7 % of a catch-up).
	// f must neither commit nor roll back.
	Raw func(f func(driverConn any) error) error
}

// DossierEvents returns the domain event of each of the batch's events (nil for events of other
// streams): Decoded when the engine decoded them already, otherwise decoded here.
func (b Batch) DossierEvents() ([]domain.Event, error) {
	if b.Decoded != nil && len(b.Decoded) == len(b.Events) {
		return b.Decoded, nil
	}
	return decodeEach(b.Events)
}

// Slice returns the part of the batch holding its events [from, to), with their decoded events.
func (b Batch) Slice(from, to int) Batch {
	s := b
	s.Events = b.Events[from:to]
	if b.Decoded != nil {
		s.Decoded = b.Decoded[from:to]
	}
	return s
}

// decodeOnce decodes a batch for every consumer it will go to; nil when the batch is empty or an
// event does not decode (each consumer then meets the error on its own event).
func decodeOnce(events []eventstore.RecordedEvent) []domain.Event {
	if len(events) == 0 {
		return nil
	}
	decoded, err := decodeEach(events)
	if err != nil {
		return nil
	}
	return decoded
}

// EventsOf returns the domain event of each of the batch's events that belongs to aggregate a
// (nil for the others): a consumer of another aggregate than the dossier (the feedback's read
// model) reads its own events through it, decoded here — the engine decodes once, for every
// consumer, only the dossier's, which all of them read.
func (b Batch) EventsOf(a domain.Aggregate) ([]domain.Event, error) {
	if a.Name == domain.DossierAggregate.Name {
		return b.DossierEvents()
	}
	return decodeEachOf(a, b.Events)
}

func decodeEach(events []eventstore.RecordedEvent) ([]domain.Event, error) {
	return decodeEachOf(domain.DossierAggregate, events)
}

func decodeEachOf(a domain.Aggregate, events []eventstore.RecordedEvent) ([]domain.Event, error) {
	decoded := make([]domain.Event, len(events))
	for i, re := range events {
		if !a.Holds(re.Stream, re.Type) {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return nil, err
		}
		decoded[i] = e
	}
	return decoded, nil
}

// copyRowsPerStatement bounds the rows one COPY writes. A flush's new rows are hundreds of
// thousands at a million dossiers, and the store bounds every statement by its write timeout
// (10 s): under load a single COPY of a rebuild's handovers was cancelled at its 563,000th row,
// and the rebuild fell back to a page at a time (docs/benchmarks.md, session 16).
var copyRowsPerStatement = 50_000

// copyInto returns a CopyRowsFunc writing by COPY through the pgx connection conn holds, at most
// copyRowsPerStatement rows a statement.
func copyInto(conn *sql.Conn) CopyRowsFunc {
	return func(ctx context.Context, table string, columns []string, rows [][]any) error {
		return conn.Raw(func(driverConn any) error {
			pgxConn, ok := driverConn.(interface{ Conn() *pgx.Conn })
			if !ok {
				return errors.New("rebuild: COPY needs a pgx connection")
			}
			for chunk := range slices.Chunk(rows, copyRowsPerStatement) {
				if _, err := pgxConn.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(chunk)); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// ApplyError is a consumer failing on an event: it cannot move past it until the cause (a bug, a
// database outage) is gone.
type ApplyError struct {
	Projection string // the consumer's name
	Event      eventstore.RecordedEvent
	Err        error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("%s: apply %s %s v%d at %s: %v", e.Projection, e.Event.Type, e.Event.Stream, e.Event.Version, e.Event.Position, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// Folding is a consumer that can fold many batches in memory and write the rows they changed
// once. Catch-up and rebuild hand it hundreds of thousands of events between two writes, so a
// dossier whose events are spread over weeks of the log is read and written once per flush
// instead of once per batch; live deliveries go through Apply, which a Folding consumer writes as
// a fold of one batch (ApplyFold), so both paths share one implementation.
type Folding interface {
	Consumer
	// NewFold starts folding onto the consumer's tables as they stand. fresh says they are empty
	// (a rebuild's scratch tables): no row needs to be read back.
	NewFold(fresh bool) Fold
}

// Fold holds the rows folded from consecutive batches until they are flushed.
type Fold interface {
	// Add folds a batch into the rows held, first reading through q the rows it does not hold
	// yet. When Add fails the engine drops the fold with everything not flushed, and applies the
	// same events again through Apply (one at a time, parking what cannot be applied).
	Add(ctx context.Context, q Querier, batch Batch) error
	// Held is the number of rows held in memory: the engine flushes when it passes its budget.
	Held() int
	// Flush writes inside tx every row changed since the last flush (with batch's Dialect and,
	// on a PostgreSQL rebuild, CopyRows; batch.Events is empty), then forgets the rows it will
	// not need soon (a finished dossier's), holding few afterwards. The engine writes the
	// consumer's checkpoint in the same transaction.
	Flush(ctx context.Context, tx *sql.Tx, batch Batch) error
}

// FlushPreparer is a Fold with work to do for its flush that needs no database — working out the
// rows it will write. The engine calls PrepareFlush before it opens the flush's transaction, so that
// the transaction only writes: on PostgreSQL the server ends a transaction left idle longer than
// the write timeout (process control's fold of a million dossiers spent longer than that working
// out its rows, and its rebuild fell back to applying the events a page at a time), and on SQLite
// the work is done outside the single writer, beside the other folds' writes. Flush must still
// work without it (ApplyFold does not call it). When the flush that follows fails, the engine
// drops the fold.
type FlushPreparer interface {
	PrepareFlush(ctx context.Context) error
}

// Querier reads rows: the database, or the transaction under way.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ApplyFold applies a batch as a fold of that batch alone: Apply of a Folding consumer.
func ApplyFold(ctx context.Context, tx *sql.Tx, batch Batch, f Fold) error {
	if err := f.Add(ctx, tx, batch); err != nil {
		return err
	}
	flush := batch
	flush.Events, flush.Decoded = nil, nil
	return f.Flush(ctx, tx, flush)
}
