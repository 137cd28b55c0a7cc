package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// natsRetention is how long the JetStream streams keep messages. Runners catch up from the event
// store, never from the stream, so the stream only needs to cover deliveries in flight.
const natsRetention = 24 * time.Hour

// NewNATSTransport carries messages on NATS JetStream at url. Each topic is a stream named after it
// (dots become underscores), created here if missing; each consumer group is a durable queue
// consumer. Messages are published with the event id as Nats-Msg-Id, so JetStream drops an event
// the forwarder republishes within its duplicate window.
func NewNATSTransport(ctx context.Context, url string, logger *slog.Logger) (*Transport, error) {
	conn, err := nats.Connect(url, nats.Name("motcua"))
	if err != nil {
		return nil, fmt.Errorf("nats transport: %w", err)
	}
	js, err := conn.JetStream(nats.Context(ctx))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("nats transport: %w", err)
	}
	for _, topic := range []string{DefaultTopic, DefaultTopic + poisonSuffix} {
		if err := ensureNATSStream(js, topic); err != nil {
			conn.Close()
			return nil, fmt.Errorf("nats transport: stream for %s: %w", topic, err)
		}
	}
	wmLogger := watermillLogger(logger)
	publisher, err := wnats.NewPublisherWithNatsConn(conn, wnats.PublisherPublishConfig{
		Marshaler:         &wnats.NATSMarshaler{},
		SubjectCalculator: wnats.DefaultSubjectCalculator,
		JetStream:         wnats.JetStreamConfig{TrackMsgId: true},
	}, wmLogger)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("nats transport: %w", err)
	}
	t := &Transport{Kind: "nats", Publisher: publisher, Durable: true}
	t.newSubscriber = func(group string) (message.Subscriber, error) {
		subscriber, err := wnats.NewSubscriber(wnats.SubscriberConfig{
			URL:              url,
			QueueGroupPrefix: group,
			SubscribersCount: 1,
			AckWaitTimeout:   30 * time.Second,
			CloseTimeout:     5 * time.Second,
			Unmarshaler:      &wnats.NATSMarshaler{},
			NatsOptions:      []nats.Option{nats.Name("motcua-" + group)},
			JetStream: wnats.JetStreamConfig{
				DurablePrefix: group,
				// Only what is published from now on: a runner reads what came before from the
				// store, which keeps everything; the stream may have dropped it.
				SubscribeOptions: []nats.SubOpt{nats.DeliverNew(), nats.AckExplicit()},
			},
		}, wmLogger)
		if err != nil {
			return nil, err
		}
		t.closers = append(t.closers, subscriber.Close)
		return subscriber, nil
	}
	t.closers = append(t.closers, func() error { conn.Close(); return nil })
	return t, nil
}

// natsStreamName turns a topic into a valid stream name (stream names may not contain dots).
func natsStreamName(topic string) string { return strings.ReplaceAll(topic, ".", "_") }

func ensureNATSStream(js nats.JetStreamContext, topic string) error {
	config := &nats.StreamConfig{
		Name:       natsStreamName(topic),
		Subjects:   []string{topic},
		Storage:    nats.FileStorage,
		MaxAge:     natsRetention,
		Duplicates: 2 * time.Minute,
	}
	_, err := js.StreamInfo(config.Name)
	if errors.Is(err, nats.ErrStreamNotFound) {
		_, err = js.AddStream(config)
	}
	return err
}
