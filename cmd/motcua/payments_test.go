package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/integrations/payment"
	"github.com/motcua/motcua/integrations/payment/vnpaysim"
)

// TestPaymentsReconcileRecordsWhatTheGatewayTookOnce: a payment whose notification never reached
// motcua is found in the gateway's statement by `motcua payments reconcile`, recorded with
// --apply, and not again on a second run.
func TestPaymentsReconcileRecordsWhatTheGatewayTookOnce(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	const tmn, secret = "MOTCUA01", "RECONCILESECRET0123456789"
	sim := &vnpaysim.Gateway{TmnCode: tmn, Secret: []byte(secret)} // no IPN address: the notification is lost
	simServer := httptest.NewServer(sim.Handler())
	defer simServer.Close()

	deployment, err := openDeployment(ctx, &storeFlags{dataDir: dataDir}, openOptions{migrateStore: true, migrateReadModels: true, personalData: true})
	if err != nil {
		t.Fatal(err)
	}
	cal := calendar.Default()
	app := commands.New(deployment.events.Sealed, domaintest.Catalog(t, cal), cal)
	app.Logger = slog.New(slog.DiscardHandler)
	official := commands.Caller{ID: "tn1", Name: "Lê Thị Tiếp", Roles: []commands.Role{commands.RoleReception}, Agency: "000.00.00.H56"}
	receipt, err := app.Receive(ctx, official, commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect,
		Components: []domain.Component{{Name: "Đơn", Copies: 1}}, Applicant: domain.Applicant{Type: domain.ApplicantCitizen, Name: "Trần Văn Bình", IDNumber: "038099999999"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Execute(ctx, official, string(receipt.Code), nil, commands.AssessFeeInput{}); err != nil {
		t.Fatal(err)
	}
	order, err := app.OrderPayment(ctx, nil, string(receipt.Code), "vnpay")
	if err != nil {
		t.Fatal(err)
	}
	deployment.Close()

	gw := &payment.VNPay{BaseURL: simServer.URL, TmnCode: tmn, Secret: []byte(secret), ReturnURL: "https://motcua.example.vn/thanh-toan/ket-qua"}
	payURL, err := gw.PaymentURL(payment.Order{Ref: order.Ref, Amount: order.Amount, Description: "Thanh toan", CreatedAt: order.CreatedAt, ExpiresAt: order.ExpiresAt})
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(payURL)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("pay page: %v %v", resp, err)
	}
	resp.Body.Close()

	secretFile := filepath.Join(t.TempDir(), "vnpay-secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	day := time.Now().In(domain.VietnamTime).Format("2006-01-02")
	args := []string{"payments", "reconcile", "--data", dataDir, "--date", day, "--vnpay-url", simServer.URL, "--vnpay-tmn-code", tmn, "--vnpay-secret-file", secretFile}
	report := runOK(t, args...)
	if !strings.Contains(report, "1 paid in the statement; 1 not recorded") || !strings.Contains(report, order.Ref) {
		t.Fatalf("report:\n%s", report)
	}
	applied := runOK(t, append(args, "--apply")...)
	if !strings.Contains(applied, " recorded\n") || !strings.Contains(applied, order.Ref) {
		t.Fatalf("--apply:\n%s", applied)
	}
	if again := runOK(t, append(args, "--apply")...); !strings.Contains(again, "1 paid in the statement; 0 not recorded, 0 recorded but not in the statement") {
		t.Fatalf("second run:\n%s", again)
	}

	deployment, err = openDeployment(ctx, &storeFlags{dataDir: dataDir}, openOptions{personalData: true})
	if err != nil {
		t.Fatal(err)
	}
	defer deployment.Close()
	d, _, err := commands.New(deployment.events.Sealed, nil, nil).Load(ctx, string(receipt.Code))
	if err != nil {
		t.Fatal(err)
	}
	tx := sim.Transactions()
	if len(d.Payments) != 1 || d.Payments[0].ReceiptNumber != tx[0].TransactionNo || d.Payments[0].OrderRef != order.Ref || d.FeesPaid != order.Amount {
		t.Fatalf("payments after reconciling: %+v", d.Payments)
	}
}
