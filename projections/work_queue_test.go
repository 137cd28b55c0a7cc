package projections_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/projections"
)

const (
	queueCentre   = "000.00.00.H56" // receives for everyone
	queueBuilding = "000.00.06.H56" // decides the building permit of the test catalog
)

// queueWorld is a real SQLite store with the work queue projection running, and a settable clock.
type queueWorld struct {
	t      *testing.T
	ctx    context.Context
	app    *commands.App
	runner *engine.Runner
	db     *sqlite.Store
	now    time.Time
	last   eventstore.Position
}

func newQueueWorld(t *testing.T) *queueWorld {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "queue.db"))
	if err != nil {
		t.Fatal(err)
	}
	cal := calendar.Default()
	catalog := domaintest.Catalog(t, cal)
	w := &queueWorld{t: t, ctx: ctx, db: store, now: time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)} // a Monday
	w.app = commands.New(store, catalog, cal)
	w.app.Now = func() time.Time { return w.now }
	w.runner = engine.NewRunner(store, store.DB(), engine.SQLite, projections.WorkQueueView{})
	done := make(chan error, 1)
	go func() { done <- w.runner.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("runner: %v", err)
		}
		store.Close()
	})
	return w
}

var (
	queueReception  = commands.Caller{ID: "rc", Name: "Lễ tân", Roles: []commands.Role{commands.RoleReception}, Agency: queueCentre}
	queueHead       = commands.Caller{ID: "hd", Name: "Trưởng phòng", Roles: []commands.Role{commands.RoleHead}, Agency: queueBuilding}
	queueSpecialist = commands.Caller{ID: "sp1", Name: "Chuyên viên Một", Roles: []commands.Role{commands.RoleSpecialist}, Agency: queueBuilding}
)

func (w *queueWorld) receive(channel domain.Channel) string {
	w.t.Helper()
	receipt, err := w.app.Receive(w.ctx, queueReception, commands.ReceiveInput{
		ProcedureCode: "1.009972", Channel: channel,
		Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn An", IDNumber: "038012345678"},
		Components: []domain.Component{{Name: "Đơn đề nghị", Copies: 1}},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	w.last = receipt.Position
	return receipt.DossierID
}

func (w *queueWorld) act(caller commands.Caller, id string, in commands.Input) {
	w.t.Helper()
	res, err := w.app.Execute(w.ctx, caller, id, nil, in)
	if err != nil {
		w.t.Fatalf("%s on %s: %v", in.Action(), id, err)
	}
	w.last = res.Position
}

// queue lists the whole queue matching f, following its pages two items at a time: every page
// holds at most two, and the pages chain to the whole queue.
func (w *queueWorld) queue(f projections.WorkQueueFilter) []projections.WorkItem {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
	defer cancel()
	if err := w.runner.WaitFor(ctx, w.last); err != nil {
		w.t.Fatal(err)
	}
	return allPages(w.t, w.db.DB(), f, 2, w.app.Calendar, w.now)
}

func TestWorkQueueOrdersByRemainingWorkingHoursOverdueFirstPausedLast(t *testing.T) {
	t.Parallel()
	w := newQueueWorld(t)
	atDesk := w.receive(domain.ChannelDirect)
	inDepartment := w.receive(domain.ChannelDirect)
	w.act(queueReception, inDepartment, &commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ", ToOfficialID: "sp1", ToOfficialName: "Chuyên viên Một"})
	overrun := w.receive(domain.ChannelPostal)
	w.act(queueReception, overrun, &commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ", AllottedHours: 2, ToOfficialID: "sp2"})
	waitingForApplicant := w.receive(domain.ChannelDirect)
	w.act(queueReception, waitingForApplicant, &commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ"})
	w.act(queueSpecialist, waitingForApplicant, &commands.RequestSupplementInput{MissingItems: []string{"Bản vẽ"}, Reason: "Thiếu bản vẽ"})
	withdrawn := w.receive(domain.ChannelDirect)
	w.act(queueReception, withdrawn, &commands.WithdrawInput{Reason: "Người nộp rút"})
	online := w.receive(domain.ChannelOnline)

	// Monday 14:00: 4.5 working hours after the 08:00 start (07:30–11:30, 13:00–17:00).
	w.now = time.Date(2026, 3, 2, 14, 0, 0, 0, domain.VietnamTime)

	type want struct {
		id        string
		kind      projections.DueKind
		remaining float64
		overdue   bool
		paused    bool
	}
	tests := []struct {
		name   string
		filter projections.WorkQueueFilter
		want   []want
	}{
		{"the deciding agency's queue", projections.WorkQueueFilter{Agency: projections.OneAgency(queueBuilding), Responsible: queueBuilding}, []want{
			// step deadline 10:00 Monday, now 14:00: 1.5 + 1 working hours late
			{overrun, projections.DueStep, -2.5, true, false},
			// 24 h step from Monday 08:00 ends Thursday 08:00: 3 + 8 + 8 + 0.5 left
			{inDepartment, projections.DueStep, 19.5, false, false},
			// paused at 08:00 with the whole 5 working days ahead
			{waitingForApplicant, projections.DueAppointment, 40, false, true},
		}},
		{"one official's own queue", projections.WorkQueueFilter{Agency: projections.OneAgency(queueBuilding), OfficialID: "sp1"}, []want{
			{inDepartment, projections.DueStep, 19.5, false, false},
		}},
		{"the receiving centre's queue", projections.WorkQueueFilter{Agency: projections.OneAgency(queueCentre), Responsible: queueCentre}, []want{
			// 8 working hours to accept an online submission: Tuesday 08:00
			{online, projections.DueAcceptance, 3.5, false, false},
			// appointment next Monday 08:00: 3 + 4×8 + 0.5
			{atDesk, projections.DueAppointment, 35.5, false, false},
		}},
		{"one department", projections.WorkQueueFilter{Agency: projections.OneAgency(queueBuilding), Unit: "PQLXD", OfficialID: "sp2"}, []want{
			{overrun, projections.DueStep, -2.5, true, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := w.queue(tt.filter)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d items %+v, want %d", len(got), got, len(tt.want))
			}
			for i, item := range got {
				wi := tt.want[i]
				if item.DossierID != wi.id || item.DueKind != wi.kind || item.RemainingHours != wi.remaining || item.Overdue != wi.overdue || item.Paused != wi.paused {
					t.Errorf("item %d = {%s %s %.2f overdue=%v paused=%v}, want {%s %s %.2f overdue=%v paused=%v}", i,
						item.DossierID, item.DueKind, item.RemainingHours, item.Overdue, item.Paused, wi.id, wi.kind, wi.remaining, wi.overdue, wi.paused)
				}
			}
		})
	}
	for _, item := range w.queue(projections.WorkQueueFilter{Agency: projections.AllAgencies()}) {
		if item.DossierID == withdrawn {
			t.Errorf("withdrawn dossier %s is still queued", withdrawn)
		}
	}
}

func TestWorkQueueFollowsTheDossierToTheNextAgencyAndDropsItWhenReturned(t *testing.T) {
	t.Parallel()
	w := newQueueWorld(t)
	id := w.receive(domain.ChannelDirect)
	w.act(queueReception, id, &commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ"})
	w.act(queueHead, id, &commands.InterAgencyTransferInput{ToAgency: "000.00.10.H56", Purpose: "Lấy ý kiến về đất đai", AllottedHours: 8})
	if got := w.queue(projections.WorkQueueFilter{Agency: projections.OneAgency("000.00.10.H56")}); len(got) != 1 || got[0].DossierID != id {
		t.Fatalf("the consulted agency's queue = %+v, want the dossier", got)
	}
	if got := w.queue(projections.WorkQueueFilter{Agency: projections.OneAgency(queueBuilding), Responsible: queueBuilding}); len(got) != 0 {
		t.Fatalf("the deciding agency still has %+v to act on while another agency holds it", got)
	}
	// It still sees the dossier it decides among those it is involved in.
	if got := w.queue(projections.WorkQueueFilter{Agency: projections.OneAgency(queueBuilding)}); len(got) != 1 || got[0].DossierID != id {
		t.Fatalf("the deciding agency's involved dossiers = %+v, want the dossier", got)
	}
	admin := commands.Caller{ID: "ad", Name: "Quản trị", Roles: []commands.Role{commands.RoleAdmin}}
	w.act(admin, id, &commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện"})
	w.act(admin, id, &commands.SignInput{DocumentNumber: "1/GP", DocumentHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"})
	w.act(admin, id, &commands.MarkResultReadyInput{})
	if got := w.queue(projections.WorkQueueFilter{Agency: projections.OneAgency(queueCentre), Responsible: queueCentre}); len(got) != 1 || got[0].Status != domain.StatusResultReady {
		t.Fatalf("the desk's queue = %+v, want the result waiting to be returned", got)
	}
	w.act(queueReception, id, &commands.ReturnResultInput{Channel: domain.ChannelDirect})
	if got := w.queue(projections.WorkQueueFilter{Agency: projections.AllAgencies()}); len(got) != 0 {
		t.Fatalf("queue after the result was returned = %+v, want empty", got)
	}
}

// A result waiting for its applicant is overdue only if it was ready after the appointment date:
// the applicant collecting it late makes no agency late.
func TestWorkQueueJudgesAReadyResultByWhenItWasReady(t *testing.T) {
	t.Parallel()
	w := newQueueWorld(t)
	admin := commands.Caller{ID: "ad", Name: "Quản trị", Roles: []commands.Role{commands.RoleAdmin}}
	resolve := func(id string) {
		w.act(queueReception, id, &commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ"})
		w.act(admin, id, &commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện"})
		w.act(admin, id, &commands.SignInput{DocumentNumber: "1/GP", DocumentHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"})
		w.act(admin, id, &commands.MarkResultReadyInput{})
	}
	onTime := w.receive(domain.ChannelDirect)
	late := w.receive(domain.ChannelDirect)
	resolve(onTime)
	item := func(id string) projections.WorkItem {
		t.Helper()
		for _, it := range w.queue(projections.WorkQueueFilter{Agency: projections.AllAgencies()}) {
			if it.DossierID == id {
				return it
			}
		}
		t.Fatalf("%s is not queued", id)
		return projections.WorkItem{}
	}
	appointment := item(late).AppointmentDate
	if appointment.IsZero() {
		t.Fatal("no appointment date")
	}
	// Past the appointment date: the late dossier's result is only ready now.
	w.now = appointment.Add(48 * time.Hour)
	resolve(late)
	w.now = appointment.Add(30 * 24 * time.Hour)
	if got := item(onTime); got.Status != domain.StatusResultReady || got.Overdue || got.RemainingHours <= 0 {
		t.Errorf("result ready on time, collected a month late: %+v, want not overdue with the working hours it had to spare", got)
	}
	if got := item(late); got.Status != domain.StatusResultReady || !got.Overdue || got.RemainingHours >= 0 {
		t.Errorf("result ready two days after the appointment: %+v, want overdue", got)
	}
}

// One official's queue lists only the dossiers the scope's agency is involved in: the same
// official id assigned a dossier of agencies the scope is not part of does not bring it in.
func TestAnOfficialsQueueKeepsToTheScope(t *testing.T) {
	t.Parallel()
	w := newQueueWorld(t)
	id := w.receive(domain.ChannelDirect)
	w.act(queueReception, id, &commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ", ToOfficialID: "sp1", ToOfficialName: "Chuyên viên Một"})
	if got := w.queue(projections.WorkQueueFilter{Agency: projections.OneAgency(queueBuilding), OfficialID: "sp1"}); len(got) != 1 || got[0].DossierID != id {
		t.Fatalf("the official's own queue = %+v, want the dossier", got)
	}
	for name, scope := range map[string]projections.AgencyScope{
		"another agency": projections.OneAgency("000.00.10.H56"), "no agency": projections.OneAgency(""), "the zero scope": {},
	} {
		if got := w.queue(projections.WorkQueueFilter{Agency: scope, OfficialID: "sp1"}); len(got) != 0 {
			t.Errorf("%s: the official's queue lists %+v", name, got)
		}
		if got := w.queue(projections.WorkQueueFilter{Agency: scope}); len(got) != 0 {
			t.Errorf("%s: the agency's queue lists %+v", name, got)
		}
	}
}
