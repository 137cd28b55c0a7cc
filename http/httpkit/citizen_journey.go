package httpkit

import (
	"time"

	"github.com/motcua/motcua/domain"
)

// OnlineProcedure is a procedure a citizen can file online (GET /api/v1/me/procedures): its
// online_level allows it.
type OnlineProcedure struct {
	Code          string                     `json:"code"`
	Name          string                     `json:"name"`
	FieldName     string                     `json:"field_name,omitempty"`
	OnlineLevel   string                     `json:"online_level"`
	ReceivingUnit string                     `json:"receiving_unit"` // who accepts it: the catalog's reception
	Resolution    domain.ResolutionTime      `json:"resolution"`
	Fees          []domain.Fee               `json:"fees,omitempty"`
	Components    []domain.RequiredComponent `json:"components"` // one file each
	ResultType    string                     `json:"result_type,omitempty"`
}

// OnlineProcedures is the catalog's online procedures: bounded by the catalog.
type OnlineProcedures struct {
	Items []OnlineProcedure `json:"items"`
}

// MyDocument is a file of the citizen's dossier: a component's or a result's.
type MyDocument struct {
	ID         string    `json:"id"`
	Component  string    `json:"component,omitempty"`
	ResultCode string    `json:"result_code,omitempty"`
	Name       string    `json:"name"`
	MediaType  string    `json:"media_type"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	Origin     string    `json:"origin"`
	Reused     bool      `json:"reused"`
	AttachedAt time.Time `json:"attached_at"`
	// DownloadURL is the file's address for its owner (the citizen's session).
	DownloadURL string `json:"download_url"`
}

// MySupplement is the supplement request awaiting the citizen's answer (form 02): everything missing.
type MySupplement struct {
	RequestNumber int       `json:"request_number"`
	MissingItems  []string  `json:"missing_items"`
	Reason        string    `json:"reason"`
	RequestedAt   time.Time `json:"requested_at"`
}

// MyResult is a result of the citizen's dossier: the signed document and, once attached, its file.
type MyResult struct {
	ResultCode     string `json:"result_code"`
	DocumentNumber string `json:"document_number,omitempty"`
	DocumentHash   string `json:"document_hash,omitempty"` // what the signer signed
	FileID         string `json:"file_id,omitempty"`
	DownloadURL    string `json:"download_url,omitempty"`
}

// MyDossierDetail is one of the citizen's dossiers as they see it (GET /api/v1/me/dossiers/{ref}).
type MyDossierDetail struct {
	DossierID          string        `json:"dossier_id"`
	Code               string        `json:"code,omitempty"`
	Version            uint64        `json:"version"`
	Status             domain.Status `json:"status"`
	StatusVI           string        `json:"status_vi"`
	StatusEN           string        `json:"status_en"`
	ProcedureCode      string        `json:"procedure_code"`
	ProcedureName      string        `json:"procedure_name"`
	ApplicantName      string        `json:"applicant_name"`
	SubmittedAt        time.Time     `json:"submitted_at,omitzero"`
	AcceptanceDeadline time.Time     `json:"acceptance_deadline,omitzero"`
	ReceivedAt         time.Time     `json:"received_at,omitzero"`
	AppointmentDate    time.Time     `json:"appointment_date,omitzero"`
	Supplement         *MySupplement `json:"supplement,omitempty"`
	Documents          []MyDocument  `json:"documents"`
	Results            []MyResult    `json:"results,omitempty"`
	StatusURL          string        `json:"status_url,omitempty"`
	EventsURL          string        `json:"events_url,omitempty"`
}

// MySubmitted answers a citizen's submission or supplement answer: the dossier after it.
type MySubmitted struct {
	DossierID string          `json:"id"`
	Code      string          `json:"code,omitempty"`
	Status    domain.Status   `json:"status"`
	Version   uint64          `json:"version"`
	Events    []string        `json:"events"`
	URL       string          `json:"url"` // the citizen's page of the dossier
	Dossier   MyDossierDetail `json:"dossier"`
}
