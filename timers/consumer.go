package timers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
)

// ConsumerName is the timers consumer's name: its checkpoint in projection_checkpoints.
const ConsumerName = "timers"

// The consumer's tables, without prefix.
const (
	alarmsTable = "timer_alarms"
	// dossiersTable holds each dossier's state folded so far, without the applicant's identity.
	dossiersTable = "timer_dossiers"
	// originTable holds the moment the timers were first enabled: an event recorded before it
	// arms no alarm due before it, so that turning the timers on in a deployment with years of
	// history does not mail years of stale alarms.
	originTable = "timer_origin"
)

// The states of an alarm.
const (
	StateArmed    = "armed"    // waits for its due instant
	StateFired    = "fired"    // fired once; its notifications are deliveries of the outbox
	StateDisarmed = "disarmed" // the dossier moved on before it was due
)

// Consumer is the engine.Consumer that arms and disarms the alarms: after every event of a dossier
// it compares the alarms the dossier's state calls for (Plan) with those armed, disarms the ones
// no longer called for and arms the new ones, in the transaction that moves its checkpoint.
//
// Like the outbox it is never rebuilt (its SchemaVersion stays 1): the fired alarms are what was
// said, which the log cannot give back.
type Consumer struct {
	prefix   string
	config   Config
	calendar *calendar.Calendar
	// Now is the clock that dates the origin the first time the tables are created; time.Now
	// when nil.
	Now func() time.Time
}

// NewConsumer returns the consumer arming alarms with policy cfg, placing the warnings in cal's
// working time (nil for the national calendar).
func NewConsumer(cfg Config, cal *calendar.Calendar) (*Consumer, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cal == nil {
		cal = calendar.Default()
	}
	return &Consumer{config: cfg, calendar: cal}, nil
}

func (c *Consumer) Name() string { return ConsumerName }

func (c *Consumer) Tables() []string { return []string{alarmsTable, dossiersTable, originTable} }

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
	if c.Now != nil {
		now = c.Now()
	}
	return migrate(ctx, db, d, c.prefix, &now)
}

// armedAlarm is an armed alarm as the fold knows it.
type armedAlarm struct {
	Alarm
	key string
}

// Apply folds each dossier event into its dossier's state and brings the dossier's armed alarms
// in line with what the state calls for.
func (c *Consumer) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	decoded, err := batch.DossierEvents()
	if err != nil {
		return err
	}
	var origin int64
	if err := tx.QueryRowContext(ctx, `SELECT started_at FROM `+c.table(originTable)+` WHERE id = 1`).Scan(&origin); err != nil {
		return fmt.Errorf("timers: read the origin: %w", err)
	}
	// The page's dossiers, their states and armed alarms read a few statements for all of them:
	// read one dossier at a time, a catch-up of a province's log went at ≈ 2,200 events/s.
	dossiers := map[string]*domain.Dossier{}
	armed := map[string]map[string]armedAlarm{}
	var order []string
	for i, re := range batch.Events {
		if decoded[i] != nil && dossiers[re.Stream] == nil {
			dossiers[re.Stream], armed[re.Stream] = &domain.Dossier{}, map[string]armedAlarm{}
			order = append(order, re.Stream)
		}
	}
	if err := engine.LoadDossierStates(ctx, tx, batch.Dialect, c.table(dossiersTable), order, func(stream string, raw []byte) error {
		return json.Unmarshal(raw, dossiers[stream])
	}); err != nil {
		return fmt.Errorf("timers: %w", err)
	}
	if err := c.loadArmed(ctx, tx, batch.Dialect, order, armed); err != nil {
		return err
	}
	for i, re := range batch.Events {
		e := decoded[i]
		if e == nil {
			continue
		}
		d := dossiers[re.Stream]
		if d.Status.Final() {
			continue // a rating after the end: no alarm follows a final status
		}
		next := domain.Evolve(*d, e)
		next.Version = re.Version
		// The applicant's identity stays in the log, sealed: no alarm needs it.
		next.Applicant = domain.Applicant{Type: next.Applicant.Type}
		*d = next
		// An event recorded before the timers were enabled arms only what falls due after.
		since, at := int64(0), re.Metadata.OccurredAt
		if at.IsZero() {
			at = re.RecordedAt
		}
		if at.UnixMilli() < origin {
			since = origin
		}
		if err := c.align(ctx, tx, re.Stream, re.ID.String(), re.Version, next, armed[re.Stream], since); err != nil {
			return err
		}
	}
	// Of a dossier whose status is final only that it is (finished) is kept: no alarm follows a
	// final status, and a rating must not start a dossier afresh.
	err = engine.SaveDossierStates(ctx, tx, batch.Dialect, c.table(dossiersTable), order, func(stream string) any {
		if d := dossiers[stream]; !d.Status.Final() {
			return d
		}
		return struct {
			Status domain.Status `json:"status"`
		}{dossiers[stream].Status}
	})
	if err != nil {
		return fmt.Errorf("timers: %w", err)
	}
	return nil
}

// align disarms the dossier's armed alarms its state no longer calls for and arms the new ones
// that fall due at since (ms) or later.
func (c *Consumer) align(ctx context.Context, tx *sql.Tx, stream, eventID string, version uint64, d domain.Dossier,
	armed map[string]armedAlarm, since int64) error {
	wanted := map[string]Alarm{}
	for _, a := range Plan(d, c.config, c.calendar) {
		wanted[a.Key(stream)] = a
	}
	t := c.table(alarmsTable)
	for key := range armed {
		if _, ok := wanted[key]; ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+t+` SET state = 'disarmed', closed_by = $1 WHERE alarm_key = $2 AND state = 'armed'`,
			eventID, key); err != nil {
			return fmt.Errorf("timers: disarm %s: %w", key, err)
		}
		delete(armed, key)
	}
	for key, a := range wanted {
		if held, ok := armed[key]; ok {
			if held.Official == a.Official && held.Unit == a.Unit && held.Agency == a.Agency && held.Desk == a.Desk && held.Step == a.Step {
				continue
			}
			// The same deadline with someone else to tell (a transfer within the step's time).
			if _, err := tx.ExecContext(ctx, `UPDATE `+t+` SET official = $1, unit = $2, agency = $3, desk = $4, step = $5
				WHERE alarm_key = $6 AND state = 'armed'`, a.Official, a.Unit, a.Agency, a.Desk, a.Step, key); err != nil {
				return fmt.Errorf("timers: update %s: %w", key, err)
			}
			armed[key] = armedAlarm{Alarm: a, key: key}
			continue
		}
		if a.Due.UnixMilli() < since {
			// History from before the timers were enabled, already due then: never fired, and not
			// recorded — a catch-up over years of history would otherwise write a row for every
			// step of every dossier. (An event recorded since arms its alarms even when already
			// due: a step handed over with less time than the warning is told at once.)
			continue
		}
		// A key met before is left alone unless it was disarmed: a fired alarm never fires again,
		// a disarmed one is armed again when its deadline is back (a suspension lifted as it was).
		res, err := tx.ExecContext(ctx, `INSERT INTO `+t+` (alarm_key, dossier_id, kind, due_at, deadline_at, official, unit, agency,
				desk, step, armed_by, armed_version, state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (alarm_key) DO UPDATE SET state = excluded.state, armed_by = excluded.armed_by,
				armed_version = excluded.armed_version, official = excluded.official, unit = excluded.unit,
				agency = excluded.agency, desk = excluded.desk, step = excluded.step, closed_by = ''
			WHERE `+t+`.state = 'disarmed'`,
			key, stream, string(a.Kind), a.Due.UnixMilli(), a.Deadline.UnixMilli(), a.Official, a.Unit, a.Agency,
			a.Desk, a.Step, eventID, int64(version), StateArmed)
		if err != nil {
			return fmt.Errorf("timers: arm %s: %w", key, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			armed[key] = armedAlarm{Alarm: a, key: key}
		}
	}
	return nil
}

// loadArmed reads the armed alarms of streams into armed, keyed by stream (each present already).
func (c *Consumer) loadArmed(ctx context.Context, tx *sql.Tx, d engine.Dialect, streams []string, armed map[string]map[string]armedAlarm) error {
	for chunk := range slices.Chunk(streams, armedPerStatement) {
		rows, err := tx.QueryContext(ctx, `SELECT dossier_id, alarm_key, kind, due_at, deadline_at, official, unit, agency, desk, step
			FROM `+c.table(alarmsTable)+` WHERE dossier_id IN (`+d.Placeholders(len(chunk), 1, 1)+`) AND state = 'armed'`, engine.StringArgs(chunk)...)
		if err != nil {
			return fmt.Errorf("timers: read the alarms of %d dossiers: %w", len(chunk), err)
		}
		for rows.Next() {
			var (
				a             armedAlarm
				stream, kind  string
				due, deadline int64
			)
			if err := rows.Scan(&stream, &a.key, &kind, &due, &deadline, &a.Official, &a.Unit, &a.Agency, &a.Desk, &a.Step); err != nil {
				rows.Close()
				return err
			}
			a.Kind = Kind(kind)
			a.Due, a.Deadline = time.UnixMilli(due).In(domain.VietnamTime), time.UnixMilli(deadline).In(domain.VietnamTime)
			armed[stream][a.key] = a
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
	}
	return nil
}

// armedPerStatement bounds the dossiers one statement reads the armed alarms of.
const armedPerStatement = 500

// migrate creates the timer tables under prefix and, when origin is given, records it unless an
// origin is recorded already.
func migrate(ctx context.Context, db *sql.DB, d engine.Dialect, prefix string, origin *time.Time) error {
	id := d.IdentityColumn()
	alarms := prefix + alarmsTable
	statements := []string{
		`CREATE TABLE IF NOT EXISTS ` + alarms + ` (
			` + id + `,
			alarm_key TEXT NOT NULL UNIQUE,
			dossier_id TEXT NOT NULL,
			kind TEXT NOT NULL,
			due_at BIGINT NOT NULL,
			deadline_at BIGINT NOT NULL,
			official TEXT NOT NULL,
			unit TEXT NOT NULL,
			agency TEXT NOT NULL,
			desk BOOLEAN NOT NULL,
			step TEXT NOT NULL,
			armed_by TEXT NOT NULL,
			armed_version BIGINT NOT NULL,
			state TEXT NOT NULL,
			fired_at BIGINT NOT NULL DEFAULT 0,
			closed_by TEXT NOT NULL DEFAULT '')`,
		// The firer's question: what armed alarm is due, earliest first.
		`CREATE INDEX IF NOT EXISTS ` + alarms + `_due ON ` + alarms + ` (due_at) WHERE state = 'armed'`,
		// The fold's and the work queue's: a dossier's alarms.
		`CREATE INDEX IF NOT EXISTS ` + alarms + `_dossier ON ` + alarms + ` (dossier_id, state)`,
		`CREATE TABLE IF NOT EXISTS ` + prefix + dossiersTable + ` (dossier_id TEXT PRIMARY KEY, state_json TEXT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + prefix + originTable + ` (id INTEGER PRIMARY KEY, started_at BIGINT NOT NULL)`,
	}
	return engine.MigrateWithOrigin(ctx, db, d, "timers", migrationLock, statements, prefix+originTable, origin)
}

// migrationLock is the PostgreSQL advisory lock held while the timer tables migrate ("motcuat"
// in ASCII).
const migrationLock int64 = 0x6d6f74637561_74

// Migrate creates the timer tables in db without recording an origin, for the firer and the
// readers of alarms, which may start before the consumer.
func Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	return migrate(ctx, db, d, "", nil)
}
