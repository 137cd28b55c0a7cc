package timers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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

// alarmRow is a row of the alarms table as a page's events leave it: read with the page's
// dossiers, changed in memory event after event, written once at the end of the page.
type alarmRow struct {
	Alarm
	key, dossier   string
	state, armedBy string
	armedVersion   int64
	closedBy       string
	loaded         string // the state it was read in; "" when the page arms it first
	changed        bool
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
	// The page's dossiers, their states and alarms read in a few statements for all of them, and
	// the alarms written back in a few: read one dossier at a time, a catch-up of a province's log
	// went at ≈ 2,200 events/s, and with a statement for each alarm armed, moved or disarmed at
	// ≈ 7,000.
	dossiers := map[string]*domain.Dossier{}
	alarms := map[string]map[string]*alarmRow{}
	var order []string
	for i, re := range batch.Events {
		if decoded[i] != nil && dossiers[re.Stream] == nil {
			dossiers[re.Stream], alarms[re.Stream] = &domain.Dossier{}, map[string]*alarmRow{}
			order = append(order, re.Stream)
		}
	}
	if err := engine.LoadDossierStates(ctx, tx, batch.Dialect, c.table(dossiersTable), order, func(stream string, raw []byte) error {
		return json.Unmarshal(raw, dossiers[stream])
	}); err != nil {
		return fmt.Errorf("timers: %w", err)
	}
	if err := c.loadAlarms(ctx, tx, batch.Dialect, order, alarms); err != nil {
		return err
	}
	var armedFirst []*alarmRow
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
		armedFirst = c.align(re.Stream, re.ID.String(), re.Version, next, alarms[re.Stream], since, armedFirst)
	}
	if err := c.writeAlarms(ctx, tx, batch.Dialect, order, alarms, armedFirst); err != nil {
		return err
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
// that fall due at since (ms) or later, in rows, the dossier's alarms; it returns armedFirst with
// the rows the page arms for the first time appended, in the order it arms them.
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

// writeAlarms writes the rows the page changed in multi-row statements: the new ones inserted in
// the order they were armed, the others updated only where their state is still the one read —
// the firer may have fired an armed alarm since (its update waits for, or comes after, this
// transaction), and a fired alarm stays fired.
func (c *Consumer) writeAlarms(ctx context.Context, tx *sql.Tx, d engine.Dialect, order []string,
	alarms map[string]map[string]*alarmRow, armedFirst []*alarmRow) error {
	t := c.table(alarmsTable)
	list := strings.Join(alarmColumns, ", ")
	perStatement := alarmParameters / len(alarmColumns)
	write := func(rows []*alarmRow, tail string) error {
		for chunk := range slices.Chunk(rows, perStatement) {
			args := make([]any, 0, len(chunk)*len(alarmColumns))
			for _, row := range chunk {
				args = append(args, row.values()...)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+t+` (`+list+`) VALUES `+d.Placeholders(len(chunk), len(alarmColumns), 1)+tail, args...); err != nil {
				return fmt.Errorf("timers: write %d alarms: %w", len(chunk), err)
			}
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

// alarmParameters bounds a statement's parameters when writeAlarms writes rows.
const alarmParameters = 500

// loadAlarms reads the alarms of streams, in any state, into alarms, keyed by stream (each present
// already).
func (c *Consumer) loadAlarms(ctx context.Context, tx *sql.Tx, d engine.Dialect, streams []string, alarms map[string]map[string]*alarmRow) error {
	for chunk := range slices.Chunk(streams, alarmDossiersPerStatement) {
		rows, err := tx.QueryContext(ctx, `SELECT dossier_id, alarm_key, kind, due_at, deadline_at, official, unit, agency, desk, step,
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
