package timers

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/email"
	"github.com/motcua/motcua/l10n"
)

// NotifierName is the alarms' e-mail destination in the outbox. It is part of every idempotency
// key: never change it.
const NotifierName = "alarm-email"

// Reader reads a dossier's events (the store the application reads).
type Reader interface {
	ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]eventstore.RecordedEvent, error)
}

// Notifier is the outbox destination that e-mails a fired alarm to the officials it concerns. It
// plans nothing from the log's events (the Firer records its deliveries); it sends each alarm to
// every address Recipients give for it, one message each, whose Message-ID is derived from the
// delivery's key and the address, so a delivery sent again is the same message to every receiver.
type Notifier struct {
	DB         *sql.DB // holds the alarms
	Store      Reader
	Sender     email.Sender
	From       mail.Address
	Recipients *Recipients
}

// Name is NotifierName.
func (n *Notifier) Name() string { return NotifierName }

// Plan is empty: alarms are not events of the log.
func (n *Notifier) Plan(delivery.Change) string { return "" }

// Send e-mails the fired alarm of delivery d.
func (n *Notifier) Send(ctx context.Context, d delivery.Delivery) error {
	alarmKey, ok := strings.CutPrefix(d.Key, NotifierName+":")
	if !ok {
		return delivery.Permanent(errors.New("not an alarm's delivery"))
	}
	a, err := n.alarm(ctx, alarmKey)
	if err != nil {
		return err
	}
	to := n.Recipients.For(a)
	if len(to) == 0 {
		return delivery.Skip("no notification address is configured for the alarm's officials (--alarm-recipients)")
	}
	dossier, err := n.dossier(ctx, d.DossierID)
	if err != nil {
		return err
	}
	subject, body := alarmText(a, dossier)
	for _, address := range to {
		sum := sha256.Sum256([]byte(strings.ToLower(address.Address)))
		err := n.Sender.Send(ctx, email.Message{
			From: n.From, To: address, Subject: subject, Body: body, Date: a.Due,
			MessageID: email.MessageID(d.Key+"."+hex.EncodeToString(sum[:6]), n.From.Address), Template: "alarm " + string(a.Kind),
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (n *Notifier) alarm(ctx context.Context, key string) (Alarm, error) {
	var (
		a             Alarm
		kind          string
		due, deadline int64
	)
	err := n.DB.QueryRowContext(ctx, `SELECT kind, due_at, deadline_at, official, unit, agency, desk, step
		FROM `+alarmsTable+` WHERE alarm_key = $1`, key).Scan(&kind, &due, &deadline, &a.Official, &a.Unit, &a.Agency, &a.Desk, &a.Step)
	if errors.Is(err, sql.ErrNoRows) {
		return a, delivery.Permanent(errors.New("the alarm is not recorded"))
	}
	if err != nil {
		return a, fmt.Errorf("read the alarm: %w", err)
	}
	a.Kind = Kind(kind)
	a.Due, a.Deadline = time.UnixMilli(due).In(domain.VietnamTime), time.UnixMilli(deadline).In(domain.VietnamTime)
	return a, nil
}

// dossier folds the dossier as it stands now: the message names its code and procedure, never
// its applicant.
func (n *Notifier) dossier(ctx context.Context, stream string) (domain.Dossier, error) {
	events, err := n.Store.ReadStream(ctx, stream, 1)
	if err != nil {
		return domain.Dossier{}, fmt.Errorf("read the dossier: %w", err)
	}
	var d domain.Dossier
	for _, re := range events {
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return d, fmt.Errorf("decode %s v%d: %w", stream, re.Version, err)
		}
		d = domain.Evolve(d, e)
	}
	return d, nil
}

// alarmText is an alarm's message, Vietnamese first and English second.
func alarmText(a Alarm, d domain.Dossier) (subject, body string) {
	vi, en := l10n.VI, l10n.EN
	code := string(d.Code)
	if code == "" {
		code = "(chưa có mã / no code yet)"
	}
	deadlineVI, deadlineEN := vi.DateTime(a.Deadline), en.DateTime(a.Deadline)
	var what, whatEN string
	switch a.Kind {
	case KindAcceptance:
		subject = "Hồ sơ trực tuyến chưa được tiếp nhận đúng hạn: " + code
		what = "Hồ sơ nộp trực tuyến chưa được tiếp nhận, từ chối hoặc yêu cầu bổ sung; hạn là " + deadlineVI + "."
		whatEN = "An online submission was not accepted, refused or sent back by its deadline, " + deadlineEN + "."
	case KindStepDue:
		subject = "Bước xử lý sắp đến hạn: " + code
		what = fmt.Sprintf("Bước %q của hồ sơ đến hạn lúc %s.", a.Step, deadlineVI)
		whatEN = fmt.Sprintf("Step %q of the dossier is due at %s.", a.Step, deadlineEN)
	case KindApologyDue:
		subject = "Hôm nay là ngày cuối gửi văn bản xin lỗi, gia hạn: " + code
		what = "Hồ sơ hẹn trả " + deadlineVI + " chưa có kết quả. Nếu sẽ trễ hạn, văn bản xin lỗi và hẹn lại ngày trả (mẫu 04) phải được gửi chậm nhất hôm nay."
		whatEN = "The dossier due " + deadlineEN + " has no result yet. If it will be late, the apology with a new appointment date (form 04) must be issued today at the latest."
	case KindSupplementUnanswered:
		subject = "Yêu cầu bổ sung chưa được trả lời: " + code
		what = "Người nộp chưa bổ sung hồ sơ theo yêu cầu; đã quá " + deadlineVI + "."
		whatEN = "The applicant has not answered the supplement request; the wait ended " + deadlineEN + "."
	}
	body = fmt.Sprintf("Mã hồ sơ: %s\nThủ tục: %s\nTrạng thái: %s\n\n%s\n\n--\nDossier %s (%s): %s\n",
		code, d.Procedure.Name, vi.Status(d.Status), what, code, en.Status(d.Status), whatEN)
	return subject, body
}
