package domain

import (
	"fmt"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// Timeliness is how a dossier stands against a due date (regulations §6): resolved early, on time
// or late; still open within time or overdue; or not judged (never received, refused at the desk,
// withdrawn — counted apart).
type Timeliness string

const (
	TimelinessEarly      Timeliness = "early"
	TimelinessOnTime     Timeliness = "on_time"
	TimelinessLate       Timeliness = "late"
	TimelinessWithinTime Timeliness = "within_time"
	TimelinessOverdue    Timeliness = "overdue"
	TimelinessNotJudged  Timeliness = "not_judged"
)

// Verdict judges a dossier under one rule: the due date it used, the moment judged (the
// resolution, the moment the clock stopped for a paused dossier, or now) and why, when the dates
// alone do not say.
type Verdict struct {
	Timeliness Timeliness `json:"timeliness"`
	DueDate    time.Time  `json:"due_date,omitzero"`
	JudgedAt   time.Time  `json:"judged_at,omitzero"`
	Reason     string     `json:"reason,omitempty"`
}

// LegalVerdict judges the dossier under the law (NĐ 61/2018 art. 19, kept by NĐ 118/2025): against
// its statutory due date, which restarts when a completed dossier comes back and moves with a
// suspension. An apology's new date does not make a late dossier on time: the apology admits it.
func (d Dossier) LegalVerdict(now time.Time) Verdict {
	return d.judge(firstNonZero(d.DueDate, d.AppointmentDate), now)
}

// IndicatorVerdict judges the dossier under the national indicator's rule (Quyết định 766/QĐ-TTg):
// against the receipt's appointment moved by the time spent waiting for the applicant (and by
// suspensions); and a dossier sent back for completion more often than the rules allow
// (Rules.IndicatorMaxSupplementRequests, once) counts as late whatever its dates.
func (d Dossier) IndicatorVerdict(now time.Time) Verdict {
	v := d.judge(firstNonZero(d.IndicatorDueDate, d.DueDate, d.AppointmentDate), now)
	limit := DefaultRuleBook().ForDossier(d).IndicatorMaxSupplementRequests
	if d.SupplementRequests <= limit {
		return v
	}
	switch v.Timeliness {
	case TimelinessEarly, TimelinessOnTime:
		v.Timeliness = TimelinessLate
	case TimelinessWithinTime:
		v.Timeliness = TimelinessOverdue
	default:
		return v
	}
	v.Reason = fmt.Sprintf("%d supplement requests; more than %d counts as late", d.SupplementRequests, limit)
	return v
}

// judge compares the dossier with due: a resolved dossier by its resolution moment, an open one by
// now, or by the moment its clock stopped when it is paused (suspended, or waiting for the
// applicant's supplement after receipt).
func (d Dossier) judge(due, now time.Time) Verdict {
	if d.ReceivedAt.IsZero() || d.Status == StatusWithdrawn || d.Status == StatusReceptionRefused {
		return Verdict{Timeliness: TimelinessNotJudged}
	}
	v := Verdict{DueDate: due}
	if resolved := d.resolutionMoment(); !resolved.IsZero() {
		v.JudgedAt = resolved
		switch {
		case resolved.After(due):
			v.Timeliness = TimelinessLate
		case calendar.OnEarlierDay(resolved, due):
			v.Timeliness = TimelinessEarly
		default:
			v.Timeliness = TimelinessOnTime
		}
		return v
	}
	v.JudgedAt = now
	switch {
	case d.Status == StatusSuspended:
		v.JudgedAt = d.SuspendedAt
	case d.PendingSupplement != nil && !d.PendingSupplement.BeforeReceipt:
		v.JudgedAt = d.PendingSupplement.RequestedAt
	}
	v.Timeliness = TimelinessWithinTime
	if v.JudgedAt.After(due) {
		v.Timeliness = TimelinessOverdue
	}
	return v
}

// resolutionMoment is when the agency answered: the first result ready, the rejection, or the
// return; zero while the dossier is open.
func (d Dossier) resolutionMoment() time.Time {
	switch {
	case len(d.Results) > 0:
		return d.Results[0].ReadyAt
	case d.Status == StatusRejected:
		return d.ClosedAt
	}
	return d.ReturnedAt
}
