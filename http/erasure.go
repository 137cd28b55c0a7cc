package http

import (
	"cmp"
	"context"
	"net/http"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/session"
)

// Eraser carries out a legal erasure request (Law 91/2025/QH15, NĐ 356/2025; docs/security.md): it makes the personal
// data of the applicant with the given identity number unreadable (eventstore/shred deletes their
// key) and reports whether there was any.
type Eraser interface {
	Erase(ctx context.Context, idNumber string) (bool, error)
}

// erasureRequest is the body of POST /api/v1/admin/erasures. Basis is the legal ground, e.g. the
// number of the applicant's written request; it goes to the log, the identity number never does.
type erasureRequest struct {
	IDNumber string `json:"id_number"`
	// FeedbackCode erases the sender of a complaint who gave no identity number, by its lookup code.
	FeedbackCode string `json:"feedback_code"`
	Basis        string `json:"basis"`
}

// erase: POST /api/v1/admin/erasures — admins only.
func (s *Server) erase(w http.ResponseWriter, r *http.Request) {
	caller := callerOf(r.Context())
	if !caller.Has(commands.RoleAdmin) {
		s.writeError(w, r, domain.Errorf(domain.EFORBIDDEN, "only an admin may erase personal data"))
		return
	}
	var in erasureRequest
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var v domain.Validation
	switch {
	case in.IDNumber == "" && in.FeedbackCode == "":
		v.Add("id_number", "is required (or feedback_code, for a complaint's sender who gave none)")
	case in.IDNumber != "" && in.FeedbackCode != "":
		v.Add("feedback_code", "names another person's data than id_number: give one of them")
	case in.FeedbackCode != "":
		v.Check(domain.ValidFeedbackLookupCode(in.FeedbackCode), "feedback_code", "is not a feedback lookup code (PAKN-XXXXX-XXXXX)")
	}
	v.Check(in.Basis != "", "basis", "is required: the legal ground of the erasure")
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	// A sender without an identity number is keyed by the lookup code (domain.PersonalSubjectMembers).
	erased, err := s.eraser.Erase(r.Context(), cmp.Or(in.IDNumber, in.FeedbackCode))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.citizens != nil && in.IDNumber != "" {
		// A signed-in session of the person keeps the claims the provider gave: it ends now.
		if _, err := s.citizens.cfg.Sessions.EndHolder(r.Context(), session.Citizen, s.citizens.cfg.IndexKey.Of(in.IDNumber)); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.logger.InfoContext(r.Context(), "personal data erased", "by", caller.ID, "basis", in.Basis, "had_data", erased)
	writeJSON(w, http.StatusOK, map[string]any{"erased": erased})
}

// EraserFunc adapts a function to Eraser.
type EraserFunc func(ctx context.Context, idNumber string) (bool, error)

// Erase calls f.
func (f EraserFunc) Erase(ctx context.Context, idNumber string) (bool, error) {
	return f(ctx, idNumber)
}
