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
	"github.com/motcua/motcua/eventstore/sqlite"
)

// A generation writes through the deployment's decorators (cmd/motcua/wiring) with two layers of
// its own, so that 10 million events take minutes, not hours:
//
//	Recall      over the sealed store: the use cases read back the dossiers they wrote from memory
//	sealed      shred, with CachedKeys: each applicant's key is made once, in memory
//	chained     chain: every event linked to its predecessor, as always
//	WriteBehind under the chain: appends go to the backend in the background, many per
//	            transaction on SQLite; the chain's read of a stream's last event is served from memory
//	stored      the backend
//
// Every event reaches the backend exactly as the use case, the seal and the chain made it.

// WriteBehind is the backend as the chain sees it during a generation: the generation's only writer
// on a store that starts empty, so it alone knows each stream's version. It keeps each stream's last
// event (the chain links the next one to it) and queues the appends for background writers — one
// per share of the streams, each stream's appends in order.
type WriteBehind struct {
	inner   eventstore.Store
	batcher *sqlite.Store // appends many per transaction when the backend is SQLite
	keys    *shred.SQLKeys
	mu      sync.Mutex
	last    map[string]eventstore.RecordedEvent
	// forgotten holds the final version of the streams dropped from memory (Forget).
	forgotten map[string]uint64
	queues    []chan pending
	seed      maphash.Seed
	wg        sync.WaitGroup
	failed    atomic.Pointer[error]
	appended  atomic.Int64
	stored    atomic.Int64
	batches   atomic.Int64
}

// Batches is how many transactions the writers made.
func (w *WriteBehind) Batches() int64 { return w.batches.Load() }

// pending is an append to make, or a key to store.
type pending struct {
	append sqlite.StreamAppend
	key    *shred.SubjectKey
}

// maxBatch bounds the appends a writer makes in one transaction; gatherFor is how long it waits
// for them.
const (
	maxBatch  = 4096
	gatherFor = 50 * time.Millisecond
)

var _ eventstore.Store = (*WriteBehind)(nil)

// NewWriteBehind starts writers goroutines appending to inner and storing keys in keys. Call Close
// to wait for them; on a backend with one writer at a time (SQLite) more than one only queues.
func NewWriteBehind(ctx context.Context, inner eventstore.Store, keys *shred.SQLKeys, writers int) *WriteBehind {
	w := &WriteBehind{inner: inner, keys: keys, last: map[string]eventstore.RecordedEvent{}, forgotten: map[string]uint64{}, seed: maphash.MakeSeed()}
	w.batcher, _ = inner.(*sqlite.Store)
	for range max(writers, 1) {
		q := make(chan pending, 4*maxBatch)
		w.queues = append(w.queues, q)
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.write(ctx, q)
		}()
	}
	return w
}

// write stores what q brings, as many appends per transaction as are waiting (up to maxBatch).
func (w *WriteBehind) write(ctx context.Context, q chan pending) {
	var appends []sqlite.StreamAppend
	var keys []shred.SubjectKey
	for p := range q {
		appends, keys = appends[:0], keys[:0]
		take := func(p pending) {
			if p.key != nil {
				keys = append(keys, *p.key)
			} else {
				appends = append(appends, p.append)
			}
		}
		take(p)
		// A commit costs SQLite about as much as a hundred appends: wait a moment for a batch
		// worth one while the generation decides the next actions.
		gather := time.NewTimer(gatherFor)
	drain:
		for len(appends)+len(keys) < maxBatch {
			select {
			case p, ok := <-q:
				if !ok {
					break drain
				}
				take(p)
			case <-gather.C:
				break drain
			}
		}
		gather.Stop()
		if w.failed.Load() != nil {
			continue
		}
		if err := w.store(ctx, appends, keys); err != nil {
			w.failed.CompareAndSwap(nil, &err)
			continue
		}
		for _, a := range appends {
			w.stored.Add(int64(len(a.Events)))
		}
		w.batches.Add(1)
	}
}

// store makes the appends and stores the keys: the keys first, so that no stored event is sealed
// under a key the table lacks.
func (w *WriteBehind) store(ctx context.Context, appends []sqlite.StreamAppend, keys []shred.SubjectKey) error {
	if len(keys) > 0 {
		if err := w.keys.Put(ctx, keys); err != nil {
			return err
		}
	}
	if w.batcher != nil && len(appends) > 0 {
		return w.batcher.AppendBatch(ctx, appends)
	}
	for _, a := range appends {
		if _, err := w.inner.Append(ctx, a.Stream, a.Expected, a.Events...); err != nil {
			return fmt.Errorf("append to %s: %w", a.Stream, err)
		}
	}
	return nil
}

// Err is the first error a background write met, if any: the generation must stop.
func (w *WriteBehind) Err() error {
	if err := w.failed.Load(); err != nil {
		return *err
	}
	return nil
}

// Appended is how many events were appended.
func (w *WriteBehind) Appended() int64 { return w.appended.Load() }

// Stored is how many appended events the backend holds.
func (w *WriteBehind) Stored() int64 { return w.stored.Load() }

func (w *WriteBehind) queue(ctx context.Context, key string, p pending) error {
	select {
	case w.queues[maphash.String(w.seed, key)%uint64(len(w.queues))] <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Append implements eventstore.Store: the expected version is checked against the stream in
// memory, and the append is queued for the backend.
func (w *WriteBehind) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := w.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	w.mu.Lock()
	if _, gone := w.forgotten[stream]; gone {
		w.mu.Unlock()
		return eventstore.AppendResult{}, fmt.Errorf("province: append to %s, which was forgotten as finished", stream)
	}
	current := w.last[stream].Version
	if !expected.Allows(current) {
		w.mu.Unlock()
		return eventstore.AppendResult{}, &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, Actual: current}
	}
	last := events[len(events)-1]
	// As a backend reads it back: the time in UTC (the chain cut it to microseconds already).
	last.Metadata.OccurredAt = last.Metadata.OccurredAt.UTC()
	w.last[stream] = eventstore.RecordedEvent{EventData: last, Stream: stream, Version: current + uint64(len(events)), RecordedAt: time.Now().UTC()}
	w.mu.Unlock()
	w.appended.Add(int64(len(events)))
	if err := w.queue(ctx, stream, pending{append: sqlite.StreamAppend{Stream: stream, Expected: eventstore.Exact(current), Events: events}}); err != nil {
		return eventstore.AppendResult{}, err
	}
	return eventstore.AppendResult{Version: current + uint64(len(events))}, nil
}

// ReadStream implements eventstore.Store: a stream's last event from memory (what the chain reads),
// anything else from the backend once every queued append is stored.
func (w *WriteBehind) ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]eventstore.RecordedEvent, error) {
	w.mu.Lock()
	last, held := w.last[stream]
	_, gone := w.forgotten[stream]
	w.mu.Unlock()
	switch {
	case held && fromVersion == last.Version:
		return []eventstore.RecordedEvent{last}, nil
	case held && fromVersion > last.Version:
		return nil, nil
	case !held && !gone:
		return nil, nil // the store started empty: a stream not written does not exist
	}
	if err := w.Flush(ctx); err != nil {
		return nil, err
	}
	return w.inner.ReadStream(ctx, stream, fromVersion)
}

// Forget drops a finished stream from memory; it must not be appended to again.
func (w *WriteBehind) Forget(stream string) {
	w.mu.Lock()
	if last, ok := w.last[stream]; ok {
		w.forgotten[stream] = last.Version
		delete(w.last, stream)
	}
	w.mu.Unlock()
}

// Held is how many streams are in memory.
func (w *WriteBehind) Held() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.last)
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

// Close stores every queued write and stops the writers; it leaves the backend open.
func (w *WriteBehind) Close() error {
	for _, q := range w.queues {
		close(q)
	}
	w.wg.Wait()
	return w.Err()
}

// Recall is the sealed store as the use cases see it during a generation: each dossier they append
// to is kept in memory as they appended it, so loading it again (every action loads its dossier)
// neither reads the backend nor opens its seal. It holds what a read would give the use cases,
// without what none of them reads: the chain's link and the position in the log.
type Recall struct {
	inner   eventstore.Store
	mu      sync.Mutex
	streams map[string][]eventstore.RecordedEvent
}

var _ eventstore.Store = (*Recall)(nil)

// NewRecall keeps in memory what is appended through it to inner.
func NewRecall(inner eventstore.Store) *Recall {
	return &Recall{inner: inner, streams: map[string][]eventstore.RecordedEvent{}}
}

// Append implements eventstore.Store.
func (r *Recall) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	res, err := r.inner.Append(ctx, stream, expected, events...)
	if err != nil {
		return res, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	recorded := r.streams[stream]
	if uint64(len(recorded))+uint64(len(events)) != res.Version {
		// Appended to a stream this generation did not begin: leave it to the backend.
		delete(r.streams, stream)
		return res, nil
	}
	for i, e := range events {
		e.Metadata.OccurredAt = e.Metadata.OccurredAt.UTC().Truncate(time.Microsecond)
		recorded = append(recorded, eventstore.RecordedEvent{EventData: e, Stream: stream, Version: res.Version - uint64(len(events)) + uint64(i) + 1})
	}
	r.streams[stream] = recorded
	return res, nil
}

// ReadStream implements eventstore.Store.
func (r *Recall) ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]eventstore.RecordedEvent, error) {
	r.mu.Lock()
	recorded, held := r.streams[stream]
	r.mu.Unlock()
	if !held {
		return r.inner.ReadStream(ctx, stream, fromVersion)
	}
	fromVersion = max(fromVersion, 1)
	if fromVersion > uint64(len(recorded)) {
		return nil, nil
	}
	// A copy: callers may change what they read.
	return slices.Clone(recorded[fromVersion-1:]), nil
}

// Forget drops a stream from memory.
func (r *Recall) Forget(stream string) {
	r.mu.Lock()
	delete(r.streams, stream)
	r.mu.Unlock()
}

// ReadAll implements eventstore.Store.
func (r *Recall) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	return r.inner.ReadAll(ctx, after, limit)
}

// Subscribe implements eventstore.Store.
func (r *Recall) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.RecordedEvent) error) error {
	return r.inner.Subscribe(ctx, after, handle)
}

// Unwrap returns the sealed store (eventstore.Wrapper).
func (r *Recall) Unwrap() eventstore.Store { return r.inner }

// Close implements eventstore.Store.
func (r *Recall) Close() error { return r.inner.Close() }

// CachedKeys is the generation's personal-data key store: it makes each applicant's key in memory
// and has the write-behind writers store it in the deployment's key table (SQLKeys.Put), so sealing
// and opening an applicant's data never waits for the database.
type CachedKeys struct {
	keys  *shred.SQLKeys
	store *WriteBehind
	mu    sync.Mutex
	bySub map[shred.Subject]shred.Key
	byID  map[string]shred.Key
}

var _ shred.KeyStore = (*CachedKeys)(nil)

// NewCachedKeys makes keys that store's writers store in keys.
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
	if err := k.store.queue(ctx, string(subject), pending{key: &shred.SubjectKey{Subject: subject, Key: key}}); err != nil {
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
