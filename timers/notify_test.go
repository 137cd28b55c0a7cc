package timers_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/email"
	"github.com/motcua/motcua/integrations/email/mailpittest"
	"github.com/motcua/motcua/timers"
)

const recipientsFile = `{
  "officials": {"cv-1": "Lê Thị Chuyên Viên <cv1@soxd.example.vn>"},
  "units": {
    "PQLXD": {"heads": ["truong.phong@soxd.example.vn", "CV1@soxd.example.vn"]},
    "000.00.00.H56": {"heads": ["giam.doc@tthcc.example.vn"], "desk": ["motcua@tthcc.example.vn"]}
  }
}`

// dispatchAll sends every due delivery of the alarms' destination.
func dispatchAll(t *testing.T, r *rig, notifier *timers.Notifier) {
	t.Helper()
	dispatcher := &delivery.Dispatcher{DB: r.db, Dialect: r.dialect, Destinations: []delivery.Destination{notifier},
		Now: r.clock.Now, Logger: quiet, SendTimeout: 5 * time.Second}
	for range 10 {
		n, err := dispatcher.DispatchDue(r.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// fireStepAlarm hands a received dossier to the specialist for an 8-hour step, lets its alarm
// fire when due, and sends what the outbox holds through notifier.
func fireStepAlarm(t *testing.T, r *rig, notifier *timers.Notifier) (id string, step alarm) {
	t.Helper()
	id = r.receive(domain.ChannelDirect)
	r.do(desk, id, commands.TransferInput{ToUnit: unitPQL, ToOfficialID: specialist.ID, ToOfficialName: specialist.Name,
		Step: "Thẩm định hồ sơ", AllottedHours: 8})
	r.settle()
	step = r.latest(id, timers.KindStepDue)
	if !r.firedAt(step.due, id, timers.KindStepDue, step.key) {
		t.Fatal("the step alarm did not fire")
	}
	dispatchAll(t, r, notifier)
	return id, step
}

// A fired alarm goes out through the outbox as one message to each official concerned (the
// holder and their unit's heads, each address once), naming the dossier, the step and its
// deadline but never the applicant; sent again after a crash, each message keeps its Message-ID,
// so the receivers see the same messages. An alarm nobody's address is configured for is skipped.
func TestFiredAlarmIsMailedToTheHolderAndTheirHeadOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d engine.Dialect) {
		server := mailpittest.Start(t, mailpittest.Options{})
		recipients, err := timers.ParseRecipients([]byte(recipientsFile))
		if err != nil {
			t.Fatal(err)
		}
		r := newRig(t, d, vn(2026, 12, 7, 8, 0), timers.Config{})
		notifier := &timers.Notifier{DB: r.db, Store: r.store, Recipients: recipients,
			Sender: &email.SMTP{Addr: server.SMTPAddr, Security: email.Plain, Timeout: 5 * time.Second},
			From:   mustAddress(t, "Hệ thống Một cửa <khong-tra-loi@tthcc.example.vn>")}
		id, step := fireStepAlarm(t, r, notifier)

		messages := server.Messages(t)
		var mine []mailpittest.Message
		for _, m := range messages {
			if strings.Contains(m.Subject, "Bước xử lý sắp đến hạn") {
				mine = append(mine, m)
			}
		}
		var to []string
		for _, m := range mine {
			to = append(to, strings.ToLower(m.To[0].Address))
			code := string(r.dossier(id).Code)
			if !strings.Contains(m.Subject, code) || !strings.Contains(m.Text, "Thẩm định hồ sơ") || strings.Contains(m.Text, "Phạm Văn Cường") {
				t.Errorf("message %q: %q, want the code, the step and no applicant", m.Subject, m.Text)
			}
			if got := mailpittest.HeaderValue(server.Headers(t, m.ID), "X-Motcua-Template"); got != "alarm step_due v1" {
				t.Errorf("X-Motcua-Template %q, want the built-in step_due template's version", got)
			}
		}
		if strings.Join(to, ",") != "cv1@soxd.example.vn,truong.phong@soxd.example.vn" {
			t.Fatalf("the step alarm went to %v, want the holder and the head, once each", to)
		}

		// A crash between the send and its record: the outbox sends the delivery again.
		if _, err := r.db.ExecContext(r.ctx, `UPDATE deliveries SET state = 'pending' WHERE idempotency_key = $1`,
			timers.DeliveryKey(timers.NotifierName, step.key)); err != nil {
			t.Fatal(err)
		}
		dispatchAll(t, r, notifier)
		ids := map[string]int{}
		for _, m := range server.Messages(t) {
			if strings.Contains(m.Subject, "Bước xử lý sắp đến hạn") {
				ids[m.MessageID]++
			}
		}
		if len(ids) != 2 {
			t.Fatalf("Message-IDs %v, want the same two messages sent twice", ids)
		}

		// A unit nobody is configured for: the delivery ends skipped, nothing is sent.
		r.clock.Set(step.due.Add(time.Hour))
		r.do(specialist, id, commands.TransferInput{ToUnit: "BGD", Step: "Trình ký", AllottedHours: 2})
		r.settle()
		signature := r.latest(id, timers.KindStepDue)
		if !r.firedAt(signature.due, id, timers.KindStepDue, signature.key) {
			t.Fatal("the signature's alarm did not fire")
		}
		before := len(server.Messages(t))
		dispatchAll(t, r, notifier)
		var state string
		if err := r.db.QueryRowContext(r.ctx, `SELECT state FROM deliveries WHERE idempotency_key = $1`,
			timers.DeliveryKey(timers.NotifierName, signature.key)).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state != string(delivery.Skipped) || len(server.Messages(t)) != before {
			t.Fatalf("the unaddressed alarm's delivery is %s and %d messages were sent, want skipped and none",
				state, len(server.Messages(t))-before)
		}
	})
}

// A province words an alarm in its own file, without a rebuild: the message is written from it
// and names its version; the kinds it did not rewrite keep the built-in wording.
func TestAlarmIsWordedFromTheProvincesTemplate(t *testing.T) {
	server := mailpittest.Start(t, mailpittest.Options{})
	recipients, err := timers.ParseRecipients([]byte(recipientsFile))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	custom := "Version: 2\nSubject: [Sở Xây dựng] {{.Code}} — bước {{.Step}} đến hạn\n\nHạn: {{.Deadline}} ({{.ProcedureName}}).\n"
	if err := os.WriteFile(filepath.Join(dir, "step_due.txt"), []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, engine.SQLite, vn(2026, 12, 7, 8, 0), timers.Config{})
	notifier := &timers.Notifier{DB: r.db, Store: r.store, Recipients: recipients, Templates: timers.Templates{Dir: dir},
		Sender: &email.SMTP{Addr: server.SMTPAddr, Security: email.Plain, Timeout: 5 * time.Second},
		From:   mustAddress(t, "Hệ thống Một cửa <khong-tra-loi@tthcc.example.vn>")}
	id, _ := fireStepAlarm(t, r, notifier)

	code := string(r.dossier(id).Code)
	messages := server.Messages(t)
	if len(messages) == 0 {
		t.Fatal("no message was sent")
	}
	for _, m := range messages {
		if m.Subject != "[Sở Xây dựng] "+code+" — bước Thẩm định hồ sơ đến hạn" || !strings.HasPrefix(m.Text, "Hạn: ") ||
			!strings.Contains(m.Text, "Cấp giấy phép") {
			t.Errorf("message %q: %q, want the province's wording", m.Subject, m.Text)
		}
		if got := mailpittest.HeaderValue(server.Headers(t, m.ID), "X-Motcua-Template"); got != "alarm step_due v2" {
			t.Errorf("X-Motcua-Template %q, want the province's version", got)
		}
	}
	if tmpl, err := notifier.Templates.Load(timers.KindApologyDue); err != nil || tmpl.Source != "built-in" {
		t.Fatalf("the apology alarm's template: %v, %v; want the built-in one", tmpl, err)
	}
}

// Every built-in alarm template renders; a file the province broke, one naming a placeholder
// that does not exist, and one without a version are reported at start, naming the file.
func TestAlarmTemplatesAreCheckedAtStart(t *testing.T) {
	if err := (timers.Templates{}).Check(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for text, want := range map[string]string{
		"Version: 3\nSubject: Hạn {{.Code}\n\nThân.\n":               "apology_due.txt",
		"Version: 3\nSubject: Hạn {{.Code}}\n\n{{.ApplicantName}}\n": "ApplicantName",
		"Subject: Hạn\n\nThân.\n":                                    "Version",
	} {
		if err := os.WriteFile(filepath.Join(dir, "apology_due.txt"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := (timers.Templates{Dir: dir}).Check(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", text, err, want)
		}
	}
}

func TestRecipientsFileIsChecked(t *testing.T) {
	for name, raw := range map[string]string{
		"a bad address":    `{"officials": {"cv-1": "not an address"}}`,
		"a misspelt key":   `{"units": {"PQLXD": {"head": ["a@b.vn"]}}}`,
		"not an object":    `[]`,
		"a bad desk entry": `{"units": {"PQLXD": {"desk": ["@"]}}}`,
	} {
		if _, err := timers.ParseRecipients([]byte(raw)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
