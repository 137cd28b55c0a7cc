package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/integrations/payment"
)

// paymentFlags configure online payment through VNPAY. Each defaults to an environment variable;
// the hash secret is read from a file or the environment, never a flag (a command line is visible
// to every user of the host).
type paymentFlags struct {
	url, tmnCode, secretFile, returnURL string
}

func addPaymentFlags(fs *flag.FlagSet) *paymentFlags {
	f := &paymentFlags{}
	fs.StringVar(&f.url, "vnpay-url", os.Getenv("MOTCUA_VNPAY_URL"), "VNPAY gateway address, e.g. https://sandbox.vnpayment.vn; online payment is off when empty ($MOTCUA_VNPAY_URL)")
	fs.StringVar(&f.tmnCode, "vnpay-tmn-code", os.Getenv("MOTCUA_VNPAY_TMN_CODE"), "the merchant's terminal code at VNPAY, vnp_TmnCode ($MOTCUA_VNPAY_TMN_CODE)")
	fs.StringVar(&f.secretFile, "vnpay-secret-file", os.Getenv("MOTCUA_VNPAY_SECRET_FILE"), "file holding VNPAY's hash secret; else $MOTCUA_VNPAY_SECRET ($MOTCUA_VNPAY_SECRET_FILE)")
	fs.StringVar(&f.returnURL, "payment-return-url", os.Getenv("MOTCUA_PAYMENT_RETURN_URL"), "where the citizen's browser comes back from the gateway (default <public-url>/thanh-toan/ket-qua) ($MOTCUA_PAYMENT_RETURN_URL)")
	return f
}

// gateway is the configured VNPAY adapter; nil when online payment is off. The return address
// defaults to publicURL's page for it.
func (f *paymentFlags) gateway(publicURL string) (*payment.VNPay, error) {
	if f.url == "" {
		return nil, nil
	}
	if f.tmnCode == "" {
		return nil, errors.New("--vnpay-tmn-code is required with --vnpay-url")
	}
	secret := os.Getenv("MOTCUA_VNPAY_SECRET")
	if f.secretFile != "" {
		data, err := os.ReadFile(f.secretFile)
		if err != nil {
			return nil, fmt.Errorf("--vnpay-secret-file: %w", err)
		}
		secret = strings.TrimSpace(string(data))
	}
	if secret == "" {
		return nil, errors.New("VNPAY's hash secret is required: --vnpay-secret-file or $MOTCUA_VNPAY_SECRET")
	}
	returnURL := f.returnURL
	if returnURL == "" && publicURL != "" {
		returnURL = strings.TrimSuffix(publicURL, "/") + "/thanh-toan/ket-qua"
	}
	return &payment.VNPay{BaseURL: f.url, TmnCode: f.tmnCode, Secret: []byte(secret), ReturnURL: returnURL,
		Client: &http.Client{Timeout: time.Minute}}, nil
}

// serverConfig is what serve hands the HTTP server; nil when online payment is off.
func (f *paymentFlags) serverConfig(publicURL string, logger *slog.Logger) (*mhttp.PaymentsConfig, error) {
	gw, err := f.gateway(publicURL)
	if err != nil || gw == nil {
		return nil, err
	}
	if gw.ReturnURL == "" {
		return nil, errors.New("--payment-return-url (or --public-url) is required with --vnpay-url")
	}
	logger.Info("online payment on", "gateway", gw.Name(), "return_url", gw.ReturnURL)
	return &mhttp.PaymentsConfig{Gateway: gw}, nil
}

const paymentsUsage = `Usage:
  motcua payments reconcile --date YYYY-MM-DD [--apply] [--limit N] [--json] [--store URL] [--data DIR]
                            --vnpay-url URL --vnpay-tmn-code CODE --vnpay-secret-file FILE

Compares the gateway's statement of the day (Vietnam time) with the payments recorded: paid at the
gateway but not recorded (recorded with --apply, through the same idempotent path as the gateway's
callback), recorded but not in the statement, amounts that differ, and orders unknown here. Each
list shows at most --limit lines (default 50, at most 500); the counts are complete.
`

func runPayments(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if done, err := subcommand("payments", args, paymentsUsage, stdout, stderr, "reconcile"); done {
		return err
	}
	fs := flag.NewFlagSet("payments reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	storage := addStoreFlags(fs, storeURLUsage, "data directory (for sqlite stores)")
	pay := addPaymentFlags(fs)
	date := fs.String("date", "", "the day to reconcile, YYYY-MM-DD (Vietnam time)")
	apply := fs.Bool("apply", false, "record the payments the gateway took and the log lacks")
	limit := fs.Int("limit", 50, "lines per list, at most 500")
	asJSON := fs.Bool("json", false, "print JSON")
	agencyKeysDir := fs.String("agency-keys", "", "directory of the agencies' signing keys, to sign the receipts recorded (default <data>/agency-keys)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	day, err := time.ParseInLocation("2006-01-02", *date, domain.VietnamTime)
	if err != nil {
		return fmt.Errorf("--date: want YYYY-MM-DD, got %q", *date)
	}
	if *limit < 1 || *limit > 500 {
		return errors.New("--limit must be between 1 and 500")
	}
	gw, err := pay.gateway("")
	if err != nil {
		return err
	}
	if gw == nil {
		return errors.New("--vnpay-url is required")
	}
	deployment, err := openDeployment(ctx, storage, openOptions{personalData: true})
	if err != nil {
		return err
	}
	defer deployment.Close()
	lines, err := gw.Statement(ctx, day)
	if err != nil {
		return err
	}
	statement := make([]commands.GatewayPayment, len(lines))
	for i, l := range lines {
		statement[i] = commands.GatewayPayment{Gateway: gw.Name(), OrderRef: l.Ref, Amount: l.Amount, Succeeded: l.Succeeded,
			TransactionNo: l.TransactionNo, BankCode: l.BankCode, PaidAt: l.At}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app := commands.New(deployment.events.Sealed, nil, nil)
	app.Logger = logger
	if *agencyKeysDir == "" {
		*agencyKeysDir = filepath.Join(storage.dataDir, "agency-keys")
	}
	app.Signers = newFileAgencyKeys(*agencyKeysDir, logger)
	report, err := app.ReconcilePayments(ctx, gw.Name(), day, statement, *apply, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	fmt.Fprintf(stdout, "%s, %s: %d paid in the statement; %d not recorded, %d recorded but not in the statement, %d amounts differ, %d unknown orders\n",
		gw.Name(), report.Day, report.StatementLines, report.NotRecorded, report.NotInStatement, report.AmountDiffers, report.UnknownOrders)
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	section := func(title string, list []commands.PaymentDifference, count int) {
		if count == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s (%d, first %d shown)\nORDER\tDOSSIER\tTRANSACTION\tSTATEMENT\tRECORDED\tAPPLIED\n", title, count, len(list))
		for _, d := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%s\n", d.OrderRef, d.DossierCode, d.TransactionNo, d.StatementAmount, d.RecordedAmount, d.Applied)
		}
	}
	section("Paid at the gateway, not recorded", report.NotRecordedList, report.NotRecorded)
	section("Recorded, not in the statement", report.NotInStatementList, report.NotInStatement)
	section("Amounts that differ", report.AmountDiffersList, report.AmountDiffers)
	section("Orders unknown here", report.UnknownOrdersList, report.UnknownOrders)
	return w.Flush()
}
