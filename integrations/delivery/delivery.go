// Package delivery is the outbox every integration delivers through: a consumer of the log
// (Consumer) records, in the same transaction as its checkpoint, one delivery per destination and
// event that must go out; a Dispatcher sends the due ones, in event order per dossier and
// destination, retrying with exponential backoff and jitter until a destination accepts or the
// delivery is declared dead. Each delivery carries an idempotency key derived from the event id,
// which the destination hands to its receiver (an e-mail's Message-ID), so a delivery sent again
// after a crash is the same delivery as the receiver sees it. See docs/integrations.md.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// Destination is one receiver of deliveries: a channel to applicants (e-mail), a national system.
type Destination interface {
	// Name identifies the destination in the delivery rows, the operators' commands and the
	// metrics. It is part of every idempotency key: never rename a destination in service.
	Name() string
	// Plan says what the destination must be told of one event of a dossier: the kind of
	// delivery, or "" for nothing. It must depend on its argument only: catch-up, redelivery and
	// a second node give the same answer.
	Plan(c Change) string
	// Send delivers d. The receiver must see d.Key as the delivery's identity, so that a delivery
	// sent again (after a crash between sending and recording it) is recognised as the same one.
	// An error wrapped by Skip ends the delivery without sending it; any other error is retried.
	Send(ctx context.Context, d Delivery) error
}

// Change is one event of a dossier with the dossier before and after it, as a destination's Plan
// sees it. The dossiers carry no applicant identity (only its type): what a delivery says about the
// applicant is read when it is sent, through the store that honours erasures.
type Change struct {
	Recorded      eventstore.RecordedEvent
	Event         domain.Event
	Before, After domain.Dossier
	// Contact says which channels the applicant gave, without their values.
	Contact Contact
}

// Contact says which ways of reaching the applicant the dossier holds, and which of them the
// applicant chose.
type Contact struct {
	Email bool `json:"email,omitempty"`
	Phone bool `json:"phone,omitempty"`
	// Notify is the applicant's choice of channels; not stated in a dossier recorded before the
	// choice existed (domain.DefaultNotify applies then).
	Notify domain.NotifyChannels `json:"notify,omitzero"`
}

// ContactOf is what the delivery core keeps of an applicant: no value, only the channels.
func ContactOf(a domain.Applicant) Contact {
	return Contact{Email: a.Email != "", Phone: a.Phone != "", Notify: a.Notify}
}

// Wants reports whether the applicant chose channel and gave what it needs (an address, a phone).
func (c Contact) Wants(channel domain.NotifyChannel) bool {
	chosen := c.Notify
	if !chosen.Stated {
		chosen = domain.DefaultNotify(c.Email, c.Phone)
	}
	if !chosen.Has(channel) {
		return false
	}
	if channel == domain.NotifyEmail {
		return c.Email
	}
	return c.Phone
}

// StatusChanged reports whether the event changed the dossier's public status (the one the
// national portal knows, regulations §2).
func (c Change) StatusChanged() bool {
	return c.Before.Status != c.After.Status && c.After.Status.PortalStatusCode() != 0
}

// Delivery is one thing to tell one destination: a row of the deliveries table.
type Delivery struct {
	ID          int64
	Destination string
	// Key is the idempotency key: destination, event id and kind (Key).
	Key       string
	DossierID string // the dossier's stream, dossier-<id>
	EventID   string
	EventType string
	Kind      string
	// StreamVersion is the event's version in its stream: a destination reads the dossier up to it.
	StreamVersion uint64
	Position      eventstore.Position
	OccurredAt    time.Time
	State         State
	Attempts      int
	LastError     string
	NextAttemptAt time.Time
	CreatedAt     time.Time
}

// Key returns the idempotency key of the delivery of kind about event eventID to destination:
// stable across redeliveries, restarts and nodes.
func Key(destination, eventID, kind string) string {
	return destination + ":" + eventID + ":" + kind
}

// State is where a delivery stands.
type State string

const (
	// Pending waits to be sent: never tried (attempts 0) or failing (attempts > 0, retried at
	// next_attempt_at).
	Pending State = "pending"
	// Sent was accepted by the receiver.
	Sent State = "sent"
	// Dead failed MaxAttempts times; it waits for an operator (motcua deliveries retry --dead).
	Dead State = "dead"
	// Skipped was ended without sending, on purpose: the applicant's data was erased, or gives no
	// way to reach them.
	Skipped State = "skipped"
)

// skipError ends a delivery without sending it.
type skipError struct{ reason string }

func (e *skipError) Error() string { return "skipped: " + e.reason }

// Skip returns the error a Destination's Send returns to end a delivery without sending it, for a
// reason that holds no personal data (it is stored and logged).
func Skip(reason string) error { return &skipError{reason: reason} }

// IsSkip reports whether err ends a delivery without sending it, and why.
func IsSkip(err error) (string, bool) {
	var s *skipError
	if errors.As(err, &s) {
		return s.reason, true
	}
	return "", false
}

// permanentError is a failure no retry will cure: the receiver refused the delivery itself.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a refusal no retry will cure (a receiver that does not exist): the
// delivery is dead at once, for an operator to look at, instead of being retried for a day.
func Permanent(err error) error { return &permanentError{err: err} }

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// checkDestinations reports an error unless every destination has a distinct, non-empty name.
func checkDestinations(destinations []Destination) error {
	seen := map[string]bool{}
	for _, d := range destinations {
		name := d.Name()
		if name == "" || seen[name] {
			return fmt.Errorf("delivery: destination names must be distinct and non-empty (%q)", name)
		}
		seen[name] = true
	}
	return nil
}
