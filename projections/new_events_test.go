package projections_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/projections"
)

// Every read model takes the events of issue 16 — a boundary-free receipt, its originals' arrival,
// a succession — and shows what each must: the control sheet's forwarding step judged and the notes,
// the register keeping the receiving centre, the work queue, the public status and II.06a following
// the successor.
func TestReadModelsTakeBoundaryFreeAndSuccessionEvents(t *testing.T) {
	s := newScenario(t, sqliteBackend(t))
	ctx := context.Background()
	catalog := s.app.Catalog()
	for i := range catalog.Agencies {
		if catalog.Agencies[i].Code == centre {
			catalog.Agencies[i].Territory = []string{land}
		}
	}
	for i := range catalog.Procedures {
		if catalog.Procedures[i].Code == "1.009972" {
			catalog.Procedures[i].BoundaryFree = &domain.BoundaryFree{Centres: []string{centre}, ForwardingHours: 4}
		}
	}
	desk, buildingHead := s.staff[centre][0].Caller, s.staff[building][1].Caller
	admin := commands.Caller{ID: "qtv", Name: "Quản trị", Roles: []commands.Role{commands.RoleAdmin}}

	s.clock = time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)
	r, err := s.app.Receive(ctx, desk, commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect,
		Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Lò Văn Pao", IDNumber: "038090003333"},
		Components: []domain.Component{{Name: "Đơn đề nghị", Copies: 1}}, ForwardOriginals: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Receive(ctx, desk, commands.ReceiveInput{ProcedureCode: "2.001417", Channel: domain.ChannelDirect,
		Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Lò Văn Pao", IDNumber: "038090003333"},
		Components: []domain.Component{{Name: "Tờ khai", Copies: 1}}}); domain.ErrorCodeOf(err) != domain.ECONFLICT {
		t.Errorf("a procedure outside the centre's territory and not boundary-free: %v", err)
	}
	// 4 working hours from 08:00 end at 13:30; the originals arrive at 14:00.
	s.clock = time.Date(2026, 3, 2, 14, 0, 0, 0, domain.VietnamTime)
	if _, err := s.app.Execute(ctx, buildingHead, r.DossierID, nil, commands.OriginalsArrivedInput{Note: "Qua bưu điện"}); err != nil {
		t.Fatal(err)
	}
	s.clock = time.Date(2026, 3, 16, 10, 0, 0, 0, domain.VietnamTime)
	p, err := s.app.SucceedAgency(ctx, admin, commands.SuccessionInput{From: building, To: land, Basis: "Quyết định hợp nhất",
		EffectiveDate: time.Date(2026, 3, 16, 0, 0, 0, 0, domain.VietnamTime)}, func(context.Context, string, string, int) ([]string, string, error) {
		return []string{r.DossierID}, "", nil
	}, "", 0)
	if err != nil || p.HandedOver != 1 {
		t.Fatalf("succession: %+v, %v", p, err)
	}
	s.last = p.Position
	s.feed(t, projections.All()...)
	now := time.Date(2026, 3, 20, 10, 0, 0, 0, domain.VietnamTime)

	sheet, err := projections.ControlSheetOf(ctx, s.db, r.DossierID, s.cal, now)
	if err != nil {
		t.Fatal(err)
	}
	var forwarding *projections.Handover
	var notes []string
	for i, h := range sheet.Handovers {
		if h.Kind == projections.HandoverForwarding {
			forwarding = &sheet.Handovers[i]
		}
		for _, n := range h.Events {
			notes = append(notes, n.Kind)
		}
	}
	if forwarding == nil || forwarding.Verdict != projections.VerdictLate || forwarding.To.Unit != building {
		t.Errorf("control sheet: forwarding step %+v", forwarding)
	}
	if !slices.Contains(notes, projections.NoteBoundaryFree) || !slices.Contains(notes, projections.NoteAgencySucceeded) {
		t.Errorf("control sheet notes %v", notes)
	}
	if sheet.CompetentAgency != land {
		t.Errorf("control sheet names %s as deciding, want the successor", sheet.CompetentAgency)
	}
	register, err := projections.RegisterPageOf(ctx, s.db, centre, 2026, projections.PageRequest{})
	if err != nil || len(register.Items) != 1 {
		t.Errorf("the centre's register: %+v, %v", register.Items, err)
	}
	for agency, want := range map[string]int{land: 1, building: 0} {
		queue, err := projections.WorkQueueOf(ctx, s.db, projections.WorkQueueFilter{Agency: projections.OneAgency(agency)}, projections.PageRequest{}, s.cal, now)
		if err != nil || len(queue.Items) != want {
			t.Errorf("work queue of %s: %d items, %v; want %d", agency, len(queue.Items), err, want)
		}
	}
	public, err := projections.NewPublicLookup(s.db).Status(ctx, r.Code, now)
	if err != nil || public.CompetentAgency != land {
		t.Errorf("public status: %+v, %v", public, err)
	}
	march := month(2026, time.March)
	for agency, want := range map[string][2]int{building: {0, 1}, land: {1, 0}} {
		report, err := projections.ResolutionReportOf(ctx, s.db, projections.OneAgency(agency), march)
		if err != nil || report.Total.TakenOver != want[0] || report.Total.HandedOver != want[1] {
			t.Errorf("II.06a of %s: %+v, %v; want taken over %d, handed over %d", agency, report.Total, err, want[0], want[1])
		}
	}
	all, err := projections.ResolutionReportOf(ctx, s.db, projections.AllAgencies(), march)
	if err != nil || all.Total.TakenOver != 0 || all.Total.HandedOver != 0 || all.Total.ReceivedTotal != 1 || all.Total.InProgressTotal != 1 {
		t.Errorf("province-wide II.06a: %+v, %v; a succession moves nothing there", all.Total, err)
	}
	if !strings.HasPrefix(r.Code, centre) {
		t.Errorf("the code %s is not the receiving centre's", r.Code)
	}
}

// Satisfaction counts a rating at the agency the dossier belongs to when it is given: one rated
// before the merger stays with the abolished department for any period, one handed over with its
// result waiting and rated after counts at the successor.
func TestSatisfactionFollowsTheSuccessionFromItsDay(t *testing.T) {
	s := newScenario(t, sqliteBackend(t))
	ctx := context.Background()
	desk, head, signer := s.staff[centre][0].Caller, s.staff[building][1].Caller, s.staff[building][4].Caller
	admin := commands.Caller{ID: "qtv", Name: "Quản trị", Roles: []commands.Role{commands.RoleAdmin}}
	at := func(day, hour int) { s.clock = time.Date(2026, 3, day, hour, 0, 0, 0, domain.VietnamTime) }
	must := func(r commands.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("at %s: %v", s.clock, err)
		}
		s.last = r.Position
	}
	resolve := func(day int) commands.Receipt {
		at(day, 8)
		r, err := s.app.Receive(ctx, desk, commands.ReceiveInput{ProcedureCode: "1.009974", Channel: domain.ChannelDirect,
			Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Hà Thị Thu", IDNumber: "038090004444"},
			Components: []domain.Component{{Name: "Đơn đề nghị điều chỉnh", Copies: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		at(day, 9)
		must(s.app.Execute(ctx, desk, r.DossierID, nil, commands.TransferInput{Step: "Thẩm định hồ sơ", ToUnit: "XD.QLXD"}))
		must(s.app.Execute(ctx, head, r.DossierID, nil, commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện"}))
		must(s.app.Execute(ctx, signer, r.DossierID, nil, commands.SignInput{DocumentNumber: "12/GP", DocumentHash: strings.Repeat("ab", 32)}))
		must(s.app.Execute(ctx, signer, r.DossierID, nil, commands.MarkResultReadyInput{}))
		return r
	}
	returnAndRate := func(r commands.Receipt, day int) {
		at(day, 10)
		must(s.app.Execute(ctx, desk, r.DossierID, nil, commands.ReturnResultInput{Channel: domain.ChannelDirect}))
		must(s.app.Rate(ctx, r.Code, commands.RateInput{Secret: r.RatingSecret,
			Scores: map[domain.Criterion]domain.RatingLevel{domain.CriterionStaffAttitude: domain.VerySatisfied}}))
	}
	before := resolve(3)
	returnAndRate(before, 4)
	after := resolve(5) // its result waits at the desk when the department merges away
	at(16, 10)
	p, err := s.app.SucceedAgency(ctx, admin, commands.SuccessionInput{From: building, To: land, Basis: "Quyết định hợp nhất",
		EffectiveDate: time.Date(2026, 3, 16, 0, 0, 0, 0, domain.VietnamTime)}, func(context.Context, string, string, int) ([]string, string, error) {
		return []string{before.DossierID, after.DossierID}, "", nil
	}, "", 0)
	if err != nil || p.HandedOver != 1 || p.Skipped != 1 {
		t.Fatalf("succession: %+v, %v; want the open one handed over and the returned one skipped", p, err)
	}
	s.last = p.Position
	returnAndRate(after, 18)
	s.feed(t, projections.All()...)
	march := month(2026, time.March)
	firstHalf := projections.Period{From: march.From, To: time.Date(2026, 3, 16, 0, 0, 0, 0, domain.VietnamTime)}
	for _, tc := range []struct {
		agency string
		period projections.Period
		want   int
	}{{building, march, 1}, {building, firstHalf, 1}, {land, march, 1}, {land, firstHalf, 0}} {
		report, err := projections.SatisfactionOf(ctx, s.db, projections.OneAgency(tc.agency), tc.period)
		if err != nil || report.Overall.Ratings != tc.want {
			t.Errorf("satisfaction of %s over %v–%v: %d ratings, %v; want %d", tc.agency, tc.period.From, tc.period.To, report.Overall.Ratings, err, tc.want)
		}
	}
}

// The originals of a boundary-free receipt travel beside the dossier's own steps: folded in
// separate batches — the receipt, a transfer, the originals' arrival, as a live node folds them —,
// the fold must keep the forwarding step in play so that the arrival ends it, and must not take
// it for the step the dossier is held under, so that the transfer ends the reception.
func TestControlSheetEndsForwardingAcrossBatches(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sqliteBackend(t))
	ctx := context.Background()
	for i := range s.app.Catalog().Procedures {
		if p := &s.app.Catalog().Procedures[i]; p.Code == "1.009972" {
			p.BoundaryFree = &domain.BoundaryFree{Centres: []string{centre}, ForwardingHours: 4}
		}
	}
	for i := range s.app.Catalog().Agencies {
		if a := &s.app.Catalog().Agencies[i]; a.Code == centre {
			a.Territory = []string{land}
		}
	}
	desk, head := s.staff[centre][0].Caller, s.staff[building][1]
	s.clock = time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)
	r, err := s.app.Receive(ctx, desk, commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect,
		Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Lò Văn Pao", IDNumber: "038090003333"},
		Components: []domain.Component{{Name: "Đơn đề nghị", Copies: 1}}, ForwardOriginals: true})
	if err != nil {
		t.Fatal(err)
	}
	s.last = r.Position
	s.feed(t, projections.ProcessControlView{})
	s.clock = time.Date(2026, 3, 2, 10, 0, 0, 0, domain.VietnamTime)
	moved, err := s.app.Execute(ctx, desk, r.DossierID, nil, commands.TransferInput{ToUnit: head.Unit, ToOfficialID: head.ID,
		ToOfficialName: head.Name, Step: "Thẩm định hồ sơ"})
	if err != nil {
		t.Fatal(err)
	}
	s.last = moved.Position
	s.feed(t, projections.ProcessControlView{})
	s.clock = time.Date(2026, 3, 2, 14, 0, 0, 0, domain.VietnamTime)
	arrived, err := s.app.Execute(ctx, head.Caller, r.DossierID, nil, commands.OriginalsArrivedInput{Note: "Qua bưu điện"})
	if err != nil {
		t.Fatal(err)
	}
	s.last = arrived.Position
	s.feed(t, projections.ProcessControlView{})
	sheet, err := projections.ControlSheetOf(ctx, s.db, r.DossierID, s.cal, time.Date(2026, 3, 20, 10, 0, 0, 0, domain.VietnamTime))
	if err != nil {
		t.Fatal(err)
	}
	ended := map[string]bool{}
	for _, h := range sheet.Handovers {
		ended[h.Kind] = !h.EndedAt.IsZero()
	}
	if !ended[projections.HandoverForwarding] || !ended[projections.HandoverReception] || ended[projections.HandoverTransfer] {
		t.Errorf("ended: %v; want the forwarding and the reception ended, the transfer running", ended)
	}
}
