package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/motcua/motcua/eventstore"
)

// DefaultTopic is the watermill topic the forwarder publishes the global log to.
const DefaultTopic = "motcua.events"

// Metadata keys of an event message.
const (
	MetadataType          = "type"
	MetadataStream        = "stream"
	MetadataVersion       = "version"
	MetadataPosition      = "position"
	MetadataPrevPosition  = "prev_position" // the position of the event before it in the log
	MetadataCorrelationID = middleware.CorrelationIDMetadataKey
)

// wireEvent is an event message's payload: the recorded event, with its data kept byte for byte.
type wireEvent struct {
	ID         string              `json:"id"`
	Type       string              `json:"type"`
	Stream     string              `json:"stream"`
	Version    uint64              `json:"version"`
	Position   eventstore.Position `json:"position"`
	Data       json.RawMessage     `json:"data"`
	Metadata   eventstore.Metadata `json:"metadata"`
	RecordedAt time.Time           `json:"recorded_at"`
}

// NewMessage turns a recorded event into a watermill message: its UUID is the event's id (so
// brokers that deduplicate by message id drop a republished event), its payload the event and its
// metadata what a consumer needs to route it without decoding — and the position of the event
// before it, which lets consumers see when a message is missing or early.
func NewMessage(e eventstore.RecordedEvent, prev eventstore.Position) (*message.Message, error) {
	payload, err := json.Marshal(wireEvent{
		ID: e.ID.String(), Type: e.Type, Stream: e.Stream, Version: e.Version, Position: e.Position,
		Data: e.Data, Metadata: e.Metadata, RecordedAt: e.RecordedAt,
	})
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	msg := message.NewMessage(e.ID.String(), payload)
	msg.Metadata.Set(MetadataType, e.Type)
	msg.Metadata.Set(MetadataStream, e.Stream)
	msg.Metadata.Set(MetadataVersion, strconv.FormatUint(e.Version, 10))
	msg.Metadata.Set(MetadataPosition, e.Position.String())
	msg.Metadata.Set(MetadataPrevPosition, prev.String())
	middleware.SetCorrelationID(e.Metadata.CorrelationID.String(), msg)
	return msg, nil
}

// ErrBadMessage: a message that is not an event message of this package.
var ErrBadMessage = errors.New("not an event message")

// DecodeMessage returns the event a message carries and the position of the event before it.
func DecodeMessage(msg *message.Message) (eventstore.RecordedEvent, eventstore.Position, error) {
	var w wireEvent
	if err := json.Unmarshal(msg.Payload, &w); err != nil {
		return eventstore.RecordedEvent{}, eventstore.Position{}, fmt.Errorf("%w: message %s: %v", ErrBadMessage, msg.UUID, err)
	}
	prev, err := ParsePosition(msg.Metadata.Get(MetadataPrevPosition))
	if err != nil {
		return eventstore.RecordedEvent{}, eventstore.Position{}, fmt.Errorf("%w: message %s: %v", ErrBadMessage, msg.UUID, err)
	}
	e := eventstore.RecordedEvent{Stream: w.Stream, Version: w.Version, Position: w.Position, RecordedAt: w.RecordedAt}
	e.Type, e.Data, e.Metadata = w.Type, w.Data, w.Metadata
	if err := e.ID.UnmarshalText([]byte(w.ID)); err != nil {
		return eventstore.RecordedEvent{}, eventstore.Position{}, fmt.Errorf("%w: message %s: id: %v", ErrBadMessage, msg.UUID, err)
	}
	if !prev.Less(e.Position) {
		return eventstore.RecordedEvent{}, eventstore.Position{}, fmt.Errorf("%w: message %s: previous position %s is not before %s", ErrBadMessage, msg.UUID, prev, e.Position)
	}
	return e, prev, nil
}

// ParsePosition reads a position written by Position.String ("commit/prepare").
func ParsePosition(s string) (eventstore.Position, error) {
	commit, prepare, ok := strings.Cut(s, "/")
	if !ok {
		return eventstore.Position{}, fmt.Errorf("position %q: want commit/prepare", s)
	}
	c, err := strconv.ParseUint(commit, 10, 64)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("position %q: %w", s, err)
	}
	p, err := strconv.ParseUint(prepare, 10, 64)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("position %q: %w", s, err)
	}
	return eventstore.Position{Commit: c, Prepare: p}, nil
}

// Forwarder publishes the store's global log to a watermill topic, one message per event, in log
// order. Delivery is at least once: with a durable transport it records how far it has published
// (its checkpoint) only after the broker has accepted the messages, so a crash between the two
// republishes a few events, which consumers ignore.
type Forwarder struct {
	Store     eventstore.Store
	DB        *sql.DB // where the checkpoint is kept
	Publisher message.Publisher
	Topic     string
	Logger    *slog.Logger
	// MaxBatch bounds the messages handed to one Publish call.
	MaxBatch int
	// Checkpointed makes the forwarder record its position after each publish and resume from it.
	// Only a durable transport needs it: an in-process channel keeps nothing across a restart, so
	// the Engine starts its forwarder where the slowest projection stands instead.
	Checkpointed bool
	// Window, with WaitApplied, bounds how far publishing may run ahead of the consumers: before
	// publishing an event, the forwarder waits until the event Window places earlier is applied.
	Window      int
	WaitApplied func(ctx context.Context, p eventstore.Position) error
	// Applied, on an in-process transport, tells how far every consumer taking deliveries on this
	// node has applied the log (ok false: none takes them here). The forwarder publishes nothing
	// at or below it, reads on from there when the consumers have got ahead of it, and waits while
	// none takes deliveries. A consumer far behind is caught up in bulk from the store: on a new
	// node with leases the forwarder read the whole log beside that catch-up and handed every
	// event to every consumer, which held it until the catch-up had applied it — a quarter of the
	// node's CPU at 1 M dossiers on PostgreSQL.
	Applied func() (p eventstore.Position, ok bool)
	// Metrics, when set, counts published events.
	Metrics *Metrics
}

// MigrateForwarderCheckpoints creates the table where forwarders keep their positions, one per topic.
func MigrateForwarderCheckpoints(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS forwarder_checkpoints (
		topic TEXT PRIMARY KEY,
		commit_position BIGINT NOT NULL,
		prepare_position BIGINT NOT NULL,
		updated_at TEXT NOT NULL)`)
	return err
}

// ForwarderCheckpoint returns how far the forwarder of topic has published, and whether it has
// published anything yet.
func ForwarderCheckpoint(ctx context.Context, db *sql.DB, topic string) (eventstore.Position, bool, error) {
	var commit, prepare int64
	err := db.QueryRowContext(ctx, `SELECT commit_position, prepare_position FROM forwarder_checkpoints WHERE topic = $1`, topic).Scan(&commit, &prepare)
	if errors.Is(err, sql.ErrNoRows) {
		return eventstore.Start, false, nil
	}
	if err != nil {
		return eventstore.Start, false, err
	}
	return eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}, true, nil
}

func saveForwarderCheckpoint(ctx context.Context, db *sql.DB, topic string, p eventstore.Position) error {
	_, err := db.ExecContext(ctx, `INSERT INTO forwarder_checkpoints (topic, commit_position, prepare_position, updated_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (topic) DO UPDATE SET commit_position = excluded.commit_position,
			prepare_position = excluded.prepare_position, updated_at = excluded.updated_at`,
		topic, int64(p.Commit), int64(p.Prepare), time.Now().UTC().Format(time.RFC3339Nano))
	return err
}

// Run publishes the log after from until ctx ends. A subscription that breaks (the store went
// away, or a decorator could not read a key while it was away) is opened again after what was
// published, with backoff: an outage of the database must not take the node down with it.
func (f *Forwarder) Run(ctx context.Context, from eventstore.Position) error {
	pause := 100 * time.Millisecond
	for {
		published, err := f.runSubscription(ctx, from)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errConsumersAhead) {
			from = published
			continue
		}
		var broken subscriptionBroken
		if !errors.As(err, &broken) {
			return err
		}
		if published != from {
			pause = 100 * time.Millisecond // it got somewhere: the next failure starts the backoff again
		}
		from = published
		f.logger().Warn("forwarder: subscription broken, resubscribing", "topic", f.Topic, "retry_in", pause, "error", broken.err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 10*time.Second)
	}
}

// subscriptionBroken is the store's subscription ending with an error while the forwarder was
// still wanted: resubscribing is the cure, unlike a failed checkpoint or a wait.
type subscriptionBroken struct{ err error }

func (e subscriptionBroken) Error() string { return fmt.Sprintf("forwarder: %v", e.err) }
func (e subscriptionBroken) Unwrap() error { return e.err }

// errConsumersAhead ends a subscription whose next events every consumer here has applied: the
// forwarder reads on from their position.
var errConsumersAhead = errors.New("forwarder: the consumers are ahead")

// runSubscription publishes the log after from until the subscription ends; it returns the
// position of the last event it published (or passed over, every consumer here having applied it).
func (f *Forwarder) runSubscription(ctx context.Context, from eventstore.Position) (eventstore.Position, error) {
	maxBatch := f.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 256
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	incoming := make(chan eventstore.RecordedEvent, maxBatch)
	subscribed := make(chan error, 1)
	go func() {
		subscribed <- f.Store.Subscribe(ctx, from, func(ctx context.Context, e eventstore.RecordedEvent) error {
			select {
			case incoming <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		close(incoming)
	}()

	prev := from
	var recent []eventstore.Position // the last Window published positions, oldest first
	batch := make([]*message.Message, 0, maxBatch)
	for e := range incoming {
		applied, err := f.waitForConsumers(ctx)
		if err != nil {
			return from, err
		}
		if e.Position.Less(applied) {
			// The consumers got ahead of the subscription (caught up from the store, in bulk):
			// read on from where they stand rather than through what they applied.
			return applied, errConsumersAhead
		}
		events := []eventstore.RecordedEvent{e}
	drain: // take whatever else is already waiting, so a backlog goes out in large publishes
		for len(events) < maxBatch {
			select {
			case more, ok := <-incoming:
				if !ok {
					break drain
				}
				events = append(events, more)
			default:
				break drain
			}
		}
		batch = batch[:0]
		for _, e := range events {
			if !applied.Less(e.Position) {
				prev = e.Position // every consumer here has it; the next message still names it as its predecessor
				continue
			}
			if f.Window > 0 && f.WaitApplied != nil {
				if len(recent) == f.Window {
					// Publish what is ready first: the consumers cannot apply what they have not seen.
					if err := f.publish(ctx, batch, prev); err != nil {
						return from, err
					}
					from = prev
					batch = batch[:0]
					if err := f.WaitApplied(ctx, recent[0]); err != nil {
						return from, err
					}
					recent = recent[1:]
				}
				recent = append(recent, e.Position)
			}
			msg, err := NewMessage(e, prev)
			if err != nil {
				return from, err
			}
			batch = append(batch, msg)
			prev = e.Position
		}
		if err := f.publish(ctx, batch, prev); err != nil {
			return from, err
		}
		from = prev
	}
	err := <-subscribed
	if ctx.Err() != nil {
		return from, ctx.Err()
	}
	return from, subscriptionBroken{err}
}

// publish hands batch (whose last event is at last) to the broker and records the checkpoint.
func (f *Forwarder) publish(ctx context.Context, batch []*message.Message, last eventstore.Position) error {
	if len(batch) == 0 {
		return nil
	}
	for pause := 100 * time.Millisecond; ; pause = min(2*pause, 10*time.Second) {
		err := f.Publisher.Publish(f.Topic, batch...)
		if err == nil {
			break
		}
		// The broker is away: retry the same batch, in order; nothing after it goes out first.
		f.logger().Warn("forwarder: publish failed, retrying", "topic", f.Topic, "events", len(batch), "retry_in", pause, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
	f.Metrics.publishedEvents(len(batch))
	if f.Checkpointed {
		// The broker has the batch: record it even if we are shutting down, or a restart would
		// republish what consumers already have (harmless, but a checkpoint should say what is true).
		if err := saveForwarderCheckpoint(context.WithoutCancel(ctx), f.DB, f.Topic, last); err != nil {
			return fmt.Errorf("forwarder: save checkpoint: %w", err)
		}
	}
	return nil
}

// consumersPoll is how often a forwarder none of whose consumers takes deliveries looks again.
const consumersPoll = 100 * time.Millisecond

// waitForConsumers returns how far every consumer taking deliveries here has applied the log
// (Applied; the start of the log without it), once one does: while none does — all caught up in
// bulk, or running on other nodes — the forwarder reads nothing, and those that come back read
// what they missed from the store.
func (f *Forwarder) waitForConsumers(ctx context.Context) (eventstore.Position, error) {
	if f.Applied == nil {
		return eventstore.Start, nil
	}
	for {
		if p, ok := f.Applied(); ok {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return eventstore.Start, ctx.Err()
		case <-time.After(consumersPoll):
		}
	}
}

func (f *Forwarder) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}
