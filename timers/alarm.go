// Package timers is the third kind of consumer of the log: it acts when nothing happens. A
// Consumer folds each dossier's events into the alarms its deadlines call for — an online
// submission not answered in time, a step about to fall due, the last day to apologise for a
// dossier about to be late, a supplement request the applicant leaves unanswered — arming and
// disarming them as the dossier moves on, in the transaction of its checkpoint. A Firer fires the
// alarms that fall due, each once, recording the notifications they call for as deliveries of the
// outbox (integrations/delivery) in the same transaction; Notifier is the destination that e-mails
// them to the officials concerned. See docs/timers.md.
package timers

import (
	"fmt"
	"strconv"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
)

// Kind is what an alarm warns of.
type Kind string

// The kinds of alarm (regulations.md §3–§4).
const (
	// KindAcceptance: an online submission (or the return of a completed one) not accepted,
	// refused or sent back within its acceptance time (8 working hours, NĐ 45/2020 practice):
	// due at the deadline the submission recorded.
	KindAcceptance Kind = "acceptance_overdue"
	// KindStepDue: the step a dossier is at falls due within Config.StepWarning working hours:
	// due that long before the step deadline its transfer recorded.
	KindStepDue Kind = "step_due"
	// KindApologyDue: an apology with a new appointment date must be issued at least one working
	// day before the appointment date (NĐ 61 art. 19, kept under NĐ 118): due at the start of the
	// last working day it may be issued, while none has been and the dossier is not resolved.
	KindApologyDue Kind = "apology_due"
	// KindSupplementUnanswered: the applicant has not answered a supplement request within
	// Config.SupplementWait working days of it.
	KindSupplementUnanswered Kind = "supplement_unanswered"
)

// Kinds lists every kind, in the order the work queue shows them.
var Kinds = []Kind{KindAcceptance, KindStepDue, KindApologyDue, KindSupplementUnanswered}

// Config is the timers' policy: what the law leaves to the agency.
type Config struct {
	// StepWarning is how long before a step's deadline, in working time, its holder and their head
	// are told; 4 working hours when zero.
	StepWarning time.Duration
	// SupplementWait is how many working days an applicant may leave a supplement request
	// unanswered before the official who asked and their head are told; 15 when zero. The law sets
	// the applicant no limit: this is a reminder to follow the dossier up, not a legal deadline.
	SupplementWait int
}

// DefaultStepWarning and DefaultSupplementWait are the policy when Config leaves it unset.
const (
	DefaultStepWarning    = 4 * time.Hour
	DefaultSupplementWait = 15
)

func (c Config) stepWarning() time.Duration {
	if c.StepWarning > 0 {
		return c.StepWarning
	}
	return DefaultStepWarning
}

func (c Config) supplementWait() int {
	if c.SupplementWait > 0 {
		return c.SupplementWait
	}
	return DefaultSupplementWait
}

// Check reports an error unless the policy is usable.
func (c Config) Check() error {
	if c.StepWarning < 0 || c.StepWarning > 80*time.Hour {
		return fmt.Errorf("timers: the step warning must be between 0 and 80 working hours, not %v", c.StepWarning)
	}
	if c.SupplementWait < 0 || c.SupplementWait > 365 {
		return fmt.Errorf("timers: the supplement wait must be between 0 and 365 working days, not %d", c.SupplementWait)
	}
	return nil
}

// Alarm is one alarm a dossier's state calls for.
type Alarm struct {
	Kind Kind
	// Due is when the alarm fires.
	Due time.Time
	// Deadline is the deadline it warns of, as recorded in the dossier's events (the acceptance
	// deadline, the step deadline, the appointment date) or, for an unanswered supplement, the
	// end of the wait.
	Deadline time.Time
	// Who is told: an official (by id, may be empty) and the heads of a unit (Unit, or Agency when
	// the recipients list no one for the unit).
	Official, Unit, Agency string
	// Desk says the unit's one-stop desk is told as well (an online submission waiting for it).
	Desk bool
	// Step names the step a step alarm is about.
	Step string
	// Round tells apart the occurrences of a kind in a dossier's life that could fall due at the
	// same instant: the acceptance window's number, the transfer's, the supplement request's (two
	// steps handed over at the same moment with the same allotted time have the same deadline).
	Round int
}

// Key identifies the alarm among all: the dossier, the kind, its round and the instant it is
// due. A state that calls for the same alarm again (the same deadline after another event) finds
// it armed or fired already, so it never fires twice; a moved deadline is a new alarm.
func (a Alarm) Key(dossier string) string {
	return dossier + ":" + string(a.Kind) + ":" + strconv.Itoa(a.Round) + ":" + strconv.FormatInt(a.Due.UnixMilli(), 10)
}

// Plan returns the alarms the dossier's state calls for: every deadline comes from the dossier's
// events; cal only places the warnings in working time.
func Plan(d domain.Dossier, cfg Config, cal *calendar.Calendar) []Alarm {
	var alarms []Alarm
	// (a) An online submission waiting for the desk: the open acceptance window.
	if n := len(d.AcceptanceWindows); n > 0 && !d.Status.Final() {
		w := d.AcceptanceWindows[n-1]
		if w.AnsweredAt.IsZero() && !w.Deadline.IsZero() {
			alarms = append(alarms, Alarm{Kind: KindAcceptance, Due: w.Deadline, Deadline: w.Deadline,
				Unit: d.ReceivingUnit, Agency: d.ReceivingUnit, Desk: true, Round: n})
		}
	}
	holderUnit := d.Holder.Unit
	agency := responsibleAgency(d)
	running := d.Status == domain.StatusReceived || d.Status == domain.StatusProcessing || d.Status == domain.StatusAwaitingPayment
	// (b) The step under way, while the clock runs (not while suspended or waiting for the applicant).
	if running && !d.StepDeadline.IsZero() {
		alarms = append(alarms, Alarm{Kind: KindStepDue, Due: cal.AddWorkingTime(d.StepDeadline, -cfg.stepWarning()),
			Deadline: d.StepDeadline, Official: d.Holder.OfficialID, Unit: holderUnit, Agency: agency, Step: d.Step, Round: d.Transfers})
	}
	// (c) The last day to apologise, while no apology was issued and the dossier is not resolved.
	// The rules are the set the dossier recorded at receipt.
	if running && !d.AppointmentDate.IsZero() {
		rules := domain.DefaultRuleBook().ForDossier(d)
		if d.Apologies < rules.MaxApologies {
			lastDay := cal.WorkingDayBefore(d.AppointmentDate, rules.ApologyNoticeDays)
			// A resolution time shorter than the notice leaves no day to apologise on: no alarm.
			if started := firstNonZero(d.ClockStart, d.ReceivedAt); started.IsZero() || !cal.EndOfWorkingDay(lastDay).Before(started) {
				alarms = append(alarms, Alarm{Kind: KindApologyDue, Due: cal.NextWorkingMoment(lastDay),
					Deadline: d.AppointmentDate, Unit: holderUnit, Agency: firstOf(d.CompetentAgency, agency), Round: d.Apologies})
			}
		}
	}
	// (d) A supplement request waiting for the applicant.
	if d.Status == domain.StatusSupplementRequested && d.PendingSupplement != nil {
		limit := cal.AddWorkingDays(cal.NextWorkingMoment(d.PendingSupplement.RequestedAt), cfg.supplementWait())
		alarms = append(alarms, Alarm{Kind: KindSupplementUnanswered, Due: limit, Deadline: limit,
			Official: d.Holder.OfficialID, Unit: holderUnit, Agency: agency, Round: d.SupplementRequests})
	}
	return alarms
}

// responsibleAgency is the agency whose unit holds the dossier, as the work queue names it: a unit
// that is an agency identifier is that agency; a department is one of the agency the dossier was
// sent to for its part (inter-agency work) or, otherwise, of the competent agency.
func responsibleAgency(d domain.Dossier) string {
	switch {
	case domain.ValidUnitCode(d.Holder.Unit):
		return d.Holder.Unit
	case d.HolderAgency != "" && d.HolderAgency != d.ReceivingUnit:
		return d.HolderAgency
	}
	return firstOf(d.CompetentAgency, d.HolderAgency, d.ReceivingUnit)
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
