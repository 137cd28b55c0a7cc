package http_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
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
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backendEnv is the real router over a store of one backend, without read models: what the write
// API needs. readDB is the database the idempotency keys are kept in.
type backendEnv struct {
	*env
	readDB *sql.DB
}

// count returns how many events the store holds.
func (e *backendEnv) count() int {
	e.t.Helper()
	events, err := e.events.ReadAll(context.Background(), eventstore.Start, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(events)
}

// forEachBackend runs test on SQLite and on PostgreSQL.
func forEachBackend(t *testing.T, test func(t *testing.T, e *backendEnv)) {
	forEachBackendWith(t, nil, test)
}

// forEachBackendWith is forEachBackend with last changes to the server's configuration.
func forEachBackendWith(t *testing.T, configure func(cfg *mhttp.Config), test func(t *testing.T, e *backendEnv)) {
	t.Run("sqlite", func(t *testing.T) {
		ctx := context.Background()
		store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "motcua.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		test(t, newBackendEnv(t, store, store.DB(), configure))
	})
	t.Run("postgres", func(t *testing.T) {
		ctx := context.Background()
		store, err := postgres.Open(ctx, pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		if err := store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		db := stdlib.OpenDBFromPool(store.Pool())
		t.Cleanup(func() { db.Close() })
		test(t, newBackendEnv(t, store, db, configure))
	})
}

func newBackendEnv(t *testing.T, store eventstore.Store, readDB *sql.DB, configure func(cfg *mhttp.Config)) *backendEnv {
	t.Helper()
	cal := calendar.Default()
	catalog := domaintest.Catalog(t, cal)
	clock := &testClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)}
	quiet := slog.New(slog.DiscardHandler)
	app := commands.New(store, catalog, cal)
	app.Now, app.Logger = clock.Now, quiet
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	dialect := engine.SQLite
	if _, ok := store.(*postgres.Store); ok {
		dialect = engine.PostgreSQL
	}
	cfg := mhttp.Config{App: app, ReadDB: readDB, Tokens: mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey)}, Logger: quiet,
		AccessLog: newAccessLog(t, readDB, dialect, clock)}
	if configure != nil {
		configure(&cfg)
	}
	server := mhttp.NewServer(cfg)
	ts := httptest.NewServer(checkContract(t, server))
	t.Cleanup(ts.Close)
	return &backendEnv{env: &env{t: t, url: ts.URL, events: store, app: app, server: server, key: key, clock: clock, cal: cal}, readDB: readDB}
}

var transferToAppraisal = map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ", "to_official_id": "chuyenvien1"}

func TestIdempotencyKeyAppliesARetriedWriteOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *backendEnv) {
		reception := e.token("tiepnhan1", centre, commands.RoleReception)

		// A receipt sent twice opens one dossier, and the repeat gets the same receipt, secret included.
		first := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt(), "Idempotency-Key", "receipt-0001"), http.StatusCreated)
		afterReceipt := e.count()
		again := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt(), "Idempotency-Key", "receipt-0001"), http.StatusCreated)
		if again.raw != first.raw || again.header.Get("Location") != first.header.Get("Location") || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("repeated receipt = %s (%v), want the first answer %s replayed", again.raw, again.header, first.raw)
		}
		if e.count() != afterReceipt {
			t.Fatalf("the repeated receipt wrote %d events", e.count()-afterReceipt)
		}
		path := "/api/v1/dossiers/" + first.body["code"].(string)

		// A transfer sent twice moves the dossier once; both answers are the first one.
		before := e.count()
		moved := e.expect(e.do("POST", path+"/transfer", reception, transferToAppraisal, "Idempotency-Key", `"transfer-7f3a"`), http.StatusOK)
		e.clock.Advance(time.Minute)
		repeat := e.expect(e.do("POST", path+"/transfer", reception, transferToAppraisal, "Idempotency-Key", `"transfer-7f3a"`), http.StatusOK)
		if repeat.raw != moved.raw || repeat.header.Get("ETag") != moved.header.Get("ETag") {
			t.Fatalf("repeated transfer = %s %v, want the first answer %s %v", repeat.raw, repeat.header.Get("ETag"), moved.raw, moved.header.Get("ETag"))
		}
		if got := e.count() - before; got != 1 {
			t.Fatalf("a transfer sent twice with one key wrote %d events, want 1", got)
		}
		// The key is recorded with the event it produced.
		_, recorded, err := e.app.Load(context.Background(), first.body["code"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if m := recorded[len(recorded)-1].Metadata; m.IdempotencyKey != "transfer-7f3a" || len(m.RequestHash) != 64 {
			t.Fatalf("the transfer's metadata = %+v, want its idempotency key and request hash", m)
		}
		history := e.expect(e.do("GET", path+"/events", reception, nil), http.StatusOK).body["events"].([]any)
		if last := history[len(history)-1].(map[string]any); last["idempotency_key"] != "transfer-7f3a" {
			t.Fatalf("the history does not show the transfer's idempotency key: %v", last)
		}

		// The same key with another body is refused, and writes nothing.
		other := map[string]any{"to_unit": "BGD", "step": "Trình ký"}
		reused := e.expect(e.do("POST", path+"/transfer", reception, other, "Idempotency-Key", "transfer-7f3a"), http.StatusUnprocessableEntity)
		if reused.body["code"] != "idempotency_key_reused" {
			t.Fatalf("reused key: %s", reused.raw)
		}
		if e.count() != before+1 {
			t.Fatal("a reused key wrote events")
		}

		// Another official's same key is their own request: never answered with the first one's answer.
		colleague := e.token("tiepnhan2", centre, commands.RoleReception)
		theirs := e.expect(e.do("POST", path+"/transfer", colleague, transferToAppraisal, "Idempotency-Key", "transfer-7f3a"), http.StatusOK)
		if theirs.header.Get("Idempotent-Replayed") != "" || theirs.body["version"] == moved.body["version"] {
			t.Fatalf("another official's request was answered with the first official's answer: %s", theirs.raw)
		}

		// Without a key, a repeat is a second transfer, as before.
		before = e.count()
		e.expect(e.do("POST", path+"/transfer", reception, transferToAppraisal), http.StatusOK)
		e.expect(e.do("POST", path+"/transfer", reception, transferToAppraisal), http.StatusOK)
		if got := e.count() - before; got != 2 {
			t.Fatalf("two transfers without a key wrote %d events, want 2", got)
		}

		// A malformed key is bad input.
		bad := e.expect(e.do("POST", path+"/transfer", reception, transferToAppraisal, "Idempotency-Key", strings.Repeat("k", 256)), http.StatusBadRequest)
		if fields := fieldsOf(bad); len(fields) != 1 || fields[0] != "Idempotency-Key" {
			t.Fatalf("malformed key: %s", bad.raw)
		}
	})
}

func TestConcurrentRequestsWithOneKeyApplyOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *backendEnv) {
		reception := e.token("tiepnhan1", centre, commands.RoleReception)
		code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
		before := e.count()
		const requests = 8
		answers := make([]response, requests)
		var wg sync.WaitGroup
		for i := range requests {
			wg.Go(func() {
				answers[i] = e.do("POST", "/api/v1/dossiers/"+code+"/transfer", reception, transferToAppraisal, "Idempotency-Key", "double-click")
			})
		}
		wg.Wait()
		if got := e.count() - before; got != 1 {
			t.Fatalf("%d concurrent requests with one key wrote %d events, want 1", requests, got)
		}
		var applied string
		for _, a := range answers {
			switch a.status {
			case http.StatusOK:
				if applied != "" && a.raw != applied {
					t.Fatalf("two different successful answers: %s and %s", applied, a.raw)
				}
				applied = a.raw
			case http.StatusConflict:
				if a.body["code"] != "idempotency_key_in_flight" || a.header.Get("Retry-After") == "" {
					t.Fatalf("a concurrent repeat got %s, want idempotency_key_in_flight with Retry-After", a.raw)
				}
			default:
				t.Fatalf("a concurrent repeat got %d %s", a.status, a.raw)
			}
		}
		if applied == "" {
			t.Fatal("no request succeeded")
		}
		// Once the first has finished, a repeat gets its answer.
		if late := e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/transfer", reception, transferToAppraisal, "Idempotency-Key", "double-click"), http.StatusOK); late.raw != applied {
			t.Fatalf("late repeat = %s, want %s", late.raw, applied)
		}
	})
}

// A node that stops between appending and storing the answer leaves the key reserved with no
// answer. The repeat waits out the lease, then is answered from the events, which carry the key:
// nothing is applied twice.
func TestALostAnswerIsRebuiltFromTheEventsNotAppliedAgain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *backendEnv) {
		reception := e.token("tiepnhan1", centre, commands.RoleReception)
		receipt := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt(), "Idempotency-Key", "receipt-lost"), http.StatusCreated)
		path := "/api/v1/dossiers/" + receipt.body["code"].(string)
		moved := e.expect(e.do("POST", path+"/transfer", reception, transferToAppraisal, "Idempotency-Key", "transfer-lost"), http.StatusOK)
		if _, err := e.readDB.Exec(`UPDATE idempotency_keys SET status = 0, header = '{}', body = NULL`); err != nil {
			t.Fatal(err)
		}
		before := e.count()

		// Within the lease the first request may still be running.
		e.expect(e.do("POST", path+"/transfer", reception, transferToAppraisal, "Idempotency-Key", "transfer-lost"), http.StatusConflict)
		e.clock.Advance(2 * time.Minute)
		rebuilt := e.expect(e.do("POST", path+"/transfer", reception, transferToAppraisal, "Idempotency-Key", "transfer-lost"), http.StatusOK)
		if rebuilt.body["version"] != moved.body["version"] || rebuilt.body["status"] != moved.body["status"] ||
			rebuilt.header.Get("ETag") != moved.header.Get("ETag") || rebuilt.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("rebuilt answer = %s, want the first %s", rebuilt.raw, moved.raw)
		}
		again := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt(), "Idempotency-Key", "receipt-lost"), http.StatusCreated)
		if again.body["code"] != receipt.body["code"] || again.body["id"] != receipt.body["id"] {
			t.Fatalf("rebuilt receipt = %s, want dossier %s", again.raw, receipt.raw)
		}
		if e.count() != before {
			t.Fatalf("repeats of requests whose answers were lost wrote %d events", e.count()-before)
		}
		// The same key with another body is still refused, from the events alone.
		if _, err := e.readDB.Exec(`DELETE FROM idempotency_keys`); err != nil {
			t.Fatal(err)
		}
		e.expect(e.do("POST", path+"/transfer", reception, map[string]any{"to_unit": "BGD", "step": "Trình ký"}, "Idempotency-Key", "transfer-lost"), http.StatusUnprocessableEntity)
		if e.count() != before {
			t.Fatal("a reused key wrote events")
		}
	})
}

func TestIdempotencyKeysExpireAfterTheWindow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *backendEnv) {
		reception := e.token("tiepnhan1", centre, commands.RoleReception)
		code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
		path := "/api/v1/dossiers/" + code + "/transfer"
		e.expect(e.do("POST", path, reception, transferToAppraisal, "Idempotency-Key", "day-one"), http.StatusOK)
		before := e.count()
		e.clock.Advance(mhttp.DefaultIdempotencyWindow + time.Hour)
		// Past the window the key is forgotten: the same request is a new one, and the old rows go.
		e.expect(e.do("POST", path, reception, map[string]any{"to_unit": "BGD", "step": "Trình ký"}, "Idempotency-Key", "other-key"), http.StatusOK)
		if n := e.count() - before; n != 1 {
			t.Fatalf("a new key wrote %d events", n)
		}
		var left int
		if err := e.readDB.QueryRow(`SELECT count(*) FROM idempotency_keys WHERE idempotency_key = 'day-one'`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Fatal("an expired key was not purged")
		}
		e.expect(e.do("POST", path, reception, transferToAppraisal, "Idempotency-Key", "day-one"), http.StatusOK)
		if n := e.count() - before; n != 2 {
			t.Fatalf("an expired key's request was not applied anew: %d events", n)
		}
	})
}

var idempotencyField = regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`)

func TestAFormPostedTwiceIsAppliedOnce(t *testing.T) {
	e := newPagesEnv(t)
	csrf := e.signIn(e.token("tn", centre, commands.RoleReception))
	form := e.get("/can-bo/tiep-nhan").expect(t, http.StatusOK)
	m := idempotencyField.FindStringSubmatch(form.body)
	if m == nil {
		t.Fatal("the receipt form has no idempotency key")
	}
	receiptForm := url.Values{"csrf": {csrf}, "idempotency_key": {m[1]}, "procedure_code": {"1.009972"}, "channel": {"direct"},
		"applicant.type": {"citizen"}, "applicant.name": {"Trần Thị Bình"}, "applicant.id_number": {"038098765432"},
		"components": {"Đơn đề nghị | 1\nBản vẽ thiết kế | 2"}}
	receiptCode := regexp.MustCompile(`id="receipt-code">([^<]+)<`)
	first := e.post("/can-bo/tiep-nhan", receiptForm).expect(t, http.StatusOK, `id="rating-secret"`)
	before := e.eventCount()
	second := e.post("/can-bo/tiep-nhan", receiptForm).expect(t, http.StatusOK, `id="rating-secret"`)
	code := receiptCode.FindStringSubmatch(first.body)[1]
	if receiptCode.FindStringSubmatch(second.body)[1] != code || e.eventCount() != before {
		t.Fatalf("the receipt form posted twice opened a second dossier")
	}

	// A double click on an action form: both posts land on the dossier, which moved once.
	dossierPage := e.get("/can-bo/ho-so/"+code).expect(t, http.StatusOK)
	keys := idempotencyField.FindAllStringSubmatch(dossierPage.body, -1)
	if len(keys) < 2 || keys[0][1] == keys[1][1] {
		t.Fatalf("the dossier page's forms do not each carry their own key: %v", keys)
	}
	transfer := regexp.MustCompile(`action="/can-bo/ho-so/[^"]+/transfer"[^>]*>\s*<input type="hidden" name="csrf" value="[^"]+">\s*<input type="hidden" name="version" value="(\d+)">\s*<input type="hidden" name="idempotency_key" value="([^"]+)">`).
		FindStringSubmatch(dossierPage.body)
	if transfer == nil {
		t.Fatal("no transfer form with an idempotency key on the dossier page")
	}
	post := url.Values{"csrf": {csrf}, "version": {transfer[1]}, "idempotency_key": {transfer[2]}, "step": {"Thẩm định hồ sơ"}, "to_unit": {"PQLXD"}}
	before = e.eventCount()
	answers := make([]page, 2)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			resp, err := e.client.PostForm(e.url+"/can-bo/ho-so/"+code+"/transfer", post)
			if err != nil {
				t.Error(err)
				return
			}
			answers[i] = readPage(t, resp)
		})
	}
	wg.Wait()
	for _, a := range answers {
		if a.status != http.StatusSeeOther || a.location != "/can-bo/ho-so/"+code+"?da-lam=transfer" {
			t.Fatalf("a post of the double-clicked form = %d %q, want the dossier (answers %+v)", a.status, a.location, answers)
		}
	}
	if got := e.eventCount() - before; got != 1 {
		t.Fatalf("a double-clicked transfer form wrote %d events, want 1", got)
	}
}

func TestARatingSentTwiceWithOneKeyCountsOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *backendEnv) {
		reception := e.token("tiepnhan1", centre, commands.RoleReception)
		specialist := e.token("chuyenvien1", building, commands.RoleSpecialist)
		head := e.token("truongphong1", building, commands.RoleHead)
		signer := e.token("giamdoc1", building, commands.RoleSigner)
		cashier := e.token("thungan1", centre, commands.RoleCashier)
		received := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated)
		code := received.body["code"].(string)
		path := "/api/v1/dossiers/" + code
		hash := strings.Repeat("ab", 32)
		e.expect(e.do("POST", path+"/transfer", reception, transferToAppraisal), http.StatusOK)
		e.expect(e.do("POST", path+"/appraise", specialist, map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện"}), http.StatusOK)
		e.expect(e.do("POST", path+"/transfer", head, map[string]any{"to_unit": "BGD", "step": "Trình ký"}), http.StatusOK)
		e.expect(e.do("POST", path+"/sign", signer, map[string]any{"document_number": "12/GPXD", "document_hash": hash}), http.StatusOK)
		e.expect(e.do("POST", path+"/result", signer, map[string]any{}), http.StatusOK)
		e.expect(e.do("POST", path+"/fee", cashier, map[string]any{}), http.StatusOK)
		e.expect(e.do("POST", path+"/payment", cashier, map[string]any{"amount": 150000, "channel": "cash", "receipt_number": "BL-0001"}), http.StatusOK)
		e.expect(e.do("POST", path+"/return", reception, map[string]any{"channel": "direct"}), http.StatusOK)

		rating := map[string]any{"secret": received.body["rating_secret"], "scores": map[string]string{"staff_attitude": "very_satisfied"}}
		ratingPath := "/api/v1/public/dossiers/" + code + "/rating"
		first := e.expect(e.do("POST", ratingPath, "", rating, "Idempotency-Key", "rating-1"), http.StatusOK)
		before := e.count()
		if again := e.expect(e.do("POST", ratingPath, "", rating, "Idempotency-Key", "rating-1"), http.StatusOK); again.raw != first.raw {
			t.Fatalf("repeated rating = %s, want %s", again.raw, first.raw)
		}
		// Its answer lost, the repeat is answered from the rating event once the lease is over.
		if _, err := e.readDB.Exec(`UPDATE idempotency_keys SET status = 0`); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * time.Minute)
		if rebuilt := e.expect(e.do("POST", ratingPath, "", rating, "Idempotency-Key", "rating-1"), http.StatusOK); rebuilt.raw != first.raw {
			t.Fatalf("rebuilt rating answer = %s, want %s", rebuilt.raw, first.raw)
		}
		if e.count() != before {
			t.Fatal("a repeated rating wrote events")
		}
		// Without the key a second rating is refused, as before: a dossier is rated once.
		e.expect(e.do("POST", ratingPath, "", rating), http.StatusConflict)
	})
}
