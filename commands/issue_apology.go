package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// IssueApologyInput apologises for lateness with a new appointment date (form 04). The new date is
// given either as a moment or as working days added to the current appointment date; the domain
// checks either against the bound of the dossier's rule set and names the field given.
type IssueApologyInput struct {
	Reason             string    `json:"reason" text:"multiline"`
	NewAppointmentDate time.Time `json:"new_appointment_date,omitzero"`
	ExtraWorkingDays   int       `json:"extra_working_days,omitempty"`
}

func (IssueApologyInput) Action() domain.Action { return domain.ActionIssueApology }

func (in IssueApologyInput) command(_ context.Context, a *App, _ Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.IssueApology{
		Reason: in.Reason, NewAppointmentDate: in.NewAppointmentDate, ExtraWorkingDays: in.ExtraWorkingDays, At: now, Calendar: a.Calendar,
	}, nil
}
