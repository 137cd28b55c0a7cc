package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/motcua/motcua/eventstore"
)

const (
	// notifySpacing is the least time between two NOTIFYs from one store: under load many appends
	// share one notification instead of each paying for a transaction of its own.
	notifySpacing = 10 * time.Millisecond
	// retryBackoffMin and retryBackoffMax bound the wait before reading again after an error (the
	// database restarting, a dropped connection) or while committed events wait behind the horizon.
	retryBackoffMin = time.Millisecond
	retryBackoffMax = 2 * time.Second
	// listenerApplicationName names the LISTEN connection in pg_stat_activity.
	listenerApplicationName = "motcua-eventstore-listener"
)

var errStoreClosed = errors.New("postgres: the event store is closed")

// Subscribe implements eventstore.Store. It reads the log in pages from after, and once caught up
// waits for a notification that events were committed — from this process directly, from others
// by LISTEN/NOTIFY — or for the poll interval. Database errors are logged and retried, so a dropped
// connection or a database restart only delays delivery; the position only moves past an event once
// handle has accepted it, so nothing is lost or repeated.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.RecordedEvent) error) error {
	s.startListener()
	s.subscriptions.Add(1)
	defer s.subscriptions.Add(-1)
	position := after
	backoff := newBackoff()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		woken := s.committed.wait() // before reading, so a commit during the read is not missed
		page, err := s.ReadAll(ctx, position, s.pageSize)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if s.background.Err() != nil {
				return errStoreClosed
			}
			s.logger.Warn("event store subscription: read failed, retrying", "after", position, "error", err)
			if err := sleep(ctx, backoff.next()); err != nil {
				return err
			}
			continue
		}
		for _, event := range page {
			if err := handle(ctx, event); err != nil {
				return err
			}
			position = event.Position
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if len(page) == s.pageSize {
			backoff.reset()
			continue
		}
		// Caught up with the safe horizon. Committed events beyond it are waiting for an older
		// transaction, which may not notify when it ends (a read model's, say): look again soon.
		wait := s.pollInterval
		if pending, err := s.Pending(ctx, position); err != nil || pending {
			wait = min(backoff.next(), s.pollInterval)
		} else {
			backoff.reset()
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-woken:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// notifyLoop tells other processes' subscriptions about this process's appends, after they commit.
// NOTIFY inside the append's own transaction would be simpler, but PostgreSQL serialises the
// commits of notifying transactions on one lock held through the WAL flush, which defeats group
// commit and caps appends at a few hundred a second (measured; see docs/eventstore.md). A lost
// notification (this process dying right after a commit) only delays others until they poll.
func (s *Store) notifyLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.notify:
		}
		// The notifying transaction commits asynchronously: it carries no data, only a wake-up.
		_, err := s.pool.Exec(ctx, "SELECT pg_notify($1, ''), set_config('synchronous_commit', 'off', true)", notifyChannel)
		if err != nil && ctx.Err() == nil {
			s.logger.Warn("event store: notify subscribers", "error", err)
		}
		if sleep(ctx, notifySpacing) != nil {
			return
		}
	}
}

// startListener starts, once, the goroutine that LISTENs for other processes' appends.
func (s *Store) startListener() {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if s.listened || s.closed {
		return
	}
	s.listened = true
	s.done.Go(func() { s.listen(s.background) })
}

// listen keeps one connection LISTENing and wakes subscriptions on every notification. After the
// connection drops it reconnects, with backoff, and wakes them once more: notifications sent while
// it was away are lost, but the subscriptions find their events by reading.
func (s *Store) listen(ctx context.Context) {
	backoff := newBackoff()
	for {
		err := s.listenOnce(ctx, backoff)
		if ctx.Err() != nil {
			return
		}
		s.logger.Warn("event store: LISTEN connection lost, reconnecting", "error", err)
		if sleep(ctx, backoff.next()) != nil {
			return
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, backoff *backoff) error {
	config := s.pool.Config().ConnConfig.Copy()
	config.RuntimeParams["application_name"] = listenerApplicationName
	conn, err := pgx.ConnectConfig(ctx, config)
	if err != nil {
		return err
	}
	defer func() {
		// Closing says goodbye to the server, which may be gone: do not wait long for it.
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	backoff.reset()
	s.committed.broadcast() // whatever was committed while not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.committed.broadcast()
	}
}

// backoff doubles a wait from retryBackoffMin up to retryBackoffMax.
type backoff struct{ current time.Duration }

func newBackoff() *backoff { return &backoff{} }

func (b *backoff) next() time.Duration {
	b.current = min(max(2*b.current, retryBackoffMin), retryBackoffMax)
	return b.current
}

func (b *backoff) reset() { b.current = 0 }

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
