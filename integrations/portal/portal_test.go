package portal_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/portal"
	"github.com/motcua/motcua/integrations/portal/portalsim"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/internal/outboxtest"
)

const (
	clientID     = "motcua-thanhhoa"
	clientSecret = "bí-mật-của-tỉnh"
	publicURL    = "https://dichvucong.thanhhoa.gov.vn"
)

func startPortal(t testing.TB) (*portalsim.Server, *httptest.Server) {
	t.Helper()
	sim, err := portalsim.New(clientID, clientSecret)
	if err != nil {
		t.Fatal(err)
	}
	server := httptest.NewServer(sim.Handler())
	t.Cleanup(server.Close)
	return sim, server
}

// The storm: the demo's dossier histories and 20 dossiers suspended and resumed 5 times each,
// recorded at once while the portal answers 5xx, holds requests
// past the client's time-out, drops connections, applies documents and loses the answer (so they
// come again and are acknowledged twice), and applies documents late, out of order; its tokens are
// revoked and motcua is stopped and started again half-way. Afterwards every delivery is sent,
// every document was accepted exactly once per idempotency key, and the portal holds, for every
// dossier, the status, appointment and documents motcua's log gives. Same on SQLite and PostgreSQL.
func TestThePortalHoldsOurReadOfEveryDossierAfterAFaultStorm(t *testing.T) {
	for _, d := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		t.Run(string(d), func(t *testing.T) {
			events, db := outboxtest.OpenEvents(t, d)
			sim, server := startPortal(t)
			sim.SetFaults(portalsim.Faults{ServerError: 0.12, Timeout: 0.04, Drop: 0.08, AckLost: 0.12, Reorder: 0.2,
				TimeoutDelay: time.Second, ReorderDelay: 80 * time.Millisecond})
			client := &portal.Client{BaseURL: server.URL, ClientID: clientID, ClientSecret: clientSecret,
				HTTP: &http.Client{Timeout: 300 * time.Millisecond}}
			syncer := &portal.Syncer{Store: events.Sealed, Portal: client, ResultLink: portal.LookupLink(publicURL)}
			outboxtest.MigrateConsumer(t, db, d, syncer)

			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
			first := start(t, events, db, d, logger, syncer)
			seeded := make(chan struct{})
			go func() {
				defer close(seeded)
				var wg sync.WaitGroup
				wg.Add(2)
				go func() { defer wg.Done(); outboxtest.Seed(t, events.Sealed) }()
				go func() { defer wg.Done(); churn(t, events.Sealed, 20, 5) }() // 20 dossiers, 200 status changes
				wg.Wait()
			}()
			outboxtest.Eventually(t, 2*time.Minute, "some documents were acknowledged", func() bool { return outboxtest.CountState(t, db, delivery.Sent) >= 10 })
			first.Stop() // motcua goes down mid-storm
			sim.RevokeTokens()

			second := start(t, events, db, d, logger, syncer)
			<-seeded
			log := logtest.Settled(t, events.Sealed)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := second.Engine.WaitFor(ctx, log[len(log)-1].Position); err != nil {
				t.Fatal(err)
			}
			outboxtest.Eventually(t, 4*time.Minute, "nothing is pending", func() bool { return outboxtest.CountState(t, db, delivery.Pending) == 0 })
			second.Stop()
			sim.Settle()

			if dead := outboxtest.CountState(t, db, delivery.Dead); dead != 0 {
				t.Fatalf("%d deliveries dead: %v", dead, lastErrors(t, db))
			}
			// What the log calls for, by key, and what the portal accepted.
			want := plannedFromLog(t, syncer, log)
			rows := sentRows(t, db)
			if len(rows) != len(want) {
				for key, row := range rows {
					if want[key] != row.Kind {
						t.Logf("sent %s (%s v%d), the log calls for %q", key, row.DossierID, row.StreamVersion, want[key])
					}
				}
				for key := range want {
					if _, ok := rows[key]; !ok {
						t.Logf("not sent: %s", key)
					}
				}
				t.Fatalf("%d deliveries sent; the log calls for %d", len(rows), len(want))
			}
			applied := sim.Applied()
			wantKeys := 0
			for key, row := range rows {
				if want[key] != row.Kind {
					t.Fatalf("%s: sent as %q, the log calls for %q", key, row.Kind, want[key])
				}
				for _, service := range portal.Services(row.Kind) {
					wantKeys++
					if n := applied[portal.IdempotencyKey(key, service)]; n != 1 {
						t.Fatalf("%s %s accepted %d times", key, service, n)
					}
				}
			}
			if len(applied) != wantKeys {
				t.Fatalf("the portal accepted %d keys; motcua sent %d documents", len(applied), wantKeys)
			}

			// The portal's final state is our read of every dossier.
			latest := latestRows(rows)
			dossiers := outboxtest.FoldLog(t, log, nil)
			checked := 0
			for stream, dossier := range dossiers {
				code := dossier.ExternalCode
				if code == "" {
					code = string(dossier.Code)
				}
				held, ok := sim.Dossier(code)
				if code == "" {
					if ok {
						t.Fatalf("the portal holds %s, a dossier without a code", stream)
					}
					continue
				}
				if !ok || !held.Created {
					t.Fatalf("%s (%s): held %v, created first %v", stream, code, ok, held.Created)
				}
				var doc portal.SyncDocument
				if err := json.Unmarshal(held.Sync, &doc); err != nil {
					t.Fatal(err)
				}
				if doc.TrangThaiHoSo != dossier.Status.PortalStatusCode() || doc.NgayHenTra != portal.Date(dossier.AppointmentDate) ||
					len(doc.DanhSachGiayToKetQua) != len(dossier.Results) || len(doc.DanhSachHoSoBoSung) != dossier.SupplementRequests {
					t.Fatalf("%s: the portal holds status %d, appointment %s, %d results, %d supplements; the log says %d, %s, %d, %d",
						code, doc.TrangThaiHoSo, doc.NgayHenTra, len(doc.DanhSachGiayToKetQua), len(doc.DanhSachHoSoBoSung),
						dossier.Status.PortalStatusCode(), portal.Date(dossier.AppointmentDate), len(dossier.Results), dossier.SupplementRequests)
				}
				for service, row := range latest[stream] {
					documents, err := syncer.Documents(context.Background(), row)
					if err != nil {
						t.Fatal(err)
					}
					heldItem := held.Sync
					if service == portal.ServiceProgress {
						heldItem = held.Progress
					}
					if wantItem := dataItem(t, documents[service]); !bytes.Equal(heldItem, wantItem) {
						t.Fatalf("%s %s: the portal holds\n%s\nthe latest document is\n%s", code, service, heldItem, wantItem)
					}
				}
				checked++
			}
			stats := sim.Stats()
			if stats.Duplicates == 0 || stats.Faults == 0 || stats.Unauthorized == 0 {
				t.Fatalf("the storm was too calm to prove anything: %+v", stats)
			}
			for _, dossier := range dossiers {
				if a := dossier.Applicant; a.Name != "" && (strings.Contains(logs.String(), a.Name) || strings.Contains(logs.String(), a.IDNumber)) {
					t.Fatal("an applicant's name or identity number reached the logs")
				}
			}
			t.Logf("%d dossiers checked, %d deliveries, %d documents; portal: %+v", checked, len(rows), wantKeys, stats)
		})
	}
}

// plannedFromLog asks the destination's Plan about every event of the log, as the consumer does.
func plannedFromLog(t testing.TB, syncer *portal.Syncer, log []eventstore.RecordedEvent) map[string]string {
	t.Helper()
	want := map[string]string{}
	outboxtest.FoldLog(t, log, func(re eventstore.RecordedEvent, e domain.Event, before, after domain.Dossier) {
		if kind := syncer.Plan(delivery.Change{Recorded: re, Event: e, Before: before, After: after}); kind != "" {
			want[delivery.Key(portal.DestinationName, re.ID.String(), kind)] = kind
		}
	})
	return want
}

// latestRows gives, per dossier and service, the sent delivery of the latest event.
func latestRows(rows map[string]delivery.Delivery) map[string]map[string]delivery.Delivery {
	out := map[string]map[string]delivery.Delivery{}
	for _, row := range rows {
		for _, service := range portal.Services(row.Kind) {
			if out[row.DossierID] == nil {
				out[row.DossierID] = map[string]delivery.Delivery{}
			}
			if prior, ok := out[row.DossierID][service]; !ok || prior.StreamVersion < row.StreamVersion {
				out[row.DossierID][service] = row
			}
		}
	}
	return out
}

func syncDocument(t testing.TB, item json.RawMessage) portal.SyncDocument {
	t.Helper()
	var doc portal.SyncDocument
	if err := json.Unmarshal(item, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func dataItem(t testing.TB, body []byte) json.RawMessage {
	t.Helper()
	var envelope struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil || len(envelope.Data) != 1 {
		t.Fatalf("%v: %s", err, body)
	}
	return envelope.Data[0]
}

// sentRows returns the sent deliveries by idempotency key.
func sentRows(t testing.TB, db *sql.DB) map[string]delivery.Delivery {
	t.Helper()
	rows, err := db.Query(`SELECT idempotency_key, dossier_id, event_id, kind, stream_version FROM deliveries WHERE state = 'sent'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]delivery.Delivery{}
	for rows.Next() {
		var row delivery.Delivery
		var version int64
		if err := rows.Scan(&row.Key, &row.DossierID, &row.EventID, &row.Kind, &version); err != nil {
			t.Fatal(err)
		}
		row.StreamVersion = uint64(version)
		out[row.Key] = row
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func lastErrors(t testing.TB, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT last_error FROM deliveries WHERE state = 'dead' LIMIT 5`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// lockedWriter serialises writes from the dispatcher's workers.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
