package timers_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/internal/outboxtest"
	"github.com/motcua/motcua/timers"
)

// forEachBackend runs test on SQLite and on PostgreSQL.
func forEachBackend(t *testing.T, test func(t *testing.T, d engine.Dialect)) {
	for _, d := range backends {
		t.Run(string(d), func(t *testing.T) { test(t, d) })
	}
}

// An online submission not answered within its 8 working hours fires once at the deadline its
// submission recorded (over a weekend), to the desk; one accepted in time is disarmed and never fires.
func TestAcceptanceAlarmFiresAtTheRecordedDeadlineOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d engine.Dialect) {
		r := newRig(t, d, vn(2026, 12, 4, 15, 0), timers.Config{}) // a Friday, 15:00
		late := r.receive(domain.ChannelOnline)
		answered := r.receive(domain.ChannelOnline)
		r.settle()
		deadline := r.dossier(late).AcceptanceWindows[0].Deadline
		// 2 h on Friday, 07:30–11:30 and 13:00–15:00 on Monday: the weekend does not count.
		if want := vn(2026, 12, 7, 15, 0); !deadline.Equal(want) {
			t.Fatalf("the submission recorded its deadline at %v, want %v", deadline, want)
		}
		a := r.only(r.alarms(late, timers.KindAcceptance), "the late submission")
		if a.state != timers.StateArmed || !a.due.Equal(deadline) || a.unit != centre {
			t.Fatalf("alarm %+v, want armed at %v for the centre", a, deadline)
		}

		r.clock.Set(vn(2026, 12, 7, 8, 0))
		r.do(desk, answered, &commands.AcceptInput{})
		r.settle()
		if got := r.only(r.alarms(answered, timers.KindAcceptance), "the accepted submission"); got.state != timers.StateDisarmed {
			t.Fatalf("the accepted submission's alarm is %s, want disarmed", got.state)
		}

		if r.firedAt(vn(2026, 12, 5, 10, 0), late, timers.KindAcceptance, a.key) { // Saturday
			t.Fatal("the alarm fired on Saturday")
		}
		if r.firedAt(deadline.Add(-time.Millisecond), late, timers.KindAcceptance, a.key) {
			t.Fatal("the alarm fired before the deadline")
		}
		if !r.firedAt(deadline, late, timers.KindAcceptance, a.key) {
			t.Fatal("the alarm did not fire at the deadline")
		}
		r.fire(deadline.Add(time.Hour))
		if n := r.deliveries()[timers.DeliveryKey(timers.NotifierName, a.key)]; n != 1 {
			t.Fatalf("%d deliveries with the alarm's key, want 1", n)
		}
	})
}

// A step about to fall due warns its holder and their head the configured number of working
// hours before the deadline its transfer recorded, skipping a holiday and a weekend; the next
// transfer disarms it and arms the next step's.
func TestStepAlarmWarnsInWorkingHoursAndMovesWithTheDossier(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d engine.Dialect) {
		// Wednesday 30/12/2026; 1/1/2027 is a Friday and a holiday.
		r := newRig(t, d, vn(2026, 12, 30, 8, 0), timers.Config{StepWarning: 6 * time.Hour})
		id := r.receive(domain.ChannelDirect)
		r.do(desk, id, commands.TransferInput{ToUnit: unitPQL, Step: "Phân công thụ lý", AllottedHours: 16})
		r.settle()
		stepDeadline := r.dossier(id).StepDeadline
		// 16 working hours from Wednesday 08:00: Wednesday's 7.5 h, Thursday's 8, Monday 07:30 + 0.5 h.
		if want := vn(2027, 1, 4, 8, 0); !stepDeadline.Equal(want) {
			t.Fatalf("the transfer recorded the step deadline %v, want %v", stepDeadline, want)
		}
		a := r.latest(id, timers.KindStepDue)
		// 6 working hours before Monday 08:00: 0.5 h on Monday, then back over the weekend and the
		// holiday to Thursday: its afternoon's 4 h, then 11:30 − 1.5 h = 10:00.
		if want := vn(2026, 12, 31, 10, 0); !a.due.Equal(want) || !a.deadline.Equal(stepDeadline) || a.unit != unitPQL {
			t.Fatalf("alarm %+v, want due %v warning of %v to %s", a, want, stepDeadline, unitPQL)
		}
		if r.firedAt(a.due.Add(-time.Minute), id, timers.KindStepDue, a.key) {
			t.Fatal("the alarm fired a minute early")
		}
		if !r.firedAt(a.due, id, timers.KindStepDue, a.key) {
			t.Fatal("the alarm did not fire when due")
		}

		// The head assigns the specialist: the step moves on, a new deadline, a new alarm.
		r.clock.Set(vn(2027, 1, 4, 7, 45))
		r.do(head, id, commands.TransferInput{ToOfficialID: specialist.ID, ToOfficialName: specialist.Name, Step: "Thẩm định hồ sơ", AllottedHours: 8})
		r.settle()
		all := r.alarms(id, timers.KindStepDue)
		assigned := all[len(all)-1]
		if all[len(all)-2].key != a.key || r.latest(id, timers.KindStepDue).state != timers.StateArmed || assigned.official != specialist.ID ||
			!assigned.deadline.Equal(r.dossier(id).StepDeadline) {
			t.Fatalf("step alarms %+v, want the first fired and the next armed for %s", all, specialist.ID)
		}
		// A transfer to the signer at the same moment disarms it before it is due and arms the
		// signature's, which has the same deadline but is another alarm: only that one fires.
		r.do(specialist, id, commands.TransferInput{ToUnit: "BGD", Step: "Trình ký", AllottedHours: 8})
		r.settle()
		signature := r.latest(id, timers.KindStepDue)
		if signature.key == assigned.key || signature.unit != "BGD" || !signature.due.Equal(assigned.due) {
			t.Fatalf("the signature's alarm %+v, want another alarm due with the assignment's %+v", signature, assigned)
		}
		if r.firedAt(assigned.due.Add(time.Minute), id, timers.KindStepDue, assigned.key) {
			t.Fatal("a disarmed alarm fired")
		}
		if r.latest(id, timers.KindStepDue).state != timers.StateFired {
			t.Fatal("the signature's alarm did not fire")
		}
	})
}

// The last working day to apologise for a dossier about to be late warns the head at its first
// working moment, unless an apology was issued; a dossier resolved before it never warns.
func TestApologyAlarmOnTheLastDayUnlessApologised(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d engine.Dialect) {
		r := newRig(t, d, vn(2026, 12, 7, 8, 0), timers.Config{}) // Monday
		silent := r.receive(domain.ChannelDirect)
		apologised := r.receive(domain.ChannelDirect)
		r.settle()
		appointment := r.dossier(silent).AppointmentDate
		a := r.only(r.alarms(silent, timers.KindApologyDue), "after receipt")
		// The appointment (5 working days) falls on Monday 14/12: the apology is due by the end
		// of Friday 11/12, and the head is told at its first working moment.
		if want := vn(2026, 12, 11, 7, 30); !a.due.Equal(want) || !a.deadline.Equal(appointment) {
			t.Fatalf("alarm %+v, want due %v for the appointment %v", a, want, appointment)
		}

		r.clock.Set(vn(2026, 12, 10, 9, 0))
		r.do(head, apologised, commands.IssueApologyInput{Reason: "Chờ ý kiến cơ quan phối hợp", ExtraWorkingDays: 2})
		r.settle()
		if got := r.only(r.alarms(apologised, timers.KindApologyDue), "after the apology"); got.state != timers.StateDisarmed {
			t.Fatalf("the apologised dossier's alarm is %s, want disarmed", got.state)
		}
		if r.firedAt(vn(2026, 12, 11, 7, 29), silent, timers.KindApologyDue, a.key) {
			t.Fatal("the alarm fired before the last day's first working moment")
		}
		if !r.firedAt(vn(2026, 12, 11, 7, 30), silent, timers.KindApologyDue, a.key) {
			t.Fatal("the alarm did not fire on the last day")
		}
		if got := r.latest(apologised, timers.KindApologyDue); got.state != timers.StateDisarmed {
			t.Fatalf("the apologised dossier's alarm is %s", got.state)
		}
	})
}

// A supplement request left unanswered for the configured working days tells the official who
// asked; one answered in time is disarmed.
func TestSupplementAlarmWhenUnanswered(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d engine.Dialect) {
		r := newRig(t, d, vn(2026, 12, 7, 8, 0), timers.Config{SupplementWait: 3})
		unanswered := r.receive(domain.ChannelDirect)
		answered := r.receive(domain.ChannelDirect)
		for _, id := range []string{unanswered, answered} {
			r.do(desk, id, commands.TransferInput{ToUnit: unitPQL, ToOfficialID: specialist.ID, Step: "Thẩm định hồ sơ"})
			r.do(specialist, id, commands.RequestSupplementInput{MissingItems: []string{"Bản vẽ thiết kế xây dựng"}, Reason: "Thiếu bản vẽ"})
		}
		r.settle()
		a := r.only(r.alarms(unanswered, timers.KindSupplementUnanswered), "after the request")
		// Three working days from Monday 08:00.
		if want := vn(2026, 12, 10, 8, 0); !a.due.Equal(want) || a.official != specialist.ID {
			t.Fatalf("alarm %+v, want due %v for %s", a, want, specialist.ID)
		}
		for _, step := range r.alarms(unanswered, timers.KindStepDue) {
			if step.state == timers.StateArmed {
				t.Fatalf("a step alarm is armed while waiting for the applicant: %+v", step)
			}
		}
		r.clock.Set(vn(2026, 12, 9, 9, 0))
		r.do(desk, answered, commands.SupplementInput{Components: []domain.Component{{Name: "Bản vẽ thiết kế xây dựng", Copies: 2}}})
		r.settle()
		if got := r.only(r.alarms(answered, timers.KindSupplementUnanswered), "after the answer"); got.state != timers.StateDisarmed {
			t.Fatalf("the answered request's alarm is %s, want disarmed", got.state)
		}
		if r.firedAt(vn(2026, 12, 10, 7, 59), unanswered, timers.KindSupplementUnanswered, a.key) {
			t.Fatal("the alarm fired early")
		}
		if !r.firedAt(vn(2026, 12, 10, 8, 0), unanswered, timers.KindSupplementUnanswered, a.key) {
			t.Fatal("the unanswered request's alarm did not fire")
		}
	})
}

// An alarm that fell due while motcua was down fires once when it starts again: the alarms and the
// checkpoint are in the database, and a new firer finds it due.
func TestAlarmDueWhileDownFiresOnceAtStart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d engine.Dialect) {
		r := newRig(t, d, vn(2026, 12, 7, 9, 0), timers.Config{})
		id := r.receive(domain.ChannelOnline)
		r.settle()
		due := r.only(r.alarms(id, timers.KindAcceptance), "armed").due
		r.stop() // the server goes down before the alarm is due

		r.clock.Set(due.Add(72 * time.Hour))
		r.startEngine(timers.Config{})
		r.settle()
		ctx, cancel := context.WithCancel(r.ctx)
		restarted := r.newFirer()
		restarted.PollInterval = 10 * time.Millisecond
		done := make(chan error, 1)
		go func() { done <- restarted.Run(ctx) }()
		deadline := time.Now().Add(10 * time.Second)
		for r.only(r.alarms(id, timers.KindAcceptance), "after restart").state != timers.StateFired {
			if time.Now().After(deadline) {
				t.Fatal("the overdue alarm did not fire after the restart")
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		r.fire(due.Add(73 * time.Hour))
		key := r.only(r.alarms(id, timers.KindAcceptance), "after restart").key
		if n := r.deliveries()[timers.DeliveryKey(timers.NotifierName, key)]; n != 1 {
			t.Fatalf("%d deliveries of the alarm, want 1", n)
		}
	})
}

// Firers on several nodes racing for the same due alarms fire each exactly once, and the outbox
// holds one delivery per alarm.
func TestConcurrentFirersFireEachAlarmOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d engine.Dialect) {
		r := newRig(t, d, vn(2026, 12, 7, 9, 0), timers.Config{})
		const dossiers = 12
		for range dossiers {
			r.receive(domain.ChannelOnline)
		}
		r.settle()
		r.clock.Set(vn(2026, 12, 9, 9, 0))
		const firers = 4
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total int
		)
		for i := range firers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f := r.newFirer()
				f.Batch = 5 + i
				for {
					n, err := f.FireDue(r.ctx)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					total += n
					mu.Unlock()
					if n == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		if total != dossiers {
			t.Fatalf("the firers fired %d alarms, want %d", total, dossiers)
		}
		deliveries := r.deliveries()
		if len(deliveries) != dossiers {
			t.Fatalf("%d deliveries, want %d", len(deliveries), dossiers)
		}
		for key, n := range deliveries {
			if n != 1 {
				t.Errorf("%s recorded %d times", key, n)
			}
		}
	})
}

// Turning the timers on in a deployment with history arms no alarm already overdue: it is never
// mailed, while what falls due later is armed as usual.
func TestAlarmsDueBeforeTheOriginAreNotArmed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d engine.Dialect) {
		r := newRig(t, d, vn(2026, 12, 7, 9, 0), timers.Config{})
		r.stop()
		// The history: a dossier submitted a month before the timers start, another received
		// the week before, whose appointment is still to come.
		r.clock.Set(vn(2026, 11, 2, 9, 0))
		old := r.receive(domain.ChannelOnline)
		r.clock.Set(vn(2026, 12, 3, 9, 0))
		recent := r.receive(domain.ChannelDirect)
		r.clock.Set(vn(2026, 12, 7, 9, 0))
		r.startEngine(timers.Config{})
		r.settle()
		if got := r.alarms(old, timers.KindAcceptance); len(got) != 0 {
			t.Fatalf("the month-old alarm was armed: %+v", got)
		}
		if got := r.latest(recent, timers.KindApologyDue); got.state != timers.StateArmed {
			t.Fatalf("the coming apology alarm is %s, want armed", got.state)
		}
		if n := r.fire(vn(2026, 12, 7, 10, 0)); n != 0 {
			t.Fatalf("fired %d alarms of the history", n)
		}
		// An event since the origin arms its alarm even when it is due already: a step handed
		// over with one working hour, less than the warning, is told at once.
		r.do(desk, recent, commands.TransferInput{ToUnit: unitPQL, Step: "Thẩm định hồ sơ", AllottedHours: 1})
		r.settle()
		step := r.latest(recent, timers.KindStepDue)
		if step.state != timers.StateArmed || !step.due.Before(vn(2026, 12, 7, 9, 0)) {
			t.Fatalf("the new step's alarm %+v, want armed and due before the origin", step)
		}
		if !r.firedAt(vn(2026, 12, 7, 10, 0), recent, timers.KindStepDue, step.key) {
			t.Fatal("the new step's alarm did not fire at once")
		}
	})
}

func ExampleDeliveryKey() {
	fmt.Println(timers.DeliveryKey(timers.NotifierName, "dossier-0190a1b2:step_due:2:1796000000000"))
	// Output: alarm-email:dossier-0190a1b2:step_due:2:1796000000000
}

// A final status disarms every alarm and is all the timers keep of the dossier: a rating recorded
// after it arms nothing and does not start the dossier afresh.
func TestAFinalDossierDisarmsAndStaysFinal(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d engine.Dialect) {
		r := newRig(t, d, vn(2026, 12, 7, 8, 0), timers.Config{})
		id := r.receive(domain.ChannelDirect)
		r.settle()
		if armed := r.armedCount(id); armed == 0 {
			t.Fatal("a received dossier has no alarm armed")
		}
		r.do(desk, id, commands.WithdrawInput{Reason: "Người nộp xin rút hồ sơ"})
		// A rating as the log records it (the use case wants a returned result).
		typ, data, err := domain.EncodeEvent(domain.Rated{Scores: map[domain.Criterion]domain.RatingLevel{}, RatedAt: r.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.store.Append(r.ctx, commands.StreamName(id), eventstore.StreamExists,
			eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Data: data, Metadata: eventstore.Metadata{OccurredAt: r.clock.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		r.appended(res.Position)
		r.settle()
		if armed := r.armedCount(id); armed != 0 {
			t.Fatalf("%d alarms armed after the withdrawal and the rating", armed)
		}
		var state string
		if err := r.db.QueryRowContext(r.ctx, `SELECT state_json FROM timer_dossiers WHERE dossier_id = $1`, commands.StreamName(id)).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(state, `"status":"withdrawn"`) || strings.Contains(state, "procedure") {
			t.Fatalf("the timers keep %s of the withdrawn dossier, want its final status only", state)
		}
	})
}

// The timers read and write the dossiers of a page together. A page of events on dossiers the
// timers hold already (the engine stopped while officials worked) arms, moves and disarms what
// the whole log applied again from nothing, in one page, does.
func TestAlarmsFromOnePageAreThoseOfTheLogAppliedAgain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d engine.Dialect) {
		cfg := timers.Config{StepWarning: 6 * time.Hour}
		r := newRig(t, d, vn(2026, 12, 7, 8, 0), cfg)
		ids := r.receiveEvery5Minutes(12)
		// The engine stopped, the officials go on: their events reach the timers in one page.
		r.stop()
		r.clock.Set(vn(2026, 12, 7, 10, 0))
		for i, id := range ids {
			switch i % 4 {
			case 1:
				r.do(head, id, commands.TransferInput{ToOfficialID: specialist.ID, ToOfficialName: specialist.Name, Step: "Thẩm định hồ sơ", AllottedHours: 8})
			case 2:
				r.do(desk, id, commands.TransferInput{ToUnit: unitPQL, Step: "Phân công thụ lý", AllottedHours: 16})
			case 3:
				r.do(desk, id, commands.WithdrawInput{Reason: "Người nộp xin rút hồ sơ"})
			}
		}
		r.receive(domain.ChannelOnline)
		r.startEngine(cfg)
		r.settle()
		held := timerTables(t, r)
		if !strings.Contains(held, "\tarmed\t") || !strings.Contains(held, "\tdisarmed\t") || !strings.Contains(held, `"status":"withdrawn"`) {
			t.Fatalf("the scenario armed, disarmed and ended too little to compare:\n%s", held)
		}
		// From nothing: the timers' rows and checkpoint gone, the origin kept.
		r.stop()
		for _, statement := range []string{`DELETE FROM timer_alarms`, `DELETE FROM timer_dossiers`, `DELETE FROM projection_checkpoints WHERE name = 'timers'`} {
			if _, err := r.db.ExecContext(r.ctx, statement); err != nil {
				t.Fatal(err)
			}
		}
		r.startEngine(cfg)
		r.settle()
		if again := timerTables(t, r); again != held {
			t.Fatalf("the log applied again from nothing:\n%s\nthe page on the dossiers held:\n%s", again, held)
		}
	})
}

// A node catching up in bulk holds the dossiers and their alarms from page to page and writes them
// at each flush (here after every page of three events, forgetting the finished dossiers), from
// where a stopped engine left the tables: it must end with the rows the live path writes applying
// the whole log again from nothing.
func TestAlarmsCaughtUpInBulkAreThoseOfTheLogAppliedAgain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d engine.Dialect) {
		cfg := timers.Config{StepWarning: 6 * time.Hour}
		r := newRig(t, d, vn(2026, 12, 7, 8, 0), cfg)
		ids := r.receiveEvery5Minutes(10)
		r.stop()
		// The officials go on while the engine is stopped; each dossier's steps lie pages apart.
		for round := range 3 {
			r.clock.Set(vn(2026, 12, 7, 10+round, 0))
			for i, id := range ids {
				switch (i + round) % 4 {
				case 1:
					r.do(head, id, commands.TransferInput{ToOfficialID: specialist.ID, ToOfficialName: specialist.Name, Step: "Thẩm định hồ sơ", AllottedHours: 8})
				case 2:
					r.do(desk, id, commands.TransferInput{ToUnit: unitPQL, Step: "Phân công thụ lý", AllottedHours: 16})
				case 3:
					if round == 2 {
						r.do(desk, id, commands.WithdrawInput{Reason: "Người nộp xin rút hồ sơ"})
					}
				}
			}
			r.receive(domain.ChannelOnline)
		}
		var logged outboxtest.Log
		r.tune = func(e *engine.Engine) {
			e.CatchUpThreshold, e.CatchUpBatch, e.FoldBudget = 1, 3, 2
			e.Logger = slog.New(slog.NewTextHandler(&logged, nil))
		}
		r.startEngine(cfg)
		r.settle()
		r.stop()
		if !strings.Contains(logged.String(), "catching up in bulk") {
			t.Fatalf("the timers did not catch up in bulk:\n%s", logged.String())
		}
		bulk := timerTables(t, r)
		if !strings.Contains(bulk, "\tarmed\t") || !strings.Contains(bulk, "\tdisarmed\t") || !strings.Contains(bulk, `"status":"withdrawn"`) {
			t.Fatalf("the scenario armed, disarmed and ended too little to compare:\n%s", bulk)
		}
		for _, statement := range []string{`DELETE FROM timer_alarms`, `DELETE FROM timer_dossiers`, `DELETE FROM projection_checkpoints WHERE name = 'timers'`} {
			if _, err := r.db.ExecContext(r.ctx, statement); err != nil {
				t.Fatal(err)
			}
		}
		r.tune = nil
		r.startEngine(cfg)
		r.settle()
		if again := timerTables(t, r); again != bulk {
			t.Fatalf("the log applied again from nothing:\n%s\ncaught up in bulk:\n%s", again, bulk)
		}
	})
}

// timerTables renders the timers' alarms (without their numbering) and dossier states, in key
// order, a row a line, its values separated by tabs.
func timerTables(t *testing.T, r *rig) string {
	t.Helper()
	return outboxtest.Rows(t, r.db,
		`SELECT alarm_key, dossier_id, kind, due_at, deadline_at, official, unit, agency, desk, step, armed_by, armed_version, state, closed_by
			FROM timer_alarms ORDER BY alarm_key`,
		`SELECT dossier_id, state_json FROM timer_dossiers ORDER BY dossier_id`)
}
