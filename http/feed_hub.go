package http

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/motcua/motcua/projections"
)

// feedHub is where the live feeds wait. One watcher per node looks at the public status view when
// it moves (and every feedPollInterval, for changes made through another node) and asks, in one
// query, for the versions of every dossier somebody watches; it wakes only the streams of the
// dossiers that moved. Each stream then reads its own dossier's status once. Before, every stream
// woke and read its dossier on every change of any dossier.
//
// The hub also keeps the count of open streams, per client address and in all, so that one
// address cannot hold the node's connections open (docs/security.md, "Rate limits").
type feedHub struct {
	db      *sql.DB
	updates Notifier // nil: poll only
	limits  Limits
	logger  *slog.Logger

	mu        sync.Mutex
	topics    map[string]*feedTopic // by dossier code
	perClient map[string]int
	open      int
	watching  bool
}

// feedTopic is one watched dossier.
type feedTopic struct {
	version uint64        // the latest version the hub saw
	changed chan struct{} // closed, and replaced, when the version moves
	streams int
}

var (
	errFeedClientStreams = errors.New("too many live feeds from this address")
	errFeedStreams       = errors.New("too many live feeds open")
)

func newFeedHub(db *sql.DB, updates Notifier, limits Limits, logger *slog.Logger) *feedHub {
	return &feedHub{db: db, updates: updates, limits: limits, logger: logger,
		topics: map[string]*feedTopic{}, perClient: map[string]int{}}
}

// join opens a stream of client on dossier code, whose status the stream has read at version;
// it refuses when the client or the node holds too many streams. leave undoes it.
func (h *feedHub) join(code, client string, version uint64) (leave func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.perClient[client] >= h.limits.FeedStreamsPerClient {
		return nil, errFeedClientStreams
	}
	if h.open >= h.limits.FeedStreams {
		return nil, errFeedStreams
	}
	h.perClient[client]++
	h.open++
	t := h.topics[code]
	if t == nil {
		t = &feedTopic{version: version, changed: make(chan struct{})}
		h.topics[code] = t
	}
	t.streams++
	if !h.watching {
		h.watching = true
		go h.watch()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.open--
			if h.perClient[client]--; h.perClient[client] == 0 {
				delete(h.perClient, client)
			}
			if t.streams--; t.streams == 0 {
				delete(h.topics, code)
			}
		})
	}, nil
}

// changed returns a channel closed once dossier code is past version (at once if it already is).
func (h *feedHub) changed(code string, version uint64) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[code]
	if t == nil || t.version > version {
		closed := make(chan struct{})
		close(closed)
		return closed
	}
	return t.changed
}

// watch runs while any stream is open.
func (h *feedHub) watch() {
	poll := time.NewTicker(feedPollInterval)
	defer poll.Stop()
	for {
		var advanced <-chan struct{} // taken before looking, so a change meanwhile still wakes us
		if h.updates != nil {
			advanced = h.updates.Advanced()
		}
		h.mu.Lock()
		codes := make([]string, 0, len(h.topics))
		for code := range h.topics {
			codes = append(codes, code)
		}
		if len(codes) == 0 {
			h.watching = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		h.look(codes)
		select {
		case <-advanced:
		case <-poll.C:
		}
	}
}

// look reads the versions of the watched dossiers and wakes the streams of those that moved.
func (h *feedHub) look(codes []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	versions, err := projections.PublicStatusVersions(ctx, h.db, codes)
	if err != nil {
		// The streams stay open and the next look tries again; a store outage must not end them.
		h.logger.Warn("live feed: read public status versions", "dossiers", len(codes), "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for code, v := range versions {
		if t := h.topics[code]; t != nil && v > t.version {
			t.version = v
			close(t.changed)
			t.changed = make(chan struct{})
		}
	}
}
