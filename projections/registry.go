package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
)

// All lists every read model the service keeps.
func All() []engine.Consumer {
	return []engine.Consumer{
		PublicStatusView{}, WorkQueueView{},
		ProcessControlView{},   // process-control sheets, the dossier register and the late-dossier dashboard
		ResolutionReportView{}, // form II.06a
		SatisfactionView{},     // ratings and the Quyết định 766 indicators
		CorrectionsView{},      // corrections of recorded data awaiting a decision, and decided
		FeedbackView{},         // complaints and petitions (PAKN): the queue, the on-time dashboard, QĐ 766 group 5
	}
}

// MeasuredWith returns consumers with the deployment's calendar given to the read models that
// measure working time as they fold (process control: each step's overrun, for the late
// dashboard's counters), so a node, a rebuild and an erasure measure as the deployment decides;
// nil keeps the national calendar.
func MeasuredWith(cal *calendar.Calendar, consumers []engine.Consumer) []engine.Consumer {
	out := make([]engine.Consumer, len(consumers))
	for i, c := range consumers {
		if v, ok := c.(ProcessControlView); ok && cal != nil {
			v.Calendar = cal
			c = v
		}
		out[i] = c
	}
	return out
}

// retiredReadModels says, of each read model that is no more, what took its place: a rebuild
// asked for by its old name says so instead of "no such read model".
var retiredReadModels = map[string]string{
	"register":       `the register is a query over process control's summary now; rebuild "process_control"`,
	"dossier_ledger": `the register (once the ledger) is a query over process control's summary now; rebuild "process_control"`,
}

// Select returns the read models named names, in the order of All; every read model when names is
// empty.
func Select(names ...string) ([]engine.Consumer, error) {
	if len(names) == 0 {
		return All(), nil
	}
	wanted := map[string]bool{}
	for _, name := range names {
		wanted[name] = true
	}
	var selected []engine.Consumer
	for _, p := range All() {
		if wanted[p.Name()] {
			selected = append(selected, p)
			delete(wanted, p.Name())
		}
	}
	for name := range wanted {
		if now, ok := retiredReadModels[name]; ok {
			return nil, fmt.Errorf("the read model %q is no more: %s", name, now)
		}
		return nil, fmt.Errorf("no read model is named %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return selected, nil
}

// Names lists the names of every read model.
func Names() []string {
	var names []string
	for _, p := range All() {
		names = append(names, p.Name())
	}
	return names
}

// MigrateAll creates the checkpoint table and every read model's tables, in dialect d.
func MigrateAll(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	if err := d.Check(); err != nil {
		return err
	}
	if err := engine.MigrateCheckpoints(ctx, db); err != nil {
		return err
	}
	for _, p := range All() {
		if err := p.Migrate(ctx, db, d); err != nil {
			return err
		}
	}
	return nil
}
