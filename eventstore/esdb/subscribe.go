package esdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/motcua/motcua/eventstore"
)

// After a dropped subscription, Subscribe waits this long before resubscribing, doubling up to the
// maximum while attempts keep failing without delivering anything.
const (
	minResubscribeDelay = 100 * time.Millisecond
	maxResubscribeDelay = 5 * time.Second
)

// The server sends a checkpoint after every checkpointMultiplier × searchWindow records it filtered,
// so a subscription that skips many records (system events, other namespaces) still moves its
// resume position forward.
const (
	searchWindow         = 32
	checkpointMultiplier = 1
)

// stopError ends Subscribe with err instead of resubscribing.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }

// Subscribe calls handle for this store's events of $all after the given position, catching up
// then live, through one server-side filtered catch-up subscription. When the subscription drops
// (connection lost, server restarted, leader changed) it resubscribes from the last event delivered
// or the last checkpoint the server sent, whichever is later, so no event is lost or repeated.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.RecordedEvent) error) error {
	resume := after
	delay := minResubscribeDelay
	for {
		progressed, err := s.subscribeOnce(ctx, &resume, handle)
		if stop, ok := errors.AsType[stopError](err); ok {
			return stop.err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if isPermanent(err) {
			return fmt.Errorf("eventstore/esdb: subscribe after %s: %w", resume, err)
		}
		if progressed {
			delay = minResubscribeDelay
		}
		s.logger.Warn("subscription to $all dropped, resubscribing", "after", resume.String(), "delay", delay, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, maxResubscribeDelay)
	}
}

// subscribeOnce runs one subscription from *resume until it drops, moving *resume past every event
// it handles or skips and to every checkpoint. It reports whether *resume moved.
func (s *Store) subscribeOnce(ctx context.Context, resume *eventstore.Position, handle func(context.Context, eventstore.RecordedEvent) error) (progressed bool, err error) {
	subscription, err := s.client.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{
		From:               allPosition(*resume),
		Filter:             s.subscriptionFilter(),
		MaxSearchWindow:    searchWindow,
		CheckpointInterval: checkpointMultiplier,
	})
	if err != nil {
		return false, err
	}
	defer subscription.Close()
	for {
		message := subscription.Recv()
		switch {
		case message.SubscriptionDropped != nil:
			if message.SubscriptionDropped.Error == nil {
				return progressed, errors.New("subscription dropped")
			}
			return progressed, message.SubscriptionDropped.Error
		case message.CheckPointReached != nil:
			// The server has sent every matching event up to the checkpoint.
			if checkpoint := toPosition(*message.CheckPointReached); resume.Less(checkpoint) {
				*resume, progressed = checkpoint, true
			}
		case message.EventAppeared != nil:
			event := message.EventAppeared.OriginalEvent()
			position := toPosition(event.Position)
			if !resume.Less(position) {
				continue // at or before the resume position: delivered before a resubscription
			}
			if !s.owns(event) {
				*resume, progressed = position, true
				continue
			}
			recorded, err := s.recordedEvent(event)
			if err != nil {
				return progressed, stopError{fmt.Errorf("eventstore/esdb: subscribe: %w", err)}
			}
			if err := ctx.Err(); err != nil {
				return progressed, err
			}
			if err := handle(ctx, recorded); err != nil {
				return progressed, stopError{err}
			}
			*resume, progressed = position, true
		}
	}
}

// subscriptionFilter keeps system events out of a subscription on the server: with a namespace,
// only streams with its prefix (system streams start with '$'); without one, only event types that
// do not start with '$'. owns drops what slips through (a '$' type in a namespace stream, a
// non-'$' type in a '$' stream).
func (s *Store) subscriptionFilter() *esdb.SubscriptionFilter {
	if s.prefix != "" {
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{s.prefix}}
	}
	return esdb.ExcludeSystemEventsFilter()
}

// isPermanent reports whether resubscribing cannot help: the store is closed, the credentials or
// rights are wrong, or the server does not support the request.
func isPermanent(err error) bool {
	if esdbErr, ok := errors.AsType[*esdb.Error](err); ok {
		switch esdbErr.Code() {
		case esdb.ErrorCodeConnectionClosed, esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnsupportedFeature:
			return true
		}
	}
	if grpcStatus, ok := status.FromError(err); ok {
		switch grpcStatus.Code() {
		case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.Unimplemented:
			return true
		}
	}
	return false
}
