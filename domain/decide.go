package domain

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"
)

// Action names a use case; the HTTP API uses the same names in its paths.
type Action string

const (
	ActionSubmit              Action = "submit"
	ActionReceive             Action = "receive"
	ActionRefuseReception     Action = "refuse"
	ActionRequestSupplement   Action = "supplement-request"
	ActionSupplement          Action = "supplement"
	ActionTransfer            Action = "transfer"
	ActionInterAgencyTransfer Action = "inter-agency-transfer"
	ActionAppraise            Action = "appraise"
	ActionSign                Action = "sign"
	ActionAssessFee           Action = "fee"
	ActionPay                 Action = "payment"
	ActionMarkResultReady     Action = "result"
	ActionReturnResult        Action = "return"
	ActionIssueApology        Action = "apology"
	ActionSuspend             Action = "suspend"
	ActionResume              Action = "resume"
	ActionWithdraw            Action = "withdraw"
	ActionReject              Action = "reject"
	ActionRate                Action = "rate"
	ActionCompletePart        Action = "complete-part"
	ActionAttachDocument      Action = "documents"
)

// Command asks the dossier to change. Commands carry every input of the decision — the moment, the
// calendar, the procedure as the catalog has it now — so Decide stays a pure function and the facts
// it computes (dates, deadlines, fees) are recorded in the events it returns.
type Command interface {
	Action() Action
}

// Decide returns the events that carrying out c on d produces, or why it is not allowed: a
// *TransitionError when the dossier's status forbids the action, an EINVALID *Error for bad input.
// The status is checked first, for every action (Allowed), so a decide function starts from a
// dossier in which its action may be taken.
func Decide(d Dossier, c Command) ([]Event, error) {
	if d.Status == "" {
		d.Status = StatusNew
	}
	if c == nil || Allowed[c.Action()] == nil {
		return nil, Errorf(EINTERNAL, "unknown command %T", c)
	}
	if err := guard(d, c.Action()); err != nil {
		return nil, err
	}
	switch c := c.(type) {
	case Submit:
		return decideSubmit(d, c)
	case Receive:
		return decideReceive(d, c)
	case RefuseReception:
		return decideRefuse(d, c)
	case RequestSupplement:
		return decideRequestSupplement(d, c)
	case Supplement:
		return decideSupplement(d, c)
	case Transfer:
		return decideTransfer(d, c)
	case InterAgencyTransfer:
		return decideInterAgencyTransfer(d, c)
	case Appraise:
		return decideAppraise(d, c)
	case Sign:
		return decideSign(d, c)
	case AssessFee:
		return decideAssessFee(d, c)
	case Pay:
		return decidePay(d, c)
	case MarkResultReady:
		return decideMarkResultReady(d, c)
	case ReturnResult:
		return decideReturnResult(d, c)
	case IssueApology:
		return decideIssueApology(d, c)
	case Suspend:
		return decideSuspend(d, c)
	case Resume:
		return decideResume(d, c)
	case Withdraw:
		return decideWithdraw(d, c)
	case Reject:
		return decideReject(d, c)
	case Rate:
		return decideRate(d, c)
	case CompletePart:
		return decideCompletePart(d, c)
	case RequestCorrection:
		return decideRequestCorrection(d, c)
	case ApproveCorrection:
		return decideApproveCorrection(d, c)
	case RejectCorrection:
		return decideRejectCorrection(d, c)
	case AttachDocument:
		return decideAttachDocument(d, c)
	case SucceedAgency:
		return decideSucceedAgency(d, c)
	case RecordOriginalsArrived:
		return decideOriginalsArrived(d, c)
	}
	return nil, Errorf(EINTERNAL, "unknown command %T", c)
}

// Allowed lists the statuses in which each action may be taken, so callers (and the officials' pages)
// can tell what is possible now without trying.
var Allowed = map[Action][]Status{
	ActionSubmit:              {StatusNew},
	ActionReceive:             {StatusNew, StatusSubmitted},
	ActionRefuseReception:     {StatusSubmitted},
	ActionRequestSupplement:   {StatusSubmitted, StatusReceived, StatusProcessing},
	ActionSupplement:          {StatusSupplementRequested},
	ActionTransfer:            {StatusReceived, StatusProcessing},
	ActionInterAgencyTransfer: {StatusReceived, StatusProcessing},
	ActionAppraise:            {StatusProcessing},
	ActionSign:                {StatusProcessing},
	ActionAssessFee:           {StatusReceived, StatusProcessing, StatusResultReady},
	ActionPay:                 {StatusAwaitingPayment},
	ActionMarkResultReady:     {StatusProcessing, StatusResultReady},
	ActionReturnResult:        {StatusResultReady},
	ActionIssueApology:        {StatusReceived, StatusProcessing, StatusAwaitingPayment},
	ActionSuspend:             {StatusReceived, StatusProcessing, StatusAwaitingPayment},
	ActionResume:              {StatusSuspended},
	ActionWithdraw:            {StatusSubmitted, StatusReceived, StatusProcessing, StatusSupplementRequested, StatusAwaitingPayment, StatusSuspended},
	ActionReject:              {StatusProcessing},
	ActionRate:                {StatusResultReturned},
	ActionCompletePart:        {StatusProcessing, StatusAwaitingPayment},
	ActionRequestCorrection:   correctableStatuses,
	ActionApproveCorrection:   decidingStatuses,
	ActionRejectCorrection:    decidingStatuses,
	// Files come with the application and its supplements, and the desk scans the paper it
	// received; once the result is decided the application is closed.
	ActionAttachDocument: {StatusSubmitted, StatusReceived, StatusProcessing, StatusSupplementRequested, StatusAwaitingPayment, StatusSuspended},
	// Every dossier not yet closed: received or not, waiting for the applicant, or with its result
	// still to hand back (docs/rules.md, "Agencies that cease to exist").
	ActionSucceedAgency: {StatusSubmitted, StatusReceived, StatusProcessing, StatusSupplementRequested, StatusAwaitingPayment,
		StatusSuspended, StatusResultReady},
	// Paper originals may arrive while the dossier is being worked on, waiting or paused.
	ActionOriginalsArrived: {StatusReceived, StatusProcessing, StatusSupplementRequested, StatusAwaitingPayment, StatusSuspended},
}

// AllowedActions lists the actions the dossier's status allows now, in a stable order: what an
// official may take on it. A succession is not one of them — an admin hands over all of an
// abolished agency's dossiers at once (commands.SucceedAgency) — and the originals' arrival is
// listed only while originals of a boundary-free receipt are on their way.
func AllowedActions(d Dossier) []Action {
	var out []Action
	for _, a := range allActions {
		if a == ActionSucceedAgency || (a == ActionOriginalsArrived && !d.OriginalsOnTheirWay()) {
			continue
		}
		if statusAllows(a, d.Status) {
			out = append(out, a)
		}
	}
	return out
}

var allActions = []Action{
	ActionSubmit, ActionReceive, ActionRefuseReception, ActionRequestSupplement, ActionSupplement, ActionTransfer,
	ActionInterAgencyTransfer, ActionAppraise, ActionSign, ActionAssessFee, ActionPay, ActionMarkResultReady,
	ActionReturnResult, ActionIssueApology, ActionSuspend, ActionResume, ActionWithdraw, ActionReject, ActionRate,
	ActionCompletePart, ActionRequestCorrection, ActionApproveCorrection, ActionRejectCorrection,
	ActionAttachDocument,
	ActionSucceedAgency, ActionOriginalsArrived,
}

func statusAllows(a Action, s Status) bool {
	for _, ok := range Allowed[a] {
		if ok == s {
			return true
		}
	}
	return false
}

// guard returns a *TransitionError unless the action is allowed in the dossier's status.
func guard(d Dossier, a Action) error {
	if statusAllows(a, d.Status) {
		return nil
	}
	return &TransitionError{Action: a, Status: d.Status}
}

func refuse(d Dossier, a Action, format string, args ...any) error {
	return &TransitionError{Action: a, Status: d.Status, Reason: fmt.Sprintf(format, args...)}
}

func checkText(v *Validation, field, s string, required bool, max int) {
	switch {
	case required && s == "":
		v.Add(field, "is required")
	case !utf8.ValidString(s):
		v.Add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "is longer than %d characters", max)
	}
}

// checkReasoned validates an action that records only why and when (refusal, suspension,
// withdrawal, rejection): the reason is mandatory in every one of their forms.
func checkReasoned(reason string, at time.Time) error {
	var v Validation
	checkText(&v, "reason", reason, true, 2000)
	checkMoment(&v, at)
	return v.Err()
}

func checkMoment(v *Validation, at time.Time) {
	v.Check(!at.IsZero(), "at", "the moment of the action is required")
}

func checkComponents(v *Validation, cs []Component, required bool) {
	if required && len(cs) == 0 {
		v.Add("components", "at least one document is required")
	}
	for i, c := range cs {
		checkText(v, fmt.Sprintf("components[%d].name", i), c.Name, true, 300)
		v.Check(c.Copies >= 1 && c.Copies <= 100, fmt.Sprintf("components[%d].copies", i), "must be between 1 and 100")
	}
}

// HashRatingSecret is how the rating secret printed on a receipt is kept: only its SHA-256.
func HashRatingSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func secretMatches(hash, secret string) bool {
	return hash != "" && subtle.ConstantTimeCompare([]byte(hash), []byte(HashRatingSecret(secret))) == 1
}

func validDocumentHash(h string) bool {
	b, err := hex.DecodeString(h)
	return err == nil && len(b) == sha256.Size
}
