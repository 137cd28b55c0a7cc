package phone_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/notification"
	"github.com/motcua/motcua/integrations/phone"
	"github.com/motcua/motcua/integrations/phone/phonesim"
)

const testNumber = "84912345678"

func message(kind, key string) phone.Message {
	data := notification.SampleData()
	return phone.Message{Phone: testNumber, TrackingID: phone.TrackingID(key), Kind: kind,
		Text: "Ho so 000.00.00.H01-261204-0001 da tiep nhan", Params: phone.ZNSParams(kind, data)}
}

func send(t *testing.T, p phone.Provider, m phone.Message) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := p.Send(ctx, m)
	if err != nil && strings.Contains(err.Error(), "912345678") {
		t.Fatalf("the error shows the number: %v", err)
	}
	return err
}

// The eSMS adapter against the simulator of eSMS's published API: a message is taken with the
// agency's brandname, the number in national form and the delivery's tracking id as RequestId; an
// HTTP 5xx, an answer that never comes, a low balance (103) and wrong keys (101) are retried; a
// number eSMS refuses (108) or has blocked (99) ends the delivery; and when the answer was lost
// after eSMS took the message, sending it again is answered 124 (duplicate RequestId) — accepted,
// and the phone got one SMS.
func TestESMSAdapterAgainstItsSimulator(t *testing.T) {
	sim := phonesim.StartESMS(t, "api-key", "secret", "UBND-TINH")
	esms := &phone.ESMS{URL: sim.URL, APIKey: "api-key", SecretKey: "secret", Brandname: "UBND-TINH"}
	if err := esms.Check(); err != nil {
		t.Fatal(err)
	}
	first := message(notification.KindStatusChanged, "sms:e1:status_changed")
	if err := send(t, esms, first); err != nil {
		t.Fatal(err)
	}
	got := sim.Delivered()
	if len(got) != 1 || got[0].Phone != "0912345678" || got[0].RequestID != first.TrackingID || got[0].Content != first.Text ||
		got[0].Brandname != "UBND-TINH" || got[0].Unicode {
		t.Fatalf("delivered %+v", got)
	}

	retryable := []phonesim.Fault{{Status: 503}, {Hang: 2 * time.Second}, {Code: "103"}}
	for _, fault := range retryable {
		sim.Inject(fault)
		err := send(t, esms, message(notification.KindApology, "sms:e2:apology"))
		if err == nil || delivery.IsPermanent(err) {
			t.Fatalf("fault %+v: %v, want a retryable error", fault, err)
		}
	}
	wrongKeys := &phone.ESMS{URL: sim.URL, APIKey: "api-key", SecretKey: "wrong", Brandname: "UBND-TINH"}
	if err := send(t, wrongKeys, message(notification.KindApology, "sms:e2:apology")); err == nil || delivery.IsPermanent(err) {
		t.Fatalf("wrong keys: %v, want a retryable error (an operator repairs the account)", err)
	}
	for _, code := range []string{"99", "108"} {
		sim.Inject(phonesim.Fault{Code: code})
		if err := send(t, esms, message(notification.KindApology, "sms:e2:apology")); !delivery.IsPermanent(err) {
			t.Fatalf("CodeResult %s: %v, want a permanent refusal", code, err)
		}
	}
	if len(sim.Delivered()) != 1 {
		t.Fatalf("faults delivered messages: %+v", sim.Delivered())
	}

	sim.Inject(phonesim.Fault{LoseAnswer: true})
	resent := message(notification.KindResultReady, "sms:e3:result_ready")
	if err := send(t, esms, resent); err == nil {
		t.Fatal("a lost answer reads as accepted")
	}
	if err := send(t, esms, resent); err != nil {
		t.Fatalf("the resend: %v", err)
	}
	if got := sim.Delivered(); len(got) != 2 || got[1].RequestID != resent.TrackingID {
		t.Fatalf("after a lost answer and a resend the simulator took %d messages: %+v", len(got), got)
	}
	if len(phone.TrackingID("sms:0195a3f0-7c2e-7d41-b8a6-5e2f9c1d4a07:supplement_requested")) > 48 {
		t.Fatal("a tracking id is longer than the providers take")
	}
}

// The ZNS adapter against the simulator of Zalo's published ZNS API: the kind's configured
// template is sent with its parameters, the access token in its header and the tracking id; a kind
// without a template is not handled; an invalid or expired token (-124), a 5xx and an unknown error
// are retried; a number without a Zalo account (-118) or refused data (-112) ends the delivery;
// a resend after a lost answer is the same message.
func TestZNSAdapterAgainstItsSimulator(t *testing.T) {
	sample := notification.SampleData()
	templates := map[string][]string{}
	ids := map[string]string{}
	for i, kind := range []string{notification.KindStatusChanged, notification.KindResultReady} {
		id := []string{"7895417a7d3f9461cd2e", "a1b2c3d4e5f60718293a"}[i]
		ids[kind] = id
		for name := range phone.ZNSParams(kind, sample) {
			templates[id] = append(templates[id], name)
		}
	}
	sim := phonesim.StartZNS(t, "oa-token", templates)
	token := "oa-token"
	zns := &phone.ZNS{URL: sim.URL, AccessToken: func() (string, error) { return token, nil }, TemplateIDs: ids}
	if err := zns.Check(); err != nil {
		t.Fatal(err)
	}
	if zns.Handles(notification.KindApology) || !zns.Handles(notification.KindResultReady) {
		t.Fatal("Handles does not follow the configured templates")
	}
	first := message(notification.KindStatusChanged, "zalo:e1:status_changed")
	if err := send(t, zns, first); err != nil {
		t.Fatal(err)
	}
	got := sim.Delivered()
	if len(got) != 1 || got[0].Phone != testNumber || got[0].TemplateID != ids[notification.KindStatusChanged] ||
		got[0].TrackingID != first.TrackingID || got[0].Data["dossier_code"] != sample.Code || got[0].Data["status"] != sample.Status {
		t.Fatalf("delivered %+v", got)
	}

	token = "expired"
	if err := send(t, zns, message(notification.KindResultReady, "zalo:e2:result_ready")); err == nil || delivery.IsPermanent(err) {
		t.Fatalf("an expired token: %v, want a retryable error", err)
	}
	token = "oa-token"
	for _, fault := range []phonesim.Fault{{Status: 502}, {ZNSCode: -100}, {Hang: 2 * time.Second}} {
		sim.Inject(fault)
		if err := send(t, zns, message(notification.KindResultReady, "zalo:e2:result_ready")); err == nil || delivery.IsPermanent(err) {
			t.Fatalf("fault %+v: %v, want a retryable error", fault, err)
		}
	}
	sim.NoAccount[testNumber] = true
	if err := send(t, zns, message(notification.KindResultReady, "zalo:e2:result_ready")); !delivery.IsPermanent(err) {
		t.Fatalf("no Zalo account: %v, want a permanent refusal", err)
	}
	delete(sim.NoAccount, testNumber)
	bad := message(notification.KindResultReady, "zalo:e2:result_ready")
	bad.Params = map[string]string{"unregistered": "x"}
	if err := send(t, zns, bad); !delivery.IsPermanent(err) {
		t.Fatalf("refused data: %v, want a permanent refusal", err)
	}

	sim.Inject(phonesim.Fault{LoseAnswer: true})
	resent := message(notification.KindResultReady, "zalo:e3:result_ready")
	if err := send(t, zns, resent); err == nil {
		t.Fatal("a lost answer reads as accepted")
	}
	if err := send(t, zns, resent); err != nil {
		t.Fatal(err)
	}
	if got := sim.Delivered(); len(got) != 2 || got[1].TrackingID != resent.TrackingID {
		t.Fatalf("after a lost answer and a resend the simulator holds %d messages: %+v", len(got), got)
	}
}
