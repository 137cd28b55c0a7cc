package domain

import (
	"cmp"
	"fmt"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// IssueApology apologises for lateness with a new appointment date (form 04), given either as a
// moment or as working days added to the date in force. It is issued on a working day at least
// Rules.ApologyNoticeDays working days before the day of the date in force, at most Rules.MaxApologies
// times (one day and once: NĐ 61 art. 19; kept in practice under NĐ 118), and may move the date by at
// most Rules.ApologyMaxExtensionPercent of the procedure's resolution time, to a working moment.
type IssueApology struct {
	Reason             string
	NewAppointmentDate time.Time
	ExtraWorkingDays   int
	At                 time.Time
	Calendar           *calendar.Calendar
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
	Calendar *calendar.Calendar
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
	maxExtension := rules.ApologyMaxExtension(c.Calendar, d.Procedure.ResolutionTime)
	latest := c.Calendar.AddWorkingTime(d.AppointmentDate, maxExtension)
	bound := fmt.Sprintf("%s (%d%% of the procedure's resolution time, %s), that is by %s",
		describeWorkingTime(c.Calendar, maxExtension), cmp.Or(rules.ApologyMaxExtensionPercent, 100),
		d.Procedure.ResolutionTime, latest.In(VietnamTime).Format("15:04 02/01/2006"))
	newDate := c.NewAppointmentDate
	switch {
	case c.ExtraWorkingDays != 0 && !newDate.IsZero():
		v.Add("extra_working_days", "give either new_appointment_date or extra_working_days, not both")
	case c.ExtraWorkingDays != 0:
		// Compared in days before any date arithmetic, so no count can overflow the calendar.
		maxDays := int(maxExtension / c.Calendar.WorkingDayLength())
		switch {
		case maxDays == 0:
			v.Add("extra_working_days", "an apology may move this appointment date by at most %s: give new_appointment_date", bound)
		case c.ExtraWorkingDays < 1 || c.ExtraWorkingDays > maxDays:
			v.Add("extra_working_days", "must be between 1 and %d: an apology may move the appointment date by at most %s", maxDays, bound)
		default:
			newDate = c.Calendar.AddWorkingDays(d.AppointmentDate, c.ExtraWorkingDays)
		}
	case newDate.IsZero():
		v.Add("new_appointment_date", "give the new appointment date, or extra_working_days")
	case !newDate.After(d.AppointmentDate):
		v.Add("new_appointment_date", "must be after the current appointment date")
	case newDate.After(latest):
		v.Add("new_appointment_date", "may be at most %s after the current appointment date", bound)
	case !c.Calendar.IsWithinWorkingHours(newDate):
		v.Add("new_appointment_date", "must fall in the working hours of a working day")
	}
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	// "Chậm nhất 01 ngày trước ngày hết hạn" (NĐ 61 art. 19) counts days, not hours: the apology is
	// due by the end of the N-th working day before the day of the date in force, whatever its hour.
	lastDay := c.Calendar.WorkingDayBefore(d.AppointmentDate, rules.ApologyNoticeDays)
	issuedOn := c.Calendar.WorkingDayBefore(c.At, 0)
	if issuedOn.After(lastDay) || !c.At.Before(d.AppointmentDate) {
		return nil, refuse(d, ActionIssueApology, "an apology must be issued at least %s before the appointment date, by %s at the latest",
			workingDays(rules.ApologyNoticeDays), lastDay.Format("02/01/2006"))
	}
	return []Event{ApologyIssued{
		Reason: c.Reason, OldAppointmentDate: d.AppointmentDate, NewAppointmentDate: newDate, IssuedAt: c.At,
		LatestAllowedDate: latest, CalendarVersion: c.Calendar.Version(), RulesVersion: rules.Version,
	}}, nil
}

func decideSuspend(d Dossier, c Suspend) ([]Event, error) {
	if err := checkReasoned(c.Reason, c.At); err != nil {
		return nil, err
	}
	return []Event{Suspended{Reason: c.Reason, SuspendedAt: c.At}}, nil
}

func decideResume(d Dossier, c Resume) ([]Event, error) {
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
	if err := checkReasoned(c.Reason, c.At); err != nil {
		return nil, err
	}
	return []Event{Withdrawn{Reason: c.Reason, WithdrawnAt: c.At}}, nil
}
