package projections_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/l10n"
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
	for _, p := range s.app.Catalog().Procedures {
		fieldOf[p.Code] = p.Field.Code
	}
	periods := scenarioPeriods()
	// Periods whose runs of days and months are read as a month's or a year's row less the others
	// (counterRanges): before and within the period, at its start and its end.
	periods["feb-25-to-may-19"] = projections.Period{From: time.Date(2026, 2, 25, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(2026, 5, 20, 0, 0, 0, 0, domain.VietnamTime)}
	periods["apr-28-to-dec-14"] = projections.Period{From: time.Date(2026, 4, 28, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(2026, 12, 15, 0, 0, 0, 0, domain.VietnamTime)}
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
	checkResolutionReadsBoundedRows(t, s)
	checkResolutionFolds(t, s)
}

// checkResolutionFolds folds the scenario's whole log into fresh tables as catch-up and rebuild
// do — many pages per fold, flushed now and then — onto tables known empty, onto tables not known
// empty (every row read back), and holding so few open dossiers that the fold forgets them at
// each flush and reads them back, and checks that each gives exactly the tables the runners
// built event batch by event batch.
func checkResolutionFolds(t *testing.T, s *scenario) {
	ctx := context.Background()
	events := s.log(t)
	view := projections.ResolutionReportView{}
	for _, c := range []struct {
		name             string
		fresh            bool
		heldLimit, flush int // open dossiers held at most; pages per flush
	}{{"fresh", true, 1 << 30, 7}, {"read back", false, 1 << 30, 3}, {"forgetting", true, 10, 2}} {
		prefix := "fold_" + strings.ReplaceAll(c.name, " ", "_") + "_"
		folded := view.WithPrefix(prefix).(projections.ResolutionReportView)
		if err := folded.Migrate(ctx, s.db, s.dialect); err != nil {
			t.Fatal(err)
		}
		fold := projections.NewResolutionFold(folded, c.fresh, c.heldLimit)
		flush := func() {
			tx, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if err := fold.Flush(ctx, tx, engine.Batch{Dialect: s.dialect}); err != nil {
				t.Fatalf("%s: flush: %v", c.name, err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		for page, from := 0, 0; from < len(events); page, from = page+1, from+100 {
			if err := fold.Add(ctx, s.db, engine.Batch{Dialect: s.dialect, Events: events[from:min(from+100, len(events))]}); err != nil {
				t.Fatalf("%s: add: %v", c.name, err)
			}
			if page%c.flush == c.flush-1 {
				flush()
			}
		}
		flush()
		for _, table := range view.Tables() {
			want, got := dumpTable(t, s.db, table), dumpTable(t, s.db, prefix+table)
			if len(got) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s fold: table %s differs from the runners' (%d rows, want %d)", c.name, table, len(got), len(want))
			}
		}
	}
}

// checkResolutionReadsBoundedRows checks that the report reads counter rows, per line of the
// agency's (field × procedure × channel), at most the years of history before the period, 11
// months and 30 days before it in its year, and 12 months and 62 days within a period of up to a
// year — one year row for a calendar year —, never the dossiers; and, on SQLite, that each part of
// its statement searches a range of the key instead of scanning the table.
func checkResolutionReadsBoundedRows(t *testing.T, s *scenario) {
	ctx := context.Background()
	year2026 := time.Date(2026, 1, 1, 0, 0, 0, 0, domain.VietnamTime)
	var dayRows int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM resolution_counts WHERE span = 'day' AND scope = '*'`).Scan(&dayRows); err != nil {
		t.Fatal(err)
	}
	periods := scenarioPeriods()
	for _, name := range sortedKeys(periods) {
		period := periods[name]
		for _, agency := range scenarioAgencies {
			scope := agency
			if agency == "" {
				scope = "*"
			}
			var groups, yearsBefore int
			if err := s.db.QueryRow(`SELECT COUNT(*) FROM (SELECT DISTINCT field_code, procedure_code, channel
				FROM resolution_counts WHERE scope = $1) g`, scope).Scan(&groups); err != nil {
				t.Fatal(err)
			}
			if err := s.db.QueryRow(`SELECT COUNT(DISTINCT period_start) FROM resolution_counts WHERE span = 'year' AND period_start < $1`,
				period.From.Format("2006")+"-01-01").Scan(&yearsBefore); err != nil {
				t.Fatal(err)
			}
			read, err := projections.ResolutionCounterRowsRead(ctx, s.db, scenarioScope(agency), period)
			if err != nil {
				t.Fatal(err)
			}
			bound := groups * (yearsBefore + 11 + 30 + 12 + 62)
			if period.From.Equal(year2026) && period.To.Equal(year2026.AddDate(1, 0, 0)) {
				bound = groups * (yearsBefore + 1)
			}
			if read == 0 || read > bound {
				t.Errorf("%s, agency %q: the report reads %d counter rows; %d lines allow %d", name, agency, read, groups, bound)
			}
			if name == "2026" && agency == "" {
				t.Logf("the year's report for all agencies reads %d counter rows (%d lines); the table holds %d day rows for all agencies", read, groups, dayRows)
				if read >= dayRows {
					t.Errorf("a year's report reads %d rows, as many as the %d day rows", read, dayRows)
				}
			}
			if s.dialect != engine.SQLite {
				continue
			}
			statement, statementArgs, err := projections.ResolutionReportStatement(scenarioScope(agency), period)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+statement, statementArgs...)
			if err != nil {
				t.Fatal(err)
			}
			searches := 0
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(detail, "resolution_counts") {
					continue
				}
				searches++
				// The table is its key's B-tree (WITHOUT ROWID): SQLite reads it "USING PRIMARY KEY".
				if !strings.Contains(detail, "SEARCH resolution_counts USING PRIMARY KEY") || !strings.Contains(detail, "(scope=? AND span=? AND period_start") {
					t.Errorf("%s, agency %q: the report does not read a range of the counters' key: %s", name, agency, detail)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if searches == 0 {
				t.Errorf("%s, agency %q: the plan reads no counters", name, agency)
			}
		}
	}
}

// handBuilt is a small history of 3-day dossiers (procedure 2.000908) at the Department of
// Justice, acted on by hand.
type handBuilt struct {
	*scenario
	desk, head, specialist, signer official
}

func newHandBuilt(t *testing.T) *handBuilt {
	s := newScenario(t, sqliteBackend(t))
	return &handBuilt{scenario: s, desk: s.staff[justice][0], head: s.staff[justice][1], specialist: s.staff[justice][2], signer: s.staff[justice][4]}
}

// receive receives a dossier at the desk now and hands it to the specialist at once.
func (h *handBuilt) receive(t *testing.T) *dossierBook {
	t.Helper()
	b := &dossierBook{Officials: map[string]string{}, Units: map[string]bool{}, Channel: domain.ChannelDirect, ReceivingUnit: justice, CompetentAgency: justice}
	b.Procedure, _ = h.app.Catalog().Procedure("2.000908")
	if !h.scenario.receive(b, h.desk) {
		t.Fatal(h.err)
	}
	h.do(t, b, h.desk, commands.TransferInput{ToUnit: "TP.HCTP", ToOfficialID: h.specialist.ID, ToOfficialName: h.specialist.Name, Step: "Thẩm định hồ sơ"})
	return b
}

func (h *handBuilt) do(t *testing.T, b *dossierBook, who official, inputs ...commands.Input) {
	t.Helper()
	for _, in := range inputs {
		if !h.act(b, who, in) {
			t.Fatal(h.err)
		}
	}
}

// resolve has the specialist appraise and hand the dossier to the signer, who signs: the result is ready now.
func (h *handBuilt) resolve(t *testing.T, b *dossierBook) {
	t.Helper()
	h.do(t, b, h.specialist, commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện"},
		commands.TransferInput{ToUnit: "TP.BGD", ToOfficialID: h.signer.ID, ToOfficialName: h.signer.Name, Step: "Trình ký"})
	digest := sha256.Sum256([]byte(b.ID))
	h.do(t, b, h.signer, commands.SignInput{DocumentNumber: b.Code + "/TL", DocumentHash: hex.EncodeToString(digest[:])}, commands.MarkResultReadyInput{})
}

func (h *handBuilt) report(t *testing.T, p projections.Period) projections.ResolutionCounts {
	t.Helper()
	report, err := projections.ResolutionReportOf(context.Background(), h.db, projections.OneAgency(justice), p)
	if err != nil {
		t.Fatal(err)
	}
	return report.Total
}

var (
	firstWeekOfMarch  = projections.Period{From: time.Date(2026, 3, 2, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(2026, 3, 7, 0, 0, 0, 0, domain.VietnamTime)}
	secondWeekOfMarch = projections.Period{From: firstWeekOfMarch.To, To: time.Date(2026, 3, 14, 0, 0, 0, 0, domain.VietnamTime)}
)

// TestStatisticsCountAnApologisedDossierLate checks, on a hand-made history, that an apology
// (form 04) does not make a late dossier on time: II.06a, the control sheet, the late dashboard and
// the QĐ 766 rate judge it against the statutory due date, which the apology does not move, while
// the public view and the work queue keep showing the applicant the new date.
func TestStatisticsCountAnApologisedDossierLate(t *testing.T) {
	t.Parallel()
	h := newHandBuilt(t)
	ctx := context.Background()
	// Tuesday 3 March 2026, 08:00: two 3-day dossiers received; due Friday 6 March 08:00.
	h.clock = time.Date(2026, 3, 3, 8, 0, 0, 0, domain.VietnamTime)
	late, apologised := h.receive(t), h.receive(t)
	due := time.Date(2026, 3, 6, 8, 0, 0, 0, domain.VietnamTime)
	if !late.appointment().Equal(due) {
		t.Fatalf("appointment %v, want %v", late.appointment(), due)
	}
	// The agency apologises for the second and promises a date three working days later.
	h.clock = h.clock.Add(2 * time.Hour)
	h.do(t, apologised, h.signer, commands.IssueApologyInput{Reason: "Chờ xác minh", ExtraWorkingDays: 3})
	promised := apologised.appointment()
	if !promised.After(time.Date(2026, 3, 10, 17, 0, 0, 0, domain.VietnamTime)) {
		t.Fatalf("new appointment %v, want after Tuesday 10 March", promised)
	}
	// Monday 9 March: the first is resolved; Tuesday 10 March the apologised one, before its new
	// date but four days after its due date.
	h.clock = time.Date(2026, 3, 9, 9, 0, 0, 0, domain.VietnamTime)
	h.resolve(t, late)
	h.clock = time.Date(2026, 3, 10, 9, 0, 0, 0, domain.VietnamTime)
	h.resolve(t, apologised)
	h.feed(t, projections.ResolutionReportView{}, projections.ProcessControlView{}, projections.SatisfactionView{}, projections.FeedbackView{},
		projections.PublicStatusView{}, projections.WorkQueueView{})

	want := projections.ResolutionCounts{ReceivedTotal: 2, ReceivedInPersonOrPostal: 2, InProgressTotal: 2, InProgressOverdue: 2}
	if got := h.report(t, firstWeekOfMarch); got != want {
		t.Errorf("first week: %+v, want %+v (both past their due date at its end, the apology notwithstanding)", got, want)
	}
	want = projections.ResolutionCounts{ReceivedTotal: 2, CarriedOver: 2, ResolvedTotal: 2, ResolvedLate: 2}
	report, err := projections.ResolutionReportOf(ctx, h.db, projections.OneAgency(justice), secondWeekOfMarch)
	if err != nil {
		t.Fatal(err)
	}
	if report.Total != want {
		t.Errorf("second week: %+v, want %+v (both resolved late)", report.Total, want)
	}
	if _, err := projections.ResolutionReportOf(ctx, h.db, projections.OneAgency(justice), projections.Period{From: firstWeekOfMarch.From}); err == nil {
		t.Error("an unbounded period was accepted")
	}
	records := report.CSVRecords(l10n.VI.ResolutionCSVTotal())
	if len(records) != 3 || records[2][2] != "Tổng cộng" || records[2][4] != "2" || records[2][11] != "2" {
		t.Errorf("CSV records: %q", records)
	}
	if header := l10n.VI.ResolutionCSVHeader(); len(records[0]) != len(header) {
		t.Errorf("CSV rows have %d cells, the header %d", len(records[0]), len(header))
	}

	sheet, err := projections.ControlSheetOf(ctx, h.db, apologised.Code, h.cal, h.clock)
	if err != nil {
		t.Fatal(err)
	}
	if sheet.ResolutionVerdict != projections.VerdictLate || !sheet.ResolvedAgainst.Equal(due) || !sheet.DueDate.Equal(due) || !sheet.AppointmentDate.Equal(promised) {
		t.Errorf("control sheet: %s against %v, due %v, appointment %v; want late against %v, appointment %v",
			sheet.ResolutionVerdict, sheet.ResolvedAgainst, sheet.DueDate, sheet.AppointmentDate, due, promised)
	}

	dash, err := projections.LateDashboardOf(ctx, h.db, projections.LateFilter{Agency: projections.OneAgency(justice),
		Period: projections.Period{From: firstWeekOfMarch.From, To: secondWeekOfMarch.To}, Now: h.clock}, h.cal, projections.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var listed *projections.LateDossier
	for i, l := range dash.ResolvedLate.Items {
		if l.Code == apologised.Code {
			listed = &dash.ResolvedLate.Items[i]
		}
	}
	// Friday 6 March 08:00 to Tuesday 10 March 09:00: Friday's 7.5 working hours, Monday's 8 and Tuesday's 1.5.
	switch {
	case len(dash.ResolvedLate.Items) != 2 || listed == nil:
		t.Errorf("resolved late: %+v, want both", dash.ResolvedLate)
	case !listed.DueDate.Equal(due) || !listed.AppointmentDate.Equal(promised) || !listed.ApologyIssued || listed.LateHours != 17:
		t.Errorf("apologised dossier: due %v, appointment %v, apology %v, %.2f hours late; want %v, %v, true, 17",
			listed.DueDate, listed.AppointmentDate, listed.ApologyIssued, listed.LateHours, due, promised)
	}
	if len(dash.ByField) != 1 || dash.ByField[0].Key != "HT" || dash.ByField[0].Apologies != 1 || dash.ByField[0].ResolvedLate != 2 {
		t.Errorf("by field: %+v, want HT with 1 apology and 2 resolved late", dash.ByField)
	}

	satisfaction, err := projections.SatisfactionOf(ctx, h.db, projections.OneAgency(justice), secondWeekOfMarch)
	if err != nil {
		t.Fatal(err)
	}
	if in := satisfaction.Indicators; in.Processed != 2 || in.OnTime != 0 || in.Late != 2 {
		t.Errorf("QĐ 766: %d processed, %d on time, %d late; want 2, 0, 2", in.Processed, in.OnTime, in.Late)
	}

	// The applicant and the holder still see the date promised to the applicant.
	status, err := projections.LookupPublicStatus(ctx, h.db, apologised.Code, h.clock)
	if err != nil {
		t.Fatal(err)
	}
	if !status.AppointmentDate.Equal(promised) {
		t.Errorf("public status shows %v, want the new date %v", status.AppointmentDate, promised)
	}
	queue, err := projections.WorkQueueOf(ctx, h.db, projections.WorkQueueFilter{Agency: projections.OneAgency(justice)},
		projections.PageRequest{Limit: projections.MaxPageSize}, h.cal, h.clock)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, it := range queue.Items {
		if it.DossierID == apologised.ID {
			found = true
			if !it.AppointmentDate.Equal(promised) {
				t.Errorf("work queue shows %v, want the new date %v", it.AppointmentDate, promised)
			}
		}
	}
	if !found {
		t.Error("the apologised dossier is not in the work queue")
	}
}

// TestResolutionReportDoesNotCountAPausedDossierOverdue checks that a dossier whose clock is
// stopped at the period's end — waiting for the applicant's supplement, or suspended — is judged
// at the moment it stopped, as the domain judges it: within time when it stopped before its due
// date, however long ago that date passed; overdue when it stopped after.
func TestResolutionReportDoesNotCountAPausedDossierOverdue(t *testing.T) {
	t.Parallel()
	h := newHandBuilt(t)
	h.clock = time.Date(2026, 3, 3, 8, 0, 0, 0, domain.VietnamTime) // due Friday 6 March 08:00
	waiting, suspended, suspendedLate, running := h.receive(t), h.receive(t), h.receive(t), h.receive(t)
	h.clock = time.Date(2026, 3, 4, 9, 0, 0, 0, domain.VietnamTime)
	h.do(t, waiting, h.specialist, commands.RequestSupplementInput{MissingItems: []string{"Văn bản giải trình"}, Reason: "Cần làm rõ"})
	h.clock = time.Date(2026, 3, 5, 9, 0, 0, 0, domain.VietnamTime)
	h.do(t, suspended, h.head, commands.SuspendInput{Reason: "Chờ kết quả xác minh"})
	h.clock = time.Date(2026, 3, 6, 10, 0, 0, 0, domain.VietnamTime)
	h.do(t, suspendedLate, h.head, commands.SuspendInput{Reason: "Chờ kết quả xác minh"})
	h.feed(t, projections.ResolutionReportView{}, projections.ProcessControlView{})

	want := projections.ResolutionCounts{ReceivedTotal: 4, ReceivedInPersonOrPostal: 4, InProgressTotal: 4, InProgressWithinTime: 2, InProgressOverdue: 2}
	if got := h.report(t, firstWeekOfMarch); got != want {
		t.Errorf("first week: %+v, want %+v (the dossiers paused before their due date are within time)", got, want)
	}
	// The domain agrees, dossier by dossier.
	end := firstWeekOfMarch.To
	for _, c := range []struct {
		b    *dossierBook
		want domain.Timeliness
	}{{waiting, domain.TimelinessWithinTime}, {suspended, domain.TimelinessWithinTime}, {suspendedLate, domain.TimelinessOverdue}, {running, domain.TimelinessOverdue}} {
		if got := c.b.stateBefore(end).LegalVerdict(end).Timeliness; got != c.want {
			t.Errorf("%s: the domain says %s, the test expects %s", c.b.Code, got, c.want)
		}
	}
	// The late dashboard lists the same two: the one suspended two working hours after its due date
	// is late by those two hours, however long it stays suspended.
	dash, err := projections.LateDashboardOf(context.Background(), h.db, projections.LateFilter{Agency: projections.OneAgency(justice), Now: time.Date(2026, 3, 10, 16, 0, 0, 0, domain.VietnamTime)}, h.cal, projections.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	late := map[string]float64{}
	for _, l := range dash.OpenOverdue.Items {
		late[l.Code] = l.LateHours
	}
	if len(late) != 2 || late[suspendedLate.Code] != 2 || late[running.Code] != 22.5 {
		t.Errorf("open overdue: %v, want %s 2 hours and %s 22.5", late, suspendedLate.Code, running.Code)
	}
}

// TestIndicators766JudgeByTheIndicatorsRule checks that the QĐ 766 progress indicator uses the
// national indicator's rule, not the law's: after a supplement the law restarts the time limit but
// the indicator only adds the time spent waiting, and a dossier sent back twice counts as late.
func TestIndicators766JudgeByTheIndicatorsRule(t *testing.T) {
	t.Parallel()
	h := newHandBuilt(t)
	ctx := context.Background()
	h.clock = time.Date(2026, 3, 3, 8, 0, 0, 0, domain.VietnamTime)
	restarted, twice := h.receive(t), h.receive(t)
	// The first is sent back once, completed a day later; it is resolved after the indicator's due
	// date but before the restarted statutory one.
	h.clock = time.Date(2026, 3, 3, 10, 0, 0, 0, domain.VietnamTime)
	h.do(t, restarted, h.specialist, commands.RequestSupplementInput{MissingItems: []string{"Văn bản giải trình"}, Reason: "Cần làm rõ"})
	h.clock = time.Date(2026, 3, 4, 10, 0, 0, 0, domain.VietnamTime)
	h.do(t, restarted, h.desk, commands.SupplementInput{})
	d := restarted.States[len(restarted.States)-1].D
	if !d.IndicatorDueDate.Before(d.DueDate) {
		t.Fatalf("indicator due %v, statutory %v: the history does not tell the rules apart", d.IndicatorDueDate, d.DueDate)
	}
	// The second is sent back twice the same morning and resolved that afternoon, days early.
	h.clock = time.Date(2026, 3, 3, 9, 0, 0, 0, domain.VietnamTime)
	h.do(t, twice, h.specialist, commands.RequestSupplementInput{MissingItems: []string{"Tờ khai"}, Reason: "Thiếu"})
	h.clock = h.clock.Add(30 * time.Minute)
	h.do(t, twice, h.desk, commands.SupplementInput{})
	h.clock = h.clock.Add(30 * time.Minute)
	h.do(t, twice, h.specialist, commands.RequestSupplementInput{MissingItems: []string{"Bản sao"}, Reason: "Thiếu"})
	h.clock = h.clock.Add(30 * time.Minute)
	h.do(t, twice, h.desk, commands.SupplementInput{})
	h.clock = time.Date(2026, 3, 3, 15, 0, 0, 0, domain.VietnamTime)
	h.resolve(t, twice)
	h.clock = d.IndicatorDueDate.Add(d.DueDate.Sub(d.IndicatorDueDate) / 2)
	h.resolve(t, restarted)
	h.feed(t, projections.ResolutionReportView{}, projections.SatisfactionView{}, projections.FeedbackView{}, projections.ProcessControlView{})

	march := projections.Period{From: firstWeekOfMarch.From, To: time.Date(2026, 4, 1, 0, 0, 0, 0, domain.VietnamTime)}
	if got := h.report(t, march); got.ResolvedTotal != 2 || got.ResolvedLate != 0 {
		t.Errorf("II.06a: %+v, want both resolved within the law's time", got)
	}
	for _, b := range []*dossierBook{restarted, twice} {
		if v := b.resolvedVerdict(indicatorRule); v != projections.VerdictLate {
			t.Errorf("%s: the domain's indicator verdict is %s, the test expects late", b.Code, v)
		}
	}
	report, err := projections.SatisfactionOf(ctx, h.db, projections.OneAgency(justice), march)
	if err != nil {
		t.Fatal(err)
	}
	if in := report.Indicators; in.Processed != 2 || in.OnTime != 0 || in.Late != 2 || in.OnTimeRate != 0 {
		t.Errorf("QĐ 766: %d processed, %d on time, %d late (%.2f%% on time); want 2, 0, 2", in.Processed, in.OnTime, in.Late, in.OnTimeRate)
	}
	for _, n := range report.Indicators.NotComputed {
		if n.Group == "progress" {
			t.Errorf("the progress indicator is still listed as not computed: %+v", n)
		}
	}
}

// TestResolutionReportAtPeriodBoundaries checks form II.06a against the oracle on a hand-made
// history whose receipts, resolutions, supplement requests and returns, suspensions and
// withdrawals fall one minute either side of the Vietnam midnights that end March and April, for
// every period starting or ending there — whole months, single days, a week —, for one agency and
// all, as the events come and again after the read model is rebuilt from the log.
func TestResolutionReportAtPeriodBoundaries(t *testing.T) {
	t.Parallel()
	h := newHandBuilt(t)
	ctx := context.Background()
	at := func(m time.Month, day, hour, minute int) time.Time {
		return time.Date(2026, m, day, hour, minute, 0, 0, domain.VietnamTime)
	}
	keep := func(b *dossierBook) *dossierBook {
		h.Books = append(h.Books, b)
		return b
	}
	// Thursday 26 March, 09:00: 3-day dossiers, due Tuesday 31 March 09:00.
	h.clock = at(time.March, 26, 9, 0)
	var early [8]*dossierBook
	for i := range early {
		early[i] = keep(h.receive(t))
	}
	resolvedBefore, resolvedAfter, waitingAcross, suspendedAfter, withdrawnBefore, withdrawnAfter, rejectedAfter, runningLate := early[0], early[1], early[2], early[3], early[4], early[5], early[6], early[7]
	_ = runningLate // left running past its due date: overdue at every period's end from 1 April
	// Tuesday 31 March, 23:59: a receipt, a resolution (late), a supplement request, a withdrawal.
	h.clock = at(time.April, 1, 0, 0).Add(-time.Minute)
	receivedBefore := keep(h.receive(t))
	h.resolve(t, resolvedBefore)
	h.do(t, waitingAcross, h.specialist, commands.RequestSupplementInput{MissingItems: []string{"Văn bản giải trình"}, Reason: "Cần làm rõ"})
	h.do(t, withdrawnBefore, h.desk, commands.WithdrawInput{Reason: "Người nộp đề nghị rút hồ sơ"})
	// Wednesday 1 April, 00:01: the same on the other side, and the supplement comes back.
	h.clock = at(time.April, 1, 0, 1)
	receivedAfter := keep(h.receive(t))
	h.resolve(t, resolvedAfter)
	h.do(t, waitingAcross, h.desk, commands.SupplementInput{})
	h.do(t, suspendedAfter, h.head, commands.SuspendInput{Reason: "Chờ kết quả xác minh"})
	h.do(t, withdrawnAfter, h.desk, commands.WithdrawInput{Reason: "Người nộp không tiếp tục"})
	h.do(t, rejectedAfter, h.specialist, commands.AppraiseInput{Conclusion: domain.ConclusionReject, Opinion: "Không đủ điều kiện"})
	h.do(t, rejectedAfter, h.head, commands.RejectInput{Reason: "Không đủ điều kiện theo quy định"})
	// The end of April: one resolved a minute before midnight, one a minute after.
	h.clock = at(time.May, 1, 0, 0).Add(-time.Minute)
	h.resolve(t, receivedBefore)
	h.clock = at(time.May, 1, 0, 1)
	h.resolve(t, receivedAfter)
	h.feed(t, projections.ResolutionReportView{}, projections.SatisfactionView{}, projections.FeedbackView{}, projections.ProcessControlView{})

	day := func(m time.Month, d int) projections.Period {
		return projections.Period{From: at(m, d, 0, 0), To: at(m, d+1, 0, 0)}
	}
	periods := map[string]projections.Period{
		"march": month(2026, time.March), "april": month(2026, time.April), "may": month(2026, time.May),
		"31 march": day(time.March, 31), "1 april": day(time.April, 1), "30 april": day(time.April, 30), "1 may": day(time.May, 1),
		"27 march to 2 april": {From: at(time.March, 27, 0, 0), To: at(time.April, 3, 0, 0)},
		"first half of 2026":  {From: at(time.January, 1, 0, 0), To: at(time.July, 1, 0, 0)},
	}
	check := func(stage string) {
		t.Helper()
		for _, name := range sortedKeys(periods) {
			p := periods[name]
			for _, agency := range []string{justice, ""} {
				report, err := projections.ResolutionReportOf(ctx, h.db, scenarioScope(agency), p)
				if err != nil {
					t.Fatal(err)
				}
				want := sum(mapValues(expectedResolution(h.scenario, agency, p, legalRule))...)
				if report.Total != want {
					t.Errorf("%s, %s, agency %q:\n got %+v\nwant %+v", stage, name, agency, report.Total, want)
				}
			}
			// The QĐ 766 progress indicator reads the same counters under the indicator's rule.
			satisfaction, err := projections.SatisfactionOf(ctx, h.db, projections.OneAgency(justice), p)
			if err != nil {
				t.Fatal(err)
			}
			indicator := sum(mapValues(expectedResolution(h.scenario, justice, p, indicatorRule))...)
			if in := satisfaction.Indicators; in.Processed != indicator.ResolvedTotal+indicator.InProgressTotal ||
				in.OnTime != indicator.ResolvedEarly+indicator.ResolvedOnTime+indicator.InProgressWithinTime ||
				in.Late != indicator.ResolvedLate+indicator.InProgressOverdue {
				t.Errorf("%s, %s: QĐ 766 %d processed, %d on time, %d late; want %+v", stage, name, in.Processed, in.OnTime, in.Late, indicator)
			}
		}
	}
	check("as the events came")
	// The history exercises what the boundaries can move.
	march, april := sum(mapValues(expectedResolution(h.scenario, justice, periods["march"], legalRule))...),
		sum(mapValues(expectedResolution(h.scenario, justice, periods["april"], legalRule))...)
	if march.ResolvedTotal != 1 || march.Withdrawn != 1 || march.InProgressOverdue == 0 || march.InProgressWithinTime == 0 ||
		april.CarriedOver != march.InProgressTotal || april.ResolvedByRejection != 1 || april.Withdrawn != 1 || april.InProgressTotal == 0 {
		t.Errorf("the history does not exercise the boundaries: March %+v, April %+v", march, april)
	}

	rebuilder := &engine.Rebuilder{Store: h.store, DB: h.db, Dialect: h.dialect, Consumers: []engine.Consumer{projections.ResolutionReportView{}},
		BatchSize: 7, Logger: slog.New(slog.DiscardHandler)}
	if _, err := rebuilder.Run(ctx); err != nil {
		t.Fatal(err)
	}
	check("after a rebuild")
	if _, err := projections.ResolutionReportOf(ctx, h.db, projections.AllAgencies(),
		projections.Period{From: at(time.April, 1, 0, 0), To: at(time.April, 1, 12, 0)}); err == nil {
		t.Error("a period ending at noon was accepted: the counters are kept per Vietnam civil day")
	}
}

func mapValues[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
