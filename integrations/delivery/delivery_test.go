package delivery_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/internal/outboxtest"
)

// A storm of dossier events, a receiver that refuses a third of the sends and loses the answer to
// a fifth of those it accepts, and the whole system stopped and started again half-way: in the
// end every event was delivered (the receiver holds every idempotency key the log calls for, and
// no other), each dossier's deliveries first reached the receiver in log order, and every row is
// sent. Same on SQLite and PostgreSQL.
func TestEveryEventIsDeliveredOnceInOrderAcrossARestart(t *testing.T) {
	for _, d := range backends {
		t.Run(string(d), func(t *testing.T) {
			store, db := outboxtest.OpenStore(t, d)
			r := newReceiver("test")
			r.setFaults(0.3, 0.2)
			policy := delivery.Policy{MaxAttempts: 1000, Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond}
			outboxtest.MigrateConsumer(t, db, d, r) // the origin: everything seeded from now on is delivered

			first := start(t, store, db, d, policy, r)
			seeded := make(chan struct{})
			go func() { defer close(seeded); outboxtest.Seed(t, store) }()
			outboxtest.Eventually(t, time.Minute, "a few deliveries arrived", func() bool { return len(r.accepted()) >= 20 })
			first.Stop() // mid-storm

			<-seeded
			log := logtest.Settled(t, store)
			second := start(t, store, db, d, policy, r)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := second.Engine.WaitFor(ctx, log[len(log)-1].Position); err != nil {
				t.Fatal(err)
			}
			outboxtest.Eventually(t, 2*time.Minute, "nothing is pending", func() bool { return counts(t, db)[delivery.Pending] == 0 })
			second.Stop()

			want := map[string]domain.Event{}
			versions := map[string][]uint64{}
			for _, re := range log {
				if domain.IsDossierEvent(re.Type) {
					want[delivery.Key("test", re.ID.String(), "event")] = nil
					versions[re.Stream] = append(versions[re.Stream], re.Version)
				}
			}
			firstSeen := map[string]bool{}
			order := map[string][]uint64{}
			duplicates := 0
			for _, got := range r.accepted() {
				if _, ok := want[got.Key]; !ok {
					t.Fatalf("delivered %s, which no event calls for", got.Key)
				}
				if firstSeen[got.Key] {
					duplicates++
					continue
				}
				firstSeen[got.Key] = true
				order[got.DossierID] = append(order[got.DossierID], got.StreamVersion)
			}
			if len(firstSeen) != len(want) {
				t.Fatalf("the receiver holds %d idempotency keys; the log calls for %d", len(firstSeen), len(want))
			}
			for stream, got := range order {
				for i := 1; i < len(got); i++ {
					if got[i] <= got[i-1] {
						t.Fatalf("%s: delivered out of order: versions %v", stream, got)
					}
				}
				if len(got) != len(versions[stream]) {
					t.Fatalf("%s: %d deliveries for %d events", stream, len(got), len(versions[stream]))
				}
			}
			if c := counts(t, db); c[delivery.Sent] != len(want) || len(c) != 1 {
				t.Fatalf("delivery rows by state: %v; want %d sent", c, len(want))
			}
			t.Logf("%d deliveries, %d sent again after a lost answer (same key)", len(want), duplicates)
		})
	}
}

// A delivery the receiver keeps refusing is retried with growing waits, then declared dead after
// MaxAttempts; while it is pending, the later deliveries of the same dossier wait, and those of
// other dossiers go; once it is dead the queue moves on. The operator sees it in Status, and
// Retry --dead brings it back with a fresh count.
func TestAFailingDeliveryHoldsItsDossierThenDiesAndIsRetried(t *testing.T) {
	for _, d := range backends {
		t.Run(string(d), func(t *testing.T) {
			store, db := outboxtest.OpenStore(t, d)
			r := newReceiver("test")
			// Only the reception matters here: one delivery per received dossier and per transfer.
			r.plan = func(c delivery.Change) string {
				switch c.Event.(type) {
				case domain.Received, domain.Transferred:
					return "event"
				}
				return ""
			}
			outboxtest.MigrateConsumer(t, db, d, r)
			outboxtest.Seed(t, store)
			log := logtest.Settled(t, store)
			var stuck string // the first dossier with a reception and a transfer
			for _, re := range log {
				if re.Type == domain.TypeTransferred {
					stuck = re.Stream
					break
				}
			}
			r.mu.Lock()
			r.refuseIf = func(d delivery.Delivery) bool { return d.DossierID == stuck && d.EventType == domain.TypeReceived }
			r.mu.Unlock()

			policy := delivery.Policy{MaxAttempts: 4, Initial: 100 * time.Millisecond, Max: 200 * time.Millisecond}
			sys := start(t, store, db, d, policy, r)
			outboxtest.Eventually(t, time.Minute, "the stuck dossier's first delivery is failing", func() bool {
				list, err := delivery.List(context.Background(), db, delivery.ListOptions{State: "failing"})
				return err == nil && len(list) == 1 && list[0].DossierID == stuck
			})
			statuses, err := delivery.Status(context.Background(), db, time.Now(), "test", "unused")
			if err != nil {
				t.Fatal(err)
			}
			if len(statuses) != 2 || statuses[0].Destination != "test" || statuses[0].Failing != 1 || statuses[0].Pending < 2 ||
				statuses[0].OldestPending <= 0 || statuses[1].Destination != "unused" || statuses[1].Pending != 0 {
				t.Fatalf("status while failing: %+v", statuses)
			}
			for _, got := range r.accepted() {
				if got.DossierID == stuck {
					t.Fatalf("a delivery of the stuck dossier went while its first was failing: %+v", got)
				}
			}
			outboxtest.Eventually(t, time.Minute, "the stuck delivery is dead and the rest sent", func() bool {
				c := counts(t, db)
				return c[delivery.Dead] == 1 && c[delivery.Pending] == 0
			})
			if c := counts(t, db); c[delivery.Sent] == 0 || len(c) != 2 {
				t.Fatalf("deliveries by state: %v", c)
			}
			dead, err := delivery.List(context.Background(), db, delivery.ListOptions{State: "dead"})
			if err != nil || len(dead) != 1 || dead[0].Attempts != 4 || dead[0].LastError != "refused for this dossier" ||
				dead[0].DossierID != stuck || dead[0].StreamVersion != 1 {
				t.Fatalf("dead: %+v, %v", dead, err)
			}
			// The dossier's transfer went once its reception was dead: a dead delivery holds no queue.
			transferred := false
			for _, got := range r.accepted() {
				transferred = transferred || (got.DossierID == stuck && got.EventType == domain.TypeTransferred)
			}
			if !transferred {
				t.Fatal("the stuck dossier's later delivery never went after the first died")
			}

			r.mu.Lock()
			r.refuseIf = nil
			r.mu.Unlock()
			n, err := delivery.Retry(context.Background(), db, time.Now(), delivery.RetryOptions{Dead: true, Destination: "other"})
			if err != nil || n != 0 {
				t.Fatalf("retry of another destination changed %d, %v", n, err)
			}
			if n, err = delivery.Retry(context.Background(), db, time.Now(), delivery.RetryOptions{Dead: true, Destination: "test"}); err != nil || n != 1 {
				t.Fatalf("retry --dead changed %d, %v", n, err)
			}
			outboxtest.Eventually(t, time.Minute, "the retried delivery is sent", func() bool {
				c := counts(t, db)
				return c[delivery.Dead] == 0 && c[delivery.Pending] == 0
			})
			sys.Stop()
			sent := 0
			for _, got := range r.accepted() {
				if got.Key == dead[0].Key {
					sent++
				}
			}
			if sent != 1 {
				t.Fatalf("the retried delivery reached the receiver %d times", sent)
			}
		})
	}
}

// A destination that refuses for good (Permanent) kills the delivery at once; one that skips it
// ends it without a send; neither is retried.
func TestPermanentRefusalsAndSkipsAreNotRetried(t *testing.T) {
	store, db := outboxtest.OpenStore(t, engine.SQLite)
	dest := &scripted{name: "scripted", errs: map[string]error{
		domain.TypeReceived:    delivery.Permanent(errors.New("550 no such mailbox nguoidan@example.vn")),
		domain.TypeTransferred: delivery.Skip("the applicant's personal data was erased"),
	}}
	outboxtest.MigrateConsumer(t, db, engine.SQLite, dest)
	outboxtest.Seed(t, store)
	sys := start(t, store, db, engine.SQLite, delivery.Policy{MaxAttempts: 10, Initial: time.Millisecond, Max: time.Millisecond}, dest)
	outboxtest.Eventually(t, time.Minute, "nothing is pending", func() bool {
		c := counts(t, db)
		return c[delivery.Dead] > 0 && c[delivery.Pending] == 0
	})
	sys.Stop()
	dead, err := delivery.List(context.Background(), db, delivery.ListOptions{State: "dead", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, dl := range dead {
		if dl.EventType != domain.TypeReceived || dl.Attempts != 1 {
			t.Fatalf("dead: %+v", dl)
		}
		if dl.LastError != "550 no such mailbox <address>" {
			t.Fatalf("the stored error holds personal data or lost its cause: %q", dl.LastError)
		}
	}
	var skipped, skippedAttempts int
	if err := db.QueryRow(`SELECT COUNT(*), COALESCE(MAX(attempts), 0) FROM deliveries WHERE state = 'skipped' AND event_type = $1`,
		domain.TypeTransferred).Scan(&skipped, &skippedAttempts); err != nil || skipped == 0 || skippedAttempts != 1 {
		t.Fatalf("skipped transfers: %d (attempts %d), %v", skipped, skippedAttempts, err)
	}
}

// Events recorded before deliveries were first enabled are folded but never delivered: turning
// notifications on in a deployment with a history sends nothing about the past.
func TestEventsBeforeTheOriginAreNotDelivered(t *testing.T) {
	store, db := outboxtest.OpenStore(t, engine.SQLite)
	outboxtest.Seed(t, store) // before the consumer ever ran
	time.Sleep(5 * time.Millisecond)
	r := newReceiver("test")
	sys := start(t, store, db, engine.SQLite, delivery.Policy{MaxAttempts: 3, Initial: time.Millisecond, Max: time.Millisecond}, r)
	log := logtest.Settled(t, store)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sys.Engine.WaitFor(ctx, log[len(log)-1].Position); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // a poll or two of the dispatcher
	sys.Stop()
	if c := counts(t, db); len(c) != 0 || len(r.accepted()) != 0 {
		t.Fatalf("history was delivered: rows %v, %d sends", c, len(r.accepted()))
	}
	var folded int
	if err := db.QueryRow(`SELECT COUNT(*) FROM delivery_dossiers`).Scan(&folded); err != nil || folded == 0 {
		t.Fatalf("the consumer folded %d dossiers (%v): later events would be planned without their past", folded, err)
	}
}

// The consumer keeps no applicant identity: its folded dossiers hold the applicant's type and
// which channels they gave, never a name, number, phone, e-mail or address.
func TestTheConsumerKeepsNoPersonalData(t *testing.T) {
	store, db := outboxtest.OpenStore(t, engine.SQLite)
	r := newReceiver("test")
	outboxtest.MigrateConsumer(t, db, engine.SQLite, r)
	outboxtest.Seed(t, store)
	log := logtest.Settled(t, store)
	sys := start(t, store, db, engine.SQLite, delivery.Policy{MaxAttempts: 3, Initial: time.Millisecond, Max: time.Millisecond}, r)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sys.Engine.WaitFor(ctx, log[len(log)-1].Position); err != nil {
		t.Fatal(err)
	}
	sys.Stop()
	checked := 0
	for _, re := range log {
		if re.Type != domain.TypeReceived {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		a := e.(domain.Received).Applicant
		var state string
		if err := db.QueryRow(`SELECT state_json FROM delivery_dossiers WHERE dossier_id = $1`, re.Stream).Scan(&state); err != nil {
			t.Fatal(err)
		}
		for _, value := range []string{a.Name, a.IDNumber, a.Phone, a.Email, a.Address} {
			if value != "" && containsString(state, value) {
				t.Fatalf("%s: the consumer keeps %q", re.Stream, value)
			}
		}
		if a.Email != "" && !containsString(state, `"email":true`) {
			t.Fatalf("%s: the consumer forgot the applicant gave an e-mail address: %s", re.Stream, state)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no dossier was received")
	}
}

func TestBackoffGrowsWithJitterUpToItsCap(t *testing.T) {
	p := delivery.Policy{MaxAttempts: 10, Initial: time.Second, Max: 30 * time.Second}
	for attempts, nominal := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second, 40: 30 * time.Second} {
		seen := map[time.Duration]bool{}
		for range 50 {
			wait := p.Backoff(attempts)
			if wait < nominal/2 || wait > nominal {
				t.Fatalf("attempt %d: waits %s, outside [%s, %s]", attempts, wait, nominal/2, nominal)
			}
			seen[wait] = true
		}
		if len(seen) < 10 {
			t.Fatalf("attempt %d: %d distinct waits in 50: no jitter", attempts, len(seen))
		}
	}
}

// scripted fails each delivery with the error named for its event type (nil: accepted).
type scripted struct {
	name string
	errs map[string]error
}

func (s *scripted) Name() string                                      { return s.name }
func (s *scripted) Plan(delivery.Change) string                       { return "event" }
func (s *scripted) Send(_ context.Context, d delivery.Delivery) error { return s.errs[d.EventType] }

func containsString(s, sub string) bool { return strings.Contains(s, sub) }

// The consumer, the dispatcher and other nodes migrate the tables as they start, at the same time:
// on PostgreSQL concurrent CREATE TABLE IF NOT EXISTS collide in the catalog unless serialised.
func TestConcurrentMigrationsSucceed(t *testing.T) {
	for _, d := range backends {
		t.Run(string(d), func(t *testing.T) {
			_, db := outboxtest.OpenStore(t, d)
			consumer, err := delivery.NewConsumer(newReceiver("test"))
			if err != nil {
				t.Fatal(err)
			}
			for round := range 20 {
				for _, table := range consumer.Tables() {
					if _, err := db.Exec(`DROP TABLE IF EXISTS ` + table); err != nil {
						t.Fatal(err)
					}
				}
				start := make(chan struct{})
				errs := make(chan error, 8)
				for i := range 8 {
					go func() {
						<-start
						if i%2 == 0 {
							errs <- consumer.Migrate(context.Background(), db, d)
						} else {
							errs <- delivery.Migrate(context.Background(), db, d)
						}
					}()
				}
				close(start)
				for range 8 {
					if err := <-errs; err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
				}
			}
			var origins int
			if err := db.QueryRow(`SELECT COUNT(*) FROM delivery_origin`).Scan(&origins); err != nil || origins != 1 {
				t.Fatalf("%d origins, %v", origins, err)
			}
		})
	}
}

// A node catching up in bulk folds the deliveries from page to page and records them at each flush
// (here after every page of seven events), from where a live run stopped half-way left the tables:
// it must record the deliveries, in the order of their rows for each dossier, and keep the states,
// that the live path records applying the whole log five events a batch.
func TestDeliveriesCaughtUpInBulkAreThoseOfTheLiveRun(t *testing.T) {
	for _, d := range backends {
		t.Run(string(d), func(t *testing.T) {
			store, db := outboxtest.OpenStore(t, d)
			r := newReceiver("test")
			outboxtest.MigrateConsumer(t, db, d, r)
			outboxtest.Seed(t, store)
			log := logtest.Settled(t, store)
			live := func(e *engine.Engine) {
				e.CatchUpThreshold = 1 << 30
				for _, runner := range e.Runners {
					runner.MaxBatch = 5
				}
			}
			run := func(through int, tune func(*engine.Engine)) {
				t.Helper()
				s := outboxtest.Start(t, store, db, d, outboxtest.Dispatching{PollInterval: 10 * time.Millisecond, Engine: tune}, r)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if err := s.Engine.WaitFor(ctx, log[through].Position); err != nil {
					t.Fatal(err)
				}
				s.Stop()
			}
			run(len(log)/2, live)
			var logs outboxtest.Log
			run(len(log)-1, func(e *engine.Engine) {
				e.CatchUpThreshold, e.CatchUpBatch, e.FoldBudget = 1, 7, 3
				e.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			if !strings.Contains(logs.String(), "catching up in bulk") {
				t.Fatalf("the deliveries were not caught up in bulk:\n%s", logs.String())
			}
			bulk := recorded(t, db)
			if strings.Count(bulk, "\n") < 20 {
				t.Fatalf("too few deliveries to compare:\n%s", bulk)
			}
			for _, statement := range []string{`DELETE FROM deliveries`, `DELETE FROM delivery_dossiers`,
				`DELETE FROM projection_checkpoints WHERE name = 'deliveries'`} {
				if _, err := db.Exec(statement); err != nil {
					t.Fatal(err)
				}
			}
			run(len(log)-1, live)
			if again := recorded(t, db); again != bulk {
				t.Fatalf("the live path recorded:\n%s\ncaught up in bulk:\n%s", again, bulk)
			}
		})
	}
}

// recorded renders the deliveries recorded (each dossier's in the order of their rows, without
// their sending) and the dossiers' states, a row a line.
func recorded(t *testing.T, db *sql.DB) string {
	t.Helper()
	return outboxtest.Rows(t, db,
		`SELECT destination, dossier_id, idempotency_key, event_id, event_type, kind, stream_version, occurred_at
			FROM deliveries ORDER BY destination, dossier_id, id`,
		`SELECT dossier_id, state_json FROM delivery_dossiers ORDER BY dossier_id`)
}
