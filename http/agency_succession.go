package http

import (
	"context"
	"errors"
	"net/http"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/projections"
)

// successionRequest is the body of POST /api/v1/admin/agency-successions: the succession, and
// which page of the abolished agency's open dossiers to hand over (docs/api.md, "Agency
// succession").
type successionRequest struct {
	commands.SuccessionInput
	After string `json:"after,omitempty"` // the previous answer's next; "" for the first page
	Limit int    `json:"limit,omitempty"` // dossiers per page: 50 by default, at most 500
}

// succeedAgency: POST /api/v1/admin/agency-successions — admins only. Each call hands over one
// page of the abolished agency's open dossiers and answers how many passed, how many had passed
// already, and the next page's cursor; the job is done when next is absent. Calling again from
// the first page after an interruption finishes the job without handing any dossier over twice.
func (s *Server) succeedAgency(w http.ResponseWriter, r *http.Request) {
	var in successionRequest
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var v domain.Validation
	v.Check(in.Limit >= 0 && in.Limit <= projections.MaxPageSize, "limit", "must be between 1 and %d", projections.MaxPageSize)
	if _, err := projections.DecodeCursor(in.After); err != nil {
		v.Add("after", "%s", projections.ErrBadCursor.Error())
	}
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	list := func(ctx context.Context, agency, after string, limit int) ([]string, string, error) {
		ids, next, err := projections.OpenDossierPage(ctx, s.readDB, agency, after, limit)
		if errors.Is(err, projections.ErrBadCursor) {
			return nil, "", invalid("after", err.Error())
		}
		return ids, next, err
	}
	progress, err := s.app.SucceedAgency(r.Context(), callerOf(r.Context()), in.SuccessionInput, list, in.After, in.Limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, progress)
}
