package http

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

func (s *Server) listProcedures(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"procedures": s.app.Catalog().Procedures, "agencies": s.app.Catalog().Agencies})
}

// receive: POST /api/v1/dossiers — a dossier at the desk, by post, or filed online.
func (s *Server) receive(w http.ResponseWriter, r *http.Request) {
	var req receiveRequest
	if err := decodeBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	receipt, err := s.app.Receive(r.Context(), callerOf(r.Context()), req.input())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ref := receipt.Code
	if ref == "" {
		ref = receipt.DossierID
	}
	w.Header().Set("Location", "/api/v1/dossiers/"+ref)
	w.Header().Set("ETag", etag(receipt.Version))
	markReplayed(w, receipt.Replayed)
	writeJSON(w, http.StatusCreated, receiptResponseOf(receipt))
}

func (s *Server) getDossier(w http.ResponseWriter, r *http.Request) {
	d, _, err := s.app.LoadIfReadable(r.Context(), callerOf(r.Context()), chi.URLParam(r, "ref"))
	if err == nil {
		err = s.recordDossierRead(r, d)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(d.Version))
	writeJSON(w, http.StatusOK, dossierResponseOf(d, s.now()))
}

// historyEntry is one event of a dossier's history as inspectors see it.
type historyEntry struct {
	Version       uint64 `json:"version"`
	Type          string `json:"type"`
	EventID       string `json:"event_id"`
	Actor         any    `json:"actor"`
	CorrelationID string `json:"correlation_id"`
	CausationID   string `json:"causation_id"`
	// IdempotencyKey is the Idempotency-Key of the request that produced the event, if it had one.
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	OccurredAt     time.Time `json:"occurred_at"`
	RecordedAt     time.Time `json:"recorded_at"`
	Position       any       `json:"position"`
	Data           any       `json:"data"`
	// CorrectedBy numbers the approved corrections that later changed what this event recorded;
	// the event itself stays as recorded.
	CorrectedBy []int `json:"corrected_by,omitempty"`
}

func (s *Server) dossierEvents(w http.ResponseWriter, r *http.Request) {
	d, recorded, err := s.app.LoadIfReadable(r.Context(), callerOf(r.Context()), chi.URLParam(r, "ref"))
	if err == nil {
		err = s.recordDossierRead(r, d)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	history := make([]historyEntry, len(recorded))
	events := make([]domain.Event, len(recorded))
	for i, e := range recorded {
		event, err := domain.DecodeEvent(e.Type, e.Data)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		events[i] = event
		history[i] = historyEntry{
			Version: e.Version, Type: e.Type, EventID: e.ID.String(), Actor: e.Metadata.Actor,
			CorrelationID: e.Metadata.CorrelationID.String(), CausationID: e.Metadata.CausationID.String(), IdempotencyKey: e.Metadata.IdempotencyKey,
			OccurredAt: e.Metadata.OccurredAt, RecordedAt: e.RecordedAt, Position: e.Position, Data: event,
		}
	}
	for i, numbers := range domain.CorrectedBy(events) {
		history[i].CorrectedBy = numbers
	}
	w.Header().Set("ETag", etag(d.Version))
	writeJSON(w, http.StatusOK, map[string]any{"code": d.Code, "id": d.ID, "version": d.Version, "events": history})
}

// act: POST /api/v1/dossiers/{ref}/{action}, honouring If-Match.
func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	req, ok := newActionRequest(domain.Action(chi.URLParam(r, "action")))
	if !ok {
		s.writeError(w, r, domain.Errorf(domain.ENOTFOUND, "no action %q on dossiers", chi.URLParam(r, "action")))
		return
	}
	ifMatch, err := parseIfMatch(r.Header.Get("If-Match"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := decodeBody(r, req); err != nil {
		s.writeError(w, r, err)
		return
	}
	in := req.input()
	res, err := s.app.Execute(r.Context(), callerOf(r.Context()), chi.URLParam(r, "ref"), ifMatch, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(res.Version))
	markReplayed(w, res.Replayed)
	body := map[string]any{"id": res.DossierID, "code": res.Code, "status": res.Status, "version": res.Version, "events": res.Events,
		"appointment_date": res.Dossier.AppointmentDate}
	if accept, ok := in.(*commands.AcceptInput); ok {
		body["rating_secret"] = accept.RatingSecret()
		body["received_at"] = res.Dossier.ReceivedAt
	}
	writeJSON(w, http.StatusOK, body)
}
