package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/motcua/motcua/engine"
	mhttp "github.com/motcua/motcua/http"
)

// publicStatusChannel is the PostgreSQL LISTEN/NOTIFY channel on which the node that runs the
// public status view says it moved, so that the live feeds of every node look at once.
const publicStatusChannel = "motcua_public_status"

// feedFanOut wakes this node's live feeds when the public status view moves, wherever it moved:
// here (the local runner advances) or on the node that runs it (a notification). Without it a
// feed on a node that does not run the view saw a change only at its next poll, up to a second
// later. The feeds' hub then reads, in one query, the versions of the dossiers watched here and
// wakes only the streams of those that moved.
type feedFanOut struct {
	dsn    string
	local  mhttp.Notifier
	logger *slog.Logger

	mu      sync.Mutex
	changed chan struct{}
}

func newFeedFanOut(dsn string, local mhttp.Notifier, logger *slog.Logger) *feedFanOut {
	return &feedFanOut{dsn: dsn, local: local, logger: logger, changed: make(chan struct{})}
}

// Advanced returns a channel closed the next time the view moves, here or on another node.
func (f *feedFanOut) Advanced() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *feedFanOut) wake() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.changed)
	f.changed = make(chan struct{})
}

// run tells the other nodes when the view moves here, and listens for their word, until ctx ends.
func (f *feedFanOut) run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { f.listen(ctx) })
	defer wg.Wait()
	pause := openRetryFirst
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, f.dsn)
		if err != nil {
			f.logger.Debug("live feed fan-out: cannot connect; trying again", "in", pause, "error", err)
			if !sleep(ctx, pause) {
				return nil
			}
			pause = min(2*pause, openRetryMax)
			continue
		}
		pause = openRetryFirst
		err = f.tell(ctx, conn)
		conn.Close(context.WithoutCancel(ctx))
		if ctx.Err() == nil {
			f.logger.Debug("live feed fan-out: lost the connection; reconnecting", "error", err)
		}
	}
	return nil
}

// tell notifies the other nodes each time the local runner moves (at most one notification per
// batch the runner applied), until conn fails or ctx ends.
func (f *feedFanOut) tell(ctx context.Context, conn *pgx.Conn) error {
	for {
		advanced := f.local.Advanced()
		select {
		case <-ctx.Done():
			return nil
		case <-advanced:
		}
		f.wake()
		if _, err := conn.Exec(ctx, `SELECT pg_notify($1, '')`, publicStatusChannel); err != nil {
			return err
		}
	}
}

// listen wakes the feeds on each notification, reconnecting with backoff, until ctx ends. The
// node's own notifications come back too: a spare look.
func (f *feedFanOut) listen(ctx context.Context) {
	pause := openRetryFirst
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, f.dsn)
		if err == nil {
			_, err = conn.Exec(ctx, `LISTEN `+publicStatusChannel)
			if err == nil {
				pause = openRetryFirst
				f.wake() // changes while not listening
				for err == nil {
					_, err = conn.WaitForNotification(ctx)
					if err == nil {
						f.wake()
					}
				}
			}
			conn.Close(context.WithoutCancel(ctx))
		}
		if ctx.Err() != nil {
			return
		}
		f.logger.Debug("live feed fan-out: not listening; trying again", "in", pause, "error", err)
		if !sleep(ctx, pause) {
			return
		}
		pause = min(2*pause, openRetryMax)
	}
}

// sleep waits d or until ctx ends, and reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// liveFeedUpdates is what wakes the live feeds: on PostgreSQL the fan-out across the nodes (run
// it), elsewhere the local runner of the public status view alone.
func liveFeedUpdates(d *deployment, dsn string, local mhttp.Notifier, logger *slog.Logger) (mhttp.Notifier, *feedFanOut) {
	if d.Dialect() != engine.PostgreSQL {
		return local, nil
	}
	f := newFeedFanOut(dsn, local, logger)
	return f, f
}
