package projections_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/projections"
)

func checkControlSheets(t *testing.T, s *scenario) {
	ctx := context.Background()
	verdicts := map[projections.Verdict]int{}
	for _, b := range s.Books {
		ref := b.Code
		if ref == "" {
			ref = b.ID
		}
		sheet, err := projections.ControlSheetOf(ctx, s.db, ref, s.cal, s.End)
		if err != nil {
			t.Fatalf("control sheet of %s: %v", ref, err)
		}
		if sheet.DossierID != b.ID || sheet.Code != b.Code || sheet.CompetentAgency != b.CompetentAgency || sheet.ReceivingUnit != b.ReceivingUnit ||
			!sheet.ReceivedAt.Equal(b.ReceivedAt) || !sheet.FirstAppointment.Equal(b.firstAppointment()) || !sheet.AppointmentDate.Equal(b.appointment()) ||
			!sheet.ResolvedAt.Equal(b.ResolvedAt) || !slices.Equal(sheet.CoordinatingAgencies, nonNil(b.CoordinatingAgencies)) {
			t.Errorf("sheet header of %s:\n got %+v\nwant received %v, appointment %v→%v, resolved %v, coordinating %v", ref, sheet,
				b.ReceivedAt, b.firstAppointment(), b.appointment(), b.ResolvedAt, b.CoordinatingAgencies)
		}
		if !b.ResolvedAt.IsZero() && sheet.ResolutionVerdict != b.resolvedVerdict(legalRule) {
			t.Errorf("%s resolved %s, want %s (the domain's legal verdict)", ref, sheet.ResolutionVerdict, b.resolvedVerdict(legalRule))
		}
		if len(sheet.Handovers) != len(b.Handovers) {
			t.Errorf("%s: %d handovers, want %d:\n%+v", ref, len(sheet.Handovers), len(b.Handovers), sheet.Handovers)
			continue
		}
		for i, want := range b.Handovers {
			got := sheet.Handovers[i]
			if got.No != i+1 || got.Kind != want.Kind || got.From != want.From || got.To != want.To || !got.HandedAt.Equal(want.At) ||
				got.Step != want.Step || got.AllottedHours != want.AllottedHours || !got.Deadline.Equal(want.Deadline) ||
				!got.EndedAt.Equal(want.EndedAt) || got.EndedBy != want.EndKind || got.EndedByOfficial.OfficialID != want.EndedByID {
				t.Errorf("%s handover %d:\n got %+v\nwant %+v", ref, i+1, got, *want)
				continue
			}
			var verdict projections.Verdict
			var overrun float64
			switch {
			case want.Deadline.IsZero():
			case !want.EndedAt.IsZero():
				verdict = verdictOf(want.EndedAt, want.Deadline)
				if verdict == projections.VerdictLate {
					overrun = s.workingHoursBetween(want.Deadline, want.EndedAt)
				}
			case s.End.After(want.Deadline):
				overrun = s.workingHoursBetween(want.Deadline, s.End)
			}
			ongoing := !want.Deadline.IsZero() && want.EndedAt.IsZero()
			if got.Verdict != verdict || got.OverrunHours != overrun || got.Ongoing != ongoing || got.VerdictLabel != "" {
				t.Errorf("%s handover %d (%s, deadline %v, ended %v): verdict %q %.2fh ongoing %v, want %q %.2fh %v", ref, i+1, want.Step,
					want.Deadline, want.EndedAt, got.Verdict, got.OverrunHours, got.Ongoing, verdict, overrun, ongoing)
			}
			verdicts[verdict]++
		}
	}
	t.Logf("%d control sheets; step verdicts: %v", len(s.Books), verdicts)
	for _, v := range []projections.Verdict{projections.VerdictEarly, projections.VerdictOnTime, projections.VerdictLate} {
		if verdicts[v] == 0 {
			t.Errorf("no step was judged %s", v)
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestControlSheetJudgesEachStep follows one dossier through four handovers by hand: one step done a
// day early, one on its deadline's day, one late, with the events noted under the step they
// happened in.
func TestControlSheetJudgesEachStep(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sqliteBackend(t))
	desk, head, specialist, signer := s.staff[building][0], s.staff[building][1], s.staff[building][2], s.staff[building][4]
	b := &dossierBook{Officials: map[string]string{}, Units: map[string]bool{}, Channel: domain.ChannelPostal, ReceivingUnit: building, CompetentAgency: building}
	b.Procedure, _ = s.app.Catalog().Procedure("1.009974") // 5 working days: review 24 h, signing 8 h
	step := func(at time.Time, who official, inputs ...commands.Input) {
		t.Helper()
		s.clock = at
		for _, in := range inputs {
			if !s.act(b, who, in) {
				t.Fatal(s.err)
			}
		}
	}
	vn := func(day, hour, minute int) time.Time {
		return time.Date(2026, 3, day, hour, minute, 0, 0, domain.VietnamTime)
	}
	s.clock = vn(2, 8, 0) // Monday 2 March
	if !s.receive(b, desk) {
		t.Fatal(s.err)
	}
	// To the head for 4 hours (due 14:00, the 11:30–13:00 break excluded): done at 10:00 the same day — on time.
	step(vn(2, 8, 30), desk, commands.TransferInput{ToUnit: "XD.QLXD", ToOfficialID: head.ID, ToOfficialName: head.Name, Step: "Phân công thụ lý", AllottedHours: 4})
	// To the specialist for 24 hours (due Thursday 5 March 10:00): done Wednesday — early.
	step(vn(2, 10, 0), head, commands.TransferInput{ToUnit: "XD.QLXD", ToOfficialID: specialist.ID, ToOfficialName: specialist.Name, Step: "Thẩm định hồ sơ"})
	step(vn(3, 9, 0), specialist, commands.RequestSupplementInput{MissingItems: []string{"Bản vẽ"}, Reason: "Thiếu bản vẽ"})
	step(vn(3, 14, 0), desk, commands.SupplementInput{})
	// To the signer for 8 hours (due Thursday 5 March 15:00): done Friday 6 March 08:30 — late by 3 h.
	step(vn(4, 15, 0), specialist, commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện"},
		commands.TransferInput{ToUnit: "XD.BGD", ToOfficialID: signer.ID, ToOfficialName: signer.Name, Step: "Trình ký"})
	step(vn(6, 8, 30), signer, commands.SignInput{DocumentNumber: "12/GP", DocumentHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		commands.MarkResultReadyInput{})
	s.feed(t, projections.ProcessControlView{})

	sheet, err := projections.ControlSheetOf(context.Background(), s.db, b.Code, s.cal, vn(6, 9, 0))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		step     string
		deadline time.Time
		verdict  projections.Verdict
		overrun  float64
		events   int
	}
	want := []row{
		{projections.StepReception, vn(2, 17, 0), projections.VerdictOnTime, 0, 0}, // to the department the same working day
		{"Phân công thụ lý", vn(2, 14, 0), projections.VerdictOnTime, 0, 0},
		{"Thẩm định hồ sơ", vn(5, 10, 0), projections.VerdictEarly, 0, 3}, // supplement request, supplement, appraisal
		{"Trình ký", vn(5, 15, 0), projections.VerdictLate, 3, 1},         // signature
		{projections.StepReturn, time.Time{}, "", 0, 0},
	}
	if len(sheet.Handovers) != len(want) {
		t.Fatalf("%d handovers: %+v", len(sheet.Handovers), sheet.Handovers)
	}
	for i, w := range want {
		h := sheet.Handovers[i]
		if h.Step != w.step || !h.Deadline.Equal(w.deadline) || h.Verdict != w.verdict || h.OverrunHours != w.overrun || len(h.Events) != w.events {
			t.Errorf("handover %d: %s due %v: %s %.2fh, %d events %+v; want %+v", i+1, h.Step, h.Deadline.In(domain.VietnamTime), h.Verdict,
				h.OverrunHours, len(h.Events), h.Events, w)
		}
	}
	// The notes are codes with what their words need; the API and the pages word them (l10n).
	var notes []string
	for _, n := range sheet.Handovers[2].Events {
		notes = append(notes, n.Kind+"/"+n.Param+"/"+n.Detail)
	}
	if got, want := strings.Join(notes, " | "), "supplement_requested/1/Thiếu bản vẽ | supplemented// | appraised//approve: Đủ điều kiện"; got != want {
		t.Errorf("notes of the appraisal step: %q, want %q", got, want)
	}
	if r := sheet.Handovers[4]; r.Kind != projections.HandoverResult || r.From.Unit != "XD.BGD" || r.From.OfficialID != signer.ID || r.To.Unit != building {
		t.Errorf("result handover: %+v", r)
	}
	if _, err := projections.ControlSheetOf(context.Background(), s.db, "000.00.06.H56-260302-0099", s.cal, vn(6, 9, 0)); !errors.Is(err, projections.ErrNotFound) {
		t.Errorf("unknown code: %v", err)
	}
}

// TestProcessControlFoldWritesWhatApplyWrites folds a whole history into fresh tables as catch-up
// and rebuild do — batches of 37 events cutting across dossiers' lives, a flush every five batches
// in a transaction of its own, dossiers forgotten at each flush and read back when they move again
// — and checks the tables equal those the live path (Apply, one delivery at a time) built, and
// that a flush leaves in memory only dossiers still in progress. Folded again with each flush's rows
// worked out on three goroutines (a few dossiers each), the tables are the same.
func TestProcessControlFoldWritesWhatApplyWrites(t *testing.T) {
	t.Parallel()
	for _, open := range []func(testing.TB) backend{sqliteBackend, postgresBackend} {
		b := open(t)
		t.Run(string(b.dialect), func(t *testing.T) {
			s := runScenario(t, b, 120, 12)
			s.feed(t, projections.ProcessControlView{})
			for _, parts := range []int{1, 3} {
				foldWritesWhatApplyWrites(t, s, parts)
			}
		})
	}
}

// foldWritesWhatApplyWrites folds the scenario's log into tables of their own, each flush's rows
// worked out on parts goroutines, and compares them with the live path's.
func foldWritesWhatApplyWrites(t *testing.T, s *scenario, parts int) {
	ctx := context.Background()
	prefix := fmt.Sprintf("fold%d_", parts)
	folded := projections.ProcessControlView{}.WithPrefix(prefix).(engine.Folding)
	if err := folded.Migrate(ctx, s.db, s.dialect); err != nil {
		t.Fatal(err)
	}
	fold := projections.NewProcessControlFold(folded.(projections.ProcessControlView), true, 2, parts)
	events := s.log(t)
	flush := func() {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := fold.Flush(ctx, tx, engine.Batch{Dialect: s.dialect}); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for i, from := 0, 0; from < len(events); i, from = i+1, from+37 {
		if err := fold.Add(ctx, s.db, engine.Batch{Dialect: s.dialect, Events: events[from:min(from+37, len(events))]}); err != nil {
			t.Fatal(err)
		}
		if i%5 == 4 {
			flush()
		}
	}
	flush()
	// At most, for each dossier not finished: its summary, its latest handover, its open parts.
	bound, unfinished := 0, 0
	for _, b := range s.Books {
		if b.ReturnedAt.IsZero() && b.WithdrawnAt.IsZero() && b.Resolution != "rejected" {
			unfinished++
			bound += 2
			for _, h := range b.Handovers {
				if h.Kind == projections.HandoverPart && h.EndedAt.IsZero() {
					bound++
				}
			}
		}
	}
	if held := fold.Held(); held > bound {
		t.Errorf("%d goroutines: the fold holds %d rows after its last flush; %d dossiers are not finished, at most %d rows are in play", parts, held, unfinished, bound)
	}
	for _, table := range folded.Tables() {
		want, got := dumpTable(t, s.db, table), dumpTable(t, s.db, prefix+table)
		if len(got) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%d goroutines: table %s: the fold wrote %d rows, the live path %d, not the same", parts, table, len(got), len(want))
		}
	}
}
