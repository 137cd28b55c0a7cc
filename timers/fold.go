package timers

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
)

// NewFold folds batches onto the timers' tables as they stand (fresh: they are empty, nothing is
// read back). The consumer is Folding so that a node catching up a long log holds the dossiers
// and their alarms in memory from page to page and writes them at each flush: reading and writing
// every dossier's state as JSON at every page was 85 % of the timers' time, and the timers the
// slowest consumer of a new node (docs/benchmarks.md, session 20). Apply is the fold of one batch.
func (c *Consumer) NewFold(fresh bool) engine.Fold {
	return &fold{consumer: c, fresh: fresh, dossiers: map[string]*domain.Dossier{},
		alarms: map[string]map[string]*alarmRow{}, dirty: map[string]bool{}}
}

// fold holds the dossiers a run of batches touched, their alarms in any state, and what changed
// since the last flush.
type fold struct {
	consumer *Consumer
	fresh    bool
	origin   int64
	read     bool // origin read
	dossiers map[string]*domain.Dossier
	alarms   map[string]map[string]*alarmRow // by dossier, then by key
	// changed since the last flush: the dossiers in the order first changed, and the alarms
	// armed for the first time in the order armed.
	order      []string
	dirty      map[string]bool
	armedFirst []*alarmRow
}

func (f *fold) Held() int { return len(f.dossiers) }

// Add folds the batch's dossier events, first reading the states and alarms of the dossiers the
// fold does not hold.
func (f *fold) Add(ctx context.Context, q engine.Querier, batch engine.Batch) error {
	c := f.consumer
	decoded, err := batch.DossierEvents()
	if err != nil {
		return err
	}
	if !f.read {
		if f.origin, err = engine.ReadOrigin(ctx, q, c.table(originTable)); err != nil {
			return fmt.Errorf("timers: %w", err)
		}
		f.read = true
	}
	var missing []string
	for i, re := range batch.Events {
		if decoded[i] != nil && f.dossiers[re.Stream] == nil {
			f.dossiers[re.Stream], f.alarms[re.Stream] = &domain.Dossier{}, map[string]*alarmRow{}
			missing = append(missing, re.Stream)
		}
	}
	if !f.fresh && len(missing) > 0 {
		// The dossiers first met are read in a few statements for all of them: one at a time, a
		// catch-up of a province's log went at ≈ 2,200 events/s.
		if err := engine.LoadDossierStates(ctx, q, batch.Dialect, c.table(dossiersTable), missing, func(stream string, raw []byte) error {
			return json.Unmarshal(raw, f.dossiers[stream])
		}); err != nil {
			return fmt.Errorf("timers: %w", err)
		}
		if err := c.loadAlarms(ctx, q, batch.Dialect, missing, f.alarms); err != nil {
			return err
		}
	}
	for i, re := range batch.Events {
		e := decoded[i]
		if e == nil {
			continue
		}
		d := f.dossiers[re.Stream]
		if d.Status.Final() {
			continue // a rating after the end: no alarm follows a final status
		}
		next := domain.Evolve(*d, e)
		next.Version = re.Version
		// The applicant's identity stays in the log, sealed: no alarm needs it.
		next.Applicant = domain.Applicant{Type: next.Applicant.Type}
		*d = next
		if !f.dirty[re.Stream] {
			f.dirty[re.Stream] = true
			f.order = append(f.order, re.Stream)
		}
		// An event recorded before the timers were enabled arms only what falls due after.
		since, at := int64(0), re.Metadata.OccurredAt
		if at.IsZero() {
			at = re.RecordedAt
		}
		if at.UnixMilli() < f.origin {
			since = f.origin
		}
		f.armedFirst = c.align(re.Stream, re.ID.String(), re.Version, next, f.alarms[re.Stream], since, f.armedFirst)
	}
	return nil
}

// Flush writes the alarms and states changed since the last flush, then forgets the dossiers
// whose status is final: no event of theirs arms an alarm again.
func (f *fold) Flush(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	c := f.consumer
	if err := c.writeAlarms(ctx, tx, batch.Dialect, f.order, f.alarms, f.armedFirst); err != nil {
		return err
	}
	// Of a dossier whose status is final only that it is (finished) is kept: no alarm follows a
	// final status, and a rating must not start a dossier afresh.
	err := engine.SaveDossierStates(ctx, tx, batch.Dialect, c.table(dossiersTable), f.order, func(stream string) any {
		if d := f.dossiers[stream]; !d.Status.Final() {
			return d
		}
		return struct {
			Status domain.Status `json:"status"`
		}{f.dossiers[stream].Status}
	})
	if err != nil {
		return fmt.Errorf("timers: %w", err)
	}
	// What was written is what the next flush's guards expect to find. An alarm the firer fired
	// meanwhile is held as armed still; every later write of it is guarded by a state it no longer
	// has, so it stays fired.
	for _, stream := range f.order {
		for _, row := range f.alarms[stream] {
			if row.changed {
				row.loaded, row.changed = row.state, false
			}
		}
		if f.dossiers[stream].Status.Final() {
			delete(f.dossiers, stream)
			delete(f.alarms, stream)
		}
	}
	f.order, f.armedFirst = f.order[:0], f.armedFirst[:0]
	clear(f.dirty)
	return nil
}
