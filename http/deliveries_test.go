package http_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/projections"
)

// mailbox is the far end of a destination named "email": it accepts every delivery but those of
// the dossiers it refuses, which it refuses for good, echoing the recipient's address as real mail
// servers do.
type mailbox struct {
	mu      sync.Mutex
	refused map[string]bool // dossier streams
	got     []delivery.Delivery
}

func (m *mailbox) Name() string { return "email" }
func (m *mailbox) Plan(c delivery.Change) string {
	if c.StatusChanged() {
		return "status_changed"
	}
	return ""
}
func (m *mailbox) Send(_ context.Context, d delivery.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refused[d.DossierID] {
		return delivery.Permanent(errors.New("550 5.1.1 <an@example.vn>: mailbox unavailable"))
	}
	m.got = append(m.got, d)
	return nil
}
func (m *mailbox) refuse(stream string, refused bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refused[stream] = refused
}

// deliveriesEnv is the real router over a real store of the dialect, with the public status view
// and the outbox's consumer fed by the engine, and a dispatcher the test runs when it wants.
type deliveriesEnv struct {
	*pagesEnv
	db         *sql.DB
	mailbox    *mailbox
	dispatcher *delivery.Dispatcher
	logs       *lockedLog
}

// lockedLog collects the server's log lines.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}
func (l *lockedLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

// newDeliveriesEnv builds it; withOutbox false leaves notifications off: no consumer, no table.
func newDeliveriesEnv(t *testing.T, d engine.Dialect, withOutbox bool) *deliveriesEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var store eventstore.Store
	var db *sql.DB
	if d == engine.SQLite {
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "motcua.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		store, db = s, s.DB()
	} else {
		s, err := postgres.Open(ctx, pgtest.NewDatabaseInTurn(t), postgres.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		db = stdlib.OpenDBFromPool(s.Pool())
		t.Cleanup(func() { db.Close(); s.Close() })
		store = s
	}
	if err := projections.MigrateAll(ctx, db, d); err != nil {
		t.Fatal(err)
	}
	box := &mailbox{refused: map[string]bool{}}
	consumers := []engine.Consumer{projections.PublicStatusView{}}
	if withOutbox {
		consumer, err := delivery.NewConsumer(box)
		if err != nil {
			t.Fatal(err)
		}
		if err := consumer.Migrate(ctx, db, d); err != nil {
			t.Fatal(err)
		}
		consumers = append(consumers, consumer)
	}
	cal := calendar.Default()
	clock := &testClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)}
	quiet := slog.New(slog.DiscardHandler)
	app := commands.New(store, domaintest.Catalog(t, cal), cal)
	app.Now, app.Logger = clock.Now, quiet
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	feeder := engine.NewEngine(store, db, d, consumers...)
	feeder.Logger = quiet
	runner := feeder.Runner(projections.PublicStatusView{}.Name())
	logs := &lockedLog{}
	server := mhttp.NewServer(mhttp.Config{App: app, ReadDB: db, Tokens: mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey)},
		Logger: slog.New(slog.NewTextHandler(logs, nil)), PublicStatusUpdates: runner, PublicRequestsPerMinute: 10000,
		Deliveries: &mhttp.DeliveriesConfig{Dialect: d, Destinations: []string{"email", "sms"}}})
	ts := httptest.NewServer(checkContract(t, server))
	done := make(chan error, 1)
	go func() { done <- feeder.Run(ctx) }()
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("engine: %v", err)
		}
	})
	e := &env{t: t, url: ts.URL, events: store, app: app, server: server, key: key, clock: clock, cal: cal, engine: feeder, runner: runner}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &deliveriesEnv{pagesEnv: &pagesEnv{env: e, client: client}, db: db, mailbox: box, logs: logs,
		dispatcher: &delivery.Dispatcher{DB: db, Dialect: d, Destinations: []delivery.Destination{box},
			Policy: delivery.Policy{MaxAttempts: 3, Initial: time.Hour, Max: time.Hour}, Logger: quiet}}
}

// caughtUp waits until the engine has applied everything recorded.
func (e *deliveriesEnv) caughtUp() {
	e.t.Helper()
	all := logtest.Settled(e.t, e.events)
	// Generous: the machine running the tests may be busy.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.engine.WaitFor(ctx, all[len(all)-1].Position); err != nil {
		e.t.Fatal(err)
	}
}

func (e *deliveriesEnv) dispatch() {
	e.t.Helper()
	if _, err := e.dispatcher.DispatchDue(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// deliveryRow reads one delivery's state and attempts.
func (e *deliveriesEnv) deliveryRow(id float64) (state string, attempts int) {
	e.t.Helper()
	if err := e.db.QueryRow(`SELECT state, attempts FROM deliveries WHERE id = $1`, int64(id)).Scan(&state, &attempts); err != nil {
		e.t.Fatal(err)
	}
	return state, attempts
}

func receiveDossier(e *env, desk string) (code, id string) {
	e.t.Helper()
	r := e.expect(e.do("POST", "/api/v1/dossiers", desk, validReceipt()), http.StatusCreated)
	return r.body["code"].(string), r.body["id"].(string)
}

// Admins see the outbox per destination and page by page, and bring a dead delivery back; other
// officials may not; bad requests are refused naming the field and change nothing; the public
// lookup says which notifications were sent, never to what address. On SQLite and PostgreSQL.
func TestAdminsSeeAndRetryDeliveriesAndTheLookupSaysWhatWasSent(t *testing.T) {
	for _, d := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		t.Run(string(d), func(t *testing.T) {
			e := newDeliveriesEnv(t, d, true)
			desk := e.token("tiepnhan1", centre, commands.RoleReception)
			admin := e.token("quantri", "", commands.RoleAdmin)
			inspector := e.token("thanhtra", centre, commands.RoleInspector)

			// Three dossiers received: one status change each. The mailbox refuses the third for good.
			codeA, _ := receiveDossier(e.env, desk)
			_, _ = receiveDossier(e.env, desk)
			codeC, idC := receiveDossier(e.env, desk)
			e.mailbox.refuse(commands.StreamName(idC), true)
			e.caughtUp()
			e.dispatch()

			status := e.expect(e.do("GET", "/api/v1/admin/deliveries/status", admin, nil), http.StatusOK).body
			lines := status["destinations"].([]any)
			if len(lines) != 2 {
				t.Fatalf("status lines: %v", lines)
			}
			email, sms := lines[0].(map[string]any), lines[1].(map[string]any)
			if email["destination"] != "email" || email["sent"] != 2.0 || email["dead"] != 1.0 || email["pending"] != 0.0 ||
				sms["destination"] != "sms" || sms["sent"] != 0.0 {
				t.Fatalf("status: %v", lines)
			}

			// Paged one at a time, in log order, chaining through all three with the total.
			var listed []map[string]any
			after := ""
			for pages := 0; ; pages++ {
				if pages > 5 {
					t.Fatal("the pages do not end")
				}
				page := e.expect(e.do("GET", "/api/v1/admin/deliveries?limit=1&after="+url.QueryEscape(after), admin, nil), http.StatusOK).body
				if page["total"] != 3.0 {
					t.Fatalf("total %v, want 3", page["total"])
				}
				for _, it := range page["items"].([]any) {
					listed = append(listed, it.(map[string]any))
				}
				if after, _ = page["next"].(string); after == "" {
					break
				}
			}
			if len(listed) != 3 || listed[0]["dossier_code"] != codeA || listed[2]["dossier_code"] != codeC {
				t.Fatalf("listed: %v", listed)
			}
			dead := listed[2]
			if dead["state"] != "dead" || dead["kind"] != "status_changed" || dead["attempts"] != 1.0 ||
				!strings.HasPrefix(dead["key"].(string), "email:") || !strings.Contains(dead["last_error"].(string), "mailbox unavailable") {
				t.Fatalf("the dead delivery: %v", dead)
			}
			filtered := e.expect(e.do("GET", "/api/v1/admin/deliveries?state=dead&destination=email", admin, nil), http.StatusOK).body
			if items := filtered["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != dead["id"] || filtered["total"] != 1.0 {
				t.Fatalf("dead ones: %v", filtered)
			}
			if none := e.expect(e.do("GET", "/api/v1/admin/deliveries?destination=sms", admin, nil), http.StatusOK).body; len(none["items"].([]any)) != 0 {
				t.Fatalf("sms: %v", none)
			}

			// Nobody but an admin.
			for _, token := range []string{desk, inspector} {
				e.expect(e.do("GET", "/api/v1/admin/deliveries", token, nil), http.StatusForbidden)
				e.expect(e.do("GET", "/api/v1/admin/deliveries/status", token, nil), http.StatusForbidden)
				e.expect(e.do("POST", "/api/v1/admin/deliveries/retry", token, map[string]any{"ids": []any{dead["id"]}}), http.StatusForbidden)
			}
			e.expect(e.do("GET", "/api/v1/admin/deliveries", "", nil), http.StatusUnauthorized)

			// Bad requests name the field and change nothing.
			for query, field := range map[string]string{"state=lost": "state", "limit=0": "limit", "limit=501": "limit",
				"after=" + projections.Cursor{"forged"}.Encode(): "after", "after=%25%25": "after"} {
				r := e.expect(e.do("GET", "/api/v1/admin/deliveries?"+query, admin, nil), http.StatusBadRequest)
				if !slices.Contains(fieldsOf(r), field) {
					t.Errorf("GET ?%s: fields %v, want %s", query, fieldsOf(r), field)
				}
			}
			for body, field := range map[string]string{
				`{}`:                                      "ids",
				`{"ids": [0]}`:                            "ids[0]",
				`{"ids": [1], "dead": true}`:              "ids",
				`{"dead": true, "failing": true}`:         "failing",
				`{"dead": true, "destination": "fax"}`:    "destination",
				`{"ids": [1], "destination": "email"}`:    "destination",
				`{"ids": "all"}`:                          "ids",
				`{"dead": true, "destinations": "email"}`: "destinations",
			} {
				r := e.expect(e.do("POST", "/api/v1/admin/deliveries/retry", admin, body), http.StatusBadRequest)
				if !slices.Contains(fieldsOf(r), field) {
					t.Errorf("POST %s: fields %v, want %s", body, fieldsOf(r), field)
				}
			}
			if state, attempts := e.deliveryRow(dead["id"].(float64)); state != "dead" || attempts != 1 {
				t.Fatalf("after refused requests the dead delivery is %s with %d attempts", state, attempts)
			}

			// The admin retries it: pending again with a fresh count, sent at the next dispatch.
			e.mailbox.refuse(commands.StreamName(idC), false)
			done := e.expect(e.do("POST", "/api/v1/admin/deliveries/retry", admin, map[string]any{"ids": []any{dead["id"], listed[0]["id"]}}), http.StatusOK).body
			if done["retried"] != 1.0 { // the sent one is left alone
				t.Fatalf("retried: %v", done)
			}
			if state, attempts := e.deliveryRow(dead["id"].(float64)); state != "pending" || attempts != 0 {
				t.Fatalf("the retried delivery is %s with %d attempts", state, attempts)
			}
			if log := e.logs.String(); !strings.Contains(log, "deliveries retried") || !strings.Contains(log, "by=quantri") || strings.Contains(log, "@") {
				t.Fatalf("the retry's audit line: %s", log)
			}
			e.dispatch()
			if state, _ := e.deliveryRow(dead["id"].(float64)); state != "sent" {
				t.Fatalf("the retried delivery is %s after a dispatch", state)
			}
			if done := e.expect(e.do("POST", "/api/v1/admin/deliveries/retry", admin, map[string]any{"dead": true, "destination": "email"}), http.StatusOK).body; done["retried"] != 0.0 {
				t.Fatalf("nothing dead is left, yet %v", done)
			}

			// The public lookup: which notification went, by which channel, when; no address.
			for _, path := range []string{"/api/v1/public/dossiers/" + codeA, "/api/v1/public/dossiers/" + codeC} {
				r := e.expect(e.do("GET", path, "", nil), http.StatusOK)
				notes, _ := r.body["notifications"].([]any)
				if len(notes) != 1 {
					t.Fatalf("%s: notifications %v", path, r.raw)
				}
				n := notes[0].(map[string]any)
				if n["channel"] != "email" || n["channel_vi"] != "Thư điện tử" || n["kind"] != "status_changed" || n["kind_vi"] != "Thay đổi trạng thái hồ sơ" || n["sent_at"] == "" {
					t.Fatalf("%s: notification %v", path, n)
				}
				if strings.Contains(r.raw, "an@example.vn") || strings.Contains(r.raw, "0912345678") {
					t.Fatalf("%s shows the applicant's address: %s", path, r.raw)
				}
			}
			lookup := e.get("/tra-cuu/"+codeA).expect(t, http.StatusOK, "Thông báo đã gửi", "Thư điện tử: Thay đổi trạng thái hồ sơ")
			if strings.Contains(lookup.body, "an@example.vn") {
				t.Fatal("the lookup page shows the applicant's address")
			}
			e.get("/tra-cuu/"+codeA+"?lang=en").expect(t, http.StatusOK, "Notifications sent", "E-mail: Status changed")
		})
	}
}

// The admins' page shows the counts and the list, retries one dead delivery and all the dead of a
// destination through the API with the form's CSRF token; other officials get 403.
func TestAdminsPageOfDeliveriesRetriesTheDead(t *testing.T) {
	e := newDeliveriesEnv(t, engine.SQLite, true)
	desk := e.token("tiepnhan1", centre, commands.RoleReception)
	codeA, idA := receiveDossier(e.env, desk)
	codeB, idB := receiveDossier(e.env, desk)
	e.mailbox.refuse(commands.StreamName(idA), true)
	e.mailbox.refuse(commands.StreamName(idB), true)
	e.caughtUp()
	e.dispatch()

	// A reception official: no link, and the page refuses.
	e.signIn(desk)
	e.get("/can-bo/quan-tri/gui-thong-bao").expect(t, http.StatusForbidden, "Chỉ quản trị hệ thống")

	csrf := e.signIn(e.token("quantri", "", commands.RoleAdmin))
	p := e.get("/can-bo/quan-tri/gui-thong-bao?trang-thai=dead").expect(t, http.StatusOK, "Gửi thông báo và đồng bộ", `href="/can-bo/quan-tri/gui-thong-bao"`,
		`data-destination="email"`, codeA, codeB, "Gửi lại tất cả thất bại", "mailbox unavailable")
	if !strings.Contains(p.body, `data-count="dead">2<`) {
		t.Fatalf("the page does not count 2 dead:\n%s", p.body)
	}
	e.get("/can-bo/quan-tri/gui-thong-bao?trang-thai=lost").expect(t, http.StatusBadRequest, "state")

	// One: without the CSRF token nothing happens; with it, the delivery comes back.
	var idOfA int64
	if err := e.db.QueryRow(`SELECT id FROM deliveries WHERE dossier_id = $1`, commands.StreamName(idA)).Scan(&idOfA); err != nil {
		t.Fatal(err)
	}
	e.post("/can-bo/quan-tri/gui-thong-bao/gui-lai", url.Values{"id": {fmt.Sprint(idOfA)}}).expect(t, http.StatusForbidden)
	if state, _ := e.deliveryRow(float64(idOfA)); state != "dead" {
		t.Fatalf("a form without CSRF changed the delivery to %s", state)
	}
	back := e.post("/can-bo/quan-tri/gui-thong-bao/gui-lai", url.Values{"csrf": {csrf}, "id": {fmt.Sprint(idOfA)},
		"back": {"/can-bo/quan-tri/gui-thong-bao?trang-thai=dead"}}).expect(t, http.StatusSeeOther)
	if back.location != "/can-bo/quan-tri/gui-thong-bao?gui-lai=1&trang-thai=dead" {
		t.Fatalf("back to %q", back.location)
	}
	e.get(back.location).expect(t, http.StatusOK, "Đã đưa 1 thông báo vào hàng gửi lại.")
	if state, attempts := e.deliveryRow(float64(idOfA)); state != "pending" || attempts != 0 {
		t.Fatalf("retried from the page: %s, %d attempts", state, attempts)
	}

	// All the dead of a destination; an outside "back" address is not followed.
	back = e.post("/can-bo/quan-tri/gui-thong-bao/gui-lai", url.Values{"csrf": {csrf}, "destination": {"email"},
		"back": {"https://evil.example/can-bo/quan-tri/gui-thong-bao"}}).expect(t, http.StatusSeeOther)
	if back.location != "/can-bo/quan-tri/gui-thong-bao?gui-lai=1" {
		t.Fatalf("back to %q", back.location)
	}
	e.dispatch()
	e.dispatch()
	e.mailbox.mu.Lock()
	sent := len(e.mailbox.got)
	e.mailbox.mu.Unlock()
	if sent != 0 { // still refused: both dead again, each tried once more
		t.Fatalf("a refused dossier's notification went: %d", sent)
	}
	e.get("/can-bo/quan-tri/gui-thong-bao?lang=en").expect(t, http.StatusOK, "Deliveries", "Retry all dead")
}

// With notifications off (no outbox, no deliveries table) the lookup answers as before, without
// notifications, and the admins see the configured destinations empty.
func TestLookupWithoutTheOutboxStillWorks(t *testing.T) {
	e := newDeliveriesEnv(t, engine.SQLite, false)
	desk := e.token("tiepnhan1", centre, commands.RoleReception)
	code, _ := receiveDossier(e.env, desk)
	r := e.waitPublic(code, domain.StatusReceived)
	if _, ok := r.body["notifications"]; ok {
		t.Fatalf("notifications without an outbox: %s", r.raw)
	}
	e.get("/tra-cuu/"+code).expect(t, http.StatusOK, code)
	admin := e.token("quantri", "", commands.RoleAdmin)
	status := e.expect(e.do("GET", "/api/v1/admin/deliveries/status", admin, nil), http.StatusOK).body
	if lines := status["destinations"].([]any); len(lines) != 2 || lines[0].(map[string]any)["pending"] != 0.0 {
		t.Fatalf("status without the table: %v", status)
	}
	list := e.expect(e.do("GET", "/api/v1/admin/deliveries", admin, nil), http.StatusOK).body
	if len(list["items"].([]any)) != 0 {
		t.Fatalf("list without the table: %v", list)
	}
	e.expect(e.do("POST", "/api/v1/admin/deliveries/retry", admin, map[string]any{"dead": true}), http.StatusOK)
}
