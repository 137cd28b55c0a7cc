package http

import (
	"errors"
	"io"
	"net/http"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/portal/inbound"
)

// maxPortalDossierBytes bounds a portal dossier's body: it carries the form and links to the files,
// never the files themselves.
const maxPortalDossierBytes = 1 << 20

// portalDossierResponse answers the portal: our id beside its own, and where the dossier stands.
type portalDossierResponse struct {
	DossierID    string `json:"id"`
	ExternalCode string `json:"external_code"`
	Code         string `json:"code,omitempty"`
	Status       string `json:"status"`
	Version      uint64 `json:"version"`
	Created      bool   `json:"created"`
}

// portalDossier is POST /api/v1/portal/dossiers: the national portal delivers a dossier a citizen
// filed there. It is authenticated by the shared-secret signature of the raw body (no bearer
// token: the portal is not an official). 201 when it opens a dossier, 200 when the portal's id
// already did (the same dossier again), 401 for a missing, forged or stale signature, 400 for a
// malformed header or document. Refusals are logged with their reason only: the body is personal data.
func (s *Server) portalDossier(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPortalDossierBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.refusePortal(w, r, "too large", domain.Errorf(domain.EINVALID, "the body is larger than %d bytes", maxPortalDossierBytes))
			return
		}
		s.writeError(w, r, err)
		return
	}
	if err := s.portalWebhook.Verify(r.Header, body); err != nil {
		var header *inbound.HeaderError
		if errors.As(err, &header) {
			s.refusePortal(w, r, "malformed signature header", invalid(header.Header, header.Reason))
			return
		}
		w.Header().Set("WWW-Authenticate", `HMAC-SHA256 realm="dvcqg"`)
		s.refusePortal(w, r, err.Error(), domain.Errorf(domain.EUNAUTHORIZED, "%v", err))
		return
	}
	sub, err := inbound.Parse(body, s.app.Catalog(), s.now())
	if err != nil {
		s.refusePortal(w, r, "invalid document", err, "portal_id", inbound.PortalIDOf(body))
		return
	}
	res, created, err := s.app.SubmitFromPortal(r.Context(), commands.PortalSubmission{
		PortalID: sub.PortalID, ProcedureCode: sub.ProcedureCode, ReceivingUnit: sub.ReceivingUnit,
		SubmittedAt: sub.SubmittedAt, Applicant: sub.Applicant, Components: sub.Components,
	})
	if err != nil {
		if domain.ErrorCodeOf(err) == domain.EINVALID {
			s.refusePortal(w, r, "invalid document", err, "portal_id", sub.PortalID)
			return
		}
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.logger.InfoContext(r.Context(), "portal dossier recorded", "portal_id", sub.PortalID, "dossier", res.DossierID)
	}
	w.Header().Set("Location", "/api/v1/dossiers/"+res.DossierID)
	w.Header().Set("ETag", etag(res.Version))
	writeJSON(w, status, portalDossierResponse{DossierID: res.DossierID, ExternalCode: sub.PortalID, Code: res.Code,
		Status: string(res.Status), Version: res.Version, Created: created})
}

// refusePortal answers a refused webhook request and logs why, with the fields at fault but never
// their values.
func (s *Server) refusePortal(w http.ResponseWriter, r *http.Request, reason string, err error, attrs ...any) {
	var fields []string
	var de *domain.Error
	if errors.As(err, &de) {
		for _, f := range de.Fields {
			fields = append(fields, f.Field)
		}
	}
	s.logger.WarnContext(r.Context(), "portal webhook refused", append([]any{"reason", reason, "fields", fields,
		"client", r.RemoteAddr}, attrs...)...)
	s.writeError(w, r, err)
}
