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
	// Templates are the messages' wording, one file per kind (built-in when Dir is empty).
	Templates Templates
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
	tmpl, err := n.Templates.Load(a.Kind)
	if err != nil {
		return err
	}
	subject, body, err := email.RenderMail(tmpl, dataOf(a, dossier))
	if err != nil {
		return err
	}
	for _, address := range to {
		sum := sha256.Sum256([]byte(strings.ToLower(address.Address)))
		err := n.Sender.Send(ctx, email.Message{
			From: n.From, To: address, Subject: subject, Body: body, Date: a.Due,
			MessageID: email.MessageID(d.Key+"."+hex.EncodeToString(sum[:6]), n.From.Address), Template: "alarm " + tmpl.Label(),
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
