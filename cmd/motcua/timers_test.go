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
	"github.com/motcua/motcua/integrations/email/mailpittest"
)

// serve wires the deadline alarms: a step handed to an official with less time left than
// --alarm-step-hours warns them and their head at once, by e-mail through the outbox, to the
// addresses of --alarm-recipients; `motcua deliveries status` counts it under alarm-email, and the
// public lookup does not show it among the applicant's notifications. The message is worded from
// the province's template in --alarm-templates, checked at start. Without --smtp,
// --alarm-recipients is refused rather than silently mailing no one.
func TestServeMailsAStepAlarmToTheHolderAndTheirHead(t *testing.T) {
	dataDir := t.TempDir()
	server := mailpittest.Start(t, mailpittest.Options{})
	recipients := filepath.Join(t.TempDir(), "recipients.json")
	if err := os.WriteFile(recipients, []byte(`{"officials": {"cv-7": "cv7@soxd.example.vn"},
		"units": {"PQLXD": {"heads": ["truong.phong@soxd.example.vn"]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--alarm-recipients", recipients},
		io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--smtp") {
		t.Fatalf("serve with recipients but no mail server: %v", err)
	}

	templates := t.TempDir()
	stepTemplate := filepath.Join(templates, "step_due.txt")
	if err := os.WriteFile(stepTemplate, []byte("Version: 7\nSubject: Hạn bước {{.Step}}: {{.Code}}\n\n{{.Hạn}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--smtp", server.SMTPAddr,
		"--smtp-security", "none", "--mail-from", "khong-tra-loi@tinh.gov.vn", "--alarm-recipients", recipients, "--alarm-templates", templates}, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "--alarm-templates") || !strings.Contains(err.Error(), "step_due.txt") {
		t.Fatalf("serve with a broken alarm template: %v", err)
	}
	if err := os.WriteFile(stepTemplate, []byte("Version: 7\nSubject: Hạn bước {{.Step}}: {{.Code}}\n\nHạn lúc {{.Deadline}}.\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	serving := serveWith(t, dataDir, "--smtp", server.SMTPAddr, "--smtp-security", "none",
		"--mail-from", "Trung tâm Phục vụ hành chính công <khong-tra-loi@tinh.gov.vn>",
		"--alarm-recipients", recipients, "--alarm-templates", templates, "--alarm-step-hours", "4", "--alarm-poll", "50ms")
	defer serving.stop()

	ctx := context.Background()
	deployment, err := openDeployment(ctx, &storeFlags{dataDir: dataDir}, openOptions{personalData: true})
	if err != nil {
		t.Fatal(err)
	}
	defer deployment.Close()
	cal := calendar.Default()
	app := commands.New(deployment.events.Sealed, domaintest.Catalog(t, cal), cal)
	app.Logger = slog.New(slog.DiscardHandler)
	desk := commands.Caller{ID: "tn1", Name: "Lê Thị Tiếp", Roles: []commands.Role{commands.RoleReception}, Agency: "000.00.00.H56"}
	receipt, err := app.Receive(ctx, desk, commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect,
		Components: []domain.Component{{Name: "Đơn", Copies: 1}},
		Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Đỗ Văn Đào", IDNumber: "038100000077"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Execute(ctx, desk, receipt.DossierID, nil, commands.TransferInput{ToUnit: "PQLXD", ToOfficialID: "cv-7",
		ToOfficialName: "Vũ Chuyên Viên", Step: "Thẩm định hồ sơ", AllottedHours: 1}); err != nil {
		t.Fatal(err)
	}

	// Delivery is at least once: when the send to the head fails after the holder's went out (a
	// loaded mail server), the delivery is sent again whole, with the same Message-ID per receiver,
	// which mail clients fold into one. So receivers are counted by distinct Message-ID, and a
	// second copy must be the same message, not a second alarm.
	var to []string
	eventually(t, "the step alarm reached the holder and the head", func() bool {
		to = to[:0]
		messageOf := map[string]string{}
		for _, m := range server.Messages(t) {
			if m.Subject != "Hạn bước Thẩm định hồ sơ: "+receipt.Code {
				continue
			}
			address := m.To[0].Address
			if first, seen := messageOf[address]; seen {
				if first != m.MessageID {
					t.Fatalf("%s received two different alarms: %s and %s", address, first, m.MessageID)
				}
				continue
			}
			messageOf[address] = m.MessageID
			to = append(to, address)
		}
		return len(to) == 2
	})
	if strings.Join(to, ",") != "cv7@soxd.example.vn,truong.phong@soxd.example.vn" {
		t.Fatalf("the alarm went to %v", to)
	}
	// The alarm told officials, not the applicant: the public lookup does not list it.
	if lookup := serving.get(t, "/api/v1/public/dossiers/"+receipt.Code); !strings.Contains(lookup, receipt.Code) ||
		strings.Contains(lookup, "step_due") || strings.Contains(lookup, "alarm") {
		t.Fatalf("the public lookup of %s: %s", receipt.Code, lookup)
	}
	serving.stop()
	if status := runOK(t, "deliveries", "status", "--data", dataDir); !regexpLine(status, `^alarm-email\s+0\s+0\s+0\s+1\s`) {
		t.Fatalf("status:\n%s", status)
	}
}
