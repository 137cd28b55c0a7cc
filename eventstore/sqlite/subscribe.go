package sqlite

import (
	"context"
	"sync"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// Subscribe implements eventstore.Store. It pages through the log from after (catch-up), then waits
// for this process's next commit, or the poll interval for other processes' commits, and reads on.
// Live delivery is the same read as catch-up, so there is no hand-over where an event could be
// missed or delivered twice.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.RecordedEvent) error) error {
	poll := time.NewTicker(s.pollInterval)
	defer poll.Stop()
	position := after
	for {
		// Taken before reading: a commit that lands after the read still wakes this wait.
		committed := s.committed.wait()
		page, err := s.ReadAll(ctx, position, catchUpPageSize)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		for _, event := range page {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := handle(ctx, event); err != nil {
				return err
			}
			position = event.Position
		}
		if len(page) == catchUpPageSize {
			continue // more is stored already
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-committed:
		case <-poll.C:
		}
	}
}

// broadcast wakes every waiter at once: wait returns a channel that notify closes.
type broadcast struct {
	mu      sync.Mutex
	changed chan struct{}
}

func (b *broadcast) init() { b.changed = make(chan struct{}) }

func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

func (b *broadcast) notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.changed)
	b.changed = make(chan struct{})
}
