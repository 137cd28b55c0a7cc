package projections_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/projections"
)

// The citizens' index folds a run of batches and writes each dossier's row once at the flush: it
// must end with the rows one event at a time gives — a receipt keeps the submission's moment, a
// dossier left to nobody by a correction loses its row, and given back later it starts from the
// correction's moment — whether the row was written before the fold or within it.
func TestCitizensIndexFoldedGivesTheRowsOfOneByOne(t *testing.T) {
	onBothBackends(t, func(t *testing.T, b backend, name string) {
		ctx := context.Background()
		at := func(hour int) time.Time { return time.Date(2026, 12, 7, hour, 0, 0, 0, domain.VietnamTime) }
		person := func(number string) domain.Applicant { return domain.Applicant{IDNumber: number} }
		corrected := func(number string, hour int) domain.CorrectionApproved {
			return domain.CorrectionApproved{Applicant: &domain.ApplicantCorrection{
				Changes: []domain.FieldChange{{Field: domain.FieldApplicantIDNumber, New: number}}}, ApprovedAt: at(hour)}
		}
		type step struct {
			dossier string
			event   domain.Event
		}
		steps := []step{
			{"a", domain.Submitted{Applicant: person("001090000001"), SubmittedAt: at(8)}},
			{"b", domain.Received{Applicant: person("001090000002"), ReceivedAt: at(8)}},
			{"c", domain.Received{Applicant: person("001090000003"), ReceivedAt: at(8)}},
			// The desk receives a's online submission under the number it checked: a's moment stays.
			{"a", domain.Received{Applicant: person("001090000004"), ReceivedAt: at(9)}},
			// b's number corrected away, then given back: b starts again at the second correction.
			{"b", corrected("", 10)},
			{"d", domain.Received{Applicant: person(""), ReceivedAt: at(10)}},
			{"b", corrected("001090000005", 11)},
			{"c", corrected("", 11)},
			{"d", corrected("001090000006", 12)},
			{"a", corrected("001090000007", 13)},
		}
		apply := func(prefix string, firstFold, foldSize int) string {
			t.Helper()
			view := projections.CitizenDossiersView{Key: citizenView.Key, Prefix: prefix}
			if err := view.Migrate(ctx, b.db, b.dialect); err != nil {
				t.Fatal(err)
			}
			write := func(part []step) {
				t.Helper()
				batch := engine.Batch{Dialect: b.dialect}
				for _, s := range part {
					batch.Events = append(batch.Events, eventstore.RecordedEvent{Stream: "dossier-" + s.dossier})
					batch.Decoded = append(batch.Decoded, s.event)
				}
				tx, err := b.db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				// One fold over the part, in batches of one event: what a catch-up does between flushes.
				fold := view.NewFold(false)
				for i := range part {
					if err := fold.Add(ctx, tx, batch.Slice(i, i+1)); err != nil {
						t.Fatal(err)
					}
				}
				if err := fold.Flush(ctx, tx, engine.Batch{Dialect: b.dialect}); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			write(steps[:firstFold])
			for from := firstFold; from < len(steps); from += foldSize {
				write(steps[from:min(from+foldSize, len(steps))])
			}
			return strings.Join(dumpTable(t, b.db, prefix+"citizen_dossiers"), "\n")
		}
		single := apply("single_", 1, 1)
		for _, shape := range [][2]int{{0, len(steps)}, {3, 4}, {4, 3}, {5, 5}} {
			t.Run(fmt.Sprintf("%d+%d", shape[0], shape[1]), func(t *testing.T) {
				if got := apply(fmt.Sprintf("fold%d_%d_", shape[0], shape[1]), shape[0], shape[1]); got != single {
					t.Errorf("folded:\n%s\none by one:\n%s", got, single)
				}
			})
		}
		if n := strings.Count(single, "\n") + 1; n != 3 {
			t.Errorf("one by one left %d rows, want a, b and d:\n%s", n, single)
		}
	})
}
