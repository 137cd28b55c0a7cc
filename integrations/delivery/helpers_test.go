package delivery_test

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/internal/outboxtest"
)

var backends = []engine.Dialect{engine.SQLite, engine.PostgreSQL}

// receiver is the far end of a destination, as a real receiver behaves: it keeps what it accepted,
// and can refuse (the receiver down) or accept and then lose its answer (the connection dropped
// after the message was taken), which makes the sender send the same delivery again.
type receiver struct {
	name string
	plan func(delivery.Change) string

	mu       sync.Mutex
	rng      *rand.Rand
	refuse   float64                      // share of sends refused
	lostAck  float64                      // share of sends accepted whose answer is lost
	refuseIf func(delivery.Delivery) bool // refuses, whatever the dice say
	got      []delivery.Delivery          // every accepted send, duplicates included
}

func newReceiver(name string) *receiver {
	return &receiver{name: name, rng: rand.New(rand.NewPCG(14, 1)),
		plan: func(delivery.Change) string { return "event" }}
}

func (r *receiver) Name() string                  { return r.name }
func (r *receiver) Plan(c delivery.Change) string { return r.plan(c) }
func (r *receiver) setFaults(refuse, lostAck float64) {
	r.mu.Lock()
	r.refuse, r.lostAck = refuse, lostAck
	r.mu.Unlock()
}

func (r *receiver) Send(ctx context.Context, d delivery.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuseIf != nil && r.refuseIf(d) {
		return errors.New("refused for this dossier")
	}
	if r.rng.Float64() < r.refuse {
		return errors.New("451 try again later")
	}
	r.got = append(r.got, d)
	if r.rng.Float64() < r.lostAck {
		return errors.New("connection reset after DATA")
	}
	return nil
}

// accepted returns every accepted send, in arrival order.
func (r *receiver) accepted() []delivery.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery.Delivery(nil), r.got...)
}

// counts returns the deliveries per state.
func counts(t testing.TB, db *sql.DB) map[delivery.State]int {
	t.Helper()
	rows, err := db.Query(`SELECT state, COUNT(*) FROM deliveries GROUP BY state`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[delivery.State]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			t.Fatal(err)
		}
		out[delivery.State(state)] = n
	}
	return out
}

// start runs the delivery consumer of destinations over store, and a dispatcher quick to retry.
func start(t testing.TB, store eventstore.Store, db *sql.DB, d engine.Dialect, policy delivery.Policy, destinations ...delivery.Destination) *outboxtest.System {
	t.Helper()
	return outboxtest.Start(t, store, db, d, outboxtest.Dispatching{Policy: policy, PollInterval: 10 * time.Millisecond,
		SendTimeout: time.Second, Lease: 2 * time.Second}, destinations...)
}
