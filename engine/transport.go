package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// Transport is the watermill pub/sub that carries events from the forwarder to the runners.
type Transport struct {
	// Kind names the backend: "gochannel", "postgres" or "nats".
	Kind      string
	Publisher message.Publisher
	// Durable reports whether published messages outlive this process (a database or a broker
	// keeps them): the forwarder then keeps a checkpoint of its own, and may run in another process
	// than the runners.
	Durable bool

	newSubscriber func(group string) (message.Subscriber, error)
	prune         func(ctx context.Context, topic string) (int64, error)
	closers       []func() error
}

// Prune deletes the messages of topic that every consumer group has acknowledged, on transports
// that keep them until told (PostgreSQL); others keep their own retention, and Prune does nothing.
// It returns how many messages it deleted. A consumer group that later finds a message gone reads
// the event from the store, as it does for any gap.
func (t *Transport) Prune(ctx context.Context, topic string) (int64, error) {
	if t.prune == nil {
		return 0, nil
	}
	return t.prune(ctx, topic)
}

// Subscriber returns a subscriber for one consumer group. Every group receives every message; a
// projection is one group, so the nodes running it share its messages.
func (t *Transport) Subscriber(group string) (message.Subscriber, error) {
	return t.newSubscriber(group)
}

// Close releases the transport's connections.
func (t *Transport) Close() error {
	var errs []error
	for i := len(t.closers) - 1; i >= 0; i-- {
		errs = append(errs, t.closers[i]())
	}
	return errors.Join(errs...)
}

// NewGoChannelTransport is the embedded default: an in-process channel. Messages live only in
// memory, so the forwarder runs in the same process and, after a restart, starts again from the
// slowest projection's checkpoint.
func NewGoChannelTransport(logger *slog.Logger) *Transport {
	// Publish returns at once and each message travels on its own goroutine, so deliveries arrive in
	// any order; runners put them back in log order. Blocking publishes until every subscriber acked
	// would keep the order but allow one event in flight across all projections, and no batching.
	channel := gochannel.NewGoChannel(gochannel.Config{}, watermillLogger(logger))
	return &Transport{
		Kind:          "gochannel",
		Publisher:     channel,
		newSubscriber: func(string) (message.Subscriber, error) { return channel, nil },
		closers:       []func() error{channel.Close},
	}
}

// OpenTransport opens the transport named by url:
//
//	"" or "gochannel"            the in-process channel (default)
//	postgres://… or postgresql://…  watermill-sql tables in that PostgreSQL database
//	nats://…                     NATS JetStream
func OpenTransport(ctx context.Context, url string, logger *slog.Logger) (*Transport, error) {
	switch {
	case url == "" || url == "gochannel":
		return NewGoChannelTransport(logger), nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return NewPostgresTransport(ctx, url, logger)
	case strings.HasPrefix(url, "nats://"):
		return NewNATSTransport(ctx, url, logger)
	}
	return nil, fmt.Errorf("transport %q: expected gochannel, postgres://… or nats://…", url)
}

// watermillLogger logs watermill's chatter (handlers starting, subscribers closing) at debug level
// and its errors as errors.
func watermillLogger(logger *slog.Logger) watermill.LoggerAdapter {
	if logger == nil {
		logger = slog.Default()
	}
	return watermill.NewSlogLoggerWithLevelMapping(logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
}
