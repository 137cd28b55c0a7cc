package portal_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/portal"
	"github.com/motcua/motcua/integrations/portal/portalsim"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/internal/outboxtest"
)

// A portal down long enough kills the deliveries: the synced indicator says which share of the
// period's dossiers the portal holds in their latest state; once the portal is back, reconcile
// makes the latest unacknowledged states due again and the indicator reaches 100 %, the portal
// holding every dossier's latest state.
func TestReconcileResendsWhatThePortalNeverAcknowledged(t *testing.T) {
	for _, d := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			events, db := outboxtest.OpenEvents(t, d)
			sim, server := startPortal(t)
			client := &portal.Client{BaseURL: server.URL, ClientID: clientID, ClientSecret: clientSecret,
				HTTP: &http.Client{Timeout: time.Second}}
			syncer := &portal.Syncer{Store: events.Sealed, Portal: client, ResultLink: portal.LookupLink(publicURL)}
			outboxtest.MigrateConsumer(t, db, d, syncer)
			if err := portal.Migrate(ctx, db, d); err != nil {
				t.Fatal(err)
			}
			sim.SetFaults(portalsim.Faults{ServerError: 0.5})
			system := startWith(t, events, db, d, quiet, syncer, delivery.Policy{MaxAttempts: 2, Initial: time.Millisecond, Max: 5 * time.Millisecond})
			outboxtest.Seed(t, events.Sealed)
			log := logtest.Settled(t, events.Sealed)
			waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			if err := system.Engine.WaitFor(waitCtx, log[len(log)-1].Position); err != nil {
				t.Fatal(err)
			}
			outboxtest.Eventually(t, 2*time.Minute, "nothing is pending", func() bool { return outboxtest.CountState(t, db, delivery.Pending) == 0 })
			if outboxtest.CountState(t, db, delivery.Dead) == 0 {
				t.Fatal("no delivery died: the test proves nothing")
			}
			from, to := time.Unix(0, 0), time.Now().Add(time.Hour)
			before, err := portal.SyncedIndicator(ctx, db, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if before.Dossiers == 0 || before.Acknowledged == before.Dossiers {
				t.Fatalf("indicator before: %+v; want some dossiers not synced", before)
			}
			sim.SetFaults(portalsim.Faults{})
			r, err := portal.Reconcile(ctx, db, nil, from, to, time.Now(), 7) // small pages: several of them
			if err != nil {
				t.Fatal(err)
			}
			if r.Dossiers != before.Dossiers || r.Requeued != before.Dossiers-before.Acknowledged {
				t.Fatalf("reconcile %+v; indicator said %+v", r, before)
			}
			outboxtest.Eventually(t, time.Minute, "the requeued deliveries are sent", func() bool { return outboxtest.CountState(t, db, delivery.Pending) == 0 })
			after, err := portal.SyncedIndicator(ctx, db, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if after.Dossiers != before.Dossiers || after.Acknowledged != after.Dossiers || after.Percent() != 100 {
				t.Fatalf("indicator after reconcile: %+v", after)
			}
			for stream, dossier := range outboxtest.FoldLog(t, log, nil) {
				if dossier.Code == "" {
					continue
				}
				held, ok := sim.Dossier(string(dossier.Code))
				if !ok {
					t.Fatalf("%s: the portal does not hold it", stream)
				}
				doc := syncDocument(t, held.Sync)
				if doc.TrangThaiHoSo != dossier.Status.PortalStatusCode() || doc.NgayHenTra != portal.Date(dossier.AppointmentDate) {
					t.Fatalf("%s: the portal holds status %d, appointment %s; the log says %d, %s", stream, doc.TrangThaiHoSo,
						doc.NgayHenTra, dossier.Status.PortalStatusCode(), portal.Date(dossier.AppointmentDate))
				}
			}
			t.Logf("indicator %.1f %% before reconcile (%d of %d), 100 %% after", before.Percent(), before.Acknowledged, before.Dossiers)
		})
	}
}

// The portal switched on in a deployment with history: the outbox records nothing about the
// dossiers' past changes (they predate its origin), so reconcile finds the dossiers of the period
// without any portal delivery and records their latest state as a create; serve sends them and the
// portal holds every dossier as the log gives it. A second reconcile records nothing more.
func TestReconcileSendsTheDossiersFromBeforeTheOutbox(t *testing.T) {
	for _, d := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			events, db := outboxtest.OpenEvents(t, d)
			sim, server := startPortal(t)
			syncer := &portal.Syncer{Store: events.Sealed, ResultLink: portal.LookupLink(publicURL),
				Portal: &portal.Client{BaseURL: server.URL, ClientID: clientID, ClientSecret: clientSecret}}
			outboxtest.Seed(t, events.Sealed)
			time.Sleep(5 * time.Millisecond) // the origin comes after every event
			outboxtest.MigrateConsumer(t, db, d, syncer)
			if err := portal.Migrate(ctx, db, d); err != nil {
				t.Fatal(err)
			}
			system := start(t, events, db, d, quiet, syncer)
			log := logtest.Settled(t, events.Sealed)
			waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			if err := system.Engine.WaitFor(waitCtx, log[len(log)-1].Position); err != nil {
				t.Fatal(err)
			}
			if n := outboxtest.CountState(t, db, delivery.Pending) + outboxtest.CountState(t, db, delivery.Sent); n != 0 {
				t.Fatalf("%d deliveries about events before the origin", n)
			}
			dossiers := outboxtest.FoldLog(t, log, nil)
			withCode := 0
			for _, dossier := range dossiers {
				if dossier.Code != "" {
					withCode++
				}
			}
			from, to := time.Unix(0, 0), time.Now().Add(time.Hour)
			r, err := portal.Reconcile(ctx, db, events.Sealed, from, to, time.Now(), 7)
			if err != nil {
				t.Fatal(err)
			}
			if r.Unrecorded != int64(withCode) || r.Dossiers != 0 {
				t.Fatalf("reconcile %+v; %d dossiers have a code", r, withCode)
			}
			outboxtest.Eventually(t, time.Minute, "the recorded states are sent", func() bool { return outboxtest.CountState(t, db, delivery.Sent) == withCode })
			for stream, dossier := range dossiers {
				if dossier.Code == "" {
					continue
				}
				held, ok := sim.Dossier(string(dossier.Code))
				if !ok || !held.Created {
					t.Fatalf("%s: held %v, created %v", stream, ok, held.Created)
				}
				if doc := syncDocument(t, held.Sync); doc.TrangThaiHoSo != dossier.Status.PortalStatusCode() ||
					doc.NgayHenTra != portal.Date(dossier.AppointmentDate) {
					t.Fatalf("%s: the portal holds status %d, appointment %s; the log says %d", stream, doc.TrangThaiHoSo, doc.NgayHenTra,
						dossier.Status.PortalStatusCode())
				}
			}
			again, err := portal.Reconcile(ctx, db, events.Sealed, from, to, time.Now(), 500)
			if err != nil {
				t.Fatal(err)
			}
			if again.Unrecorded != 0 || again.Requeued != 0 || again.Acknowledged != int64(withCode) {
				t.Fatalf("a second reconcile: %+v", again)
			}
		})
	}
}
