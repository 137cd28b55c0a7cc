package domain

// Status is where a dossier stands in its life.
type Status string

const (
	StatusNew                 Status = "new"                  // no event yet
	StatusSubmitted           Status = "submitted"            // filed online, awaiting acceptance
	StatusReceived            Status = "received"             // accepted with a code and appointment date
	StatusReceptionRefused    Status = "reception_refused"    // not accepted (form 03); final
	StatusSupplementRequested Status = "supplement_requested" // waiting for the applicant (form 02)
	StatusProcessing          Status = "processing"           // with a department or another agency
	StatusAwaitingPayment     Status = "awaiting_payment"     // fees assessed, not yet paid
	StatusSuspended           Status = "suspended"            // processing paused (form 05 under NĐ 118)
	StatusResultReady         Status = "result_ready"         // signed result waiting to be handed over
	StatusResultReturned      Status = "result_returned"      // final
	StatusWithdrawn           Status = "withdrawn"            // by the applicant; final
	StatusRejected            Status = "rejected"             // refused after appraisal; final
)

// AllStatuses lists every status, for tests and documentation.
var AllStatuses = []Status{
	StatusNew, StatusSubmitted, StatusReceived, StatusReceptionRefused, StatusSupplementRequested,
	StatusProcessing, StatusAwaitingPayment, StatusSuspended, StatusResultReady, StatusResultReturned,
	StatusWithdrawn, StatusRejected,
}

// PortalStatusCode maps a status onto the national public service portal's status codes (regulations §2):
// 1 newly submitted, 2 received, 3 not received, 4 processing, 5 supplement requested, 6 fees requested,
// 7 withdrawn, 8 processing stopped, 9 processing finished, 10 result returned. New dossiers have none (0).
func (s Status) PortalStatusCode() int {
	switch s {
	case StatusSubmitted:
		return 1
	case StatusReceived:
		return 2
	case StatusReceptionRefused:
		return 3
	case StatusProcessing:
		return 4
	case StatusSupplementRequested:
		return 5
	case StatusAwaitingPayment:
		return 6
	case StatusWithdrawn:
		return 7
	case StatusSuspended, StatusRejected:
		return 8
	case StatusResultReady:
		return 9
	case StatusResultReturned:
		return 10
	}
	return 0
}

// Final reports whether nothing more can happen to the dossier's processing (rating aside).
func (s Status) Final() bool {
	switch s {
	case StatusReceptionRefused, StatusResultReturned, StatusWithdrawn, StatusRejected:
		return true
	}
	return false
}

// Open reports whether the dossier has been received and is still in the agency's hands, so its
// appointment date can be missed.
func (s Status) Open() bool {
	switch s {
	case StatusReceived, StatusProcessing, StatusAwaitingPayment, StatusSuspended, StatusSupplementRequested:
		return true
	}
	return false
}
