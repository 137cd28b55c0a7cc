package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/projections"
)

func TestPublicStatusIsTheWholeFoldsPublicFaceSQLite(t *testing.T) {
	t.Parallel()
	checkPublicStatusAgainstWholeFold(t, runScenario(t, sqliteBackend(t), 40, 11))
}

func TestPublicStatusIsTheWholeFoldsPublicFacePostgres(t *testing.T) {
	t.Parallel()
	checkPublicStatusAgainstWholeFold(t, runScenario(t, postgresBackend(t), 40, 11))
}

// The view keeps only part of each folded dossier (the public fields and what Evolve reads to fold
// later events), and reads it back whenever a batch moves a dossier it does not hold. Applied one
// event at a time — every event read back from what the table kept — its lookups must answer what
// the whole dossier, folded by the domain from the raw events, shows: every public field, lateness
// at several moments, the timeline. Applied in one batch it must keep the same rows.
func checkPublicStatusAgainstWholeFold(t *testing.T, s *scenario) {
	ctx := context.Background()
	view := projections.PublicStatusView{}
	if err := view.Migrate(ctx, s.db, s.dialect); err != nil {
		t.Fatal(err)
	}
	log := s.log(t)
	apply := func(v engine.Consumer, events []eventstore.RecordedEvent) {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Apply(ctx, tx, engine.Batch{Dialect: s.dialect, Events: events}); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// The oracle: each dossier folded whole, and its timeline as the statuses and steps it went through.
	whole := map[string]domain.Dossier{}
	timeline := map[string][]projections.PublicStep{}
	for i := range log {
		apply(view, log[i:i+1])
		re := &log[i]
		if !strings.HasPrefix(re.Stream, "dossier-") {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		before := whole[re.Stream]
		after := domain.Evolve(before, e)
		after.Version = re.Version
		whole[re.Stream] = after
		// Read back after every event: a field Evolve needs and the table dropped shows at once
		// (a second instalment's status, say), even where a later event would mend it.
		if after.Code != "" {
			got, err := projections.LookupPublicStatus(ctx, s.db, string(after.Code), s.End)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != after.Status || got.CurrentStep != after.Step {
				t.Errorf("%s after its event %d (%s): status %s, step %q; the whole fold says %s, %q",
					after.Code, re.Version, re.Type, got.Status, got.CurrentStep, after.Status, after.Step)
			}
		}
		if after.Status != before.Status || after.Step != before.Step {
			timeline[re.Stream] = append(timeline[re.Stream], projections.PublicStep{At: re.Metadata.OccurredAt, Status: after.Status, Step: after.Step})
		}
	}
	kinds := map[string]int{}
	for stream, d := range whole {
		if d.Code == "" {
			continue
		}
		kinds[string(d.Status)]++
		if d.Apology != nil {
			kinds["apology"]++
		}
		if d.FeesDue > 0 {
			kinds["fees"]++
		}
		if len(d.Payments) > 1 {
			kinds["instalments"]++
		}
		for _, now := range []time.Time{s.End, d.AppointmentDate.Add(-time.Minute), d.AppointmentDate.Add(time.Minute)} {
			got, err := projections.LookupPublicStatus(ctx, s.db, string(d.Code), now)
			if err != nil {
				t.Fatal(err)
			}
			want := projections.PublicStatus{Code: string(d.Code), Status: d.Status, PortalStatus: d.Status.PortalStatusCode(),
				ProcedureCode: d.Procedure.Code, ProcedureName: d.Procedure.Name, FieldName: d.Procedure.FieldName,
				ReceivingUnit: d.ReceivingUnit, CompetentAgency: d.CompetentAgency, Channel: d.Channel,
				ApplicantMasked: d.Applicant.MaskedName(), SubmittedAt: d.SubmittedAt, ReceivedAt: d.ReceivedAt,
				AppointmentDate: d.AppointmentDate, ReturnedAt: d.ReturnedAt, CurrentStep: d.Step, CurrentUnit: d.Holder.Unit,
				ApologyIssued: d.Apology != nil, Late: d.Late(now), Steps: timeline[stream], Version: d.Version, DossierID: d.ID}
			if len(d.Results) > 0 {
				want.FinishedAt = d.Results[0].ReadyAt
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(want)
			if string(gotJSON) != string(wantJSON) || got.DossierID != want.DossierID {
				t.Errorf("%s at %s:\n got %s\nwant %s", d.Code, now.Format(time.RFC3339), gotJSON, wantJSON)
			}
		}
	}
	t.Logf("dossiers by status and case: %v", kinds)
	for _, kind := range []string{string(domain.StatusResultReturned), "apology", "fees", "instalments"} {
		if kinds[kind] == 0 {
			t.Errorf("the history has no dossier %s: the check misses that case", kind)
		}
	}
	// Folded in one batch, the view keeps exactly the rows it kept one event at a time, and no
	// identity or document from the events.
	batch := view.WithPrefix("batch_")
	if err := batch.Migrate(ctx, s.db, s.dialect); err != nil {
		t.Fatal(err)
	}
	apply(batch, log)
	single, batched := dumpTable(t, s.db, "public_status"), dumpTable(t, s.db, "batch_public_status")
	if len(single) == 0 || strings.Join(single, "\n") != strings.Join(batched, "\n") {
		t.Errorf("public_status differs between one event at a time (%d rows) and one batch (%d rows)", len(single), len(batched))
	}
	for _, row := range single {
		for _, field := range []string{`"id_number"`, `"documents"`, `"rules"`, `"payments"`, `"due_date"`} {
			if strings.Contains(row, field) {
				t.Errorf("a public status row keeps %s: %s", field, row)
				break
			}
		}
	}
}

// BenchmarkPublicStatusApply folds the scenario's log into the view in batches of 500 events, as a
// runner's catch-up pages do (each batch reads back the rows it moves and writes them).
func BenchmarkPublicStatusApply(b *testing.B) {
	ctx := context.Background()
	s := runScenario(b, sqliteBackend(b), 200, 9)
	events := s.log(b)
	round := 0
	for b.Loop() {
		round++
		v := projections.PublicStatusView{}.WithPrefix(fmt.Sprintf("bench%d_", round))
		if err := v.Migrate(ctx, s.db, s.dialect); err != nil {
			b.Fatal(err)
		}
		for from := 0; from < len(events); from += 500 {
			tx, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := v.Apply(ctx, tx, engine.Batch{Dialect: s.dialect, Events: events[from:min(from+500, len(events))]}); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(events))*float64(round)/b.Elapsed().Seconds(), "events/s")
}
