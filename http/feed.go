package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/projections"
)

// Notifier tells the live feed that a read model has moved on: Advanced returns a channel closed
// the next time it does (projections.Runner implements it).
type Notifier interface {
	Advanced() <-chan struct{}
}

const (
	// feedPollInterval is how often a live feed looks at the public status even without a
	// notification: the view may be updated by another node.
	feedPollInterval = time.Second
	// feedHeartbeat keeps idle connections open through proxies.
	feedHeartbeat = 15 * time.Second
	// feedMaxDuration ends a stream after a while; clients reconnect with Last-Event-ID, which
	// spreads long-lived connections over the nodes and re-applies the rate limit.
	feedMaxDuration = 30 * time.Minute
)

// statusChange is one event of the live feed: where the dossier stands and the steps of its public
// timeline this stream has not sent yet. Like the public lookup it carries no personal data — not
// even the masked name.
type statusChange struct {
	Code            string                   `json:"code"`
	Version         uint64                   `json:"version"`
	Status          domain.Status            `json:"status"`
	StatusVI        string                   `json:"status_vi"`
	StatusEN        string                   `json:"status_en"`
	PortalStatus    int                      `json:"portal_status"`
	CurrentStep     string                   `json:"current_step,omitempty"`
	CurrentUnit     string                   `json:"current_unit,omitempty"`
	AppointmentDate time.Time                `json:"appointment_date,omitzero"`
	FinishedAt      time.Time                `json:"finished_at,omitzero"`
	ReturnedAt      time.Time                `json:"returned_at,omitzero"`
	ApologyIssued   bool                     `json:"apology_issued"`
	Late            bool                     `json:"late"`
	Steps           []projections.PublicStep `json:"steps"`
}

// publicStatusEvents: GET /api/v1/public/dossiers/{code}/events — server-sent events of the
// dossier's public status: one at once, then one each time it changes. The event id is the
// dossier's version; a client reconnecting with Last-Event-ID gets only what is newer.
func (s *Server) publicStatusEvents(w http.ResponseWriter, r *http.Request) {
	status, ok := s.lookupPublic(w, r)
	if !ok {
		return
	}
	var sent uint64
	if last, err := strconv.ParseUint(strings.TrimSpace(r.Header.Get("Last-Event-ID")), 10, 64); err == nil {
		sent = last
	}
	stepsSent := -1 // unknown after a reconnection: send the whole timeline once

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives any server write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events through at once
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}

	poll := time.NewTicker(feedPollInterval)
	defer poll.Stop()
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
		var advanced <-chan struct{} // taken before looking, so a change meanwhile still wakes us
		if s.publicUpdates != nil {
			advanced = s.publicUpdates.Advanced()
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
		case <-advanced:
		case <-poll.C:
		}
		next, err := projections.LookupPublicStatus(r.Context(), s.readDB, status.Code, s.now())
		if err != nil {
			if r.Context().Err() == nil {
				s.logger.ErrorContext(r.Context(), "live feed: public status lookup", "code", status.Code, "error", err)
			}
			return
		}
		status = next
	}
}

func writeStatusChange(w http.ResponseWriter, p projections.PublicStatus, stepsSent int) error {
	change := statusChange{
		Code: p.Code, Version: p.Version, Status: p.Status, StatusVI: p.StatusVI, StatusEN: p.StatusEN,
		PortalStatus: p.PortalStatus, CurrentStep: p.CurrentStep, CurrentUnit: p.CurrentUnit,
		AppointmentDate: p.AppointmentDate, FinishedAt: p.FinishedAt, ReturnedAt: p.ReturnedAt,
		ApologyIssued: p.ApologyIssued, Late: p.Late, Steps: p.Steps,
	}
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
