package domain

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// Transfer hands the dossier to the next unit/official for a named step of the procedure's workflow.
// The step's unit and allotted hours come from the workflow unless the official gives them; a step
// outside the workflow needs explicit hours. Transferring to a parallel step sends every part out at
// once, each with its own deadline. The step deadline is computed now. A workflow step further on
// than the next one needs SkipReason, recorded with the steps passed over.
type Transfer struct {
	From          Handler
	To            Handler
	Step          string
	AllottedHours float64 // 0: the workflow step's
	Note          string
	SkipReason    string         // why steps before Step are passed over; "" when none are
	Workflow      []WorkflowStep // the procedure's workflow as the catalog has it now
	At            time.Time
	Calendar      *calendar.Calendar
}

// InterAgencyTransfer sends the dossier to another agency for its share of a joint procedure: a
// workflow step done by another agency (Step), or a purpose with explicit hours.
type InterAgencyTransfer struct {
	From          Handler
	FromAgency    string
	ToAgency      string // "": the workflow step's agency
	Step          string
	Purpose       string // "": the step's name
	AllottedHours float64
	SkipReason    string // as for Transfer
	Workflow      []WorkflowStep
	At            time.Time
	Calendar      *calendar.Calendar
}

// CompletePart records that a unit or agency finished its part of a parallel step, with its opinion.
type CompletePart struct {
	Step    string
	By      Handler
	Opinion string
	At      time.Time
}

// Appraise records the specialist's examination and proposal.
type Appraise struct {
	Appraiser  Handler
	Conclusion AppraisalConclusion
	Opinion    string
	At         time.Time
}

// Sign records the leader's approval and digital signature of the result document.
type Sign struct {
	Signer         Handler
	SignerTitle    string
	DocumentNumber string
	DocumentHash   string
	At             time.Time
}

// Reject refuses the request after appraisal, in writing, with reasons.
type Reject struct {
	Reason string
	At     time.Time
}

func (Transfer) Action() Action            { return ActionTransfer }
func (InterAgencyTransfer) Action() Action { return ActionInterAgencyTransfer }
func (Appraise) Action() Action            { return ActionAppraise }
func (Sign) Action() Action                { return ActionSign }
func (Reject) Action() Action              { return ActionReject }
func (CompletePart) Action() Action        { return ActionCompletePart }

// maxAllottedHours bounds a single step's allotted time (a year of working days): anything longer is a typo.
const maxAllottedHours = 8 * 260

func checkAllotted(v *Validation, hours float64) {
	v.Check(hours > 0 && hours <= maxAllottedHours, "allotted_hours", "must be between 0 and %d working hours", maxAllottedHours)
}

func decideTransfer(d Dossier, c Transfer) ([]Event, error) {
	var v Validation
	checkText(&v, "step", c.Step, true, 200)
	checkText(&v, "note", c.Note, false, 2000)
	checkMoment(&v, c.At)
	step, parallelStep, fromWorkflow := locateStep(c.Workflow, c.Step)
	if problem := transferStepProblem(d, c, step, parallelStep, fromWorkflow); problem != "" {
		v.Add("step", "%s", problem) // the whole story: the unit and hours the step would give are moot
		return nil, v.Err()
	}
	skip, skipRefused := checkStepOrder(d, ActionTransfer, &v, c.Workflow, c.Step, fromWorkflow, c.SkipReason)
	switch {
	case step.IsParallel():
		v.Check(c.AllottedHours == 0, "allotted_hours", "each part of a parallel step takes its hours from the workflow")
		// The step's unit coordinates; without one, whoever sends the parts out does.
		c.To.Unit = cmp.Or(c.To.Unit, step.Unit, c.From.Unit)
	case fromWorkflow:
		c.AllottedHours = cmp.Or(c.AllottedHours, step.AllottedHours)
		c.To.Unit = cmp.Or(c.To.Unit, step.Unit)
	}
	checkText(&v, "to.unit", c.To.Unit, true, 100)
	if !step.IsParallel() {
		checkAllotted(&v, c.AllottedHours)
	}
	if err := cmp.Or(v.Err(), skipRefused); err != nil {
		return nil, err
	}
	start := c.Calendar.NextWorkingMoment(c.At)
	if step.IsParallel() {
		started := startParallelStep(d, c, step, start)
		started.StepSkip = skip
		return []Event{started}, nil
	}
	return []Event{Transferred{
		From: c.From, To: c.To, Step: c.Step, AllottedHours: c.AllottedHours,
		StepDeadline: c.Calendar.AddWorkingTime(start, hoursToDuration(c.AllottedHours)),
		Note:         c.Note, TransferredAt: c.At, PreviousStepDeadline: d.StepDeadline, CalendarVersion: c.Calendar.Version(),
		FromWorkflow: fromWorkflow, StepSkip: skip,
	}}, nil
}

// checkStepOrder returns what the event records of a move to target, and the refusal (409 naming the
// step due next) of a move that passes over workflow steps without a reason; a reason when nothing is
// passed over is bad input, added to v. Bad input is answered before the refusal. A step outside the
// workflow leaves the dossier's place in it unchanged, so it skips nothing.
func checkStepOrder(d Dossier, action Action, v *Validation, workflow []WorkflowStep, target string, fromWorkflow bool, reason string) (StepSkip, error) {
	reason = strings.TrimSpace(reason)
	var skipped []string
	next := ""
	if fromWorkflow {
		skipped, next = stepsSkipped(d, workflow, target)
	}
	switch {
	case len(skipped) > 0 && reason == "":
		return StepSkip{}, refuse(d, action, "step %q would skip %s: the next step of the internal process is %q; skipping steps needs a skip_reason, which is recorded",
			target, quotedList(skipped), next)
	case len(skipped) == 0 && reason != "":
		v.Add("skip_reason", "is only for a transfer that passes over workflow steps; %q skips none", target)
	}
	checkText(v, "skip_reason", reason, false, 2000)
	if len(skipped) == 0 {
		return StepSkip{}, nil
	}
	return StepSkip{SkippedSteps: skipped, SkipReason: reason}, nil
}

// transferStepProblem says why a transfer may not go to the step it names, or "".
func transferStepProblem(d Dossier, c Transfer, step WorkflowStep, parallelStep string, fromWorkflow bool) string {
	switch {
	case c.Step == "":
		return ""
	case parallelStep != "":
		return fmt.Sprintf("is one part of the parallel step %q: transfer to %q to send all its parts at once", parallelStep, parallelStep)
	case fromWorkflow && !step.IsParallel() && d.IsOtherAgency(step.Unit):
		return fmt.Sprintf("is done by another agency (%s): send the dossier there with %s", step.Unit, ActionInterAgencyTransfer)
	case !fromWorkflow && c.AllottedHours == 0:
		return unknownStep(d, c.Workflow)
	}
	return ""
}

func unknownStep(d Dossier, workflow []WorkflowStep) string {
	return fmt.Sprintf("is not a step of the workflow of procedure %s (%s); give allotted_hours for a step outside it",
		d.Procedure.Code, quotedList(Procedure{Workflow: workflow}.StepNames()))
}

// startParallelStep sends every part of a parallel step out at once; the step ends when its
// latest part is due, and the receiving official (c.To) coordinates.
func startParallelStep(d Dossier, c Transfer, step WorkflowStep, start time.Time) ParallelStepStarted {
	e := ParallelStepStarted{
		From: c.From, Coordinator: c.To, Step: step.Name, Note: c.Note, StartedAt: c.At,
		PreviousStepDeadline: d.StepDeadline, CalendarVersion: c.Calendar.Version(),
	}
	for _, part := range step.Parallel {
		agency := d.CompetentAgency
		if d.IsOtherAgency(part.Unit) {
			agency = part.Unit
		}
		deadline := c.Calendar.AddWorkingTime(start, hoursToDuration(part.AllottedHours))
		e.Parts = append(e.Parts, ParallelPart{
			Step: part.Name, Unit: part.Unit, Agency: agency, Role: part.Role, AllottedHours: part.AllottedHours, StepDeadline: deadline,
		})
		if deadline.After(e.StepDeadline) {
			e.StepDeadline = deadline
		}
	}
	return e
}

func decideInterAgencyTransfer(d Dossier, c InterAgencyTransfer) ([]Event, error) {
	var v Validation
	checkText(&v, "step", c.Step, false, 200)
	checkMoment(&v, c.At)
	step, parallelStep, fromWorkflow := locateStep(c.Workflow, c.Step)
	if c.Step == "" {
		// A purpose naming another agency's workflow step takes that step's time; any other purpose
		// is free text with explicit hours.
		step, parallelStep, fromWorkflow = locateStep(c.Workflow, c.Purpose)
		if !fromWorkflow || parallelStep != "" || step.IsParallel() || !d.IsOtherAgency(step.Unit) {
			step, parallelStep, fromWorkflow = WorkflowStep{}, "", false
		}
	}
	if problem := interAgencyStepProblem(d, c, step, parallelStep, fromWorkflow); problem != "" {
		v.Add("step", "%s", problem)
		return nil, v.Err()
	}
	skip, skipRefused := checkStepOrder(d, ActionInterAgencyTransfer, &v, c.Workflow, step.Name, fromWorkflow, c.SkipReason)
	if fromWorkflow {
		c.ToAgency = cmp.Or(c.ToAgency, step.Unit)
		c.Purpose = cmp.Or(c.Purpose, step.Name)
		c.AllottedHours = cmp.Or(c.AllottedHours, step.AllottedHours)
		c.Step = step.Name
	}
	c.Purpose = cmp.Or(c.Purpose, c.Step)
	v.Check(ValidUnitCode(c.ToAgency), "to_agency", "is not a QCVN 102 identifier")
	v.Check(c.ToAgency != c.FromAgency, "to_agency", "is the agency that holds the dossier")
	checkText(&v, "purpose", c.Purpose, true, 500)
	checkAllotted(&v, c.AllottedHours)
	if err := cmp.Or(v.Err(), skipRefused); err != nil {
		return nil, err
	}
	return []Event{InterAgencyTransferred{
		FromAgency: c.FromAgency, ToAgency: c.ToAgency, From: c.From, Purpose: c.Purpose, AllottedHours: c.AllottedHours,
		StepDeadline:  c.Calendar.AddWorkingTime(c.Calendar.NextWorkingMoment(c.At), hoursToDuration(c.AllottedHours)),
		TransferredAt: c.At, PreviousStepDeadline: d.StepDeadline, CalendarVersion: c.Calendar.Version(),
		Step: c.Step, FromWorkflow: fromWorkflow, StepSkip: skip,
	}}, nil
}

// interAgencyStepProblem says why an inter-agency transfer may not go to the step it names, or "".
func interAgencyStepProblem(d Dossier, c InterAgencyTransfer, step WorkflowStep, parallelStep string, fromWorkflow bool) string {
	switch {
	case parallelStep != "":
		return fmt.Sprintf("is one part of the parallel step %q: transfer to %q to send all its parts at once", parallelStep, parallelStep)
	case step.IsParallel():
		return fmt.Sprintf("is a parallel step: send all its parts at once with %s", ActionTransfer)
	case fromWorkflow && !d.IsOtherAgency(step.Unit):
		return fmt.Sprintf("is done inside the agency (%s): hand the dossier over with %s", step.Unit, ActionTransfer)
	case !fromWorkflow && c.Step != "" && c.AllottedHours == 0:
		return unknownStep(d, c.Workflow)
	}
	return ""
}

func decideCompletePart(d Dossier, c CompletePart) ([]Event, error) {
	var v Validation
	checkText(&v, "step", c.Step, true, 200)
	checkText(&v, "opinion", c.Opinion, true, 5000)
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(d.OpenParts, func(p OpenPart) bool { return p.Step == c.Step })
	if i < 0 {
		open := make([]string, len(d.OpenParts))
		for k, p := range d.OpenParts {
			open[k] = p.Step
		}
		if len(open) == 0 {
			return nil, refuse(d, ActionCompletePart, "no part of a parallel step is open")
		}
		return nil, refuse(d, ActionCompletePart, "%q is not an open part; open parts: %s", c.Step, quotedList(open))
	}
	part := d.OpenParts[i]
	return []Event{PartCompleted{
		ParallelStep: part.ParallelStep, Step: part.Step, Agency: part.Agency, By: c.By, Opinion: c.Opinion,
		StepDeadline: part.StepDeadline, CompletedAt: c.At,
	}}, nil
}

func quotedList(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = strconv.Quote(s)
	}
	return strings.Join(quoted, ", ")
}

func decideAppraise(d Dossier, c Appraise) ([]Event, error) {
	if d.Signature != nil {
		return nil, refuse(d, ActionAppraise, "the result is already signed")
	}
	var v Validation
	v.Check(c.Conclusion == ConclusionApprove || c.Conclusion == ConclusionReject, "conclusion", "must be approve or reject")
	checkText(&v, "opinion", c.Opinion, true, 5000)
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{Appraised{Conclusion: c.Conclusion, Opinion: c.Opinion, Appraiser: c.Appraiser, AppraisedAt: c.At}}, nil
}

func decideSign(d Dossier, c Sign) ([]Event, error) {
	switch {
	case d.Appraisal == nil:
		return nil, refuse(d, ActionSign, "the dossier has not been appraised")
	case d.Appraisal.Conclusion != ConclusionApprove:
		return nil, refuse(d, ActionSign, "the appraisal proposed rejection")
	case d.Signature != nil:
		return nil, refuse(d, ActionSign, "the result is already signed")
	}
	var v Validation
	checkText(&v, "document_number", c.DocumentNumber, true, 100)
	v.Check(validDocumentHash(c.DocumentHash), "document_hash", "must be the hex SHA-256 of the document")
	checkText(&v, "signer_title", c.SignerTitle, false, 200)
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{Signed{Signer: c.Signer, SignerTitle: c.SignerTitle, DocumentNumber: c.DocumentNumber, DocumentHash: c.DocumentHash, SignedAt: c.At}}, nil
}

func decideReject(d Dossier, c Reject) ([]Event, error) {
	if d.Appraisal == nil {
		return nil, refuse(d, ActionReject, "a rejection needs an appraisal first")
	}
	if d.Signature != nil {
		return nil, refuse(d, ActionReject, "the result is already signed")
	}
	if err := checkReasoned(c.Reason, c.At); err != nil {
		return nil, err
	}
	return []Event{Rejected{Reason: c.Reason, RejectedAt: c.At}}, nil
}

func hoursToDuration(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

func itoa(i int) string { return strconv.Itoa(i) }
