package engine

import (
	"errors"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/motcua/motcua/eventstore"
)

// A message for an event the consumer has applied is let go on its metadata alone: its payload is
// not read (here it could not be), as a node far behind the log is handed every event by every
// consumer's subscription. One the consumer still wants is read, and a payload that is no event
// is refused as before.
func TestHandleLetsAnAppliedEventGoWithoutReadingIt(t *testing.T) {
	r := NewRunner(nil, nil, SQLite, tally{})
	r.position = eventstore.Position{Commit: 50, Prepare: 50}
	broken := func(at eventstore.Position) *message.Message {
		msg := message.NewMessage("00000000-0000-0000-0000-000000000001", []byte("not an event"))
		msg.Metadata.Set(MetadataPosition, at.String())
		msg.Metadata.Set(MetadataPrevPosition, eventstore.Position{Commit: at.Commit - 1, Prepare: at.Prepare - 1}.String())
		return msg
	}
	for _, applied := range []eventstore.Position{{Commit: 49, Prepare: 49}, {Commit: 50, Prepare: 50}} {
		if err := r.Handle(broken(applied)); err != nil {
			t.Errorf("the event at %s, applied already: %v, want it let go", applied, err)
		}
	}
	if err := r.Handle(broken(eventstore.Position{Commit: 51, Prepare: 51})); !errors.Is(err, ErrBadMessage) {
		t.Errorf("the event after the position: %v, want %v", err, ErrBadMessage)
	}
	// Without the metadata the payload decides, as for a message from elsewhere.
	msg := message.NewMessage("00000000-0000-0000-0000-000000000002", []byte("not an event"))
	if err := r.Handle(msg); !errors.Is(err, ErrBadMessage) {
		t.Errorf("a message without a position: %v, want %v", err, ErrBadMessage)
	}
}
