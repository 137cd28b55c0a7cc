package timers_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/mail"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/internal/outboxtest"
	"github.com/motcua/motcua/timers"
)

var quiet = slog.New(slog.DiscardHandler)

var backends = []engine.Dialect{engine.SQLite, engine.PostgreSQL}

// The test catalog's agencies and units.
const (
	centre   = "000.00.00.H56" // the one-stop centre, which receives
	building = "000.00.06.H56" // the department of construction, which decides
	unitPQL  = "PQLXD"         // its building-management office
)

// clock is the controllable time every part of a rig reads.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// rig is a deployment with timers: the use cases and the timers consumer in a running engine on
// one store, a firer, all on one controllable clock.
type rig struct {
	t       testing.TB
	ctx     context.Context
	dialect engine.Dialect
	store   eventstore.Store
	db      *sql.DB
	cal     *calendar.Calendar
	clock   *clock
	app     *commands.App
	engine  *engine.Engine
	firer   *timers.Firer
	stop    func()
	last    eventstore.Position // of the latest event appended
	// tune, when set, adjusts each engine startEngine starts before it runs.
	tune func(*engine.Engine)
}

// newRig starts a rig at start with the timers' policy cfg.
func newRig(t testing.TB, d engine.Dialect, start time.Time, cfg timers.Config) *rig {
	t.Helper()
	store, db := outboxtest.OpenStore(t, d)
	r := &rig{t: t, ctx: context.Background(), dialect: d, store: store, db: db, cal: calendar.Default(), clock: &clock{t: start}}
	r.app = commands.New(store, domaintest.Catalog(t, r.cal), r.cal)
	r.app.Now, r.app.Logger = r.clock.Now, quiet
	r.startEngine(cfg)
	r.firer = r.newFirer()
	if err := r.firer.Migrate(r.ctx); err != nil {
		t.Fatal(err)
	}
	return r
}

// startEngine runs the timers consumer in an engine until the test ends or stop is called.
func (r *rig) startEngine(cfg timers.Config) {
	r.t.Helper()
	consumer, err := timers.NewConsumer(cfg, r.cal)
	if err != nil {
		r.t.Fatal(err)
	}
	consumer.Now = r.clock.Now
	r.engine = engine.NewEngine(r.store, r.db, r.dialect, consumer)
	r.engine.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if r.tune != nil {
		r.tune(r.engine)
	}
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.engine.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			r.t.Errorf("engine: %v", err)
		}
	}()
	var once sync.Once
	r.stop = func() { once.Do(func() { cancel(); <-done }) }
	r.t.Cleanup(r.stop)
	select {
	case <-r.engine.Ready():
	case <-time.After(30 * time.Second):
		r.t.Fatal("the engine never became ready")
	}
}

// newFirer returns a firer on the rig's database and clock, telling the alarms' e-mail destination.
func (r *rig) newFirer() *timers.Firer {
	return &timers.Firer{DB: r.db, Dialect: r.dialect, Destination: timers.NotifierName, Now: r.clock.Now, Logger: quiet}
}

// settle waits until the engine applied every event the rig appended. (Reading the log's end
// would not do on PostgreSQL: its log shows an event once no older transaction is in flight.)
func (r *rig) settle() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 20*time.Second)
	defer cancel()
	if err := r.engine.WaitFor(ctx, r.last); err != nil {
		r.t.Fatalf("the engine did not apply the log: %v", err)
	}
}

// appended notes the position of an event the rig appended.
func (r *rig) appended(p eventstore.Position) {
	if r.last.Less(p) {
		r.last = p
	}
}

func official(id string, role commands.Role, agency string) commands.Caller {
	return commands.Caller{ID: id, Name: "Cán bộ " + id, Roles: []commands.Role{role}, Agency: agency}
}

var (
	desk       = official("desk-1", commands.RoleReception, centre)
	head       = official("head-1", commands.RoleHead, building)
	specialist = official("cv-1", commands.RoleSpecialist, building)
)

func receipt(channel domain.Channel) commands.ReceiveInput {
	return commands.ReceiveInput{
		ProcedureCode: "1.009972", Channel: channel,
		Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Phạm Văn Cường", IDNumber: "038077777777", Email: "cuong@example.vn"},
		Components: []domain.Component{{Name: "Đơn đề nghị cấp giấy phép xây dựng", Copies: 1}},
	}
}

// receive records a dossier at the desk now and returns its id.
func (r *rig) receive(channel domain.Channel) string {
	r.t.Helper()
	res, err := r.app.Receive(r.ctx, desk, receipt(channel))
	if err != nil {
		r.t.Fatal(err)
	}
	r.appended(res.Position)
	return res.DossierID
}

// do runs a use case on a dossier now.
func (r *rig) do(caller commands.Caller, id string, in commands.Input) commands.Result {
	r.t.Helper()
	res, err := r.app.Execute(r.ctx, caller, id, nil, in)
	if err != nil {
		r.t.Fatalf("%T: %v", in, err)
	}
	r.appended(res.Position)
	return res
}

// receiveEvery5Minutes receives n dossiers at the desk from 8:00 on 7 December 2026, five minutes
// apart, sends every second one to the unit, waits for the timers to apply them and returns their ids.
func (r *rig) receiveEvery5Minutes(n int) []string {
	r.t.Helper()
	var ids []string
	for i := range n {
		r.clock.Set(vn(2026, 12, 7, 8, 5*i))
		id := r.receive(domain.ChannelDirect)
		if i%2 == 1 {
			r.do(desk, id, commands.TransferInput{ToUnit: unitPQL, Step: "Phân công thụ lý", AllottedHours: 16})
		}
		ids = append(ids, id)
	}
	r.settle()
	return ids
}

// dossier loads a dossier as the use cases see it.
func (r *rig) dossier(id string) domain.Dossier {
	r.t.Helper()
	d, _, err := r.app.Load(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

// alarm is an alarm row as the tests read it.
type alarm struct {
	key, kind, state, official, unit string
	due, deadline                    time.Time
}

// alarms lists a dossier's alarms of kind, in the order they were armed.
func (r *rig) alarms(id string, kind timers.Kind) []alarm {
	r.t.Helper()
	rows, err := r.db.QueryContext(r.ctx, `SELECT alarm_key, kind, state, official, unit, due_at, deadline_at FROM timer_alarms
		WHERE dossier_id = $1 AND kind = $2 ORDER BY id`, commands.StreamName(id), string(kind))
	if err != nil {
		r.t.Fatal(err)
	}
	defer rows.Close()
	var out []alarm
	for rows.Next() {
		var (
			a             alarm
			due, deadline int64
		)
		if err := rows.Scan(&a.key, &a.kind, &a.state, &a.official, &a.unit, &due, &deadline); err != nil {
			r.t.Fatal(err)
		}
		a.due, a.deadline = time.UnixMilli(due).In(domain.VietnamTime), time.UnixMilli(deadline).In(domain.VietnamTime)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		r.t.Fatal(err)
	}
	return out
}

// only returns the single alarm of a list, failing the test otherwise.
func (r *rig) only(list []alarm, what string) alarm {
	r.t.Helper()
	if len(list) != 1 {
		r.t.Fatalf("%s: %d alarms, want 1: %+v", what, len(list), list)
	}
	return list[0]
}

// fire runs one round of the firer at t and returns how many alarms it fired.
func (r *rig) fire(at time.Time) int {
	r.t.Helper()
	r.clock.Set(at)
	n, err := r.firer.FireDue(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// deliveries counts the outbox's deliveries of alarms, by idempotency key.
func (r *rig) deliveries() map[string]int {
	r.t.Helper()
	rows, err := r.db.QueryContext(r.ctx, `SELECT idempotency_key, COUNT(*) FROM deliveries WHERE event_type = $1 GROUP BY idempotency_key`, timers.EventType)
	if err != nil {
		r.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var key string
		var n int
		if err := rows.Scan(&key, &n); err != nil {
			r.t.Fatal(err)
		}
		out[key] = n
	}
	return out
}

// vn is a Vietnam civil time.
func vn(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, domain.VietnamTime)
}

// latest returns the dossier's alarm of kind armed last, failing the test when there is none.
func (r *rig) latest(id string, kind timers.Kind) alarm {
	r.t.Helper()
	all := r.alarms(id, kind)
	if len(all) == 0 {
		r.t.Fatalf("no %s alarm for %s", kind, id)
	}
	return all[len(all)-1]
}

// firedAt sets the clock to at, lets the firer fire what is due, and reports whether the alarm
// with key is fired afterwards.
func (r *rig) firedAt(at time.Time, id string, kind timers.Kind, key string) bool {
	r.t.Helper()
	r.fire(at)
	for _, a := range r.alarms(id, kind) {
		if a.key == key {
			return a.state == timers.StateFired
		}
	}
	r.t.Fatalf("no alarm %s", key)
	return false
}

func mustAddress(t testing.TB, s string) mail.Address {
	t.Helper()
	a, err := mail.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return *a
}

// armedCount counts the dossier's armed alarms of every kind.
func (r *rig) armedCount(id string) int {
	r.t.Helper()
	var n int
	if err := r.db.QueryRowContext(r.ctx, `SELECT COUNT(*) FROM timer_alarms WHERE dossier_id = $1 AND state = 'armed'`,
		commands.StreamName(id)).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}
