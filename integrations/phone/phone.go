// Package phone notifies applicants on their phone through the delivery outbox
// (integrations/delivery): by SMS from the agency's brandname and by Zalo ZNS, the two channels
// citizens in Vietnam read. One Notifier per channel plans the same notifications as e-mail
// (integrations/notification) for applicants who chose the channel, reads the phone number through
// the store that honours erasures, and hands a Message to the channel's Provider: ESMS (eSMS.vn's
// published JSON API) or ZNS (Zalo's published ZNS API). The delivery's key, shortened to a
// TrackingID, is the provider's request id, so a message sent again is recognised as the same.
// Phone numbers never reach a log or an error (Scrub). See docs/integrations.md.
package phone

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/notification"
)

// The destinations' names in the deliveries table: part of every idempotency key, never change them.
const (
	SMSDestination  = string(domain.NotifySMS)
	ZaloDestination = string(domain.NotifyZalo)
)

// Message is one notification to one phone.
type Message struct {
	// Phone is the number in international form without "+": 84 and the national number.
	Phone string
	// TrackingID is the delivery's identity as the provider sees it (eSMS RequestId, ZNS
	// tracking_id): the same for every attempt of one delivery.
	TrackingID string
	Kind       string
	// Text is the message rendered from the SMS template, already within the provider's length.
	Text string
	// Params are the values of the kind's parameters (ZNSParams), for providers whose templates
	// are registered with them (Zalo ZNS).
	Params map[string]string
}

// Provider sends messages to phones. An error marked delivery.Permanent is a refusal no retry will
// cure (a number that does not exist); any other is retried. Errors hold no phone number.
type Provider interface {
	Send(ctx context.Context, m Message) error
	// Handles reports whether the provider can send kind (a ZNS template is configured for it):
	// no delivery is planned for a kind it cannot send.
	Handles(kind string) bool
}

// Notifier is the destination of one phone channel.
type Notifier struct {
	// Channel is domain.NotifySMS or domain.NotifyZalo: the applicant's choice it follows, and the
	// destination's name.
	Channel   domain.NotifyChannel
	Store     notification.Reader
	Provider  Provider
	Templates Templates
	// Agency is the sender's name in the texts; PublicURL the scheme and host of the public pages,
	// for the lookup link ("" for none).
	Agency, PublicURL string
}

// Name is the channel's name: "sms" or "zalo".
func (n *Notifier) Name() string { return string(n.Channel) }

// Plan is notification.Plan for applicants who chose the channel and gave a phone number, and
// only for the kinds the provider can send.
func (n *Notifier) Plan(c delivery.Change) string {
	kind := notification.PlanFor(n.Channel, c)
	if kind == "" || !n.Provider.Handles(kind) {
		return ""
	}
	return kind
}

// Send reads the dossier as it stood after the event, renders the text and parameters, and hands
// them to the provider with the delivery's tracking id.
func (n *Notifier) Send(ctx context.Context, d delivery.Delivery) error {
	subject, err := notification.Read(ctx, n.Store, d)
	if err != nil {
		return err
	}
	if subject.Dossier.Applicant.Phone == "" {
		return delivery.Skip("the applicant gave no phone number")
	}
	number, ok := International(subject.Dossier.Applicant.Phone)
	if !ok {
		return delivery.Skip("the applicant's phone number is not a Vietnamese number")
	}
	data := notification.DataOf(subject, n.Agency, n.PublicURL)
	tmpl, err := n.Templates.Load(d.Kind)
	if err != nil {
		return err
	}
	text, err := tmpl.Render(data)
	if err != nil {
		return err
	}
	err = n.Provider.Send(ctx, Message{Phone: number, TrackingID: TrackingID(d.Key), Kind: d.Kind, Text: text, Params: ZNSParams(d.Kind, data)})
	if err != nil {
		// Whatever the provider echoed, no number leaves this function.
		return scrubError(err)
	}
	return nil
}

// TrackingID is the provider's identity of the delivery with idempotency key key: the first 32 hex
// digits of its SHA-256. Providers limit their request ids (eSMS 50 characters, ZNS tracking_id 48)
// and our keys are longer; the digest is stable across attempts, restarts and nodes, and an
// operator finds the delivery of a tracking id by computing it from the keys.
func TrackingID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

var nonDigits = regexp.MustCompile(`[^0-9]`)

// International turns a Vietnamese number as applicants write it ("0912 345 678", "+84 912.345.678",
// "84912345678") into 84 and the national number without its leading 0. It reports false for a
// number that is not Vietnamese: brandname SMS and ZNS reach Vietnamese numbers only.
func International(phone string) (string, bool) {
	plus := strings.HasPrefix(strings.TrimSpace(phone), "+")
	digits := nonDigits.ReplaceAllString(phone, "")
	switch {
	case strings.HasPrefix(digits, "84") && (plus || len(digits) >= 11):
		digits = digits[2:]
	case plus:
		return "", false // another country's number
	case strings.HasPrefix(digits, "0"):
		digits = digits[1:]
	}
	digits = strings.TrimPrefix(digits, "0")
	if len(digits) < 9 || len(digits) > 10 {
		return "", false
	}
	return "84" + digits, true
}

// National is the number as dialled in Vietnam (0 and the national number), from International's
// form.
func National(international string) string { return "0" + strings.TrimPrefix(international, "84") }

// phoneLike is a Vietnamese number as people and providers write it: 0, 84 or +84, then 8 to 10
// digits, single spaces or dots between them allowed. Addresses (127.0.0.1) and dossier codes
// (000.00.00.H01-…) do not match.
var phoneLike = regexp.MustCompile(`(?:\+84|\b84|\b0)[ .]?[1-9](?:[ .]?[0-9]){7,9}\b`)

// Scrub hides anything that looks like a phone number in s: what a provider answers may echo the
// number, and errors are logged and stored (last_error).
func Scrub(s string) string { return phoneLike.ReplaceAllString(s, "[số điện thoại]") }

// scrubError is err with its text scrubbed; whether it is permanent is kept.
func scrubError(err error) error {
	text := Scrub(err.Error())
	if text == err.Error() {
		return err
	}
	if delivery.IsPermanent(err) {
		return delivery.Permanent(errors.New(text))
	}
	return errors.New(text)
}
