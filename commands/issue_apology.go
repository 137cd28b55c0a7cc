package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// IssueApologyInput apologises for lateness with a new appointment date (form 04). The new date is
// given either as a moment or as working days added to the current appointment date.
type IssueApologyInput struct {
	Reason             string    `json:"reason"`
	NewAppointmentDate time.Time `json:"new_appointment_date,omitzero"`
	ExtraWorkingDays   int       `json:"extra_working_days,omitempty"`
}

func (IssueApologyInput) Action() domain.Action { return domain.ActionIssueApology }

func (in IssueApologyInput) command(_ context.Context, a *App, _ Caller, d domain.Dossier, now time.Time) (domain.Command, error) {
	newDate := in.NewAppointmentDate
	if newDate.IsZero() && in.ExtraWorkingDays > 0 {
		newDate = a.Calendar.AddWorkingDays(d.AppointmentDate, in.ExtraWorkingDays)
	}
	return domain.IssueApology{Reason: in.Reason, NewAppointmentDate: newDate, At: now, Calendar: a.Calendar}, nil
}
