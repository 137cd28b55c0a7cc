package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/email/mailpittest"
)

// An operator's day with e-mail notifications: serve sends a receipt notice to the applicant
// through the configured mail server and /metrics counts it; when the mail server is unreachable
// the next notice fails until it is dead, `motcua deliveries status` and `list` show it with its
// cause, and once the server is back `motcua deliveries retry --dead` sends it — once.
func TestServeNotifiesByEmailAndOperatorsRepairAStuckDelivery(t *testing.T) {
	dataDir := t.TempDir()
	server := mailpittest.Start(t, mailpittest.Options{})
	mailFlags := []string{"--smtp-security", "none", "--mail-from", "Trung tâm Phục vụ hành chính công <khong-tra-loi@tinh.gov.vn>",
		"--delivery-attempts", "2", "--delivery-backoff", "10ms", "--delivery-backoff-max", "20ms"}

	// Without --mail-from, serve refuses to start rather than send from nowhere.
	if err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--smtp", server.SMTPAddr},
		io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--mail-from") {
		t.Fatalf("serve without a sender: %v", err)
	}

	serving := serveWith(t, dataDir, append([]string{"--smtp", server.SMTPAddr}, mailFlags...)...)
	code := receiveWithEmail(t, dataDir, "Trần Thị Bưởi", "038100000014", "buoi@example.vn")
	eventually(t, "the receipt notice arrived", func() bool { return len(server.Messages(t)) == 1 })
	messages := server.Messages(t)
	if messages[0].To[0].Address != "buoi@example.vn" || !strings.Contains(messages[0].Subject, "Đã tiếp nhận") {
		t.Fatalf("received %+v", messages[0])
	}
	// The gauges are collected in the background (a scrape never waits on the database): a scrape
	// may show the previous collection.
	var metrics string
	eventually(t, "/metrics counts the sent notice", func() bool {
		metrics = serving.get(t, "/metrics")
		return strings.Contains(metrics, `motcua_deliveries{destination="email",state="sent"} 1`)
	})
	// The public lookup says that an e-mail went, and when — not where.
	if lookup := serving.get(t, "/api/v1/public/dossiers/"+code); !strings.Contains(lookup, `"channel":"email"`) ||
		!strings.Contains(lookup, `"kind":"status_changed"`) || strings.Contains(lookup, "buoi@example.vn") {
		t.Fatalf("the lookup of %s: %s", code, lookup)
	}
	serving.stop()

	// The mail server's address is wrong: nothing listens there.
	serving = serveWith(t, dataDir, append([]string{"--smtp", deadAddr(t)}, mailFlags...)...)
	receiveWithEmail(t, dataDir, "Lê Văn Cam", "038100000015", "cam@example.vn")
	eventually(t, "the second notice is dead", func() bool {
		var statuses []delivery.DestinationStatus
		out := runOK(t, "deliveries", "status", "--data", dataDir, "--json")
		return json.Unmarshal([]byte(out), &statuses) == nil && len(statuses) == 1 && statuses[0].Dead == 1
	})
	serving.stop()
	status := runOK(t, "deliveries", "status", "--data", dataDir)
	if !strings.Contains(status, "DESTINATION") || !regexpLine(status, `^email\s+0\s+0\s+1\s+1\s+0\s+-$`) {
		t.Fatalf("status:\n%s", status)
	}
	list := runOK(t, "deliveries", "list", "--data", dataDir, "--state", "dead")
	if !strings.Contains(list, "status_changed") || !strings.Contains(list, "connect") || strings.Contains(list, "cam@example.vn") {
		t.Fatalf("list of dead deliveries:\n%s", list)
	}
	if out := runOK(t, "deliveries", "retry", "--data", dataDir, "--dead"); !strings.Contains(out, "1 dead deliveries are due now") {
		t.Fatalf("retry --dead: %s", out)
	}

	// The address is fixed; the retried notice goes out, once.
	serving = serveWith(t, dataDir, append([]string{"--smtp", server.SMTPAddr}, mailFlags...)...)
	eventually(t, "the retried notice arrived", func() bool { return len(server.Messages(t)) == 2 })
	serving.stop()
	messages = server.Messages(t)
	if messages[1].To[0].Address != "cam@example.vn" || len(messages) != 2 {
		t.Fatalf("received %+v", messages)
	}
	if status := runOK(t, "deliveries", "status", "--data", dataDir); !regexpLine(status, `^email\s+0\s+0\s+0\s+2\s+0\s+-$`) {
		t.Fatalf("status after the repair:\n%s", status)
	}
}

type serveProcess struct {
	url  string
	stop func()
}

func (s serveProcess) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// withTestCatalog adds the test catalog (domaintest.Catalog's file) to serve's flags unless they
// name one: the tests act on the same store through an App of that catalog, and the catalog in
// force is the one serve seeds into the log.
func withTestCatalog(t *testing.T, flags []string) []string {
	if slices.Contains(flags, "--catalog") {
		return flags
	}
	return append(slices.Clone(flags), "--catalog", domaintest.CatalogPath(t))
}

// serveWith runs `motcua serve` on dataDir with extra flags until stop; the test hears of the
// calls that break the API's contract (contract_test.go).
func serveWith(t *testing.T, dataDir string, extra ...string) serveProcess {
	t.Helper()
	return serveReportingTo(t, t, dataDir, extra...)
}

// serveReportingTo is serveWith telling reporter of the calls that break the API's contract.
func serveReportingTo(t *testing.T, reporter contractReporter, dataDir string, extra ...string) serveProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(contractCheckedBy(context.Background(), reporter))
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--data", dataDir, "--addr", "127.0.0.1:0"}, withTestCatalog(t, extra)...), &stdout, io.Discard)
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("motcua serve: %v", err)
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := listeningLine.FindStringSubmatch(stdout.String()); m != nil {
			return serveProcess{url: m[1], stop: stop}
		}
		select {
		case err := <-done:
			t.Fatalf("motcua serve stopped: %v\n%s", err, stdout.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("motcua serve did not start:\n%s", stdout.String())
		}
	}
}

// receiveWithEmail receives a dossier for an applicant with an e-mail address, through the store
// decorated as serve decorates it, from another connection (as a second node would).
func receiveWithEmail(t *testing.T, dataDir, name, idNumber, address string) (code string) {
	t.Helper()
	ctx := context.Background()
	deployment, err := openDeployment(ctx, &storeFlags{dataDir: dataDir}, openOptions{personalData: true})
	if err != nil {
		t.Fatal(err)
	}
	defer deployment.Close()
	cal := calendar.Default()
	app := commands.New(deployment.events.Sealed, domaintest.Catalog(t, cal), cal)
	app.Logger = slog.New(slog.DiscardHandler)
	receipt, err := app.Receive(ctx, commands.Caller{ID: "tn1", Name: "Lê Thị Tiếp", Roles: []commands.Role{commands.RoleReception}, Agency: "000.00.00.H56"},
		commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect, Components: []domain.Component{{Name: "Đơn", Copies: 1}},
			Applicant: domain.Applicant{Type: domain.ApplicantCitizen, Name: name, IDNumber: idNumber, Email: address}})
	if err != nil {
		t.Fatal(err)
	}
	return receipt.Code
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("motcua %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deadAddr returns an address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func regexpLine(text, pattern string) bool {
	return regexp.MustCompile(`(?m)` + pattern).MatchString(text)
}
