package httpkit

import (
	"time"

	"github.com/motcua/motcua/domain"
)

// Me is the signed-in citizen, as the identity provider said (GET /api/v1/me).
type Me struct {
	Subject  string `json:"subject"`
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone,omitempty"`
	Email    string `json:"email,omitempty"`
	// SignedInAt and ExpiresAt bound the session: it ends at ExpiresAt, or earlier after the idle timeout.
	SignedInAt time.Time `json:"signed_in_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// MyDossier is one of the signed-in citizen's dossiers with its status now (GET /api/v1/me/dossiers).
type MyDossier struct {
	DossierID       string        `json:"dossier_id"`
	Code            string        `json:"code,omitempty"` // none until the desk accepts an online submission
	Status          domain.Status `json:"status"`
	StatusVI        string        `json:"status_vi"`
	StatusEN        string        `json:"status_en"`
	ProcedureCode   string        `json:"procedure_code,omitempty"`
	ProcedureName   string        `json:"procedure_name,omitempty"`
	Since           time.Time     `json:"since"` // submitted or received
	AppointmentDate time.Time     `json:"appointment_date,omitzero"`
	Late            bool          `json:"late"`
	// StatusURL is the public lookup page of the dossier; EventsURL its live feed (server-sent
	// events); both empty until it has a code.
	StatusURL string `json:"status_url,omitempty"`
	EventsURL string `json:"events_url,omitempty"`
	// URL is the citizen's own page of the dossier (its files, a supplement request to answer, the
	// result to download).
	URL string `json:"url"`
	// MissingItems: a supplement request awaits the citizen's answer; everything it asks for.
	MissingItems []string `json:"missing_items,omitempty"`
}

// MyDossierPage is one page of GET /api/v1/me/dossiers (the keyset Page envelope).
type MyDossierPage struct {
	Items          []MyDossier `json:"items"`
	Next           string      `json:"next,omitempty"`
	Total          int         `json:"total"`
	TotalEstimated bool        `json:"total_estimated,omitempty"`
}
