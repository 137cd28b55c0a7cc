package projections_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/projections"
)

// The succession scenario: in March 2026 the Department of Justice is merged into the Department
// of Natural Resources and Environment on Monday 16/3 (mid-month). Dossiers of both arrive at the
// Public Service Centre from 2/3; some are resolved or withdrawn before the merger; the admin hands
// the open ones over in pages, is interrupted, and runs again. The II.06a report, the late
// dashboard and the work queue are checked before and after against numbers the test computes
// from the raw events of the log.

var (
	mergedOn     = time.Date(2026, 3, 16, 0, 0, 0, 0, domain.VietnamTime)
	mergeBasis   = "Quyết định 512/QĐ-UBND ngày 10/3/2026 hợp nhất Sở Tư pháp vào Sở Tài nguyên và Môi trường"
	successionAt = time.Date(2026, 3, 16, 10, 0, 0, 0, domain.VietnamTime)
)

// successionCatalog is the scenario's catalog with the merger recorded: from 16/3 the Department
// of Justice is succeeded by the land department.
func successionCatalog(t *testing.T) *domain.Catalog {
	t.Helper()
	text := strings.Replace(scenarioCatalog,
		`{"code": "000.00.07.H56", "name": "Sở Tư pháp", `,
		`{"code": "000.00.07.H56", "name": "Sở Tư pháp", "succeeded_by": {"agency": "000.00.10.H56", "from": "2026-03-16", "basis": "`+mergeBasis+`"}, `, 1)
	catalog, err := domain.ParseCatalog([]byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	return catalog
}

func TestAgencySuccessionScenarioSQLite(t *testing.T) { checkSuccessionScenario(t, sqliteBackend(t)) }

func TestAgencySuccessionScenarioPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("PostgreSQL scenario skipped in -short")
	}
	checkSuccessionScenario(t, postgresBackend(t))
}

func checkSuccessionScenario(t *testing.T, b backend) {
	s := newScenario(t, b)
	s.app.SetCatalog(successionCatalog(t))
	ctx := context.Background()
	desk := s.staff[centre][0].Caller
	justiceHead, justiceDesk := s.staff[justice][1].Caller, s.staff[justice][0].Caller
	landHead := s.staff[land][1].Caller
	admin := commands.Caller{ID: "qtv", Name: "Quản trị hệ thống", Roles: []commands.Role{commands.RoleAdmin}}

	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, domain.VietnamTime) }
	receive := func(who commands.Caller, procedure string) string {
		t.Helper()
		r, err := s.app.Receive(ctx, who, commands.ReceiveInput{ProcedureCode: procedure, Channel: domain.ChannelDirect,
			Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn Hùng", IDNumber: "038090001111"},
			Components: []domain.Component{{Name: "Tờ khai", Copies: 1}}})
		if err != nil {
			t.Fatalf("receive %s at %s: %v", procedure, s.clock, err)
		}
		s.last = r.Position
		return r.DossierID
	}
	// feed waits for the read models to apply the settled log: on PostgreSQL an append's position
	// is read back only once every earlier transaction has committed (the store's horizon).
	feed := func() {
		t.Helper()
		if log := logtest.Settled(t, s.store); len(log) > 0 {
			s.last = log[len(log)-1].Position
		}
		// The views this scenario checks (the public status view, which SQLite runs in
		// TestReadModelsTakeBoundaryFreeAndSuccessionEvents, waits for its PostgreSQL notifications here).
		s.feed(t, projections.WorkQueueView{}, projections.ProcessControlView{}, projections.ResolutionReportView{}, projections.SatisfactionView{})
	}
	act := func(who commands.Caller, id string, in commands.Input) error {
		t.Helper()
		r, err := s.app.Execute(ctx, who, id, nil, in)
		if err == nil {
			s.last = r.Position
		}
		return err
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("at %s: %v", s.clock, err)
		}
	}
	// reject appraises the dossier (a head may) and refuses it in writing after the appraisal.
	reject := func(who commands.Caller, id, reason string) error {
		t.Helper()
		if err := act(who, id, commands.AppraiseInput{Conclusion: domain.ConclusionReject, Opinion: reason}); err != nil {
			return err
		}
		return act(who, id, commands.RejectInput{Reason: reason})
	}

	// Two weeks of arrivals: each working day a Justice dossier (10 working days) and a land one
	// (15), sent to their departments an hour later.
	justiceDossiers, landDossiers := map[int]string{}, map[int]string{}
	for _, day := range []int{2, 3, 4, 5, 6, 9, 10, 11, 12, 13} {
		s.clock = at(day, 8)
		justiceDossiers[day], landDossiers[day] = receive(desk, "2.001417"), receive(desk, "1.004227")
		s.clock = at(day, 9)
		must(act(desk, justiceDossiers[day], commands.TransferInput{Step: "Thẩm định hồ sơ", ToUnit: "TP.HCTP"}))
		must(act(desk, landDossiers[day], commands.TransferInput{Step: "Thẩm định hồ sơ", ToUnit: "TN.DD"}))
	}
	s.clock = at(6, 10)
	for _, day := range []int{3, 4} {
		must(reject(justiceHead, justiceDossiers[day], "Không đủ điều kiện cấp phiếu"))
	}
	s.clock = at(9, 10)
	must(act(desk, justiceDossiers[5], commands.WithdrawInput{Reason: "Người yêu cầu xin rút"}))
	s.clock = at(10, 10)
	must(reject(landHead, landDossiers[2], "Đất đang có tranh chấp"))

	// Before: Monday 16/3 09:00, the merger in force, nothing handed over yet.
	s.clock = at(16, 9)
	feed()
	oracle := newSuccessionOracle(t, s.store)
	checkSuccessionViews(t, s, oracle, "before", s.clock)

	// The admin hands over at 10:00, three dossiers a page; the run stops after its first page.
	s.clock = successionAt
	list := func(ctx context.Context, agency, after string, limit int) ([]string, string, error) {
		return projections.OpenDossierPage(ctx, s.db, agency, after, limit)
	}
	in := commands.SuccessionInput{From: justice, Basis: mergeBasis} // successor and date from the catalog
	first, err := s.app.SucceedAgency(ctx, admin, in, list, "", 3)
	if err != nil || first.HandedOver != 3 || first.Next == "" {
		t.Fatalf("first page = %+v, %v; want 3 handed over and a next page", first, err)
	}
	s.last = first.Position
	feed()
	// Run again from the start, as after a crash: it finishes the job and duplicates nothing.
	handed, skipped := first.HandedOver, 0
	for run := 0; run < 2; run++ {
		after := ""
		for {
			p, err := s.app.SucceedAgency(ctx, admin, in, list, after, 3)
			if err != nil {
				t.Fatal(err)
			}
			handed, skipped = handed+p.HandedOver, skipped+p.Skipped
			if p.HandedOver > 0 {
				s.last = p.Position
			}
			if after = p.Next; after == "" {
				break
			}
		}
		feed()
	}
	openAtMerger := oracle.openInvolving(justice, successionAt)
	if handed != len(openAtMerger) {
		t.Errorf("handed over %d dossiers, %d were open at the Department of Justice", handed, len(openAtMerger))
	}
	oracle = newSuccessionOracle(t, s.store)
	for id, n := range oracle.successions {
		if n != 1 {
			t.Errorf("dossier %s handed over %d times", id, n)
		}
	}

	// After: the Department of Justice's officials lose the dossiers, the successor works them,
	// a new receipt of a Justice procedure is decided by the successor, and the abolished
	// department's desk receives nothing.
	s.clock = at(17, 10)
	if err := reject(justiceHead, justiceDossiers[9], "Không đủ điều kiện"); domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
		t.Errorf("the abolished department's head acted on a handed-over dossier: %v", err)
	}
	must(reject(landHead, justiceDossiers[6], "Không đủ điều kiện cấp phiếu"))
	s.clock = at(18, 8)
	newOne := receive(desk, "2.001417")
	if _, err := s.app.Receive(ctx, justiceDesk, commands.ReceiveInput{ProcedureCode: "2.001417", Channel: domain.ChannelDirect,
		Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Trần Thị Mai", IDNumber: "038090002222"},
		Components: []domain.Component{{Name: "Tờ khai", Copies: 1}}}); domain.ErrorCodeOf(err) != domain.ECONFLICT ||
		!strings.Contains(err.Error(), "ceased to exist") {
		t.Errorf("the abolished department's desk received a dossier: %v", err)
	}
	s.clock = at(20, 10)
	feed()
	oracle = newSuccessionOracle(t, s.store)
	if d := oracle.stateAt(newOne, s.clock); d.CompetentAgency != land {
		t.Errorf("a Justice procedure received after the merger is decided by %s, want the successor %s", d.CompetentAgency, land)
	}
	checkSuccessionViews(t, s, oracle, "after", s.clock)
	// The oracle itself sees the merger: seven of Justice's dossiers were open on 16/3 (received
	// 2, 6, 9–13/3), one of them already overdue.
	march := month(2026, time.March)
	if j, l := oracle.resolution(justice, march.From, s.clock, march.To), oracle.resolution(land, march.From, s.clock, march.To); j.HandedOver != 7 || l.TakenOver != 7 || j.InProgressTotal != 0 {
		t.Errorf("the oracle's March: Justice %+v, land %+v", j, l)
	}
	if got := oracle.overdueInvolving(land, s.clock); !slices.Contains(got, justiceDossiers[2]) {
		t.Errorf("the dossier overdue at the merger is not the successor's late dossier: %v", got)
	}
	if got := oracle.openInvolving(justice, s.clock); len(got) != 0 {
		t.Errorf("the log still has %d open dossiers at the abolished department", len(got))
	}
}

// checkSuccessionViews compares the work queue, the late dashboard and form II.06a of both
// agencies with the oracle at now.
func checkSuccessionViews(t *testing.T, s *scenario, o *successionOracle, when string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	for _, agency := range []string{justice, land} {
		want := o.openInvolving(agency, now)
		queue, err := projections.WorkQueueOf(ctx, s.db, projections.WorkQueueFilter{Agency: projections.OneAgency(agency)},
			projections.PageRequest{Limit: projections.MaxPageSize}, s.cal, now)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, item := range queue.Items {
			got = append(got, item.DossierID)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: work queue of %s lists %d dossiers %v, the log has %d open %v", when, agency, len(got), got, len(want), want)
		}
		late, err := projections.LateDashboardOf(ctx, s.db, projections.LateFilter{Agency: projections.OneAgency(agency),
			Period: month(2026, time.March), Now: now, DueWithinDays: 3}, s.cal, projections.PageRequest{Limit: projections.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		var overdue []string
		for _, l := range late.OpenOverdue.Items {
			overdue = append(overdue, l.DossierID)
		}
		slices.Sort(overdue)
		if wantLate := o.overdueInvolving(agency, now); !slices.Equal(overdue, wantLate) {
			t.Errorf("%s: late dashboard of %s shows overdue %v, the log says %v", when, agency, overdue, wantLate)
		}
		periods := map[string]projections.Period{"March": month(2026, time.March),
			"before the merger": {From: month(2026, time.March).From, To: mergedOn}}
		if when == "after" {
			periods["from the merger"] = projections.Period{From: mergedOn, To: month(2026, time.April).From}
		}
		for name, p := range periods {
			report, err := projections.ResolutionReportOf(ctx, s.db, projections.OneAgency(agency), p)
			if err != nil {
				t.Fatal(err)
			}
			end := p.To
			if end.After(now) {
				end = now // the report counts what the log holds: nothing after now happened
			}
			if wantCounts := o.resolution(agency, p.From, end, p.To); report.Total != wantCounts {
				t.Errorf("%s: II.06a of %s for %s\n got %+v\nwant %+v", when, agency, name, report.Total, wantCounts)
			}
		}
	}
}

// successionOracle holds the log's dossier events per dossier, with the moment each happened, to
// compute what the read models must show from the events themselves.
type successionOracle struct {
	streams     map[string][]timedEvent
	successions map[string]int
}

type timedEvent struct {
	at time.Time
	e  domain.Event
}

func newSuccessionOracle(t *testing.T, store eventstore.Store) *successionOracle {
	t.Helper()
	o := &successionOracle{streams: map[string][]timedEvent{}, successions: map[string]int{}}
	var from eventstore.Position
	for {
		page, err := store.ReadAll(context.Background(), from, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return o
		}
		for _, re := range page {
			from = re.Position
			if !domain.IsDossierEvent(re.Type) {
				continue
			}
			e, err := domain.DecodeEvent(re.Type, re.Data)
			if err != nil {
				t.Fatal(err)
			}
			id := strings.TrimPrefix(re.Stream, "dossier-")
			o.streams[id] = append(o.streams[id], timedEvent{at: re.Metadata.OccurredAt, e: e})
			if _, ok := e.(domain.AgencySucceeded); ok {
				o.successions[id]++
			}
		}
	}
}

// stateAt folds the dossier's events up to and including t.
func (o *successionOracle) stateAt(id string, t time.Time) domain.Dossier {
	var events []domain.Event
	for _, te := range o.streams[id] {
		if !te.at.After(t) {
			events = append(events, te.e)
		}
	}
	return domain.Fold(events...)
}

// stateBefore folds the dossier's events strictly before t.
func (o *successionOracle) stateBefore(id string, t time.Time) domain.Dossier {
	return o.stateAt(id, t.Add(-time.Nanosecond))
}

func counted(d domain.Dossier, agency string) bool {
	return d.ReceivingUnit == agency || d.CompetentAgency == agency
}

func (o *successionOracle) ids() []string {
	ids := make([]string, 0, len(o.streams))
	for id := range o.streams {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// openInvolving lists the dossiers open (in an agency's hands) at t that agency is involved in.
func (o *successionOracle) openInvolving(agency string, t time.Time) []string {
	var out []string
	for _, id := range o.ids() {
		d := o.stateAt(id, t)
		if (d.Status.Open() || d.Status == domain.StatusSubmitted || d.Status == domain.StatusResultReady) && d.AgencyInvolved(agency) {
			out = append(out, id)
		}
	}
	return out
}

// overdueInvolving lists the dossiers in progress at t, past their statutory due date, that the
// agency received or decides — the late dashboard's scope.
func (o *successionOracle) overdueInvolving(agency string, t time.Time) []string {
	var out []string
	for _, id := range o.ids() {
		d := o.stateAt(id, t)
		if d.Status.Open() && counted(d, agency) && d.LegalVerdict(t).Timeliness == domain.TimelinessOverdue {
			out = append(out, id)
		}
	}
	return out
}

// resolution computes form II.06a's totals for agency over [from, to), from the events that
// happened up to end (the report is read at end when the period has not finished).
func (o *successionOracle) resolution(agency string, from, end, to time.Time) projections.ResolutionCounts {
	var c projections.ResolutionCounts
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	for _, id := range o.ids() {
		final := o.stateAt(id, end)
		if final.ReceivedAt.IsZero() {
			continue
		}
		if final.ReceivedAt.Before(from) {
			before := o.stateBefore(id, from)
			if before.Status.Open() && counted(before, agency) {
				c.CarriedOver++
			}
		} else if in(final.ReceivedAt) && counted(o.stateAt(id, final.ReceivedAt), agency) {
			if final.Channel == domain.ChannelOnline {
				c.ReceivedOnline++
			} else {
				c.ReceivedInPersonOrPostal++
			}
		}
		for _, te := range o.streams[id] {
			if !in(te.at) || te.at.After(end) {
				continue
			}
			switch e := te.e.(type) {
			case domain.AgencySucceeded:
				was, is := counted(o.stateBefore(id, te.at), agency), counted(o.stateAt(id, te.at), agency)
				if was && !is {
					c.HandedOver++
				}
				if is && !was {
					c.TakenOver++
				}
			case domain.Rejected:
				if counted(o.stateAt(id, te.at), agency) {
					c.ResolvedByRejection++
					switch verdictOf(e.RejectedAt, o.stateBefore(id, te.at).DueDate) {
					case projections.VerdictEarly:
						c.ResolvedEarly++
					case projections.VerdictOnTime:
						c.ResolvedOnTime++
					default:
						c.ResolvedLate++
					}
				}
			case domain.Withdrawn:
				if counted(o.stateAt(id, te.at), agency) {
					c.Withdrawn++
				}
			}
		}
		// In progress at the period's end: the stock at its last moment, judged as the domain does.
		last := to.Add(-time.Nanosecond)
		if end.Before(last) {
			last = end
		}
		if d := o.stateAt(id, last); d.Status.Open() && counted(d, agency) {
			c.InProgressTotal++
			if d.LegalVerdict(to).Timeliness == domain.TimelinessOverdue {
				c.InProgressOverdue++
			}
		}
	}
	c.ReceivedTotal = c.CarriedOver + c.ReceivedOnline + c.ReceivedInPersonOrPostal + c.TakenOver
	c.ResolvedTotal = c.ResolvedEarly + c.ResolvedOnTime + c.ResolvedLate
	c.InProgressWithinTime = c.InProgressTotal - c.InProgressOverdue
	return c
}
