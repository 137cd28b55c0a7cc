package email_test

import (
	"context"
	"database/sql"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/email"
	"github.com/motcua/motcua/integrations/email/mailpittest"
	"github.com/motcua/motcua/integrations/notification"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/internal/outboxtest"
	"github.com/motcua/motcua/l10n"
)

// Each kind of notification says what happened, in Vietnamese, to the applicant's address, over
// STARTTLS with authentication: the supplement request lists everything missing, the apology
// carries form 04's content and the new date, the payment notice the fees, the result notice the
// result code. A template the province placed in the templates directory replaces the built-in
// one without a rebuild, and the message names its version. An applicant erased after the
// deliveries were recorded but before they went out gets nothing: the deliveries are skipped.
func TestNotificationsSayWhatHappenedToTheApplicant(t *testing.T) {
	events, db := outboxtest.OpenEvents(t, engine.SQLite)
	server := mailpittest.Start(t, mailpittest.Options{StartTLS: true, Username: "motcua", Password: "mật-khẩu-đúng"})
	templates := t.TempDir()
	custom := "Version: 2\nSubject: Hồ sơ {{.Code}} — {{.Status}}\n\nKính gửi {{.ApplicantName}}, mẫu của tỉnh: hồ sơ {{.Code}} nay {{.Status}}.\n"
	if err := os.WriteFile(filepath.Join(templates, "status_changed.txt"), []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	notifier := &email.Notifier{Store: events.Sealed, From: from, PublicURL: "https://motcua.example.gov.vn/",
		Templates: email.Templates{Dir: templates},
		Sender:    &email.SMTP{Addr: "127.0.0.1:1", Security: email.StartTLS, Timeout: time.Second}} // nothing listens: every send fails
	outboxtest.MigrateConsumer(t, db, engine.SQLite, notifier)
	outboxtest.Seed(t, events.Sealed)
	log := logtest.Settled(t, events.Sealed)

	// First the deliveries are recorded while the mail server is unreachable.
	offline := start(t, events, db, engine.SQLite, quiet, notifier)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := offline.Engine.WaitFor(ctx, log[len(log)-1].Position); err != nil {
		t.Fatal(err)
	}
	outboxtest.Eventually(t, time.Minute, "sends have failed", func() bool {
		list, err := delivery.List(context.Background(), db, delivery.ListOptions{State: "failing"})
		return err == nil && len(list) > 0 && strings.Contains(list[0].LastError, "connect")
	})
	offline.Stop()

	// Then one applicant's personal data is erased on a legal request.
	received := receivedEvents(t, log)
	var erased domain.Received
	for _, r := range received {
		if r.Applicant.Email != "" && r.Applicant.Type == domain.ApplicantCitizen {
			erased = r
			break
		}
	}
	if ok, err := events.Sealed.Erase(context.Background(), erased.Applicant.IDNumber); err != nil || !ok {
		t.Fatalf("erase: %v, %v", ok, err)
	}

	// Then the mail server is reachable, with STARTTLS and the right credentials.
	notifier.Sender = &email.SMTP{Addr: server.SMTPAddr, Security: email.StartTLS, RootCAs: server.RootCAs,
		Username: "motcua", Password: "mật-khẩu-đúng", Timeout: 5 * time.Second}
	online := start(t, events, db, engine.SQLite, quiet, notifier)
	outboxtest.Eventually(t, 2*time.Minute, "nothing is pending", func() bool { return outboxtest.CountState(t, db, delivery.Pending) == 0 })
	online.Stop()

	byEvent := map[string]eventstore.RecordedEvent{}
	for _, re := range log {
		byEvent[re.ID.String()] = re
	}
	rows := deliveryRows(t, db)
	messages := server.Messages(t)
	if len(messages) == 0 {
		t.Fatal("no message arrived")
	}
	kindsSeen := map[string]int{}
	for _, m := range messages {
		row, ok := rows[strings.Trim(m.MessageID, "<>")]
		if !ok {
			t.Fatalf("message %s matches no delivery", m.MessageID)
		}
		re := byEvent[row.eventID]
		dossier := foldUpTo(t, log, re)
		if len(m.To) != 1 || m.To[0].Address != dossier.Applicant.Email || m.To[0].Name != dossier.Applicant.Name {
			t.Fatalf("%s went to %+v; the applicant is %s <%s>", row.kind, m.To, dossier.Applicant.Name, dossier.Applicant.Email)
		}
		if re.Stream == "dossier-"+erased.DossierID {
			t.Fatalf("a message went to an erased applicant: %s", m.Subject)
		}
		kindsSeen[row.kind]++
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		text := m.Text
		var want []string
		switch e := e.(type) {
		case domain.SupplementRequested:
			want = append([]string{"đề nghị bổ sung", e.Reason}, e.MissingItems...)
		case domain.ApologyIssued:
			want = []string{"xin lỗi", "Mẫu số 04", e.Reason, l10n.VI.Date(e.NewAppointmentDate), l10n.VI.Date(e.OldAppointmentDate)}
		case domain.FeeAssessed:
			want = []string{l10n.VI.Money(e.Total)}
			for _, fee := range e.Items {
				want = append(want, fee.Name)
			}
		case domain.ResultReady:
			want = []string{e.ResultCode, "đã có kết quả"}
		default:
			want = []string{"mẫu của tỉnh", l10n.VI.Status(dossier.Status)}
			if got := mailpittest.HeaderValue(server.Headers(t, m.ID), "X-Motcua-Template"); got != "status_changed v2" {
				t.Fatalf("a status change was written from %q, not the province's template", got)
			}
		}
		for _, w := range want {
			if !strings.Contains(m.Subject+"\n"+text, w) {
				t.Fatalf("%s message lacks %q:\nSubject: %s\n%s", row.kind, w, m.Subject, text)
			}
		}
		if dossier.Code != "" && row.kind != email.KindStatusChanged && !strings.Contains(text, "https://motcua.example.gov.vn/tra-cuu/"+string(dossier.Code)) {
			t.Fatalf("%s message lacks the lookup link:\n%s", row.kind, text)
		}
	}
	t.Logf("messages by kind: %v", kindsSeen)
	for _, kind := range notification.Kinds {
		if kindsSeen[kind] == 0 {
			t.Errorf("no %s message arrived (seen %v)", kind, kindsSeen)
		}
	}
	var skipped int
	var detail string
	if err := db.QueryRow(`SELECT COUNT(*), MAX(detail) FROM deliveries WHERE state = 'skipped' AND dossier_id = $1`,
		"dossier-"+erased.DossierID).Scan(&skipped, &detail); err != nil || skipped == 0 || !strings.Contains(detail, "erased") {
		t.Fatalf("the erased applicant's deliveries: %d skipped (%q), %v", skipped, detail, err)
	}
}

// The SMTP client refuses to send in clear to a server that offers no STARTTLS, and a wrong
// password is refused by the server: neither message arrives.
func TestSMTPRequiresTLSAndTheRightCredentials(t *testing.T) {
	message := email.Message{From: from, To: mail.Address{Name: "Nguyễn Văn An", Address: "an@example.vn"}, Subject: "Thử",
		Body: "Nội dung thử\n", Date: time.Now(), MessageID: "<thu.1@motcua.example.gov.vn>"}
	plain := mailpittest.Start(t, mailpittest.Options{})
	err := (&email.SMTP{Addr: plain.SMTPAddr, Security: email.StartTLS}).Send(context.Background(), message)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("sending without STARTTLS: %v", err)
	}
	secure := mailpittest.Start(t, mailpittest.Options{StartTLS: true, Username: "motcua", Password: "đúng"})
	err = (&email.SMTP{Addr: secure.SMTPAddr, Security: email.StartTLS, RootCAs: secure.RootCAs, Username: "motcua", Password: "sai"}).
		Send(context.Background(), message)
	if err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Fatalf("sending with a wrong password: %v", err)
	}
	err = (&email.SMTP{Addr: secure.SMTPAddr, Security: email.StartTLS, Username: "motcua", Password: "đúng"}).Send(context.Background(), message)
	if err == nil {
		t.Fatal("sent to a server whose certificate nobody trusts")
	}
	if got := len(plain.Messages(t)) + len(secure.Messages(t)); got != 0 {
		t.Fatalf("%d messages arrived", got)
	}
	err = (&email.SMTP{Addr: secure.SMTPAddr, Security: email.StartTLS, RootCAs: secure.RootCAs, Username: "motcua", Password: "đúng"}).
		Send(context.Background(), message)
	if err != nil {
		t.Fatal(err)
	}
	got := secure.Messages(t)
	if len(got) != 1 || got[0].Subject != "Thử" || got[0].MessageID != "thu.1@motcua.example.gov.vn" || !strings.Contains(got[0].Text, "Nội dung thử") {
		t.Fatalf("received %+v", got)
	}
}

// Every built-in template renders; a template file the province broke is reported at start, and
// one naming a placeholder that does not exist too.
func TestTemplatesAreCheckedAtStart(t *testing.T) {
	if err := (email.Templates{}).Check(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("apology.txt", "Version: 3\nSubject: Xin lỗi {{.Code}\n\nThân.\n")
	if err := (email.Templates{Dir: dir}).Check(); err == nil || !strings.Contains(err.Error(), "apology.txt") {
		t.Fatalf("a broken template: %v", err)
	}
	write("apology.txt", "Version: 3\nSubject: Xin lỗi {{.Code}}\n\n{{.NgayHen}}\n")
	if err := (email.Templates{Dir: dir}).Check(); err == nil || !strings.Contains(err.Error(), "NgayHen") {
		t.Fatalf("an unknown placeholder: %v", err)
	}
	write("apology.txt", "Subject: Xin lỗi\n\nThân.\n")
	if err := (email.Templates{Dir: dir}).Check(); err == nil || !strings.Contains(err.Error(), "Version") {
		t.Fatalf("a template without a version: %v", err)
	}
}

type deliveryRow struct{ kind, eventID string }

// deliveryRows returns the deliveries by the Message-ID they are sent with (without brackets).
func deliveryRows(t testing.TB, db *sql.DB) map[string]deliveryRow {
	t.Helper()
	rows, err := db.Query(`SELECT idempotency_key, kind, event_id FROM deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]deliveryRow{}
	for rows.Next() {
		var key string
		var row deliveryRow
		if err := rows.Scan(&key, &row.kind, &row.eventID); err != nil {
			t.Fatal(err)
		}
		out[strings.Trim(email.MessageID(key, from.Address), "<>")] = row
	}
	return out
}

func receivedEvents(t testing.TB, log []eventstore.RecordedEvent) []domain.Received {
	t.Helper()
	var out []domain.Received
	for _, re := range log {
		if re.Type == domain.TypeReceived {
			e, err := domain.DecodeEvent(re.Type, re.Data)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e.(domain.Received))
		}
	}
	return out
}

// foldUpTo folds the dossier of at up to and including at.
func foldUpTo(t testing.TB, log []eventstore.RecordedEvent, at eventstore.RecordedEvent) domain.Dossier {
	t.Helper()
	var d domain.Dossier
	for _, re := range log {
		if re.Stream != at.Stream || re.Version > at.Version {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		d = domain.Evolve(d, e)
	}
	return d
}
