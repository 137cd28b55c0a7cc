package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/projections"
)

// expectedResolution counts form II.06a from the books, by procedure, with the domain's verdicts
// under rule: the law's for the report, the national indicator's for Quyết định 766.
func expectedResolution(s *scenario, agency string, p projections.Period, rule verdictRule) map[string]projections.ResolutionCounts {
	out := map[string]projections.ResolutionCounts{}
	for _, b := range s.Books {
		if b.ReceivedAt.IsZero() || !b.visibleTo(agency) || !b.ReceivedAt.Before(p.To) ||
			(!b.ResolvedAt.IsZero() && b.ResolvedAt.Before(p.From)) || (!b.WithdrawnAt.IsZero() && b.WithdrawnAt.Before(p.From)) {
			continue
		}
		c := out[b.Procedure.Code]
		c.ReceivedTotal++
		switch {
		case b.ReceivedAt.Before(p.From):
			c.CarriedOver++
		case b.Channel == domain.ChannelOnline:
			c.ReceivedOnline++
		default:
			c.ReceivedInPersonOrPostal++
		}
		switch {
		case p.Contains(b.ResolvedAt):
			c.ResolvedTotal++
			if b.Resolution == "rejected" {
				c.ResolvedByRejection++
			}
			switch b.resolvedVerdict(rule) {
			case projections.VerdictEarly:
				c.ResolvedEarly++
			case projections.VerdictOnTime:
				c.ResolvedOnTime++
			case projections.VerdictLate:
				c.ResolvedLate++
			}
		case p.Contains(b.WithdrawnAt):
			c.Withdrawn++
		default:
			c.InProgressTotal++
			if b.overdueAt(p.To, rule) {
				c.InProgressOverdue++
			} else {
				c.InProgressWithinTime++
			}
		}
		out[b.Procedure.Code] = c
	}
	return out
}

func sum(counts ...projections.ResolutionCounts) projections.ResolutionCounts {
	var t projections.ResolutionCounts
	for _, c := range counts {
		t.ReceivedTotal += c.ReceivedTotal
		t.ReceivedOnline += c.ReceivedOnline
		t.ReceivedInPersonOrPostal += c.ReceivedInPersonOrPostal
		t.CarriedOver += c.CarriedOver
		t.ResolvedTotal += c.ResolvedTotal
		t.ResolvedEarly += c.ResolvedEarly
		t.ResolvedOnTime += c.ResolvedOnTime
		t.ResolvedLate += c.ResolvedLate
		t.ResolvedByRejection += c.ResolvedByRejection
		t.InProgressTotal += c.InProgressTotal
		t.InProgressWithinTime += c.InProgressWithinTime
		t.InProgressOverdue += c.InProgressOverdue
		t.Withdrawn += c.Withdrawn
	}
	return t
}

func checkResolutionReports(t *testing.T, s *scenario) {
	ctx := context.Background()
	fieldOf := map[string]string{}
	for _, p := range s.app.Catalog.Procedures {
		fieldOf[p.Code] = p.Field.Code
	}
	periods := scenarioPeriods()
	var april projections.ResolutionCounts
	for _, name := range sortedKeys(periods) {
		period := periods[name]
		for _, agency := range scenarioAgencies {
			want := expectedResolution(s, agency, period, legalRule)
			report, err := projections.ResolutionReportOf(ctx, s.db, scenarioScope(agency), period)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]projections.ResolutionCounts{}
			for _, f := range report.Fields {
				var fieldProcedures []projections.ResolutionCounts
				for _, p := range f.Procedures {
					if fieldOf[p.ProcedureCode] != f.FieldCode {
						t.Errorf("%s %s: procedure %s listed under field %s", name, agency, p.ProcedureCode, f.FieldCode)
					}
					got[p.ProcedureCode] = p.ResolutionCounts
					fieldProcedures = append(fieldProcedures, p.ResolutionCounts)
				}
				if f.ResolutionCounts != sum(fieldProcedures...) {
					t.Errorf("%s %s: field %s line %+v is not the sum of its procedures", name, agency, f.FieldCode, f.ResolutionCounts)
				}
			}
			for _, code := range sortedKeys(want) {
				if got[code] != want[code] {
					t.Errorf("%s, agency %q, procedure %s:\n got %+v\nwant %+v", name, agency, code, got[code], want[code])
				}
			}
			for code := range got {
				if _, ok := want[code]; !ok {
					t.Errorf("%s, agency %q: unexpected procedure %s %+v", name, agency, code, got[code])
				}
			}
			var all []projections.ResolutionCounts
			for _, c := range want {
				all = append(all, c)
			}
			if total := sum(all...); report.Total != total {
				t.Errorf("%s, agency %q: total %+v, want %+v", name, agency, report.Total, total)
			}
			if c := report.Total; c.ReceivedTotal != c.ResolvedTotal+c.InProgressTotal+c.Withdrawn {
				t.Errorf("%s, agency %q: received %d ≠ resolved %d + in progress %d + withdrawn %d", name, agency,
					c.ReceivedTotal, c.ResolvedTotal, c.InProgressTotal, c.Withdrawn)
			}
			if name == "april" && agency == "" {
				april = report.Total
			}
		}
	}
	// April must exercise every column, or the comparison above proves little.
	for col, n := range map[string]int{"carried over": april.CarriedOver, "online": april.ReceivedOnline, "early": april.ResolvedEarly,
		"on time": april.ResolvedOnTime, "late": april.ResolvedLate, "within time": april.InProgressWithinTime,
		"overdue": april.InProgressOverdue, "rejected": april.ResolvedByRejection} {
		if n == 0 {
			t.Errorf("April's report has no %s dossier: %+v", col, april)
		}
	}
	t.Logf("April 2026, all agencies: %+v", april)
}

// TestResolutionReportUsesTheAppointmentInForce checks, on a hand-made history, that a dossier in
// progress at the period's end is judged against the appointment date in force at that end — not
// one set later by an apology — and that resolution is judged against the date in force when the
// result was ready.
func TestResolutionReportUsesTheAppointmentInForce(t *testing.T) {
	s := newScenario(t, sqliteBackend(t))
	ctx := context.Background()
	desk, specialist, signer := s.staff[justice][0], s.staff[justice][2], s.staff[justice][4]
	// Tuesday 3 March 2026, 08:00: two 3-day dossiers received; appointment Friday 6 March 08:00.
	s.clock = time.Date(2026, 3, 3, 8, 0, 0, 0, domain.VietnamTime)
	late, apologised := &dossierBook{Officials: map[string]string{}, Units: map[string]bool{}}, &dossierBook{Officials: map[string]string{}, Units: map[string]bool{}}
	for _, b := range []*dossierBook{late, apologised} {
		b.Procedure, _ = s.app.Catalog.Procedure("2.000908")
		b.Channel, b.ReceivingUnit, b.CompetentAgency = domain.ChannelDirect, justice, justice
		if !s.receive(b, desk) {
			t.Fatal(s.err)
		}
	}
	appointment := time.Date(2026, 3, 6, 8, 0, 0, 0, domain.VietnamTime)
	if !late.appointment().Equal(appointment) {
		t.Fatalf("appointment %v, want %v", late.appointment(), appointment)
	}
	// Both go to the specialist; one gets an apology moving it to Wednesday 11 March.
	s.clock = s.clock.Add(time.Hour)
	for _, b := range []*dossierBook{late, apologised} {
		if !s.act(b, desk, commands.TransferInput{ToUnit: "TP.HCTP", ToOfficialID: specialist.ID, ToOfficialName: specialist.Name, Step: "Thẩm định hồ sơ"}) {
			t.Fatal(s.err)
		}
	}
	s.clock = s.clock.Add(time.Hour)
	if !s.act(apologised, signer, commands.IssueApologyInput{Reason: "Chờ xác minh", ExtraWorkingDays: 3}) {
		t.Fatal(s.err)
	}
	// The first is resolved on Monday 9 March: late against Friday's date.
	s.clock = time.Date(2026, 3, 9, 9, 0, 0, 0, domain.VietnamTime)
	for _, in := range []commands.Input{
		commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện"},
		commands.TransferInput{ToUnit: "TP.BGD", ToOfficialID: signer.ID, ToOfficialName: signer.Name, Step: "Trình ký"},
	} {
		if !s.act(late, specialist, in) {
			t.Fatal(s.err)
		}
	}
	for _, in := range []commands.Input{
		commands.SignInput{DocumentNumber: "1/TL", DocumentHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		commands.MarkResultReadyInput{},
	} {
		if !s.act(late, signer, in) {
			t.Fatal(s.err)
		}
	}
	s.feed(t, projections.ResolutionReportView{})

	firstWeek := projections.Period{From: time.Date(2026, 3, 2, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(2026, 3, 7, 0, 0, 0, 0, domain.VietnamTime)}
	report, err := projections.ResolutionReportOf(ctx, s.db, projections.OneAgency(justice), firstWeek)
	if err != nil {
		t.Fatal(err)
	}
	want := projections.ResolutionCounts{ReceivedTotal: 2, ReceivedInPersonOrPostal: 2, InProgressTotal: 2, InProgressWithinTime: 1, InProgressOverdue: 1}
	if report.Total != want {
		t.Errorf("first week: %+v, want %+v (the apologised dossier is within time, the other overdue)", report.Total, want)
	}
	secondWeek := projections.Period{From: firstWeek.To, To: time.Date(2026, 3, 14, 0, 0, 0, 0, domain.VietnamTime)}
	report, err = projections.ResolutionReportOf(ctx, s.db, projections.OneAgency(justice), secondWeek)
	if err != nil {
		t.Fatal(err)
	}
	want = projections.ResolutionCounts{ReceivedTotal: 2, CarriedOver: 2, ResolvedTotal: 1, ResolvedLate: 1, InProgressTotal: 1, InProgressOverdue: 1}
	if report.Total != want {
		t.Errorf("second week: %+v, want %+v (resolved late; the apologised one overdue after 11 March)", report.Total, want)
	}
	if _, err := projections.ResolutionReportOf(ctx, s.db, projections.OneAgency(justice), projections.Period{From: firstWeek.From}); err == nil {
		t.Error("an unbounded period was accepted")
	}
	records := report.CSVRecords()
	if len(records) != 3 || records[2][2] != "Tổng cộng" || records[2][4] != "2" || records[2][11] != "1" {
		t.Errorf("CSV records: %q", records)
	}
	if len(records[0]) != len(projections.ResolutionCSVHeader) {
		t.Errorf("CSV rows have %d cells, the header %d", len(records[0]), len(projections.ResolutionCSVHeader))
	}
}
