package vnpaysim_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/integrations/payment"
	"github.com/motcua/motcua/integrations/payment/vnpaysim"
)

const tmn, secret = "TMN00001", "SIMSECRET"

// merchant is a real HTTP server answering the simulator's notifications through the adapter,
// with the codes answer gives it in turn.
func merchant(t *testing.T, answers ...payment.Outcome) (*httptest.Server, *atomic.Int32) {
	gw := &payment.VNPay{TmnCode: tmn, Secret: []byte(secret)}
	var calls atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1)) - 1
		outcome := answers[min(n, len(answers)-1)]
		if _, err := gw.ParseCallback(r.URL.Query()); err != nil {
			outcome = payment.InvalidSignature
		}
		contentType, body := gw.Answer(outcome)
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	}))
	t.Cleanup(server.Close)
	return server, &calls
}

func payAddress(t *testing.T, sim string, ref string, amount int64, created time.Time) string {
	gw := &payment.VNPay{BaseURL: sim, TmnCode: tmn, Secret: []byte(secret), ReturnURL: "https://merchant.example/return"}
	u, err := gw.PaymentURL(payment.Order{Ref: ref, Amount: amount, Description: "x", CreatedAt: created, ExpiresAt: created.Add(15 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestNotificationIsRetriedUntilConfirmed: as VNPAY does, the simulator sends the notification
// again while the merchant does not answer 00, and stops once it does.
func TestNotificationIsRetriedUntilConfirmed(t *testing.T) {
	shop, calls := merchant(t, payment.Unknown, payment.Unknown, payment.Confirmed)
	sim := &vnpaysim.Gateway{TmnCode: tmn, Secret: []byte(secret), IPNURL: shop.URL, IPNAttempts: 10, IPNRetryDelay: time.Millisecond}
	server := httptest.NewServer(sim.Handler())
	defer server.Close()
	resp, err := noRedirect.Get(payAddress(t, server.URL, "1", 150000, time.Now()))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("pay page: %v %v", resp, err)
	}
	back, _ := resp.Location()
	if back.Host != "merchant.example" || !payment.Verify([]byte(secret), back.Query()) || back.Query().Get("vnp_ResponseCode") != "00" {
		t.Fatalf("sent back to %s", back)
	}
	sim.Wait()
	if calls.Load() != 3 {
		t.Fatalf("%d notifications, want 3 (two answered 99, then 00)", calls.Load())
	}
}

func TestPayPageRefusesWhatVNPAYRefuses(t *testing.T) {
	shop, calls := merchant(t, payment.Confirmed)
	sim := &vnpaysim.Gateway{TmnCode: tmn, Secret: []byte(secret), IPNURL: shop.URL, IPNAttempts: 1}
	server := httptest.NewServer(sim.Handler())
	defer server.Close()
	good := payAddress(t, server.URL, "2", 150000, time.Now())
	forged, _ := url.Parse(good)
	q := forged.Query()
	q.Set("vnp_Amount", "100")
	forged.RawQuery = q.Encode()
	for name, address := range map[string]string{
		"forged":  forged.String(),
		"expired": payAddress(t, server.URL, "3", 150000, time.Now().Add(-time.Hour)),
	} {
		resp, err := noRedirect.Get(address)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, resp.StatusCode)
		}
	}
	if calls.Load() != 0 || len(sim.Transactions()) != 0 {
		t.Fatal("a refused request made a transaction")
	}
	for i, want := range []int{http.StatusFound, http.StatusBadRequest} { // paid once, then refused as paid
		resp, err := noRedirect.Get(good)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("attempt %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	// The default test set refuses 100 million đồng or more (51), and still notifies.
	resp, err := noRedirect.Get(payAddress(t, server.URL, "4", 100_000_000, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := resp.Location()
	if back == nil || back.Query().Get("vnp_ResponseCode") != "51" || calls.Load() != 2 {
		t.Fatalf("a refused payment: back to %v, %d notifications", back, calls.Load())
	}
}
