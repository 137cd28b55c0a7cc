package domain

import (
	"fmt"
	"strings"

	"github.com/motcua/motcua/domain/calendar"
)

// WorkflowStep is one step of a procedure's internal process (quy trình nội bộ): the unit that
// performs it, the role, and its allotted working hours. A step with Parallel parts runs at several
// units or agencies at once (consultations, inter-agency work — liên thông), each part with its own
// share of the time; it lasts as long as its longest part and has no hours of its own. Parts are
// single steps: a part's own internal process is the business of the unit doing it. The file
// format is documented in docs/catalog.md.
type WorkflowStep struct {
	Name          string         `json:"name"`
	Unit          string         `json:"unit"` // department code inside the competent agency, or an agency's identifier
	Role          string         `json:"role"`
	AllottedHours float64        `json:"allotted_hours,omitempty"`
	Parallel      []WorkflowStep `json:"parallel,omitempty"`
}

// IsParallel reports whether the step runs as several parts at once.
func (s WorkflowStep) IsParallel() bool { return len(s.Parallel) > 0 }

// Hours is the step's working time on the critical path: its allotted hours, or for a parallel
// step the longest part's.
func (s WorkflowStep) Hours() float64 {
	if !s.IsParallel() {
		return s.AllottedHours
	}
	var longest float64
	for _, part := range s.Parallel {
		longest = max(longest, part.AllottedHours)
	}
	return longest
}

// CriticalPathHours is the working time the workflow takes when every step uses its allotted
// hours: the sum of the steps, a parallel step counting as its longest part. It must fit the
// statutory resolution time.
func (p Procedure) CriticalPathHours() float64 {
	var total float64
	for _, s := range p.Workflow {
		total += s.Hours()
	}
	return total
}

// Step returns the workflow step with the given name: a step of the sequence, a parallel step, or
// one part of a parallel step.
func (p Procedure) Step(name string) (WorkflowStep, bool) {
	step, _, ok := locateStep(p.Workflow, name)
	return step, ok
}

// StepNames lists the names of the workflow's steps and parts, in order.
func (p Procedure) StepNames() []string {
	var names []string
	for _, s := range p.Workflow {
		names = append(names, s.Name)
		for _, part := range s.Parallel {
			names = append(names, part.Name)
		}
	}
	return names
}

// DeskRole is the role of the workflow's steps done at the one-stop desk: the receipt, which
// completes the workflow's leading desk steps, and the return of the result.
const DeskRole = "reception"

// stepsSkipped lists the workflow steps a move to the step named target would pass over, and names
// the step due next. The internal process (quy trình nội bộ, NĐ 61 ch. III; regulations.md §3.4)
// is followed in order: a dossier goes to its next step, stays in its step (the department head
// assigns a handler), or goes back for rework. The dossier's place is its latest workflow step; before
// any, the receipt has done the leading desk steps. A latest step the workflow no longer has (the
// catalog changed under the dossier) leaves its place unknown: nothing counts as skipped.
func stepsSkipped(d Dossier, workflow []WorkflowStep, target string) (skipped []string, next string) {
	to := workflowIndex(workflow, target)
	place := d.LatestWorkflowStep
	if place == "" && workflowIndex(workflow, d.Step) >= 0 {
		// Transfers recorded before from_workflow was kept leave no latest workflow step; the
		// current step, when the workflow has it, is one.
		place = d.Step
	}
	from := workflowIndex(workflow, place)
	if place == "" {
		for from+1 < len(workflow) && workflow[from+1].Role == DeskRole && !workflow[from+1].IsParallel() {
			from++
		}
	} else if from < 0 {
		return nil, ""
	}
	if to < 0 || to <= from+1 {
		return nil, ""
	}
	for _, s := range workflow[from+1 : to] {
		skipped = append(skipped, s.Name)
	}
	return skipped, workflow[from+1].Name
}

// workflowIndex is the position in the sequence of the step named name (a part counts as its
// parallel step), or -1.
func workflowIndex(workflow []WorkflowStep, name string) int {
	for i, s := range workflow {
		if s.Name == name {
			return i
		}
		for _, part := range s.Parallel {
			if part.Name == name {
				return i
			}
		}
	}
	return -1
}

// locateStep finds a step by name; parallelStep is the enclosing parallel step's name when the
// step is one of its parts.
func locateStep(workflow []WorkflowStep, name string) (step WorkflowStep, parallelStep string, ok bool) {
	for _, s := range workflow {
		if s.Name == name {
			return s, "", true
		}
		for _, part := range s.Parallel {
			if part.Name == name {
				return part, s.Name, true
			}
		}
	}
	return WorkflowStep{}, "", false
}

// checkWorkflow checks procedure p's workflow: named steps, unique names (a transfer names its
// step), known units, positive hours on every single step and part, parallel steps with at least two
// single-step parts, and a critical path within the statutory time under cal.
func (c *Catalog) checkWorkflow(v *Validation, at string, p Procedure, cal *calendar.Calendar) {
	if len(p.Workflow) == 0 {
		v.Add(at+".workflow", "needs at least one step")
		return
	}
	// Departments are looked up in the competent agency; when it is unknown or agency codes clash,
	// that error is reported already and unit errors would only repeat it.
	competent, checkUnits := c.agencies[p.CompetentAgency], len(c.agencies) == len(c.Agencies)
	checkUnits = checkUnits && competent != nil
	seen := map[string]bool{}
	checkLeaf := func(path string, s WorkflowStep) {
		v.Check(s.Name != "" && s.AllottedHours > 0, path, "needs a name and positive allotted hours")
		v.Check(s.Role != "", path+".role", "is required")
		if checkUnits {
			c.checkUnit(v, path+".unit", s.Unit, competent)
		}
	}
	checkName := func(path, name string) {
		v.Check(name == "" || !seen[name], path+".name", "%q names another step too; a transfer names its step, so names must be unique", name)
		seen[name] = true
	}
	for j, s := range p.Workflow {
		path := fmt.Sprintf("%s.workflow[%d]", at, j)
		checkName(path, s.Name)
		if !s.IsParallel() {
			checkLeaf(path, s)
			continue
		}
		v.Check(s.Name != "", path, "needs a name")
		v.Check(len(s.Parallel) >= 2, path+".parallel", "a parallel step needs at least two parts")
		v.Check(s.AllottedHours == 0, path+".allotted_hours", "a parallel step lasts as long as its longest part: give the hours to its parts")
		if checkUnits && s.Unit != "" {
			c.checkUnit(v, path+".unit", s.Unit, competent)
		}
		for k, part := range s.Parallel {
			partPath := fmt.Sprintf("%s.parallel[%d]", path, k)
			checkName(partPath, part.Name)
			if part.IsParallel() {
				v.Add(partPath, "a part is a single step; parallel steps cannot be nested")
				continue
			}
			checkLeaf(partPath, part)
		}
	}
	if cal != nil {
		// A same-day procedure's path must fit one working day; one received late in the day has
		// less, and its step deadlines may then run past its appointment.
		limit := p.ResolutionTime.WorkingTime(cal).Hours()
		total := p.CriticalPathHours()
		v.Check(total <= limit, at+".workflow", "its critical path allots %.1f h, more than the %s (%.1f h) allowed", total, p.ResolutionTime, limit)
	}
}

// checkUnit accepts a department of the competent agency or any agency of the catalog.
func (c *Catalog) checkUnit(v *Validation, field, unit string, competent *Agency) {
	if c.agencies[unit] != nil {
		return
	}
	for _, d := range competent.Departments {
		if d.Code == unit {
			return
		}
	}
	var departments []string
	for _, d := range competent.Departments {
		departments = append(departments, d.Code)
	}
	v.Add(field, "%q is neither a department of %s (%s) nor a catalog agency", unit, competent.Code, strings.Join(departments, ", "))
}
