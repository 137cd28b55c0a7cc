package portal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/portal"
	"github.com/motcua/motcua/integrations/portal/portalsim"
)

const validDocument = `{"service":"CapNhatTienDoHoSoMC","isUpdating":true,"data":[{"MaHoSo":"000.00.06.H56-261201-0001",
	"NgayCapNhat":"20261201090000","QuaTrinhXuLy":[{"STT":1,"TenBuoc":"Tiếp nhận hồ sơ","DonViXuLy":"Trung tâm",
	"NgayBatDau":"20261201090000","TrangThai":1,"NgayKetThucTheoQuyDinh":"20261201170000"}]}]}`

// The client gets a token once, keeps it until it is about to expire, and when the portal answers
// 401 (it revoked the token) gets one new token and tries once more.
func TestTheClientKeepsItsTokenAndRenewsItOnceOn401(t *testing.T) {
	sim, server := startPortal(t)
	sim.TokenTTL = 10 * time.Minute
	now := time.Now()
	client := &portal.Client{BaseURL: server.URL, ClientID: clientID, ClientSecret: clientSecret, Now: func() time.Time { return now }}
	ctx := context.Background()
	post := func(key string) error {
		_, err := client.Post(ctx, portal.ServiceProgress, key, 1, []byte(validDocument))
		return err
	}
	for i, key := range []string{"k1", "k2"} {
		if err := post(key); err != nil {
			t.Fatal(err)
		}
		if n := sim.TokensIssued(); n != 1 {
			t.Fatalf("after %d documents, %d tokens: the token is not kept", i+1, n)
		}
	}
	sim.RevokeTokens()
	if err := post("k3"); err != nil {
		t.Fatalf("a revoked token: %v", err)
	}
	if n, unauthorized := sim.TokensIssued(), sim.Stats().Unauthorized; n != 2 || unauthorized != 1 {
		t.Fatalf("%d tokens, %d answers 401: want a new token after one 401", n, unauthorized)
	}
	now = now.Add(10 * time.Minute) // the token is about to end: a new one before sending
	if err := post("k4"); err != nil {
		t.Fatal(err)
	}
	if n, unauthorized := sim.TokensIssued(), sim.Stats().Unauthorized; n != 3 || unauthorized != 1 {
		t.Fatalf("%d tokens, %d answers 401: an expiring token must be renewed before it is refused", n, unauthorized)
	}
	// A portal that refuses every token: one renewal, then an error worth retrying later.
	sim.TokenTTL = time.Nanosecond
	sim.RevokeTokens()
	err := post("k5")
	if err == nil || delivery.IsPermanent(err) {
		t.Fatalf("refused tokens: %v; want an error to retry", err)
	}
	if n := sim.Applied()["k5"]; n != 0 {
		t.Fatal("a document without a valid token was applied")
	}
}

// Wrong credentials never reach the services, and are retried (an operator fixes the secret).
func TestWrongCredentialsAreRefusedAndRetried(t *testing.T) {
	sim, server := startPortal(t)
	client := &portal.Client{BaseURL: server.URL, ClientID: clientID, ClientSecret: "sai"}
	_, err := client.Post(context.Background(), portal.ServiceProgress, "k1", 1, []byte(validDocument))
	if err == nil || delivery.IsPermanent(err) || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), "sai") {
		t.Fatal("the secret is in the error")
	}
	if stats := sim.Stats(); stats.Requests != 0 {
		t.Fatalf("%d service requests without a token", stats.Requests)
	}
}

// A document the portal refuses is a permanent failure carrying the portal's reason, with the
// applicant's numbers scrubbed; a 5xx or a cut connection is worth a retry; the same key with
// another document is refused.
func TestThePortalsAnswersDecideRetryOrDead(t *testing.T) {
	sim, server := startPortal(t)
	client := &portal.Client{BaseURL: server.URL, ClientID: clientID, ClientSecret: clientSecret}
	ctx := context.Background()
	// The portal echoes the values it refuses (here an identity number where a date belongs, and a
	// name where the dossier code belongs).
	broken := strings.Replace(validDocument, `"NgayBatDau":"20261201090000"`, `"NgayBatDau":"001090012345"`, 1)
	broken = strings.Replace(broken, `"MaHoSo":"000.00.06.H56-261201-0001"`, `"MaHoSo":"Nguyễn Văn An"`, 1)
	_, err := client.Post(ctx, portal.ServiceProgress, "k1", 1, []byte(broken))
	if !delivery.IsPermanent(err) {
		t.Fatalf("a document the schema refuses: %v, want a permanent failure", err)
	}
	if message := err.Error(); strings.Contains(message, "001090012345") || strings.Contains(message, "Nguyễn") ||
		!strings.Contains(message, "/NgayBatDau") || !strings.Contains(message, "/MaHoSo") {
		t.Fatalf("the error must name the field without its value: %v", err)
	}

	sim.SetFaults(portalsim.Faults{ServerError: 1})
	if _, err := client.Post(ctx, portal.ServiceProgress, "k2", 1, []byte(validDocument)); err == nil || delivery.IsPermanent(err) {
		t.Fatalf("503: %v, want an error to retry", err)
	}
	sim.SetFaults(portalsim.Faults{Drop: 1})
	if _, err := client.Post(ctx, portal.ServiceProgress, "k2", 1, []byte(validDocument)); err == nil || delivery.IsPermanent(err) {
		t.Fatalf("a dropped connection: %v, want an error to retry", err)
	}
	sim.SetFaults(portalsim.Faults{})
	ack, err := client.Post(ctx, portal.ServiceProgress, "k2", 1, []byte(validDocument))
	if err != nil || ack.Duplicate {
		t.Fatalf("%+v %v", ack, err)
	}
	if ack, err := client.Post(ctx, portal.ServiceProgress, "k2", 1, []byte(validDocument)); err != nil || !ack.Duplicate {
		t.Fatalf("the same document again: %+v %v, want a duplicate acknowledgement", ack, err)
	}
	other := strings.Replace(validDocument, "Trung tâm", "Phòng khác", 1)
	if _, err := client.Post(ctx, portal.ServiceProgress, "k2", 2, []byte(other)); !delivery.IsPermanent(err) {
		t.Fatalf("another document under a used key: %v, want refused", err)
	}
	if n := sim.Applied()["k2"]; n != 1 {
		t.Fatalf("k2 applied %d times", n)
	}
}
