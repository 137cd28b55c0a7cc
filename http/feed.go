package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/projections"
)

// Notifier tells the live feed that a read model has moved on: Advanced returns a channel closed
// the next time it does (engine.Runner implements it).
type Notifier interface {
	Advanced() <-chan struct{}
}

const (
	// feedPollInterval is how often the feed hub looks at the public status even without a
	// notification: the view may be updated by another node.
	feedPollInterval = time.Second
	// feedHeartbeat keeps idle connections open through proxies.
	feedHeartbeat = 15 * time.Second
	// feedMaxDuration ends a stream after a while; clients reconnect with Last-Event-ID, which
	// spreads long-lived connections over the nodes and re-applies the rate limit.
	feedMaxDuration = 30 * time.Minute
)

// publicStatusEvents: GET /api/v1/public/dossiers/{code}/events — server-sent events of the
// dossier's public progress: one at once, then one each time it changes. The event id is the
// dossier's version; a client reconnecting with Last-Event-ID gets only what is newer. Like the
// lookup without the receipt's secret it carries no personal data, not even the masked name, and
// nothing about what the dossier is (publicProgress).
func (s *Server) publicStatusEvents(w http.ResponseWriter, r *http.Request) {
	status, ok := s.lookupPublic(w, r)
	if !ok {
		return
	}
	leave, err := s.feeds.join(status.Code, clientKey(r), status.Version)
	if err != nil {
		s.refuseFeed(w, r, err)
		return
	}
	defer leave()
	var sent uint64
	if last, err := strconv.ParseUint(strings.TrimSpace(r.Header.Get("Last-Event-ID")), 10, 64); err == nil {
		sent = last
	}
	stepsSent := -1 // unknown after a reconnection: send the whole timeline once

	rc := http.NewResponseController(w)
	// A stream outlives the server's read and write timeouts; heartbeats find dead clients instead.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events through at once
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}

	heartbeat := time.NewTicker(feedHeartbeat)
	defer heartbeat.Stop()
	end := time.NewTimer(feedMaxDuration)
	defer end.Stop()
	for {
		if status.Version > sent {
			if err := writeStatusChange(w, status, stepsSent); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			sent, stepsSent = status.Version, len(status.Steps)
		}
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			continue
		case <-s.feeds.changed(status.Code, status.Version):
		}
		next, err := s.publicLookup.Status(r.Context(), status.Code, s.now())
		switch {
		case err == nil:
			status = next
		case r.Context().Err() != nil:
			return
		case httpkit.StoreUnavailable(err):
			// The store is restarting: keep the stream and look again in a moment.
			s.logger.WarnContext(r.Context(), "live feed: store unavailable", "code", status.Code, "err", err)
			select {
			case <-r.Context().Done():
				return
			case <-time.After(feedPollInterval):
			}
		default:
			s.logger.ErrorContext(r.Context(), "live feed: public status lookup", "code", status.Code, "err", err)
			return
		}
	}
}

// refuseFeed answers a stream the hub would not open: 429 when the client holds its share of
// streams, 503 when the node holds all it may.
func (s *Server) refuseFeed(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Retry-After", strconv.Itoa(int(feedHeartbeat.Seconds())))
	if errors.Is(err, errFeedClientStreams) {
		writeProblem(w, httpkit.Problem{Type: "https://motcua.vn/problems/rate_limited", Status: http.StatusTooManyRequests,
			Title: "Quá nhiều yêu cầu / Too many requests", Instance: r.URL.Path, Code: "rate_limited",
			Detail: "Địa chỉ này đã mở quá nhiều luồng theo dõi / this address holds too many live feeds open"})
		return
	}
	writeProblem(w, httpkit.Problem{Type: "https://motcua.vn/problems/unavailable", Status: http.StatusServiceUnavailable,
		Title: "Tạm thời gián đoạn / Temporarily unavailable", Instance: r.URL.Path, Code: "unavailable",
		Detail: "Máy chủ đang phục vụ quá nhiều luồng theo dõi / the server holds too many live feeds open"})
}

func writeStatusChange(w http.ResponseWriter, p projections.PublicStatus, stepsSent int) error {
	change := progressOf(p)
	if stepsSent >= 0 && stepsSent <= len(p.Steps) {
		change.Steps = p.Steps[stepsSent:]
	}
	data, err := json.Marshal(change)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "id: %d\nevent: status\ndata: %s\n\n", p.Version, data)
	return err
}
