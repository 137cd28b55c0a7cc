package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/integrations/notification"
	"github.com/motcua/motcua/integrations/phone"
	"github.com/motcua/motcua/integrations/phone/phonesim"
)

// serve with SMS through eSMS and Zalo ZNS configured from flags, the secrets from a file and the
// environment: an applicant who chose SMS and Zalo gets the receipt notice on both, with the
// brandname, the configured template and the dossier's lookup link; `deliveries status` shows both
// destinations. A configuration missing its secret, brandname or token file stops serve with a
// message naming what is missing.
func TestServeNotifiesBySMSAndZalo(t *testing.T) {
	dir := t.TempDir()
	esms := phonesim.StartESMS(t, "khoa-api", "bi-mat", "TTHCC-TINH")
	params := phone.ZNSParams(notification.KindStatusChanged, notification.SampleData())
	var names []string
	for name := range params {
		names = append(names, name)
	}
	zns := phonesim.StartZNS(t, "oa-token", map[string][]string{"zns-da-tiep-nhan": names})
	secretFile, tokenFile := filepath.Join(dir, "esms-secret"), filepath.Join(dir, "zns-token")
	if err := os.WriteFile(secretFile, []byte("bi-mat\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte("oa-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	smsFlags := []string{"--sms-provider", "esms", "--esms-url", esms.URL, "--esms-api-key", "khoa-api",
		"--sms-agency", "TTPVHCC tinh", "--public-url", "https://dichvucong.tinh.gov.vn"}
	znsFlags := []string{"--zns-url", zns.URL, "--zns-templates", "status_changed=zns-da-tiep-nhan"}

	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{append([]string{"--esms-secret-key-file", secretFile}, smsFlags...), "brandname"},
		{append([]string{"--sms-brandname", "TTHCC-TINH"}, smsFlags...), "SECRET_KEY"},
		{[]string{"--sms-provider", "viettel"}, "esms"},
		{znsFlags, "--zns-token-file"},
		{[]string{"--zns-templates", "status_changed", "--zns-token-file", tokenFile}, "kind=template_id"},
		{[]string{"--zns-templates", "ket_qua=abc", "--zns-token-file", tokenFile}, "not a kind"},
	} {
		err := run(context.Background(), append([]string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, tc.flags...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("serve %v: %v, want an error naming %s", tc.flags, err, tc.want)
		}
	}

	dataDir := t.TempDir()
	flags := append(append([]string{"--esms-secret-key-file", secretFile, "--sms-brandname", "TTHCC-TINH", "--zns-token-file", tokenFile}, smsFlags...), znsFlags...)
	serving := serveWith(t, dataDir, flags...)
	receiveWithPhone(t, dataDir, "Trần Thị Bưởi", "038100000024", "0912 345 024", "sms", "zalo")
	eventually(t, "the receipt notice arrived by SMS and by Zalo", func() bool { return len(esms.Delivered()) == 1 && len(zns.Delivered()) == 1 })
	serving.stop()
	sms, zalo := esms.Delivered()[0], zns.Delivered()[0]
	if sms.Phone != "0912345024" || sms.Brandname != "TTHCC-TINH" || !strings.HasPrefix(sms.Content, "Ho so 000.00.00.H56-") ||
		!strings.Contains(sms.Content, "https://dichvucong.tinh.gov.vn/tra-cuu/") || sms.Unicode {
		t.Fatalf("SMS %+v", sms)
	}
	if zalo.Phone != "84912345024" || zalo.TemplateID != "zns-da-tiep-nhan" || zalo.Data["status"] != "Đã tiếp nhận" {
		t.Fatalf("ZNS %+v", zalo)
	}
	status := runOK(t, "deliveries", "status", "--data", dataDir)
	if !regexpLine(status, `^sms\s+0\s+0\s+0\s+1\s+0\s+-$`) || !regexpLine(status, `^zalo\s+0\s+0\s+0\s+1\s+0\s+-$`) {
		t.Fatalf("status:\n%s", status)
	}
}

// receiveWithPhone receives a dossier for an applicant with a phone number and a choice of
// channels, as receiveWithEmail does.
func receiveWithPhone(t *testing.T, dataDir, name, idNumber, number string, notify ...string) {
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
	_, err = app.Receive(ctx, commands.Caller{ID: "tn1", Name: "Lê Thị Tiếp", Roles: []commands.Role{commands.RoleReception}, Agency: "000.00.00.H56"},
		commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect, Components: []domain.Component{{Name: "Đơn", Copies: 1}},
			Applicant: domain.Applicant{Type: domain.ApplicantCitizen, Name: name, IDNumber: idNumber, Phone: number, Notify: domain.ParseNotify(notify)}})
	if err != nil {
		t.Fatal(err)
	}
}
