// Package email notifies applicants by e-mail through the delivery outbox (integrations/delivery):
// on every public status change, a supplement request (with everything missing), an apology (the
// content of form 04), a result ready and a payment due. Wording comes from one template file per
// kind (templates/, overridable from a directory); the applicant's address is read from the dossier
// through the store the application reads, so an erased applicant gets nothing; messages go out
// over SMTP with STARTTLS and authentication (smtp.go). See docs/integrations.md.
package email

import (
	"context"
	"net/mail"
	"strings"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/notification"
)

// DestinationName is the e-mail destination's name in the deliveries table. It is part of every
// idempotency key: never change it.
const DestinationName = "email"

// Sender hands a message to a mail server.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Notifier is the e-mail destination of the outbox.
type Notifier struct {
	Store     notification.Reader
	Sender    Sender
	Templates Templates
	// From is the sender: the agency's name and its no-reply address. Its domain names the
	// messages' Message-IDs.
	From mail.Address
	// PublicURL is the scheme and host of the public pages, for the lookup link ("" for none).
	PublicURL string
}

// Name is DestinationName.
func (n *Notifier) Name() string { return DestinationName }

// Plan decides which notification an event calls for (notification.Plan), for applicants who
// chose e-mail and gave an address.
func (n *Notifier) Plan(c delivery.Change) string {
	return notification.PlanFor(domain.NotifyEmail, c)
}

// Send renders the delivery's message from the dossier as it stood after the event, and sends it
// to the applicant's address with the delivery's key as Message-ID.
func (n *Notifier) Send(ctx context.Context, d delivery.Delivery) error {
	subject, err := notification.Read(ctx, n.Store, d)
	if err != nil {
		return err
	}
	applicant := subject.Dossier.Applicant
	if applicant.Email == "" {
		return delivery.Skip("the applicant gave no e-mail address")
	}
	to, err := mail.ParseAddress(applicant.Email)
	if err != nil {
		return delivery.Skip("the applicant's e-mail address is not valid")
	}
	to.Name = applicant.Name
	tmpl, err := n.Templates.Load(d.Kind)
	if err != nil {
		return err
	}
	title, body, err := tmpl.Render(notification.DataOf(subject, n.From.Name, n.PublicURL))
	if err != nil {
		return err
	}
	at := subject.Recorded
	date := at.Metadata.OccurredAt
	if date.IsZero() {
		date = at.RecordedAt
	}
	return n.Sender.Send(ctx, Message{
		From: n.From, To: *to, Subject: title, Body: body, Date: date,
		MessageID: MessageID(d.Key, n.From.Address), Template: tmpl.Kind + " v" + tmpl.Version,
	})
}

// MessageID is the Message-ID of the delivery with idempotency key key: the key's characters that
// a message id may hold, at the sender's domain.
func MessageID(key, from string) string {
	domainPart := "motcua.invalid"
	if _, host, ok := strings.Cut(from, "@"); ok && host != "" {
		domainPart = host
	}
	local := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '.'
	}, key)
	return "<" + local + "@" + domainPart + ">"
}
