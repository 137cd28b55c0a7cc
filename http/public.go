package http

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/l10n"
	"github.com/motcua/motcua/projections"
)

// publicProgress is what the public lookup tells anyone holding only a dossier's code: where it
// stands, its dates and the steps it went through. Codes are sequential per unit and day, so a
// robot can walk them; it must learn nothing that tells it whose dossier this is or what it is
// about — no name, not even masked, no procedure, no unit (docs/security.md, "Public lookup").
// The receipt's secret (the applicant's QR code) shows the rest.
type publicProgress struct {
	Code            string                   `json:"code"`
	Version         uint64                   `json:"version"`
	Status          domain.Status            `json:"status"`
	StatusVI        string                   `json:"status_vi"`
	StatusEN        string                   `json:"status_en"`
	PortalStatus    int                      `json:"portal_status"`
	CurrentStep     string                   `json:"current_step,omitempty"`
	SubmittedAt     time.Time                `json:"submitted_at,omitzero"`
	ReceivedAt      time.Time                `json:"received_at,omitzero"`
	AppointmentDate time.Time                `json:"appointment_date,omitzero"`
	FinishedAt      time.Time                `json:"finished_at,omitzero"`
	ReturnedAt      time.Time                `json:"returned_at,omitzero"`
	ApologyIssued   bool                     `json:"apology_issued"`
	Late            bool                     `json:"late"`
	Steps           []projections.PublicStep `json:"steps"`
	// Notifications are the latest sent about the dossier (channel, kind, time; never the address).
	Notifications []httpkit.SentNotification `json:"notifications,omitempty"`
}

func progressOf(p projections.PublicStatus) publicProgress {
	return publicProgress{
		Code: p.Code, Version: p.Version, Status: p.Status, StatusVI: l10n.VI.Status(p.Status), StatusEN: l10n.EN.Status(p.Status),
		PortalStatus: p.PortalStatus, CurrentStep: p.CurrentStep, SubmittedAt: p.SubmittedAt, ReceivedAt: p.ReceivedAt,
		AppointmentDate: p.AppointmentDate, FinishedAt: p.FinishedAt, ReturnedAt: p.ReturnedAt,
		ApologyIssued: p.ApologyIssued, Late: p.Late, Steps: p.Steps,
	}
}

// publicStatus: GET /api/v1/public/dossiers/{code}[?secret=…] — the dossier's progress; with the
// receipt's secret, also the procedure, the agencies and the masked name.
func (s *Server) publicStatus(w http.ResponseWriter, r *http.Request) {
	status, ok := s.lookupPublic(w, r)
	if !ok {
		return
	}
	notifications := s.sentNotifications(r.Context(), status.DossierID)
	secret := r.URL.Query().Get("secret")
	if secret == "" {
		progress := progressOf(status)
		progress.Notifications = notifications
		writeJSON(w, http.StatusOK, progress)
		return
	}
	switch err := s.checkReceiptSecret(w, r, status.Code, secret); {
	case errors.Is(err, httpkit.ErrSecretChecksLimited):
		rateLimited(w, r)
	case err != nil:
		s.writeError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, identifiedStatus{PublicStatus: status, StatusVI: l10n.VI.Status(status.Status), StatusEN: l10n.EN.Status(status.Status),
			Notifications: notifications})
	}
}

// identifiedStatus is the public status shown to the holder of the receipt's secret, with the
// status in words.
type identifiedStatus struct {
	projections.PublicStatus
	StatusVI      string                     `json:"status_vi"`
	StatusEN      string                     `json:"status_en"`
	Notifications []httpkit.SentNotification `json:"notifications,omitempty"`
}

// lookupPublic finds the public status of the dossier whose code is in the path, or answers the
// problem (malformed code 400, unknown 404) and reports false.
func (s *Server) lookupPublic(w http.ResponseWriter, r *http.Request) (projections.PublicStatus, bool) {
	parsed, err := domain.ParseDossierCode(chi.URLParam(r, "code"))
	if err != nil {
		s.writeError(w, r, err)
		return projections.PublicStatus{}, false
	}
	code := parsed.Code
	status, err := s.publicLookup.Status(r.Context(), string(code), s.now())
	if errors.Is(err, projections.ErrNotFound) {
		err = domain.Errorf(domain.ENOTFOUND, "Không tìm thấy hồ sơ %s / no dossier %s", code, code)
	}
	if err != nil {
		s.writeError(w, r, err)
		return projections.PublicStatus{}, false
	}
	return status, true
}

// checkReceiptSecret tells whether secret is the receipt secret of the dossier with the given code:
// nil when it is, a forbidden error (counted against the client) when it is not, or
// httpkit.ErrSecretChecksLimited, with Retry-After set on w, when the client may not check now.
func (s *Server) checkReceiptSecret(w http.ResponseWriter, r *http.Request, code, secret string) error {
	if !s.admitSecretCheck(w, r) {
		return httpkit.ErrSecretChecksLimited
	}
	d, _, err := s.app.Load(r.Context(), code)
	if err != nil {
		return err
	}
	if !receiptSecretMatches(d, secret) {
		s.secretCheckFailed(r)
		return domain.Errorf(domain.EFORBIDDEN, "the secret is not this dossier's receipt secret")
	}
	return nil
}

// rate: POST /api/v1/public/dossiers/{code}/rating — the applicant's evaluation, with the receipt's
// secret (TT 01/2018 art. 13–15).
func (s *Server) rate(w http.ResponseWriter, r *http.Request) {
	var req rateRequest
	if err := decodeBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	parsed, err := domain.ParseDossierCode(chi.URLParam(r, "code"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	code := parsed.Code
	if !s.admitSecretCheck(w, r) {
		rateLimited(w, r)
		return
	}
	res, err := s.app.Rate(r.Context(), string(code), req.input())
	if domain.ErrorCodeOf(err) == domain.EFORBIDDEN { // the only refusal of a public rating: a wrong secret
		s.secretCheckFailed(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	markReplayed(w, res.Replayed)
	writeJSON(w, http.StatusOK, map[string]any{"code": res.Code, "status": res.Status, "version": res.Version})
}
