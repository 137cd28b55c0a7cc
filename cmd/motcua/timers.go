package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/timers"
)

// timerFlags configure serve's deadline alarms (docs/timers.md). Like the mail flags, each
// defaults to an environment variable.
type timerFlags struct {
	on             bool
	stepHours      float64
	supplementDays int
	recipients     string
	templates      string
	poll           time.Duration
}

func addTimerFlags(fs *flag.FlagSet) *timerFlags {
	f := &timerFlags{}
	on := true
	if v, err := strconv.ParseBool(os.Getenv("MOTCUA_ALARMS")); err == nil {
		on = v
	}
	fs.BoolVar(&f.on, "alarms", on, "arm and fire deadline alarms (online acceptance, step due, last day to apologise, supplement unanswered) and show them on the work queue ($MOTCUA_ALARMS)")
	fs.Float64Var(&f.stepHours, "alarm-step-hours", timers.DefaultStepWarning.Hours(), "warn a step's holder and their head this many working hours before the step's deadline")
	fs.IntVar(&f.supplementDays, "alarm-supplement-days", timers.DefaultSupplementWait, "tell the official who asked when a supplement request is unanswered after this many working days")
	fs.StringVar(&f.recipients, "alarm-recipients", os.Getenv("MOTCUA_ALARM_RECIPIENTS"),
		"JSON file of the officials' notification addresses (docs/timers.md); with --smtp, fired alarms are mailed to them ($MOTCUA_ALARM_RECIPIENTS)")
	fs.StringVar(&f.templates, "alarm-templates", os.Getenv("MOTCUA_ALARM_TEMPLATES"),
		"directory of alarm message templates (<kind>.txt) replacing the built-in ones (docs/timers.md) ($MOTCUA_ALARM_TEMPLATES)")
	fs.DurationVar(&f.poll, "alarm-poll", 15*time.Second, "how often due alarms are looked for")
	return f
}

// alarms is what serve runs for the deadline alarms: the consumer arming them (fed by the engine
// with the read models) and the firer.
type alarms struct {
	consumer *timers.Consumer
	firer    *timers.Firer
}

// alarms builds the timers, or returns nil when they are off. Fired alarms are mailed through the
// outbox when it runs (--smtp) and --alarm-recipients names the officials' addresses; otherwise
// they show on the work queue only.
func (f *timerFlags) alarms(ctx context.Context, deployment *deployment, cal *calendar.Calendar, outbox *outbox, logger *slog.Logger) (*alarms, error) {
	if !f.on {
		if f.recipients != "" || f.templates != "" {
			return nil, errors.New("--alarm-recipients and --alarm-templates need the alarms on (--alarms)")
		}
		return nil, nil
	}
	if f.templates != "" && f.recipients == "" {
		return nil, errors.New("--alarm-templates needs --alarm-recipients: without addresses no alarm is mailed")
	}
	if f.stepHours <= 0 || f.supplementDays < 1 || f.poll <= 0 {
		return nil, errors.New("--alarm-step-hours, --alarm-supplement-days and --alarm-poll must be positive")
	}
	consumer, err := timers.NewConsumer(timers.Config{StepWarning: time.Duration(f.stepHours * float64(time.Hour)),
		SupplementWait: f.supplementDays}, cal)
	if err != nil {
		return nil, fmt.Errorf("--alarm-step-hours: %w", err)
	}
	// Migrated now: the first time, this records the origin, before which no alarm is fired.
	if err := consumer.Migrate(ctx, deployment.ProjectionDB, deployment.Dialect()); err != nil {
		return nil, err
	}
	firer := &timers.Firer{DB: deployment.ProjectionDB, Dialect: deployment.Dialect(), PollInterval: f.poll, Logger: logger}
	mailed := "no (work queue only)"
	if f.recipients != "" {
		if outbox == nil || outbox.sender == nil {
			return nil, errors.New("--alarm-recipients needs --smtp: fired alarms are mailed through the outbox")
		}
		recipients, err := timers.LoadRecipients(f.recipients)
		if err != nil {
			return nil, fmt.Errorf("--alarm-recipients: %w", err)
		}
		templates := timers.Templates{Dir: f.templates}
		if err := templates.Check(); err != nil {
			return nil, fmt.Errorf("--alarm-templates: %w", err)
		}
		// The alarms' destination sends through the applicants' mail server, from the same sender.
		notifier := &timers.Notifier{DB: deployment.ProjectionDB, Store: deployment.events.Sealed, Sender: outbox.sender,
			From: outbox.from, Recipients: recipients, Templates: templates}
		outbox.dispatcher.Destinations = append(outbox.dispatcher.Destinations, notifier)
		firer.Destination = notifier.Name()
		mailed = f.recipients
	}
	logger.Info("deadline alarms on", "step_warning_hours", f.stepHours, "supplement_days", f.supplementDays, "mailed", mailed, "templates", orDefault(f.templates, "built-in"))
	return &alarms{consumer: consumer, firer: firer}, nil
}

// consumers returns the alarms' consumer of the log (none when a is nil).
func (a *alarms) consumers() []engine.Consumer {
	if a == nil {
		return nil
	}
	return []engine.Consumer{a.consumer}
}
