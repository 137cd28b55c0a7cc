package inbound_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/integrations/portal"
	"github.com/motcua/motcua/integrations/portal/inbound"
	"github.com/motcua/motcua/integrations/portal/inbound/feedsim"
	"github.com/motcua/motcua/internal/outboxtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.DiscardHandler)

// recorderOf is what motcua serve injects: the portal's dossier through the use case.
func recorderOf(app *commands.App) inbound.Recorder {
	return func(ctx context.Context, s inbound.Submission) (string, bool, error) {
		res, created, err := app.SubmitFromPortal(ctx, commands.PortalSubmission{PortalID: s.PortalID, ProcedureCode: s.ProcedureCode,
			ReceivingUnit: s.ReceivingUnit, SubmittedAt: s.SubmittedAt, Applicant: s.Applicant, Components: s.Components})
		return res.DossierID, created, err
	}
}

func document(portalID string, change func(map[string]any)) []byte {
	doc := map[string]any{
		"MaHoSoQG": portalID, "MaTTHC": "1.009972", "MaDonViTiepNhan": "000.00.00.H56", "NgayNopHoSo": "20260302074500",
		"ChuHoSo":        map[string]any{"LoaiDoiTuong": 1, "HoVaTen": "Lê Văn Cường", "SoGiayTo": "038087654321", "Email": "cuong@example.vn"},
		"DanhSachGiayTo": []map[string]any{{"TenGiayTo": "Đơn đề nghị", "SoBan": 1, "DuongDanTep": "https://dichvucong.gov.vn/tep/9.pdf"}},
	}
	if change != nil {
		change(doc)
	}
	data, _ := json.Marshal(doc)
	return data
}

// portalDossiers returns, per portal id, how many dossiers the log opened for it.
func portalDossiers(t *testing.T, store eventstore.Store) map[string]int {
	t.Helper()
	events, err := store.ReadAll(context.Background(), eventstore.Start, 10000)
	if err != nil {
		t.Fatal(err)
	}
	opened := map[string]int{}
	for _, re := range events {
		if re.Type != domain.TypeSubmitted {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		opened[e.(domain.Submitted).ExternalCode]++
	}
	return opened
}

// flakyRecorder fails the recording of one portal id once, as a store that drops out would.
func flakyRecorder(next inbound.Recorder, failOn string) (inbound.Recorder, *atomic.Bool) {
	var failed atomic.Bool
	return func(ctx context.Context, s inbound.Submission) (string, bool, error) {
		if s.PortalID == failOn && failed.CompareAndSwap(false, true) {
			return "", false, errors.New("the store is unreachable")
		}
		return next(ctx, s)
	}, &failed
}

func TestPollerRecordsEachPortalDossierOnceThroughRestartsOutagesAndBadItems(t *testing.T) {
	for _, dialect := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			store, db := outboxtest.OpenStore(t, dialect)
			cal := calendar.Default()
			app := commands.New(store, domaintest.Catalog(t, cal), cal)
			now := time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)
			app.Now, app.Logger = func() time.Time { return now }, quiet

			feed := feedsim.New("motcua-thanh-hoa", "bí-mật-ứng-dụng")
			server := httptest.NewServer(feed.Handler())
			defer server.Close()
			var logs bytes.Buffer
			recorder, failedOnce := flakyRecorder(recorderOf(app), "G22.99-260302-000005")
			newPoller := func() *inbound.Poller {
				return &inbound.Poller{
					FeedURL: server.URL + "/hoso", Client: &http.Client{Timeout: 5 * time.Second},
					Token: &portal.TokenSource{URL: server.URL + "/token", ClientID: "motcua-thanh-hoa", ClientSecret: "bí-mật-ứng-dụng"},
					DB:    db, Dialect: dialect, Catalog: app.Catalog, Record: recorder, PageSize: 2,
					Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: app.Now,
				}
			}
			if err := inbound.Migrate(ctx, db, dialect); err != nil {
				t.Fatal(err)
			}

			feed.Add(document("G22.99-260302-000001", nil))
			unknownProcedure := feed.Add(document("G22.99-260302-000002", func(d map[string]any) { d["MaTTHC"] = "9.999999" }))
			feed.Add(document("G22.99-260302-000003", nil))
			notADossier := feed.Add([]byte(`"rác"`))
			feed.Add(document("G22.99-260302-000004", nil))

			first := newPoller()
			if err := first.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			if got := first.Stats(); got.Recorded.Load() != 3 || got.Parked.Load() != 2 {
				t.Fatalf("recorded %d, parked %d; want 3 and 2", got.Recorded.Load(), got.Parked.Load())
			}
			parked, err := inbound.Parked(ctx, db, 50)
			if err != nil {
				t.Fatal(err)
			}
			if len(parked) != 2 || parked[0].Position != unknownProcedure || parked[0].PortalID != "G22.99-260302-000002" ||
				!strings.Contains(parked[0].Problem, "MaTTHC") || parked[1].Position != notADossier {
				t.Fatalf("parked = %+v", parked)
			}

			// The portal down, then cutting its connections: the poll fails, the cursor stays, nothing is written.
			feed.Add(document("G22.99-260302-000005", nil))
			last := feed.Add(document("G22.99-260302-000006", nil))
			before, _ := inbound.Cursor(ctx, db)
			for _, fault := range []feedsim.Fault{feedsim.Unavailable, feedsim.CutOff} {
				feed.SetFault(fault)
				if err := first.Poll(ctx); err == nil {
					t.Fatalf("fault %d: the poll succeeded", fault)
				}
				if after, _ := inbound.Cursor(ctx, db); after != before {
					t.Fatalf("fault %d moved the cursor from %q to %q", fault, before, after)
				}
			}
			feed.SetFault(feedsim.Healthy)

			// The store failing on one item: the poll stops there, the cursor stays before it.
			if err := first.Poll(ctx); err == nil || !failedOnce.Load() {
				t.Fatalf("poll with the store failing = %v", err)
			}
			if after, _ := inbound.Cursor(ctx, db); after != before {
				t.Fatalf("a failed recording moved the cursor to %q", after)
			}

			// motcua restarts: a new poller takes up from the stored cursor.
			restarted := newPoller()
			if err := restarted.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			if got := restarted.Stats().Recorded.Load(); got != 2 {
				t.Fatalf("after the restart, %d dossiers recorded, want the 2 new ones", got)
			}
			if cursor, _ := inbound.Cursor(ctx, db); cursor != last {
				t.Fatalf("cursor = %q, want %q", cursor, last)
			}

			// At least once: the cursor lost (a crash before it was stored), the whole feed comes again — and
			// records nothing twice.
			if _, err := db.ExecContext(ctx, `DELETE FROM portal_inbound_cursor`); err != nil {
				t.Fatal(err)
			}
			again := newPoller()
			if err := again.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			if got := again.Stats(); got.Recorded.Load() != 0 || got.Repeated.Load() != 5 {
				t.Fatalf("the replayed feed recorded %d and repeated %d, want 0 and 5", got.Recorded.Load(), got.Repeated.Load())
			}
			opened := portalDossiers(t, store)
			if len(opened) != 5 {
				t.Fatalf("dossiers opened for %d portal ids, want 5: %v", len(opened), opened)
			}
			for id, n := range opened {
				if n != 1 {
					t.Fatalf("portal dossier %s opened %d dossiers", id, n)
				}
			}
			if parked, _ := inbound.Parked(ctx, db, 50); len(parked) != 2 {
				t.Fatalf("%d parked after the replay, want the same 2", len(parked))
			}
			if strings.Contains(logs.String(), "Lê Văn Cường") || strings.Contains(logs.String(), "038087654321") ||
				!strings.Contains(logs.String(), "portal dossier parked") {
				t.Fatalf("log:\n%s", logs.String())
			}
		})
	}
}

// The webhook's sending side: the simulator signs as the portal does, and the verifier accepts it
// and refuses the same bytes under another secret.
func TestSimulatedPortalSignsAsTheVerifierExpects(t *testing.T) {
	var got error
	secret := []byte("chung")
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(r.Body)
		got = inbound.Verifier{Secret: secret}.Verify(r.Header, body.Bytes())
		other := inbound.Verifier{Secret: []byte("khác")}.Verify(r.Header, body.Bytes())
		if !errors.Is(other, inbound.ErrForged) {
			t.Errorf("another secret: %v, want ErrForged", other)
		}
	}))
	defer server.Close()
	resp, err := feedsim.Push(context.Background(), server.Client(), server.URL, secret, document("G22.99-260302-000009", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got != nil {
		t.Fatalf("the simulator's signature: %v", got)
	}
}

// The poller keeps its token between polls; when the portal revoked it, the poll gets a new one
// and takes the feed in at once rather than failing until the next.
func TestPollerKeepsItsTokenAndRenewsARevokedOne(t *testing.T) {
	ctx := context.Background()
	store, db := outboxtest.OpenStore(t, engine.SQLite)
	cal := calendar.Default()
	app := commands.New(store, domaintest.Catalog(t, cal), cal)
	app.Logger = quiet
	feed := feedsim.New("motcua", "bí-mật")
	server := httptest.NewServer(feed.Handler())
	defer server.Close()
	if err := inbound.Migrate(ctx, db, engine.SQLite); err != nil {
		t.Fatal(err)
	}
	poller := &inbound.Poller{FeedURL: server.URL + "/hoso", Token: &portal.TokenSource{URL: server.URL + "/token", ClientID: "motcua", ClientSecret: "bí-mật"},
		DB: db, Dialect: engine.SQLite, Catalog: app.Catalog, Record: recorderOf(app), Logger: quiet}
	submitted := func(d map[string]any) {
		d["NgayNopHoSo"] = time.Now().In(domain.VietnamTime).Format(inbound.PortalTimeLayout)
	}
	for i, id := range []string{"G22.99-260302-000801", "G22.99-260302-000802"} {
		feed.Add(document(id, submitted))
		if err := poller.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		if n := feed.TokensIssued(); n != 1 {
			t.Fatalf("after %d polls, %d tokens: the token is not kept", i+1, n)
		}
	}
	feed.RevokeTokens()
	feed.Add(document("G22.99-260302-000803", submitted))
	if err := poller.Poll(ctx); err != nil {
		t.Fatalf("a poll with a revoked token: %v", err)
	}
	if n, recorded := feed.TokensIssued(), poller.Stats().Recorded.Load(); n != 2 || recorded != 3 {
		t.Fatalf("%d tokens, %d dossiers recorded; want a new token and the third dossier in the same poll", n, recorded)
	}
}

// Run keeps polling through an outage of the portal and takes the feed in once it is back.
func TestPollerRunTakesTheFeedInOnceThePortalIsBack(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, db := outboxtest.OpenStore(t, engine.SQLite)
	cal := calendar.Default()
	app := commands.New(store, domaintest.Catalog(t, cal), cal)
	app.Logger = quiet
	feed := feedsim.New("motcua", "bí-mật")
	server := httptest.NewServer(feed.Handler())
	defer server.Close()
	feed.SetFault(feedsim.Unavailable)
	feed.Add(document("G22.99-260302-000701", func(d map[string]any) {
		d["NgayNopHoSo"] = time.Now().In(domain.VietnamTime).Format(inbound.PortalTimeLayout)
	}))
	poller := &inbound.Poller{FeedURL: server.URL + "/hoso", Token: &portal.TokenSource{URL: server.URL + "/token", ClientID: "motcua", ClientSecret: "bí-mật"},
		DB: db, Dialect: engine.SQLite, Catalog: app.Catalog, Record: recorderOf(app), Interval: 10 * time.Millisecond, Logger: quiet}
	done := make(chan error, 1)
	go func() { done <- poller.Run(ctx) }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s", what)
			}
		}
	}
	waitFor("two polls have failed", func() bool { return poller.Stats().ConsecutiveFailures.Load() >= 2 })
	if poller.Stats().Recorded.Load() != 0 {
		t.Fatal("recorded during the outage")
	}
	feed.SetFault(feedsim.Healthy)
	waitFor("the dossier is recorded", func() bool { return poller.Stats().Recorded.Load() == 1 })
	waitFor("the failures are over", func() bool {
		return poller.Stats().ConsecutiveFailures.Load() == 0 && poller.Stats().LastSuccess.Load() > 0
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want it to end with its context", err)
	}
	if opened := portalDossiers(t, store); len(opened) != 1 || opened["G22.99-260302-000701"] != 1 {
		t.Fatalf("opened %v", opened)
	}
}
