package timers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
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

// alarmRow is a row of the alarms table as the fold's events leave it: read with its dossier,
// changed in memory event after event, written at the fold's flush.
type alarmRow struct {
	Alarm
	key, dossier   string
	state, armedBy string
	armedVersion   int64
	closedBy       string
	loaded         string // the state it was read or last written in; "" when not written yet
	changed        bool
}

// Apply folds each dossier event into its dossier's state and brings the dossier's armed alarms
// in line with what the state calls for: the fold of that batch alone (fold.go).
func (c *Consumer) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	return engine.ApplyFold(ctx, tx, batch, c.NewFold(false))
}

// align disarms the dossier's armed alarms its state no longer calls for and arms the new ones
// that fall due at since (ms) or later, in rows, the dossier's alarms; it returns armedFirst with
// the rows the fold arms for the first time appended, in the order it arms them.
func (c *Consumer) align(stream, eventID string, version uint64, d domain.Dossier,
	rows map[string]*alarmRow, since int64, armedFirst []*alarmRow) []*alarmRow {
	wanted := map[string]Alarm{}
	for _, a := range Plan(d, c.config, c.calendar) {
		wanted[a.Key(stream)] = a
	}
	for key, row := range rows {
		if _, ok := wanted[key]; ok || row.state != StateArmed {
			continue
		}
		row.state, row.closedBy, row.changed = StateDisarmed, eventID, true
	}
	for key, a := range wanted {
		row := rows[key]
		if row != nil && row.state == StateArmed {
			if row.Official == a.Official && row.Unit == a.Unit && row.Agency == a.Agency && row.Desk == a.Desk && row.Step == a.Step {
				continue
			}
			// The same deadline with someone else to tell (a transfer within the step's time).
			row.Official, row.Unit, row.Agency, row.Desk, row.Step = a.Official, a.Unit, a.Agency, a.Desk, a.Step
			row.changed = true
			continue
		}
		if a.Due.UnixMilli() < since {
			// History from before the timers were enabled, already due then: never fired, and not
			// recorded — a catch-up over years of history would otherwise write a row for every
			// step of every dossier. (An event recorded since arms its alarms even when already
			// due: a step handed over with less time than the warning is told at once.)
			continue
		}
		switch {
		case row == nil:
			row = &alarmRow{Alarm: a, key: key, dossier: stream, state: StateArmed, armedBy: eventID, armedVersion: int64(version), changed: true}
			rows[key] = row
			armedFirst = append(armedFirst, row)
		case row.state == StateDisarmed:
			// Armed again when its deadline is back (a suspension lifted as it was); its kind and
			// instants stay those it was first armed with.
			row.state, row.armedBy, row.armedVersion, row.closedBy = StateArmed, eventID, int64(version), ""
			row.Official, row.Unit, row.Agency, row.Desk, row.Step = a.Official, a.Unit, a.Agency, a.Desk, a.Step
			row.changed = true
		}
		// A fired alarm never fires again: left alone.
	}
	return armedFirst
}

// alarmColumns are the columns writeAlarms writes, in the order of alarmRow.values.
var alarmColumns = []string{"alarm_key", "dossier_id", "kind", "due_at", "deadline_at", "official", "unit", "agency",
	"desk", "step", "armed_by", "armed_version", "state", "closed_by"}

func (r *alarmRow) values() []any {
	return []any{r.key, r.dossier, string(r.Kind), r.Due.UnixMilli(), r.Deadline.UnixMilli(), r.Official, r.Unit, r.Agency,
		r.Desk, r.Step, r.armedBy, r.armedVersion, r.state, r.closedBy}
}

// writeAlarms writes the rows the fold changed in multi-row statements: the new ones inserted in
// the order they were armed, the others updated only where their state is still the one read —
// the firer may have fired an armed alarm since (its update waits for, or comes after, this
// transaction), and a fired alarm stays fired.
func (c *Consumer) writeAlarms(ctx context.Context, tx *sql.Tx, d engine.Dialect, order []string,
	alarms map[string]map[string]*alarmRow, armedFirst []*alarmRow) error {
	t := c.table(alarmsTable)
	write := func(rows []*alarmRow, tail string) error {
		values := make([][]any, len(rows))
		for i, row := range rows {
			values[i] = row.values()
		}
		if err := engine.InsertRows(ctx, tx, d, t, alarmColumns, values, tail); err != nil {
			return fmt.Errorf("timers: write %d alarms: %w", len(rows), err)
		}
		return nil
	}
	// Each dossier's rows in key order, so that the statements are the same whatever the order of
	// a map's keys.
	byLoaded := map[string][]*alarmRow{}
	for _, stream := range order {
		for _, key := range slices.Sorted(maps.Keys(alarms[stream])) {
			if row := alarms[stream][key]; row.changed && row.loaded != "" {
				byLoaded[row.loaded] = append(byLoaded[row.loaded], row)
			}
		}
	}
	if err := write(armedFirst, ""); err != nil {
		return err
	}
	for _, loaded := range []string{StateArmed, StateDisarmed} {
		if err := write(byLoaded[loaded], ` ON CONFLICT (alarm_key) DO UPDATE SET state = excluded.state, closed_by = excluded.closed_by,
			armed_by = excluded.armed_by, armed_version = excluded.armed_version, official = excluded.official, unit = excluded.unit,
			agency = excluded.agency, desk = excluded.desk, step = excluded.step WHERE `+t+`.state = '`+loaded+`'`); err != nil {
			return err
		}
	}
	return nil
}

// loadAlarms reads the alarms of streams, in any state, into alarms, keyed by stream (each present
// already).
func (c *Consumer) loadAlarms(ctx context.Context, q engine.Querier, d engine.Dialect, streams []string, alarms map[string]map[string]*alarmRow) error {
	for chunk := range slices.Chunk(streams, alarmDossiersPerStatement) {
		rows, err := q.QueryContext(ctx, `SELECT dossier_id, alarm_key, kind, due_at, deadline_at, official, unit, agency, desk, step,
				armed_by, armed_version, state, closed_by
			FROM `+c.table(alarmsTable)+` WHERE dossier_id IN (`+d.Placeholders(len(chunk), 1, 1)+`)`, engine.StringArgs(chunk)...)
		if err != nil {
			return fmt.Errorf("timers: read the alarms of %d dossiers: %w", len(chunk), err)
		}
		for rows.Next() {
			var (
				a             alarmRow
				kind          string
				due, deadline int64
			)
			if err := rows.Scan(&a.dossier, &a.key, &kind, &due, &deadline, &a.Official, &a.Unit, &a.Agency, &a.Desk, &a.Step,
				&a.armedBy, &a.armedVersion, &a.state, &a.closedBy); err != nil {
				rows.Close()
				return err
			}
			a.Kind, a.loaded = Kind(kind), a.state
			a.Due, a.Deadline = time.UnixMilli(due).In(domain.VietnamTime), time.UnixMilli(deadline).In(domain.VietnamTime)
			alarms[a.dossier][a.key] = &a
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
	}
	return nil
}

// alarmDossiersPerStatement bounds the dossiers one statement reads the alarms of.
const alarmDossiersPerStatement = 500

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
