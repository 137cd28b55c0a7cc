package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	mhttp "github.com/motcua/motcua/http"
)

// serve records who read whose data: an official's read of a dossier is in the access log, found by
// the applicant's number through the index keyed by access-log-index-key.pem (mode 0600), and
// still found after a restart, which keeps the key.
func TestServeKeepsTheAccessLogAcrossARestart(t *testing.T) {
	dataDir := t.TempDir()
	serving := serveWith(t, dataDir)
	key, err := loadOrCreateTokenKey(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	token := func(id, agency string, role commands.Role) string {
		tok, err := mhttp.MintToken(key, commands.Caller{ID: id, Name: id, Roles: []commands.Role{role}, Agency: agency}, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	do := func(url, method, path, tok, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	desk := token("tn1", "000.00.00.H56", commands.RoleReception)
	// Received through the store as serve decorates it, from another connection (a second node).
	ctx := context.Background()
	deployment, err := openDeployment(ctx, &storeFlags{dataDir: dataDir}, openOptions{personalData: true})
	if err != nil {
		t.Fatal(err)
	}
	cal := calendar.Default()
	app := commands.New(deployment.events.Sealed, domaintest.Catalog(t, cal), cal)
	app.Logger = slog.New(slog.DiscardHandler)
	receipt, err := app.Receive(ctx, commands.Caller{ID: "tn1", Name: "tn1", Roles: []commands.Role{commands.RoleReception}, Agency: "000.00.00.H56"},
		commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect, Components: []domain.Component{{Name: "Đơn", Copies: 1}},
			Applicant: domain.Applicant{Type: domain.ApplicantCitizen, Name: "Đỗ Văn Đào", IDNumber: "038100000077"}})
	deployment.Close()
	if err != nil {
		t.Fatal(err)
	}
	if status, body := do(serving.url, "GET", "/api/v1/dossiers/"+receipt.Code, desk, ""); status != http.StatusOK {
		t.Fatalf("read: %d %s", status, body)
	}
	info, err := os.Stat(filepath.Join(dataDir, accessLogKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the index key: %v %v", info, err)
	}
	serving.stop()

	again := serveWith(t, dataDir)
	defer again.stop()
	inspector := token("thanhtra1", "", commands.RoleInspector)
	status, body := do(again.url, "GET", "/api/v1/access-log?applicant=038100000077", inspector, "")
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &page); status != http.StatusOK || err != nil {
		t.Fatalf("access log: %d %s", status, body)
	}
	if len(page.Items) != 1 || !strings.Contains(body, `"official_id":"tn1"`) || !strings.Contains(body, `"dossier_code":"`+receipt.Code+`"`) ||
		!strings.Contains(body, `"route":"GET /api/v1/dossiers/{ref}"`) {
		t.Fatalf("access log after a restart: %s", body)
	}
	if status, _ := do(again.url, "GET", "/api/v1/access-log", desk, ""); status != http.StatusForbidden {
		t.Fatalf("reception read the access log: %d", status)
	}
}
