package province

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/shred"
)

// WriteBehind is the store a generation writes through, under the hash chain: the events of every
// stream still in use are kept in memory, so the use cases load a dossier (and the chain reads the
// hash it links to) without a query, and the appends go to the backend in the background — in
// order, one writer per share of the streams — while the next actions are decided. It is the
// generation's only writer on a store that starts empty: it alone knows each stream's version.
// Nothing else changes: each append reaches the backend as the use case made it, with the same
// expected version, through the backend's own Append.
type WriteBehind struct {
	inner   eventstore.Store
	mu      sync.Mutex
	streams map[string][]eventstore.RecordedEvent
	// forgotten holds the final version of the streams dropped from memory (Forget).
	forgotten map[string]uint64
	queues    []chan pending
	seed      maphash.Seed
	wg        sync.WaitGroup
	failed    atomic.Pointer[error]
	// appended and stored count events and the other writes (extra) queued and made.
	appended atomic.Int64
	stored   atomic.Int64
	extra    atomic.Int64
}

// pending is an append to make, or another write (do) to make in its turn.
type pending struct {
	stream   string
	expected eventstore.ExpectedVersion
	events   []eventstore.EventData
	do       func(context.Context) error
}

var _ eventstore.Store = (*WriteBehind)(nil)

// NewWriteBehind starts writers goroutines appending to inner. Call Close (or Flush) to wait for
// them; on a backend with one writer at a time (SQLite) more than one only queues.
func NewWriteBehind(ctx context.Context, inner eventstore.Store, writers int) *WriteBehind {
	w := &WriteBehind{inner: inner, streams: map[string][]eventstore.RecordedEvent{}, forgotten: map[string]uint64{}, seed: maphash.MakeSeed()}
	for range max(writers, 1) {
		q := make(chan pending, 4096)
		w.queues = append(w.queues, q)
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for p := range q {
				if w.failed.Load() != nil {
					continue
				}
				if p.do != nil {
					if err := p.do(ctx); err != nil {
						w.failed.CompareAndSwap(nil, &err)
					}
					w.stored.Add(1)
					continue
				}
				if _, err := inner.Append(ctx, p.stream, p.expected, p.events...); err != nil {
					err = fmt.Errorf("append to %s: %w", p.stream, err)
					w.failed.CompareAndSwap(nil, &err)
					continue
				}
				w.stored.Add(int64(len(p.events)))
			}
		}()
	}
	return w
}

// Err is the first error a background append met, if any: the generation must stop.
func (w *WriteBehind) Err() error {
	if err := w.failed.Load(); err != nil {
		return *err
	}
	return nil
}

// Appended is how many events were appended.
func (w *WriteBehind) Appended() int64 { return w.appended.Load() - w.extra.Load() }

// Stored is how many appended events the backend holds (a little less while other writes wait).
func (w *WriteBehind) Stored() int64 { return w.stored.Load() - w.extra.Load() }

// Append implements eventstore.Store: the expected version is checked against the stream in
// memory, the events are kept there and queued for the backend.
func (w *WriteBehind) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := w.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	w.mu.Lock()
	if _, gone := w.forgotten[stream]; gone {
		w.mu.Unlock()
		return eventstore.AppendResult{}, fmt.Errorf("province: append to %s, which was forgotten as finished", stream)
	}
	recorded := w.streams[stream]
	current := uint64(len(recorded))
	if !expected.Allows(current) {
		w.mu.Unlock()
		return eventstore.AppendResult{}, &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, Actual: current}
	}
	now := time.Now().UTC()
	for i, e := range events {
		// As a backend reads it back: times in UTC at microseconds (the chain cut them already).
		e.Metadata.OccurredAt = e.Metadata.OccurredAt.UTC()
		recorded = append(recorded, eventstore.RecordedEvent{EventData: e, Stream: stream, Version: current + uint64(i) + 1, RecordedAt: now})
	}
	w.streams[stream] = recorded
	w.mu.Unlock()
	w.appended.Add(int64(len(events)))
	q := w.queues[maphash.String(w.seed, stream)%uint64(len(w.queues))]
	select {
	case q <- pending{stream: stream, expected: eventstore.Exact(current), events: events}:
	case <-ctx.Done():
		return eventstore.AppendResult{}, ctx.Err()
	}
	return eventstore.AppendResult{Version: current + uint64(len(events))}, nil
}

// Enqueue has a writer make write in its turn, behind the appends queued for the streams sharing
// key's writer.
func (w *WriteBehind) Enqueue(ctx context.Context, key string, write func(context.Context) error) error {
	w.appended.Add(1)
	w.extra.Add(1)
	select {
	case w.queues[maphash.String(w.seed, key)%uint64(len(w.queues))] <- pending{do: write}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ReadStream implements eventstore.Store from memory; a stream not held is read from the backend
// once every queued append is stored.
func (w *WriteBehind) ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]eventstore.RecordedEvent, error) {
	w.mu.Lock()
	recorded, held := w.streams[stream]
	_, gone := w.forgotten[stream]
	w.mu.Unlock()
	if !held && !gone {
		return nil, nil // the store started empty: a stream not written does not exist
	}
	if gone {
		if err := w.Flush(ctx); err != nil {
			return nil, err
		}
		return w.inner.ReadStream(ctx, stream, fromVersion)
	}
	if fromVersion < 1 {
		fromVersion = 1
	}
	if fromVersion > uint64(len(recorded)) {
		return nil, nil
	}
	// A copy: the layers above open the events in place.
	return slices.Clone(recorded[fromVersion-1:]), nil
}

// Forget drops a finished stream from memory; it must not be appended to again.
func (w *WriteBehind) Forget(stream string) {
	w.mu.Lock()
	if recorded, ok := w.streams[stream]; ok {
		w.forgotten[stream] = uint64(len(recorded))
		delete(w.streams, stream)
	}
	w.mu.Unlock()
}

// Held is how many streams are in memory.
func (w *WriteBehind) Held() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.streams)
}

// Flush waits until every queued append is stored.
func (w *WriteBehind) Flush(ctx context.Context) error {
	for w.stored.Load() < w.appended.Load() {
		if err := w.Err(); err != nil {
			return err
		}
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return w.Err()
}

// ReadAll implements eventstore.Store: the backend's log, once every queued append is stored.
func (w *WriteBehind) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if err := w.Flush(ctx); err != nil {
		return nil, err
	}
	return w.inner.ReadAll(ctx, after, limit)
}

// Subscribe implements eventstore.Store on the backend.
func (w *WriteBehind) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.RecordedEvent) error) error {
	return w.inner.Subscribe(ctx, after, handle)
}

// Unwrap returns the backend (eventstore.Wrapper).
func (w *WriteBehind) Unwrap() eventstore.Store { return w.inner }

// Close stores every queued append and stops the writers; it leaves the backend open.
func (w *WriteBehind) Close() error {
	for _, q := range w.queues {
		close(q)
	}
	w.wg.Wait()
	return w.Err()
}

// CachedKeys is the generation's personal-data key store: it makes each applicant's key in memory
// and has it stored in the deployment's key table by the write-behind writers (SQLKeys.Put), so
// sealing and opening an applicant's data never waits for the database.
type CachedKeys struct {
	keys  *shred.SQLKeys
	store *WriteBehind
	mu    sync.Mutex
	bySub map[shred.Subject]shred.Key
	byID  map[string]shred.Key
}

var _ shred.KeyStore = (*CachedKeys)(nil)

// NewCachedKeys makes keys stored in keys through store's writers.
func NewCachedKeys(keys *shred.SQLKeys, store *WriteBehind) *CachedKeys {
	return &CachedKeys{keys: keys, store: store, bySub: map[shred.Subject]shred.Key{}, byID: map[string]shred.Key{}}
}

// KeyFor implements shred.KeyStore.
func (k *CachedKeys) KeyFor(ctx context.Context, subject shred.Subject) (shred.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.bySub[subject]; ok {
		return key, nil
	}
	key, err := shred.NewKey()
	if err != nil {
		return key, err
	}
	if err := k.store.Enqueue(ctx, string(subject), func(ctx context.Context) error { return k.keys.Put(ctx, subject, key) }); err != nil {
		return shred.Key{}, err
	}
	k.bySub[subject], k.byID[key.ID] = key, key
	return key, nil
}

// Key implements shred.KeyStore.
func (k *CachedKeys) Key(ctx context.Context, id string) (shred.Key, error) {
	k.mu.Lock()
	key, ok := k.byID[id]
	k.mu.Unlock()
	if ok {
		return key, nil
	}
	return k.keys.Key(ctx, id)
}

// Erase implements shred.KeyStore; a generation erases nobody.
func (k *CachedKeys) Erase(context.Context, shred.Subject) (bool, error) {
	return false, errors.New("province: a generation erases no applicant")
}
