package engine_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/projections"
)

// hostileName is an applicant name holding what the edge now refuses, as an older event (or one
// written to the log by other means) may still hold it.
const hostileName = "Nguyễn\x00Văn\u0085An\u202e\u200b\x1b"

// hostileLog appends to the log, bypassing the edge: a dossier received through the use case, one
// whose receipt holds hostile text (and invalid UTF-8 when the store takes it), and one event of a
// dossier's stream that does not decode. It returns the ids of the good and the hostile dossier,
// and the position of the last event.
func hostileLog(t *testing.T, store eventstore.Store, app *commands.App, invalidUTF8 bool) (good, hostile string, last eventstore.Position) {
	t.Helper()
	ctx := context.Background()
	caller := commands.Caller{ID: "tn1", Name: "Lê Thị Tiếp", Roles: []commands.Role{commands.RoleReception}, Agency: "000.00.00.H56"}
	receipt, err := app.Receive(ctx, caller, commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect,
		Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Trần Thị Bình", IDNumber: "038012345678", Address: "12 Lê Lợi"},
		Components: []domain.Component{{Name: "Đơn đề nghị", Copies: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := store.ReadStream(ctx, commands.StreamName(receipt.DossierID), 1)
	if err != nil {
		t.Fatal(err)
	}
	var received map[string]any
	if err := json.Unmarshal(recorded[0].Data, &received); err != nil {
		t.Fatal(err)
	}
	hostile = uuid.Must(uuid.NewV7()).String()
	received["dossier_id"] = hostile
	received["code"] = strings.Replace(receipt.Code, "-0", "-9", 1)
	applicant := received["applicant"].(map[string]any)
	applicant["name"] = hostileName
	applicant["address"] = "\u2066INVALID\u2069"
	data, err := json.Marshal(received)
	if err != nil {
		t.Fatal(err)
	}
	if invalidUTF8 {
		data = bytes.Replace(data, []byte("INVALID"), []byte("\xff\xfe"), 1)
	}
	meta := recorded[0].Metadata
	meta.Actor.Name = "Cán\u202ebộ"
	if _, err := store.Append(ctx, commands.StreamName(hostile), eventstore.NoStream,
		eventstore.EventData{ID: eventstore.NewEventID(), Type: recorded[0].Type, Data: data, Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	// A dossier event whose payload does not decode: no read model can apply it, ever.
	poison, err := store.Append(ctx, commands.StreamName(uuid.Must(uuid.NewV7()).String()), eventstore.NoStream,
		eventstore.EventData{ID: eventstore.NewEventID(), Type: recorded[0].Type, Data: []byte(`{"dossier_id":5}`), Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	// And a feedback event that does not decode: the feedback's read model parks it, the dossier's
	// ignore it, as the feedback's ignores the dossier's — each read model parks one per round.
	poison, err = store.Append(ctx, domain.FeedbackAggregate.StreamName(uuid.Must(uuid.NewV7()).String()), eventstore.NoStream,
		eventstore.EventData{ID: eventstore.NewEventID(), Type: domain.TypeFeedbackReceived, Data: []byte(`{"feedback_id":5}`), Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	return receipt.DossierID, hostile, poison.Position
}

func newTestApp(t *testing.T, store eventstore.Store) *commands.App {
	t.Helper()
	cal := calendar.Default()
	app := commands.New(store, domaintest.Catalog(t, cal), cal)
	app.Logger = quiet
	app.Now = func() time.Time { return time.Date(2026, 3, 20, 9, 0, 0, 0, domain.VietnamTime) }
	return app
}

// TestHostileEventsNeverStallReadModels writes events the edge would refuse straight into the log,
// before the read models start and while they run: text PostgreSQL cannot store is sanitised on
// its way into SQL, an event no read model can decode is parked by each (listed, counted in the
// metric) and every read model reaches the head of the log; a rebuild replays the same log without
// failing and keeps the same parked list.
func TestHostileEventsNeverStallReadModels(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			store, db := openStore(t, backend)
			ctx := context.Background()
			app := newTestApp(t, store)
			good, hostile, last := hostileLog(t, store, app, backend == "sqlite")

			feeder := engine.NewEngine(store, db, engine.Dialect(backend), projections.All()...)
			feeder.Logger = quiet
			reg := prometheus.NewRegistry()
			metrics, err := engine.NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			feeder.Metrics = metrics
			for _, r := range feeder.Runners {
				r.GapTimeout = 20 * time.Millisecond
			}
			runEngine(t, feeder)
			waitFor(t, feeder, last)
			checkHostileOutcome(t, db, []string{good}, []string{hostile}, 1)
			checkParkedMetric(t, reg, 1)

			// The same again while the read models run: the events come through the transport.
			good2, hostile2, last := hostileLog(t, store, app, backend == "sqlite")
			waitFor(t, feeder, last)
			checkHostileOutcome(t, db, []string{good, good2}, []string{hostile, hostile2}, 2)
			checkParkedMetric(t, reg, 2)

			result, err := (&engine.Rebuilder{Store: store, DB: db, Dialect: engine.Dialect(backend), Consumers: projections.All(), Logger: quiet}).Run(ctx)
			if err != nil {
				t.Fatalf("rebuild: %v", err)
			}
			for _, name := range projections.Names() {
				if result.Parked[name] != 2 {
					t.Errorf("rebuild: %s parked %d events, want 2", name, result.Parked[name])
				}
			}
			checkHostileOutcome(t, db, []string{good, good2}, []string{hostile, hostile2}, 2)
		})
	}
}

// checkHostileOutcome checks process control's summary (which the register is read from) holds
// the good and the hostile dossiers, the latter's text sanitised, and that each read model has
// parked exactly the undecodable events.
func checkHostileOutcome(t *testing.T, db *sql.DB, good, hostile []string, parked int) {
	t.Helper()
	ctx := context.Background()
	for _, id := range append(append([]string{}, good...), hostile...) {
		var name, address string
		if err := db.QueryRowContext(ctx, `SELECT applicant_name, COALESCE(applicant_address, '') FROM control_dossiers WHERE dossier_id = $1`, id).Scan(&name, &address); err != nil {
			t.Fatalf("register: dossier %s: %v", id, err)
		}
		if domain.SanitizeText(name) != name || domain.SanitizeText(address) != address {
			t.Errorf("register: dossier %s holds %q, %q unsanitised", id, name, address)
		}
	}
	for _, id := range hostile {
		var name string
		if err := db.QueryRowContext(ctx, `SELECT applicant_name FROM control_dossiers WHERE dossier_id = $1`, id).Scan(&name); err != nil {
			t.Fatal(err)
		}
		if want := domain.SanitizeText(hostileName); name != want {
			t.Errorf("register: hostile name stored as %q, want %q", name, want)
		}
	}
	for _, name := range projections.Names() {
		n, err := engine.CountParked(ctx, db, name)
		if err != nil {
			t.Fatal(err)
		}
		events, err := engine.ParkedEvents(ctx, db, name, 10)
		if err != nil {
			t.Fatal(err)
		}
		if n != parked || len(events) != parked {
			t.Errorf("%s parked %d events (%d listed), want %d: %+v", name, n, len(events), parked, events)
		}
		aggregate := domain.DossierAggregate
		if name == (projections.FeedbackView{}).Name() {
			aggregate = domain.FeedbackAggregate
		}
		for _, e := range events {
			if !strings.Contains(e.Error, aggregate.Name+"_id") || e.EventID == "" || !strings.HasPrefix(e.Stream, aggregate.StreamPrefix) {
				t.Errorf("%s: parked %+v does not say what and why", name, e)
			}
		}
	}
}

// checkParkedMetric checks motcua_projection_parked_events says parked for every read model.
func checkParkedMetric(t *testing.T, reg *prometheus.Registry, parked int) {
	t.Helper()
	got := gauges(t, reg, "motcua_projection_parked_events")
	for _, name := range projections.Names() {
		if got[name] != float64(parked) {
			t.Errorf("motcua_projection_parked_events: %v, want %d for %s", got, parked, name)
		}
	}
}
