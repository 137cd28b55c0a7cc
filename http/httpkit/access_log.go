package httpkit

import "time"

// Who read whose data (docs/security.md, "Access log"): what both faces tell the access log when they
// show an official a dossier's applicant, and the log's answers, which the inspectors' page shows.

// PersonalRead is what a route showed: one dossier, with its applicant's identity number (turned
// into a keyed blind index by the log, never stored), or a list of many (List) and the filter it
// was asked with. The official and the route are the request's. A feedback (phản ánh, kiến nghị),
// whose sender's name and contacts an official is shown, is recorded as one read too: its id and
// lookup code in DossierID and DossierCode (FeedbackRead).
type PersonalRead struct {
	DossierID, DossierCode string
	ApplicantIDNumber      string
	List, Filter           string
}

// FeedbackRead is the read of one feedback and its sender.
func FeedbackRead(id, lookupCode string) PersonalRead {
	return PersonalRead{DossierID: id, DossierCode: lookupCode}
}

// The lists of many dossiers whose rows name applicants.
const (
	ListRegister  = "register"
	ListWorkQueue = "work_queue"
)

// AccessRecord is one entry of GET /api/v1/access-log.
type AccessRecord struct {
	Seq          int64     `json:"seq"`
	At           time.Time `json:"at"`
	OfficialID   string    `json:"official_id"`
	OfficialName string    `json:"official_name"`
	Roles        []string  `json:"roles"`
	Agency       string    `json:"agency"`
	Route        string    `json:"route"`
	DossierID    string    `json:"dossier_id,omitempty"`
	DossierCode  string    `json:"dossier_code,omitempty"`
	List         string    `json:"list,omitempty"`
	Filter       string    `json:"filter,omitempty"`
	// CorrelationID finds the request in the application log.
	CorrelationID string `json:"correlation_id,omitempty"`
}

// AccessPage is one page of GET /api/v1/access-log (the keyset Page envelope).
type AccessPage struct {
	Items          []AccessRecord `json:"items"`
	Next           string         `json:"next,omitempty"`
	Total          int            `json:"total"`
	TotalEstimated bool           `json:"total_estimated,omitempty"`
}

// AccessQuery selects entries: of a dossier (its code or id), of an applicant (their identity
// number), or every entry; Limit and After page them (empty: the defaults).
type AccessQuery struct {
	Dossier, Applicant, Limit, After string
}
