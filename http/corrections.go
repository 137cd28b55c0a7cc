package http

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/projections"
)

// Corrections of recorded data (docs/api.md, "Corrections"; docs/rules.md, "Corrections with
// approval"): an official of an agency involved in the dossier requests one, a head or signer of the
// same agency — never the requester — approves or rejects it.
func (s *Server) correctionRoutes(r chi.Router) {
	r.Post("/dossiers/{ref}/corrections", s.requestCorrection)
	r.Post("/dossiers/{ref}/corrections/{number}/approve", s.approveCorrection)
	r.Post("/dossiers/{ref}/corrections/{number}/reject", s.rejectCorrection)
	r.Get("/corrections", s.listCorrections)
}

// correctionChangeBody is one field to correct: its name, the value recorded, the value it should have.
type correctionChangeBody struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// correctionRequestBody is the body of POST /api/v1/dossiers/{ref}/corrections.
type correctionRequestBody struct {
	Changes []correctionChangeBody `json:"changes"`
	Reason  string                 `json:"reason" text:"multiline"`
}

// correctionRejectionBody is the body of POST …/corrections/{number}/reject.
type correctionRejectionBody struct {
	Reason string `json:"reason" text:"multiline"`
}

// requestCorrection: POST /api/v1/dossiers/{ref}/corrections — 200 with the dossier's version; the
// dossier is unchanged until the correction is approved.
func (s *Server) requestCorrection(w http.ResponseWriter, r *http.Request) {
	var body correctionRequestBody
	if err := decodeBody(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	in := commands.RequestCorrectionInput{Reason: body.Reason}
	for _, ch := range body.Changes {
		in.Changes = append(in.Changes, commands.CorrectionChange{Field: ch.Field, Old: ch.Old, New: ch.New})
	}
	s.runCorrection(w, r, in)
}

// approveCorrection: POST /api/v1/dossiers/{ref}/corrections/{number}/approve (no body).
func (s *Server) approveCorrection(w http.ResponseWriter, r *http.Request) {
	number, ok := s.correctionNumber(w, r)
	if !ok {
		return
	}
	if err := decodeBody(r, &struct{}{}); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.runCorrection(w, r, commands.ApproveCorrectionInput{Number: number})
}

// rejectCorrection: POST /api/v1/dossiers/{ref}/corrections/{number}/reject {"reason": …}.
func (s *Server) rejectCorrection(w http.ResponseWriter, r *http.Request) {
	number, ok := s.correctionNumber(w, r)
	if !ok {
		return
	}
	var body correctionRejectionBody
	if err := decodeBody(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.runCorrection(w, r, commands.RejectCorrectionInput{Number: number, Reason: body.Reason})
}

func (s *Server) correctionNumber(w http.ResponseWriter, r *http.Request) (int, bool) {
	n, err := strconv.Atoi(chi.URLParam(r, "number"))
	if err != nil || n < 1 {
		s.writeError(w, r, invalid("number", "must be the correction's number, a whole number from 1"))
		return 0, false
	}
	return n, true
}

// runCorrection carries out a correction's use case like any action on a dossier: If-Match, the
// idempotency key and a race lost to another decision (409) all behave as in POST …/{action}.
func (s *Server) runCorrection(w http.ResponseWriter, r *http.Request, in commands.Input) {
	ifMatch, err := parseIfMatch(r.Header.Get("If-Match"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.app.Execute(r.Context(), callerOf(r.Context()), chi.URLParam(r, "ref"), ifMatch, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(res.Version))
	markReplayed(w, res.Replayed)
	writeJSON(w, http.StatusOK, map[string]any{"id": res.DossierID, "code": res.Code, "status": res.Status, "version": res.Version,
		"events": res.Events, "appointment_date": res.Dossier.AppointmentDate, "corrections": correctionsBodyOf(res.Dossier.Correction)})
}

// correctionStates are the states GET /api/v1/corrections filters by.
var correctionStates = []string{projections.CorrectionPending, projections.CorrectionApproved, projections.CorrectionRejected}

// listCorrections: GET /api/v1/corrections?agency=&state=pending&limit=&after= — one page of the
// corrections requested in the caller's scope (an official's own agency; an inspector's every agency
// or the one asked for), oldest first; state defaults to pending (those awaiting a decision), "all"
// lists every state.
func (s *Server) listCorrections(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var v domain.Validation
	scope, forbidden := statisticsAgency(callerOf(r.Context()), q, &v)
	state := q.Get("state")
	switch state {
	case "":
		state = projections.CorrectionPending
	case "all":
		state = ""
	default:
		v.Check(slices.Contains(correctionStates, state), "state", "must be pending, approved, rejected or all")
	}
	req, field, problem := projections.ParsePageRequest(q.Get("limit"), q.Get("after"))
	if field != "" {
		v.Add(field, "%s", problem)
	}
	if s.refuse(w, r, forbidden, &v) {
		return
	}
	page, err := projections.CorrectionsPageOf(r.Context(), s.readDB, scope, state, req)
	if errors.Is(err, projections.ErrBadCursor) {
		v.Add("after", "%s", err.Error())
		err = v.Err()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// correctionsBody is what the officials' dossier shows of its corrections: how many were requested
// and approved, and the one awaiting a decision with its fields, old and new values.
type correctionsBody struct {
	Requested int                    `json:"requested"`
	Approved  int                    `json:"approved"`
	Pending   *pendingCorrectionBody `json:"pending,omitempty"`
}

type pendingCorrectionBody struct {
	Number          int                    `json:"number"`
	Changes         []correctionChangeBody `json:"changes"`
	Reason          string                 `json:"reason"`
	RequestedBy     handlerBody            `json:"requested_by"`
	RequesterAgency string                 `json:"requester_agency"`
	RequestedAt     time.Time              `json:"requested_at"`
}

func correctionsBodyOf(c domain.CorrectionState) *correctionsBody {
	if c.Requests == 0 {
		return nil
	}
	body := &correctionsBody{Requested: c.Requests, Approved: c.Approved}
	if p := c.Pending; p != nil {
		pending := &pendingCorrectionBody{Number: p.Number, Changes: []correctionChangeBody{}, Reason: p.Reason,
			RequestedBy: handlerBodyOf(p.RequestedBy), RequesterAgency: p.RequesterAgency, RequestedAt: p.RequestedAt}
		changes := p.Changes
		if p.Applicant != nil {
			changes = append(slices.Clone(p.Applicant.Changes), changes...)
		}
		for _, ch := range changes {
			pending.Changes = append(pending.Changes, correctionChangeBody{Field: ch.Field, Old: ch.Old, New: ch.New})
		}
		body.Pending = pending
	}
	return body
}
