package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/motcua/motcua/eventstore"
)

// readWholeStream is the count that reads a stream to its end, the same the .NET client sends.
const readWholeStream = math.MaxInt64

// ReadAll reads $all pages of at most this many records; system events and other namespaces'
// events are dropped from a page, so ReadAll may read several pages to fill its limit.
const (
	minReadAllPage = 64
	maxReadAllPage = 4096
)

// ReadStream returns the events of stream from fromVersion on (the server's revision fromVersion-1).
func (s *Store) ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]eventstore.RecordedEvent, error) {
	if err := validateStreamName(stream); err != nil {
		return nil, fmt.Errorf("eventstore/esdb: read stream %q: %w", stream, err)
	}
	var from esdb.StreamPosition = esdb.Start{}
	if fromVersion > 1 {
		from = esdb.Revision(fromVersion - 1)
	}
	events, err := s.readServerStream(ctx, s.serverStream(stream), from, readWholeStream)
	if err != nil {
		return nil, fmt.Errorf("eventstore/esdb: read stream %q: %w", stream, err)
	}
	recorded := make([]eventstore.RecordedEvent, len(events))
	for i, event := range events {
		if recorded[i], err = s.recordedEvent(event); err != nil {
			return nil, fmt.Errorf("eventstore/esdb: read stream %q: %w", stream, err)
		}
	}
	return recorded, nil
}

// readServerStream reads up to count events of a stream by its server name. A stream that does
// not exist reads as empty.
func (s *Store) readServerStream(ctx context.Context, name string, from esdb.StreamPosition, count uint64) ([]*esdb.RecordedEvent, error) {
	read, err := s.client.ReadStream(ctx, name, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: from}, count)
	if err != nil {
		return nil, err
	}
	events, err := drain(read)
	if esdbErr, ok := errors.AsType[*esdb.Error](err); ok && esdbErr.IsErrorCode(esdb.ErrorCodeResourceNotFound) {
		return nil, nil
	}
	return events, err
}

// drain receives every event of a read, then closes it.
func drain(read *esdb.ReadStream) ([]*esdb.RecordedEvent, error) {
	defer read.Close()
	var events []*esdb.RecordedEvent
	for {
		resolved, err := read.Recv()
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return nil, err
		}
		events = append(events, resolved.OriginalEvent())
	}
}

// ReadAll returns up to limit of this store's events after the given position of $all.
//
// The v4 client cannot pass a filter to a read of $all (only to subscriptions), so system events and
// other namespaces' events are read and dropped here.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("eventstore/esdb: read all: limit %d is not positive", limit)
	}
	page := uint64(min(max(limit+1, minReadAllPage), maxReadAllPage))
	var recorded []eventstore.RecordedEvent
	for from := after; ; {
		events, err := s.readAllPage(ctx, from, page)
		if err != nil {
			return nil, fmt.Errorf("eventstore/esdb: read all after %s: %w", after, err)
		}
		for _, event := range events {
			position := toPosition(event.Position)
			// Reads of $all start at the given position inclusive; the contract starts after it.
			if !from.Less(position) {
				continue
			}
			from = position
			if !s.owns(event) {
				continue
			}
			decoded, err := s.recordedEvent(event)
			if err != nil {
				return nil, fmt.Errorf("eventstore/esdb: read all after %s: %w", after, err)
			}
			recorded = append(recorded, decoded)
			if len(recorded) == limit {
				return recorded, nil
			}
		}
		if uint64(len(events)) < page {
			return recorded, nil // the end of $all
		}
	}
}

func (s *Store) readAllPage(ctx context.Context, from eventstore.Position, count uint64) ([]*esdb.RecordedEvent, error) {
	read, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: allPosition(from)}, count)
	if err != nil {
		return nil, err
	}
	return drain(read)
}

// allPosition is where a read or subscription of $all starts for our position.
func allPosition(p eventstore.Position) esdb.AllPosition {
	if p == eventstore.Start {
		return esdb.Start{}
	}
	return esdb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

func toPosition(p esdb.Position) eventstore.Position {
	return eventstore.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// recordedEvent decodes an event of this store: the server's 0-based revision becomes our 1-based
// version, the user metadata our Metadata, the server's creation time RecordedAt.
func (s *Store) recordedEvent(event *esdb.RecordedEvent) (eventstore.RecordedEvent, error) {
	var metadata eventstore.Metadata
	if len(event.UserMetadata) > 0 {
		if err := eventstore.DecodeMetadata(event.UserMetadata, &metadata); err != nil {
			return eventstore.RecordedEvent{}, fmt.Errorf("event %s (%s revision %d): metadata: %w", event.EventID, event.StreamID, event.EventNumber, err)
		}
	}
	return eventstore.RecordedEvent{
		EventData: eventstore.EventData{
			ID:       event.EventID,
			Type:     event.EventType,
			Data:     event.Data,
			Metadata: metadata,
		},
		Stream:     strings.TrimPrefix(event.StreamID, s.prefix),
		Version:    event.EventNumber + 1,
		Position:   toPosition(event.Position),
		RecordedAt: event.CreatedDate,
	}, nil
}
