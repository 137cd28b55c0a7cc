package http_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
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
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/integrations/payment"
	"github.com/motcua/motcua/integrations/payment/vnpaysim"
)

const simTmnCode, simSecret = "MOTCUA01", "TESTSECRETKEY0123456789ABCDEFGHIJ"

// lockedBuffer is a log sink safe for the server's concurrent requests.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *lockedBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// payEnv is the real router with online payment through VNPAY's simulator, over one backend.
type payEnv struct {
	*env
	sim     *vnpaysim.Gateway
	gateway *payment.VNPay
	logs    *lockedBuffer
	// browser follows no redirect: each hop is checked.
	browser *http.Client
}

// forEachPaymentBackend runs test on SQLite and on PostgreSQL.
func forEachPaymentBackend(t *testing.T, test func(t *testing.T, e *payEnv)) {
	t.Run("sqlite", func(t *testing.T) {
		store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "motcua.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		test(t, newPayEnv(t, store, store.DB()))
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
		test(t, newPayEnv(t, store, db))
	})
}

func newPayEnv(t *testing.T, store eventstore.Store, readDB *sql.DB) *payEnv {
	t.Helper()
	cal := calendar.Default()
	clock := &testClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)}
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	app := commands.New(store, domaintest.Catalog(t, cal), cal)
	app.Now, app.Logger = clock.Now, logger
	_, key, _ := ed25519.GenerateKey(rand.Reader)

	sim := &vnpaysim.Gateway{TmnCode: simTmnCode, Secret: []byte(simSecret), Now: clock.Now, IPNAttempts: 3, IPNRetryDelay: 10 * time.Millisecond}
	simServer := httptest.NewServer(sim.Handler())
	t.Cleanup(simServer.Close)
	gateway := &payment.VNPay{BaseURL: simServer.URL, TmnCode: simTmnCode, Secret: []byte(simSecret)}
	server := mhttp.NewServer(mhttp.Config{App: app, ReadDB: readDB, Tokens: mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey)},
		Logger: logger, Payments: &mhttp.PaymentsConfig{Gateway: gateway}})
	ts := httptest.NewServer(checkContract(t, server))
	t.Cleanup(ts.Close)
	t.Cleanup(sim.Wait)
	gateway.ReturnURL = ts.URL + "/thanh-toan/ket-qua"
	sim.IPNURL = ts.URL + "/api/v1/payments/vnpay/ipn"
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &payEnv{env: &env{t: t, url: ts.URL, events: store, app: app, server: server, key: key, clock: clock, cal: cal},
		sim: sim, gateway: gateway, logs: logs, browser: browser}
}

// count returns how many events the store holds.
func (e *payEnv) count() int {
	e.t.Helper()
	events, err := e.events.ReadAll(context.Background(), eventstore.Start, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(events)
}

// paidEvents counts the paid events of the dossier with code.
func (e *payEnv) paidEvents(code string) []domain.Paid {
	e.t.Helper()
	d, _, err := e.app.Load(context.Background(), code)
	if err != nil {
		e.t.Fatal(err)
	}
	return d.Payments
}

// dossierAwaitingPayment receives a dossier and assesses its fees (150,000 đ from the catalog).
func (e *payEnv) dossierAwaitingPayment() string {
	e.t.Helper()
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	cashier := e.token("thuphi1", centre, commands.RoleCashier)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/fee", cashier, map[string]any{}), http.StatusOK)
	return code
}

// order asks for an online payment of code from the public side.
func (e *payEnv) order(code string) (ref, paymentURL string) {
	e.t.Helper()
	r := e.expect(e.do("POST", "/api/v1/public/dossiers/"+code+"/payment-orders", "", nil), http.StatusCreated)
	return r.body["ref"].(string), r.body["payment_url"].(string)
}

// pay takes the citizen's browser to the gateway's pay page and returns where it is sent back.
func (e *payEnv) pay(paymentURL string) *url.URL {
	e.t.Helper()
	resp, err := e.browser.Get(paymentURL)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("pay page: %d %s", resp.StatusCode, body)
	}
	back, err := resp.Location()
	if err != nil {
		e.t.Fatal(err)
	}
	return back
}

// ipn sends params to the IPN route as the gateway does and returns the RspCode.
func (e *payEnv) ipn(params url.Values) string {
	e.t.Helper()
	resp, err := http.Get(e.url + "/api/v1/payments/vnpay/ipn?" + params.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct{ RspCode, Message string }
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("IPN answer %d: %v", resp.StatusCode, err)
	}
	return answer.RspCode
}

// resigned is params with changes, signed again with secret.
func resigned(params url.Values, secret string, changes map[string]string) url.Values {
	out := url.Values{}
	for k, vs := range params {
		out[k] = append([]string(nil), vs...)
	}
	for k, v := range changes {
		out.Set(k, v)
	}
	out.Set("vnp_SecureHash", payment.Sign([]byte(secret), out))
	return out
}

func TestOnlinePaymentFullFlowThroughTheGateway(t *testing.T) {
	forEachPaymentBackend(t, func(t *testing.T, e *payEnv) {
		code := e.dossierAwaitingPayment()
		ref, paymentURL := e.order(code)

		// The address is VNPAY's pay page, signed over the published parameters.
		u, _ := url.Parse(paymentURL)
		q := u.Query()
		for name, want := range map[string]string{"vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": simTmnCode, "vnp_Amount": "15000000",
			"vnp_CurrCode": "VND", "vnp_TxnRef": ref, "vnp_CreateDate": "20260302080000", "vnp_ExpireDate": "20260302081500", "vnp_Locale": "vn"} {
			if q.Get(name) != want {
				t.Errorf("%s = %q, want %q", name, q.Get(name), want)
			}
		}
		if !payment.Verify([]byte(simSecret), q) || u.Path != "/paymentv2/vpcpay.html" {
			t.Fatalf("payment address %s is not a signed pay page address", paymentURL)
		}

		back := e.pay(paymentURL)
		if !strings.HasPrefix(back.String(), e.url+"/thanh-toan/ket-qua?") {
			t.Fatalf("sent back to %s", back)
		}
		// The IPN came before the browser: the payment is recorded, once, with the gateway's number.
		tx := e.sim.Transactions()
		if len(tx) != 1 || tx[0].ResponseCode != "00" {
			t.Fatalf("gateway transactions %+v", tx)
		}
		paid := e.paidEvents(code)
		if len(paid) != 1 || paid[0].Amount != 150000 || paid[0].Channel != domain.PaymentOnline || paid[0].ReceiptNumber != tx[0].TransactionNo ||
			paid[0].Gateway != "vnpay" || paid[0].OrderRef != ref || paid[0].BankCode != "NCB" {
			t.Fatalf("payments %+v, want one of 150000 online with transaction %s", paid, tx[0].TransactionNo)
		}
		if calls := e.sim.IPNCalls(); len(calls) != 1 || calls[0].RspCode != "00" {
			t.Fatalf("IPN calls %+v, want one answered 00", calls)
		}
		official := e.expect(e.do("GET", "/api/v1/dossiers/"+code, e.token("thuphi1", centre, commands.RoleCashier), nil), http.StatusOK)
		payments, _ := official.body["payments"].([]any)
		if official.body["status"] == string(domain.StatusAwaitingPayment) || official.body["fees_paid"] != float64(150000) || len(payments) != 1 ||
			payments[0].(map[string]any)["order_ref"] != ref || payments[0].(map[string]any)["gateway"] != "vnpay" {
			t.Fatalf("dossier after payment: %s", official.raw)
		}

		// The return page shows the result, Vietnamese first, and writes nothing.
		before := e.count()
		resp, err := http.Get(back.String())
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		vi, en := strings.Index(string(page), "Thanh toán thành công 150.000 đ"), strings.Index(string(page), "Payment of 150,000 đ")
		if resp.StatusCode != http.StatusOK || vi < 0 || en < vi || !strings.Contains(string(page), "đã ghi nhận") {
			t.Fatalf("return page %d:\n%s", resp.StatusCode, page)
		}
		if e.count() != before {
			t.Fatal("the return page wrote events")
		}
		// A tampered return (amount edited in the address) is refused.
		tampered := back.Query()
		tampered.Set("vnp_Amount", "100")
		resp, err = http.Get(e.url + "/thanh-toan/ket-qua?" + tampered.Encode())
		if err != nil {
			t.Fatal(err)
		}
		page, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(page), "không hợp lệ") {
			t.Fatalf("tampered return page %d:\n%s", resp.StatusCode, page)
		}

		// Nothing more is owed: a new order is refused.
		e.expect(e.do("POST", "/api/v1/public/dossiers/"+code+"/payment-orders", "", nil), http.StatusConflict)
	})
}

func TestPaymentCallbackReplayedRecordsOnePayment(t *testing.T) {
	forEachPaymentBackend(t, func(t *testing.T, e *payEnv) {
		code := e.dossierAwaitingPayment()
		ref, paymentURL := e.order(code)
		e.pay(paymentURL)
		after := e.count()
		for i := range 100 {
			if got, err := e.sim.Notify(ref); err != nil || got != "02" {
				t.Fatalf("replay %d answered %q (%v), want 02", i, got, err)
			}
		}
		if len(e.paidEvents(code)) != 1 || e.count() != after {
			t.Fatalf("100 replays: %d payments, %d events more", len(e.paidEvents(code)), e.count()-after)
		}
	})
}

func TestConcurrentPaymentCallbacksRecordOnePayment(t *testing.T) {
	forEachPaymentBackend(t, func(t *testing.T, e *payEnv) {
		code := e.dossierAwaitingPayment()
		ref, paymentURL := e.order(code)
		e.sim.DropIPN = func(string) bool { return true } // the first notification is lost: the replays race
		e.pay(paymentURL)
		before := e.count()
		answers := make(chan string, 100)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 100 {
			wg.Go(func() {
				<-start
				got, err := e.sim.Notify(ref)
				if err != nil {
					got = err.Error()
				}
				answers <- got
			})
		}
		close(start)
		wg.Wait()
		close(answers)
		counts := map[string]int{}
		for a := range answers {
			counts[a]++
		}
		if counts["00"] != 1 || counts["02"] != 99 {
			t.Fatalf("answers %v, want one 00 and 99 02", counts)
		}
		if paid := e.paidEvents(code); len(paid) != 1 || e.count() != before+1 {
			t.Fatalf("100 concurrent callbacks: %d payments, %d events", len(paid), e.count()-before)
		}
	})
}

func TestBadPaymentCallbacksRecordNothingAndAreLogged(t *testing.T) {
	forEachPaymentBackend(t, func(t *testing.T, e *payEnv) {
		code := e.dossierAwaitingPayment()
		ref, paymentURL := e.order(code)
		e.sim.DropIPN = func(string) bool { return true }
		e.pay(paymentURL)
		genuine, _ := e.sim.Result(ref)
		before := e.count()

		cases := []struct {
			name   string
			params url.Values
			want   string
			logged string
		}{
			{"forged signature", resigned(genuine, "not-the-secret", nil), "97", "invalid signature"},
			{"edited amount", func() url.Values { v := resigned(genuine, simSecret, nil); v.Set("vnp_Amount", "100"); return v }(), "97", "invalid signature"},
			{"another merchant", resigned(genuine, simSecret, map[string]string{"vnp_TmnCode": "OTHER001"}), "97", "invalid signature"},
			{"amount mismatch", resigned(genuine, simSecret, map[string]string{"vnp_Amount": "10000000"}), "04", "amount differs"},
			{"unknown order", resigned(genuine, simSecret, map[string]string{"vnp_TxnRef": "20260302999999"}), "01", "unknown order"},
			{"malformed reference", resigned(genuine, simSecret, map[string]string{"vnp_TxnRef": "x'; DROP TABLE"}), "01", "unknown order"},
		}
		for _, c := range cases {
			if got := e.ipn(c.params); got != c.want {
				t.Errorf("%s: RspCode %s, want %s", c.name, got, c.want)
			}
			if !strings.Contains(e.logs.String(), c.logged) {
				t.Errorf("%s: not logged (%q)", c.name, c.logged)
			}
		}
		if e.count() != before || len(e.paidEvents(code)) != 0 {
			t.Fatalf("bad callbacks wrote %d events", e.count()-before)
		}
		// The logs hold no personal data of the applicant.
		for _, personal := range []string{"Nguyễn Văn An", "038012345678", "0912345678", "an@example.vn"} {
			if strings.Contains(e.logs.String(), personal) {
				t.Fatalf("the logs hold %q", personal)
			}
		}
		// The genuine one still records.
		if got := e.ipn(genuine); got != "00" || len(e.paidEvents(code)) != 1 {
			t.Fatalf("genuine callback answered %s", got)
		}
	})
}

func TestPaymentCallbackForADossierPaidOtherwiseAnswersAlreadyConfirmed(t *testing.T) {
	forEachPaymentBackend(t, func(t *testing.T, e *payEnv) {
		code := e.dossierAwaitingPayment()
		ref, paymentURL := e.order(code)
		// Paid at the counter while the citizen was on the gateway's page.
		cashier := e.token("thuphi1", centre, commands.RoleCashier)
		e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/payment", cashier, map[string]any{"amount": 150000, "channel": "cash", "receipt_number": "BL-0001"}), http.StatusOK)
		e.sim.DropIPN = func(string) bool { return true }
		e.pay(paymentURL)
		before := e.count()
		genuine, _ := e.sim.Result(ref)
		if got := e.ipn(genuine); got != "02" {
			t.Fatalf("RspCode %s, want 02", got)
		}
		if paid := e.paidEvents(code); len(paid) != 1 || paid[0].Channel != domain.PaymentCash || e.count() != before {
			t.Fatalf("payments %+v", paid)
		}
		if !strings.Contains(e.logs.String(), "refund") {
			t.Fatal("the payment to refund was not logged")
		}
	})
}

func TestRefusedPaymentRecordsNothing(t *testing.T) {
	forEachPaymentBackend(t, func(t *testing.T, e *payEnv) {
		code := e.dossierAwaitingPayment()
		_, paymentURL := e.order(code)
		e.sim.Outcome = func(string, int64) string { return "24" } // the customer cancelled
		before := e.count()
		back := e.pay(paymentURL)
		if calls := e.sim.IPNCalls(); len(calls) != 1 || calls[0].RspCode != "00" {
			t.Fatalf("IPN calls %+v, want the failure acknowledged with 00", calls)
		}
		if e.count() != before || len(e.paidEvents(code)) != 0 {
			t.Fatal("a refused payment was recorded")
		}
		resp, err := http.Get(back.String())
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(page), "Thanh toán không thành công (mã 24)") {
			t.Fatalf("return page:\n%s", page)
		}
		// The citizen may try again with a new order.
		_, again := e.order(code)
		e.sim.Outcome = nil
		e.pay(again)
		if len(e.paidEvents(code)) != 1 {
			t.Fatal("the second order was not recorded")
		}
	})
}

func TestOfficialPaymentOrderNeedsTheRightToTakePayments(t *testing.T) {
	forEachPaymentBackend(t, func(t *testing.T, e *payEnv) {
		code := e.dossierAwaitingPayment()
		e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/payment-orders", "", nil), http.StatusUnauthorized)
		e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/payment-orders", e.token("cv1", centre, commands.RoleSpecialist), nil), http.StatusForbidden)
		e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/payment-orders", e.token("thuphi2", land, commands.RoleCashier), nil), http.StatusForbidden)
		r := e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/payment-orders", e.token("thuphi1", centre, commands.RoleCashier), nil), http.StatusCreated)
		if r.body["amount"] != float64(150000) {
			t.Fatalf("order %s", r.raw)
		}
		e.expect(e.do("POST", "/api/v1/public/dossiers/000.00.00.H56-260302-9999/payment-orders", "", nil), http.StatusNotFound)
	})
}

func TestReconcilePaymentsAgainstTheGatewaysStatement(t *testing.T) {
	forEachPaymentBackend(t, func(t *testing.T, e *payEnv) {
		ctx := context.Background()
		// In order: paid and notified; paid, notification lost; recorded, the gateway's statement
		// silent about it (a callback the gateway signed for a payment missing from its file).
		notified := e.dossierAwaitingPayment()
		_, u := e.order(notified)
		e.pay(u)
		lost := e.dossierAwaitingPayment()
		lostRef, u := e.order(lost)
		e.sim.DropIPN = func(ref string) bool { return ref == lostRef }
		e.pay(u)
		silent := e.dossierAwaitingPayment()
		silentRef, _ := e.order(silent)
		genuine, _ := e.sim.Result(lostRef)
		if got := e.ipn(resigned(genuine, simSecret, map[string]string{"vnp_TxnRef": silentRef, "vnp_TransactionNo": "99000001"})); got != "00" {
			t.Fatalf("callback of the silent order answered %s", got)
		}

		lines, err := e.gateway.Statement(ctx, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		statement := make([]commands.GatewayPayment, 0, len(lines)+2)
		for _, l := range lines {
			statement = append(statement, commands.GatewayPayment{Gateway: "vnpay", OrderRef: l.Ref, Amount: l.Amount, Succeeded: l.Succeeded,
				TransactionNo: l.TransactionNo, BankCode: l.BankCode, PaidAt: l.At})
		}
		if len(statement) != 2 {
			t.Fatalf("statement %+v, want the two payments the gateway took", lines)
		}
		// Two lines the simulator cannot produce: another merchant's order, and a wrong amount.
		statement = append(statement,
			commands.GatewayPayment{OrderRef: "20260302777777", Amount: 5000, Succeeded: true, TransactionNo: "1"},
			commands.GatewayPayment{OrderRef: statement[0].OrderRef, Amount: 1, Succeeded: true, TransactionNo: "2"})

		report, err := e.app.ReconcilePayments(ctx, "vnpay", e.clock.Now(), statement, false, 50)
		if err != nil {
			t.Fatal(err)
		}
		if report.NotRecorded != 1 || report.NotRecordedList[0].OrderRef != lostRef || report.NotRecordedList[0].Applied != "" ||
			report.NotInStatement != 1 || report.NotInStatementList[0].OrderRef != silentRef ||
			report.UnknownOrders != 1 || report.AmountDiffers != 1 || report.AmountDiffersList[0].StatementAmount != 1 {
			t.Fatalf("report %+v", report)
		}
		if len(e.paidEvents(lost)) != 0 {
			t.Fatal("a reconciliation without --apply recorded a payment")
		}
		// Bounded: a limit of 0 lines lists nothing but counts everything.
		if short, err := e.app.ReconcilePayments(ctx, "vnpay", e.clock.Now(), statement, false, 0); err != nil || len(short.NotRecordedList)+len(short.NotInStatementList) != 0 || short.NotRecorded != 1 {
			t.Fatalf("limit 0: %+v %v", short, err)
		}

		report, err = e.app.ReconcilePayments(ctx, "vnpay", e.clock.Now(), statement, true, 50)
		if err != nil || report.NotRecordedList[0].Applied != "recorded" {
			t.Fatalf("apply: %+v %v", report, err)
		}
		before := e.count()
		report, err = e.app.ReconcilePayments(ctx, "vnpay", e.clock.Now(), statement, true, 50)
		if err != nil || report.NotRecorded != 0 || e.count() != before || len(e.paidEvents(lost)) != 1 {
			t.Fatalf("second apply: %+v %v, %d events", report, err, e.count()-before)
		}
		// The IPN arriving late after the reconciliation recorded it changes nothing.
		if got, _ := e.sim.Notify(lostRef); got != "02" {
			t.Fatalf("late callback answered %s", got)
		}
	})
}

// TestPaymentRoutesAreClassified: the GET routes online payment adds are classified as the lists
// test wants of every GET route (it walks a server without payment).
func TestPaymentRoutesAreClassified(t *testing.T) {
	forEachPaymentBackend(t, func(t *testing.T, e *payEnv) {
		if t.Name() != "TestPaymentRoutesAreClassified/sqlite" {
			t.Skip("the routes do not depend on the backend")
		}
		found := 0
		for _, r := range routesOf(t, e.server) {
			_, paged := pagedLists[r.pattern]
			_, bounded := boundedLists[r.pattern]
			if r.method == http.MethodGet && !paged && !bounded && !slices.Contains(singleResources, r.pattern) {
				t.Errorf("GET %s is neither a list (paged or bounded) nor a single resource: classify it in lists_test.go", r.pattern)
			}
			if strings.Contains(r.pattern, "payment") || strings.Contains(r.pattern, "thanh-toan") {
				found++
			}
		}
		if found != 5 {
			t.Fatalf("%d payment routes, want 5", found)
		}
	})
}

// TestLookupPageOffersOnlinePaymentWhenFeesAreDue: the public lookup page shows the "Thanh toán
// trực tuyến" button while fees are due and a gateway is configured; the button takes the citizen
// to the gateway, and once paid the button is gone.
func TestLookupPageOffersOnlinePaymentWhenFeesAreDue(t *testing.T) {
	sim := &vnpaysim.Gateway{TmnCode: simTmnCode, Secret: []byte(simSecret)}
	simServer := httptest.NewServer(sim.Handler())
	defer simServer.Close()
	gateway := &payment.VNPay{BaseURL: simServer.URL, TmnCode: simTmnCode, Secret: []byte(simSecret)}
	e := buildEnv(t, envOptions{configure: func(cfg *mhttp.Config, app *commands.App, _ eventstore.Store) {
		cfg.Payments = &mhttp.PaymentsConfig{Gateway: gateway}
		sim.Now = app.Now
	}})
	gateway.ReturnURL = e.url + "/thanh-toan/ket-qua"
	sim.IPNURL = e.url + "/api/v1/payments/vnpay/ipn"
	defer sim.Wait()
	plain := newEnv(t)

	button := func(env *env, code string) bool {
		page := env.do("GET", "/tra-cuu/"+code, "", nil)
		if page.status != http.StatusOK {
			t.Fatalf("lookup page %d", page.status)
		}
		return strings.Contains(page.raw, `action="/tra-cuu/`+code+`/thanh-toan"`) && strings.Contains(page.raw, "Thanh toán trực tuyến")
	}
	var codes []string
	for _, env := range []*env{e, plain} {
		reception := env.token("tiepnhan1", centre, commands.RoleReception)
		code := env.expect(env.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
		env.waitPublic(code, domain.StatusReceived)
		if button(env, code) {
			t.Fatal("the button shows before any fee is assessed")
		}
		env.expect(env.do("POST", "/api/v1/dossiers/"+code+"/fee", env.token("thuphi1", centre, commands.RoleCashier), map[string]any{}), http.StatusOK)
		env.waitPublic(code, domain.StatusAwaitingPayment)
		codes = append(codes, code)
	}
	if button(plain, codes[1]) {
		t.Fatal("the button shows without a payment gateway")
	}
	if !button(e, codes[0]) {
		t.Fatal("no button while fees are due")
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Post(e.url+"/tra-cuu/"+codes[0]+"/thanh-toan", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	to, _ := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || to == nil || !strings.HasPrefix(to.String(), simServer.URL+"/paymentv2/vpcpay.html?") {
		t.Fatalf("the button answered %d to %v", resp.StatusCode, to)
	}
	if resp, err = browser.Get(to.String()); err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("pay page: %v %v", resp, err)
	}
	resp.Body.Close()
	e.waitPublic(codes[0], domain.StatusReceived)
	if button(e, codes[0]) {
		t.Fatal("the button still shows once paid")
	}
}

// TestConcurrentPaymentOrdersGetUniqueReferences: orders made at once, through two apps over the
// same store (two nodes), each get their own reference, which finds them back.
func TestConcurrentPaymentOrdersGetUniqueReferences(t *testing.T) {
	forEachPaymentBackend(t, func(t *testing.T, e *payEnv) {
		code := e.dossierAwaitingPayment()
		other := commands.New(e.events, nil, nil)
		other.Now, other.Logger = e.clock.Now, slog.New(slog.DiscardHandler)
		refs := make(chan string, 60)
		var wg sync.WaitGroup
		for i := range 60 {
			app := e.app
			if i%2 == 1 {
				app = other
			}
			wg.Go(func() {
				order, err := app.OrderPayment(context.Background(), nil, code, "vnpay")
				if err != nil {
					t.Error(err)
					return
				}
				refs <- order.Ref
			})
		}
		wg.Wait()
		close(refs)
		seen := map[string]bool{}
		for ref := range refs {
			if seen[ref] {
				t.Fatalf("reference %s handed out twice", ref)
			}
			seen[ref] = true
			order, err := e.app.FindPaymentOrder(context.Background(), ref)
			if err != nil || order.Ref != ref || string(order.DossierCode) != code || order.Amount != 150000 {
				t.Fatalf("order %s reads back as %+v, %v", ref, order, err)
			}
		}
		if len(seen) != 60 || !seen["20260302000001"] || !seen["20260302000060"] {
			t.Fatalf("%d references: %v", len(seen), seen)
		}
	})
}
