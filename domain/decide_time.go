package domain

import (
	"fmt"
	"time"
)

// IssueApology apologises for lateness with a new appointment date (form 04): at least
// Rules.ApologyNoticeDays working days before the date in force, at most Rules.MaxApologies times
// (one day and once: NĐ 61; kept in practice under NĐ 118), under the dossier's rule set.
type IssueApology struct {
	Reason             string
	NewAppointmentDate time.Time
	At                 time.Time
	Calendar           *Calendar
}

// Suspend stops processing for a reason; the clock is paused.
type Suspend struct {
	Reason string
	At     time.Time
}

// Resume restarts processing; the appointment date and the due dates move by the working time spent
// suspended.
type Resume struct {
	At       time.Time
	Calendar *Calendar
}

// Withdraw records the applicant's withdrawal.
type Withdraw struct {
	Reason string
	At     time.Time
}

func (IssueApology) Action() Action { return ActionIssueApology }
func (Suspend) Action() Action      { return ActionSuspend }
func (Resume) Action() Action       { return ActionResume }
func (Withdraw) Action() Action     { return ActionWithdraw }

func decideIssueApology(d Dossier, c IssueApology) ([]Event, error) {
	if err := guard(d, ActionIssueApology); err != nil {
		return nil, err
	}
	rules := DefaultRuleBook().ForDossier(d)
	if d.Apologies >= rules.MaxApologies {
		if d.Apology == nil {
			return nil, refuse(d, ActionIssueApology, "the rules in force for this dossier (%s) allow no apology with a new appointment date", rules.Version)
		}
		times := "only once"
		if rules.MaxApologies != 1 {
			times = fmt.Sprintf("at most %d times", rules.MaxApologies)
		}
		return nil, refuse(d, ActionIssueApology, "an apology with a new appointment date was already issued on %s; it may be issued %s",
			d.Apology.IssuedAt.In(VietnamTime).Format("02/01/2006"), times)
	}
	var v Validation
	checkText(&v, "reason", c.Reason, true, 2000)
	v.Check(c.NewAppointmentDate.After(d.AppointmentDate), "new_appointment_date", "must be after the current appointment date")
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	notice := time.Duration(rules.ApologyNoticeDays) * c.Calendar.WorkingDayLength()
	if c.Calendar.WorkingTimeBetween(c.At, d.AppointmentDate) < notice || !c.At.Before(d.AppointmentDate) {
		return nil, refuse(d, ActionIssueApology, "an apology must be issued at least %s before the appointment date", workingDays(rules.ApologyNoticeDays))
	}
	return []Event{ApologyIssued{Reason: c.Reason, OldAppointmentDate: d.AppointmentDate, NewAppointmentDate: c.NewAppointmentDate, IssuedAt: c.At}}, nil
}

func decideSuspend(d Dossier, c Suspend) ([]Event, error) {
	if err := guard(d, ActionSuspend); err != nil {
		return nil, err
	}
	if err := checkReasoned(c.Reason, c.At); err != nil {
		return nil, err
	}
	return []Event{Suspended{Reason: c.Reason, SuspendedAt: c.At}}, nil
}

func decideResume(d Dossier, c Resume) ([]Event, error) {
	if err := guard(d, ActionResume); err != nil {
		return nil, err
	}
	var v Validation
	checkMoment(&v, c.At)
	v.Check(!c.At.Before(d.SuspendedAt), "at", "is before the suspension")
	if err := v.Err(); err != nil {
		return nil, err
	}
	paused := c.Calendar.WorkingTimeBetween(d.SuspendedAt, c.At)
	return []Event{Resumed{
		ResumedAt: c.At, PausedWorkingTime: paused, OldAppointmentDate: d.AppointmentDate,
		NewAppointmentDate:  c.Calendar.AddWorkingTime(d.AppointmentDate, paused),
		CalendarVersion:     c.Calendar.Version(),
		NewDueDate:          c.Calendar.AddWorkingTime(firstNonZero(d.DueDate, d.AppointmentDate), paused),
		NewIndicatorDueDate: c.Calendar.AddWorkingTime(firstNonZero(d.IndicatorDueDate, d.AppointmentDate), paused),
		RulesVersion:        DefaultRuleBook().ForDossier(d).Version,
	}}, nil
}

func decideWithdraw(d Dossier, c Withdraw) ([]Event, error) {
	if err := guard(d, ActionWithdraw); err != nil {
		return nil, err
	}
	if err := checkReasoned(c.Reason, c.At); err != nil {
		return nil, err
	}
	return []Event{Withdrawn{Reason: c.Reason, WithdrawnAt: c.At}}, nil
}
