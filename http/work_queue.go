package http

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/projections"
)

// maxQueueDueWithinDays bounds the work queue's "due within" filter.
const maxQueueDueWithinDays = 60

// getWorkQueue: GET /api/v1/work-queue?agency=&responsible=&unit=&official=&procedure=&field=&status=&due_within_days=&limit=&after=
// — one page of the dossiers in the caller's scope (commands.ScopeFor: an official's own agency,
// an inspector's every agency or the one asked for) that its holders must act on first: overdue,
// then by working hours left, paused last.
func (s *Server) getWorkQueue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var v domain.Validation
	scope, forbidden := statisticsAgency(callerOf(r.Context()), q, &v)
	f := projections.WorkQueueFilter{Agency: scope, Responsible: q.Get("responsible"), Unit: q.Get("unit"), OfficialID: q.Get("official"),
		ProcedureCode: q.Get("procedure"), FieldCode: q.Get("field"), Status: domain.Status(q.Get("status"))}
	v.Check(f.Responsible == "" || domain.ValidUnitCode(f.Responsible), "responsible", "is not a QCVN 102 identifier")
	v.Check(f.Status == "" || slices.Contains(projections.QueueStatuses, f.Status), "status", "is not the status of a dossier in a work queue")
	if text := q.Get("due_within_days"); text != "" {
		n, err := strconv.Atoi(text)
		v.Check(err == nil && n >= 1 && n <= maxQueueDueWithinDays, "due_within_days", "must be a whole number of working days from 1 to %d", maxQueueDueWithinDays)
		f.DueWithinDays = n
	}
	req, field, problem := projections.ParsePageRequest(q.Get("limit"), q.Get("after"))
	if field != "" {
		v.Add(field, "%s", problem)
	}
	if s.refuse(w, r, forbidden, &v) {
		return
	}
	page, err := projections.WorkQueueOf(r.Context(), s.readDB, f, req, s.app.Calendar, s.now())
	if errors.Is(err, projections.ErrBadCursor) {
		v.Add("after", "%s", err.Error())
		err = v.Err()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.recordRead(r, callerOf(r.Context()), httpkit.PersonalRead{List: httpkit.ListWorkQueue, Filter: listFilter(r)}); err != nil {
		s.writeError(w, r, err)
		return
	}
	withAlarms, err := s.withAlarms(r.Context(), page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, withAlarms)
}

// getWorkQueueSummary: GET /api/v1/work-queue/summary?agency= — each agency's queue in figures
// (open, overdue, due within 3 working days, paused, waiting for the applicant), one line per
// agency in the caller's scope.
func (s *Server) getWorkQueueSummary(w http.ResponseWriter, r *http.Request) {
	var v domain.Validation
	scope, forbidden := statisticsAgency(callerOf(r.Context()), r.URL.Query(), &v)
	if s.refuse(w, r, forbidden, &v) {
		return
	}
	summary, err := projections.WorkQueueSummaryOf(r.Context(), s.readDB, scope, projections.SummaryDueWithinDays, s.app.Calendar, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"due_within_days": projections.SummaryDueWithinDays, "agencies": summary})
}
