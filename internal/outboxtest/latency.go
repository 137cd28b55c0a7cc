package outboxtest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/integrations/delivery"
)

// MeasureLatency measures, per delivery, the time from the append of a status change to its
// destination's acceptance (the moment its row was marked sent minus the event's occurred_at),
// with everything as serve runs it: the delivery consumer in the engine beside a read model, the
// dispatcher's default poll, SQLite's read-model pool. It receives perSecond dossiers (their
// deliveries not measured; contact gives the i-th applicant's address or phone), then suspends
// and resumes them in turn, perSecond status changes a second for duration, and returns the p50,
// p99 and maximum over the n deliveries those made. destination is built on the store's
// decorated events.
func MeasureLatency(b *testing.B, d engine.Dialect, perSecond int, duration time.Duration,
	destination func(*wiring.Events) delivery.Destination, contact func(i int, a *domain.Applicant)) (p50, p99, worst time.Duration, n int) {
	ctx := context.Background()
	var (
		stored eventstore.Store
		db     *sql.DB // the store's database: appends, keys
		feedDB *sql.DB // the consumers' writes, as serve opens it
	)
	if d == engine.SQLite {
		path := filepath.Join(b.TempDir(), "motcua.db")
		store, err := sqlite.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { store.Close() })
		pool, err := sql.Open("sqlite", sqlite.ReadModelDSN(path))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { pool.Close() })
		stored, db, feedDB = store, store.DB(), pool
	} else {
		store, err := postgres.Open(ctx, pgtest.NewDatabaseInTurn(b), postgres.WithLogger(Quiet))
		if err != nil {
			b.Fatal(err)
		}
		if err := store.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		db = stdlib.OpenDBFromPool(store.Pool())
		b.Cleanup(func() { db.Close(); store.Close() })
		stored, feedDB = store, db
	}
	events, err := wiring.Decorate(ctx, stored, db)
	if err != nil {
		b.Fatal(err)
	}
	notifier := destination(events)
	consumer, err := delivery.NewConsumer(notifier)
	if err != nil {
		b.Fatal(err)
	}
	feeder := engine.NewEngine(events.Sealed, feedDB, d, consumer, &otherReadModel{})
	feeder.Logger = Quiet
	dispatcher := &delivery.Dispatcher{DB: feedDB, Dialect: d, Destinations: []delivery.Destination{notifier}, Logger: Quiet}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = feeder.Run(runCtx) }()
	go func() { defer wg.Done(); _ = dispatcher.Run(runCtx) }()
	defer func() { cancel(); wg.Wait() }()
	select {
	case <-feeder.Ready():
	case <-time.After(time.Minute):
		b.Fatal("the engine did not start")
	}

	cal := calendar.Default()
	app := commands.New(events.Sealed, domaintest.Catalog(b, cal), cal)
	app.Logger = Quiet
	reception := commands.Caller{ID: "tn1", Name: "Lê Thị Tiếp", Roles: []commands.Role{commands.RoleReception}, Agency: "000.00.00.H56"}
	head := commands.Caller{ID: "tp01", Name: "Phạm Văn Trưởng", Roles: []commands.Role{commands.RoleHead}, Agency: "000.00.00.H56"}
	// The dossiers the storm works on, received first (their deliveries are not measured).
	dossiers := make([]string, perSecond)
	for i := range dossiers {
		applicant := domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn Bền", IDNumber: fmt.Sprintf("0381%08d", i)}
		contact(i, &applicant)
		receipt, err := app.Receive(ctx, reception, commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect,
			Components: []domain.Component{{Name: "Đơn", Copies: 1}}, Applicant: applicant})
		if err != nil {
			b.Fatal(err)
		}
		dossiers[i] = receipt.DossierID
	}
	waitSent(b, feedDB, len(dossiers))

	// The storm: perSecond status changes a second, each dossier suspended and resumed in turn.
	measured := time.Now()
	total := perSecond * int(duration/time.Second)
	suspended := make([]bool, len(dossiers))
	locks := make([]sync.Mutex, len(dossiers))
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	defer tick.Stop()
	var actions sync.WaitGroup
	for i := range total {
		<-tick.C
		actions.Add(1)
		go func() {
			defer actions.Done()
			k := i % len(dossiers)
			locks[k].Lock()
			defer locks[k].Unlock()
			var in commands.Input = commands.SuspendInput{Reason: "Chờ ý kiến cơ quan liên quan"}
			if suspended[k] {
				in = commands.ResumeInput{}
			}
			if _, err := app.Execute(ctx, head, dossiers[k], nil, in); err != nil {
				b.Error(err)
				return
			}
			suspended[k] = !suspended[k]
		}()
	}
	actions.Wait()
	waitSent(b, feedDB, len(dossiers)+total)
	n = total
	rows, err := feedDB.Query(`SELECT done_at - occurred_at FROM deliveries WHERE state = 'sent' AND occurred_at >= $1`, measured.UnixMilli())
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var latencies []time.Duration
	for rows.Next() {
		var ms int64
		if err := rows.Scan(&ms); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Duration(ms)*time.Millisecond)
	}
	slices.Sort(latencies)
	at := func(q float64) time.Duration { return latencies[min(len(latencies)-1, int(q*float64(len(latencies))))] }
	if len(latencies) != n {
		b.Fatalf("%d deliveries measured, %d status changes made", len(latencies), n)
	}
	return at(0.50), at(0.99), latencies[len(latencies)-1], n
}

// waitSent waits until want deliveries are sent.
func waitSent(b *testing.B, db *sql.DB, want int) {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var sent int
		if err := db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE state = 'sent'`).Scan(&sent); err != nil {
			b.Fatal(err)
		}
		if sent == want {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d deliveries sent", sent, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// otherReadModel stands for the read models serve feeds in the same engine: a table written per
// event, so the outbox shares the engine and the database with real work.
type otherReadModel struct{ prefix string }

func (m *otherReadModel) Name() string       { return "latency_other" }
func (m *otherReadModel) Tables() []string   { return []string{"latency_other"} }
func (m *otherReadModel) SchemaVersion() int { return 1 }
func (m *otherReadModel) WithPrefix(prefix string) engine.Consumer {
	return &otherReadModel{prefix: prefix}
}
func (m *otherReadModel) Migrate(ctx context.Context, db *sql.DB, _ engine.Dialect) error {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+m.prefix+`latency_other (stream TEXT PRIMARY KEY, version BIGINT NOT NULL)`)
	return err
}
func (m *otherReadModel) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	for _, re := range batch.Events {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+m.prefix+`latency_other (stream, version) VALUES ($1, $2)
			ON CONFLICT (stream) DO UPDATE SET version = excluded.version`, re.Stream, int64(re.Version)); err != nil {
			return err
		}
	}
	return nil
}
