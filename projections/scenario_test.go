package projections_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/projections"
)

// The scenario drives a realistic history through commands.App with a settable clock: dossiers
// arriving over two months at a Public Service Centre and at three departments' own desks, online
// and at the counter, with fees, supplement requests before and after receipt, head-of-department
// assignments, steps that overrun, apologies, suspensions, an inter-agency (liên thông) step,
// rejections, withdrawals, results, returns and ratings. Every dossier's life is a sequential story;
// a scheduler interleaves the stories in time order so the global log reads like a real office's.
//
// While acting, the scenario keeps its own books — what it did, when, and what each command
// answered — and the read models' tests compute every expected number from those books, never from
// a read model.

const (
	centre   = "000.00.00.H56" // Public Service Centre: receives for every agency
	building = "000.00.06.H56" // Department of Construction
	justice  = "000.00.07.H56" // Department of Justice
	land     = "000.00.10.H56" // Department of Natural Resources and Environment
	tax      = "000.00.20.H56" // Provincial Tax Department: inter-agency partner for land registration
)

const scenarioCatalog = `{
  "agencies": [
    {"code": "000.00.00.H56", "name": "Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa"},
    {"code": "000.00.06.H56", "name": "Sở Xây dựng", "departments": [{"code": "XD.QLXD", "name": "Phòng Quản lý xây dựng"}, {"code": "XD.BGD", "name": "Ban Giám đốc"}]},
    {"code": "000.00.07.H56", "name": "Sở Tư pháp", "departments": [{"code": "TP.HCTP", "name": "Phòng Hành chính tư pháp"}, {"code": "TP.BGD", "name": "Ban Giám đốc"}]},
    {"code": "000.00.10.H56", "name": "Sở Tài nguyên và Môi trường", "departments": [{"code": "TN.DD", "name": "Phòng Đất đai"}, {"code": "TN.BGD", "name": "Ban Giám đốc"}]},
    {"code": "000.00.20.H56", "name": "Cục Thuế tỉnh Thanh Hóa"}
  ],
  "procedures": [
    {"code": "1.009972", "name": "Cấp giấy phép xây dựng", "field": {"code": "XD", "name": "Hoạt động xây dựng"},
     "competent_agency": "000.00.06.H56", "resolution_days": 10, "fees": [{"name": "Lệ phí cấp giấy phép xây dựng", "amount": 150000}],
     "components": [{"name": "Đơn đề nghị", "copies": 1}], "online_level": "partial",
     "workflow": [{"name": "Tiếp nhận hồ sơ", "unit": "000.00.00.H56", "role": "reception", "allotted_hours": 4},
                  {"name": "Thẩm định hồ sơ", "unit": "XD.QLXD", "role": "specialist", "allotted_hours": 32},
                  {"name": "Lấy ý kiến", "unit": "XD.QLXD", "role": "head", "parallel": [
                    {"name": "Ý kiến chuyên môn", "unit": "XD.QLXD", "role": "specialist", "allotted_hours": 16},
                    {"name": "Ý kiến Sở Tài nguyên và Môi trường", "unit": "000.00.10.H56", "role": "head", "allotted_hours": 24}]},
                  {"name": "Trình ký", "unit": "XD.BGD", "role": "signer", "allotted_hours": 16},
                  {"name": "Trả kết quả", "unit": "000.00.00.H56", "role": "reception", "allotted_hours": 4}]},
    {"code": "1.009974", "name": "Điều chỉnh giấy phép xây dựng", "field": {"code": "XD", "name": "Hoạt động xây dựng"},
     "competent_agency": "000.00.06.H56", "resolution_days": 5,
     "components": [{"name": "Đơn đề nghị điều chỉnh", "copies": 1}], "online_level": "full",
     "workflow": [{"name": "Tiếp nhận hồ sơ", "unit": "000.00.00.H56", "role": "reception", "allotted_hours": 4},
                  {"name": "Thẩm định hồ sơ", "unit": "XD.QLXD", "role": "specialist", "allotted_hours": 24},
                  {"name": "Trình ký", "unit": "XD.BGD", "role": "signer", "allotted_hours": 8},
                  {"name": "Trả kết quả", "unit": "000.00.00.H56", "role": "reception", "allotted_hours": 4}]},
    {"code": "1.004227", "name": "Đăng ký đất đai, tài sản gắn liền với đất lần đầu", "field": {"code": "DD", "name": "Đất đai"},
     "competent_agency": "000.00.10.H56", "resolution_days": 15, "fees": [{"name": "Lệ phí cấp giấy chứng nhận", "amount": 100000}],
     "components": [{"name": "Đơn đăng ký", "copies": 1}], "online_level": "partial",
     "workflow": [{"name": "Tiếp nhận hồ sơ", "unit": "000.00.00.H56", "role": "reception", "allotted_hours": 4},
                  {"name": "Thẩm định hồ sơ", "unit": "TN.DD", "role": "specialist", "allotted_hours": 64},
                  {"name": "Trình ký", "unit": "TN.BGD", "role": "signer", "allotted_hours": 16},
                  {"name": "Trả kết quả", "unit": "000.00.00.H56", "role": "reception", "allotted_hours": 4}]},
    {"code": "2.000908", "name": "Cấp bản sao trích lục hộ tịch", "field": {"code": "HT", "name": "Hộ tịch"},
     "competent_agency": "000.00.07.H56", "resolution_days": 3, "fees": [{"name": "Phí cấp bản sao", "amount": 8000}],
     "components": [{"name": "Tờ khai", "copies": 1}], "online_level": "full",
     "workflow": [{"name": "Tiếp nhận hồ sơ", "unit": "000.00.00.H56", "role": "reception", "allotted_hours": 2},
                  {"name": "Thẩm định hồ sơ", "unit": "TP.HCTP", "role": "specialist", "allotted_hours": 12},
                  {"name": "Trình ký", "unit": "TP.BGD", "role": "signer", "allotted_hours": 6},
                  {"name": "Trả kết quả", "unit": "000.00.00.H56", "role": "reception", "allotted_hours": 2}]},
    {"code": "2.001417", "name": "Cấp Phiếu lý lịch tư pháp", "field": {"code": "LLTP", "name": "Lý lịch tư pháp"},
     "competent_agency": "000.00.07.H56", "resolution_days": 10, "fees": [{"name": "Phí cung cấp thông tin lý lịch tư pháp", "amount": 200000}],
     "components": [{"name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "copies": 1}], "online_level": "full",
     "workflow": [{"name": "Tiếp nhận hồ sơ", "unit": "000.00.00.H56", "role": "reception", "allotted_hours": 4},
                  {"name": "Thẩm định hồ sơ", "unit": "TP.HCTP", "role": "specialist", "allotted_hours": 48},
                  {"name": "Trình ký", "unit": "TP.BGD", "role": "signer", "allotted_hours": 16},
                  {"name": "Trả kết quả", "unit": "000.00.00.H56", "role": "reception", "allotted_hours": 4}]}
  ]
}`

// official is a scenario official and the unit (department) they sit in.
type official struct {
	commands.Caller
	Unit string
}

// staff of the scenario: per deciding agency a desk officer, a head of the processing department,
// two specialists and a signing leader; two desk officers at the Centre; a tax official.
func scenarioStaff() map[string][]official {
	person := func(id, name, agency, unit string, role commands.Role) official {
		return official{Caller: commands.Caller{ID: id, Name: name, Roles: []commands.Role{role}, Agency: agency}, Unit: unit}
	}
	staff := map[string][]official{
		centre: {
			person("ttpv-tn1", "Nguyễn Thị Lan", centre, centre, commands.RoleReception),
			person("ttpv-tn2", "Trần Văn Bình", centre, centre, commands.RoleReception),
		},
		tax: {person("thue-tp", "Phạm Quốc Hải", tax, tax, commands.RoleHead)},
	}
	for _, a := range []struct{ agency, prefix, dept, board string }{
		{building, "xd", "XD.QLXD", "XD.BGD"}, {justice, "tp", "TP.HCTP", "TP.BGD"}, {land, "tn", "TN.DD", "TN.BGD"},
	} {
		staff[a.agency] = []official{
			person(a.prefix+"-tn", "Lê Thu Hà "+a.prefix, a.agency, a.agency, commands.RoleReception),
			person(a.prefix+"-tp", "Hoàng Đức Long "+a.prefix, a.agency, a.dept, commands.RoleHead),
			person(a.prefix+"-cv1", "Vũ Minh Tâm "+a.prefix, a.agency, a.dept, commands.RoleSpecialist),
			person(a.prefix+"-cv2", "Đặng Ngọc Yến "+a.prefix, a.agency, a.dept, commands.RoleSpecialist),
			person(a.prefix+"-ld", "Bùi Thanh Sơn "+a.prefix, a.agency, a.board, commands.RoleSigner),
		}
	}
	return staff
}

// Books: what the scenario did to each dossier, as it did it.

type appointmentChange struct {
	At, Date time.Time
}

type handoverBook struct {
	Kind                   string
	From, To               projections.Party
	At, Deadline           time.Time
	Step                   string
	AllottedHours          float64
	EndedAt                time.Time
	EndKind                string
	EndedByID, EndedByName string
}

type dossierBook struct {
	Index                          int
	ID, Code                       string
	Procedure                      domain.Procedure
	ReceivingUnit, CompetentAgency string
	Channel                        domain.Channel
	ApplicantName                  string
	Secret                         string
	Waiting                        string // supplement or suspended: the clock is paused

	SubmittedAt, AcceptanceDeadline, RespondedAt time.Time
	Response                                     string
	ReceivedAt                                   time.Time
	ReceivedBy                                   string
	Appointments                                 []appointmentChange
	SupplementRequests                           int
	Handovers                                    []*handoverBook
	ApologyAt, ApologyOld, ApologyNew            time.Time
	ApologyBy                                    string
	ResolvedAt, ResolvedAppointment              time.Time
	Resolution                                   string
	// States is the dossier as each command answered it, in order: the domain's own verdicts on
	// it at any moment are what the statistics must agree with.
	States                             []dossierState
	ReturnedAt, WithdrawnAt, RefusedAt time.Time
	FirstPaidAt                        time.Time
	PaidOnline                         bool
	RatedAt                            time.Time
	Scores                             map[domain.Criterion]domain.RatingLevel
	Officials                          map[string]string // who acted on it or was handed it
	Units                              map[string]bool   // departments and agencies it was handed to
	CoordinatingAgencies               []string
}

type dossierState struct {
	At time.Time
	D  domain.Dossier
}

// stateBefore returns the dossier as the last command before t left it.
func (b *dossierBook) stateBefore(t time.Time) domain.Dossier {
	var d domain.Dossier
	for _, st := range b.States {
		if st.At.Before(t) {
			d = st.D
		}
	}
	return d
}

// verdictRule names a domain verdict: Dossier.LegalVerdict or Dossier.IndicatorVerdict.
type verdictRule func(d domain.Dossier, now time.Time) domain.Verdict

var (
	legalRule     verdictRule = domain.Dossier.LegalVerdict
	indicatorRule verdictRule = domain.Dossier.IndicatorVerdict
)

// resolvedVerdict is the domain's verdict on the resolution, under rule, as it stood when resolved.
func (b *dossierBook) resolvedVerdict(rule verdictRule) projections.Verdict {
	return map[domain.Timeliness]projections.Verdict{domain.TimelinessEarly: projections.VerdictEarly,
		domain.TimelinessOnTime: projections.VerdictOnTime, domain.TimelinessLate: projections.VerdictLate}[rule(b.stateBefore(b.ResolvedAt.Add(time.Nanosecond)), b.ResolvedAt).Timeliness]
}

// overdueAt reports whether the domain, under rule, judges the dossier overdue at t as it stood then.
func (b *dossierBook) overdueAt(t time.Time, rule verdictRule) bool {
	return rule(b.stateBefore(t), t).Timeliness == domain.TimelinessOverdue
}

// appointment returns the appointment date in force just before t.
func (b *dossierBook) appointmentBefore(t time.Time) time.Time {
	var in time.Time
	for _, c := range b.Appointments {
		if c.At.Before(t) {
			in = c.Date
		}
	}
	return in
}

// appointment returns the appointment date in force now.
func (b *dossierBook) appointment() time.Time {
	if len(b.Appointments) == 0 {
		return time.Time{}
	}
	return b.Appointments[len(b.Appointments)-1].Date
}

func (b *dossierBook) firstAppointment() time.Time {
	if len(b.Appointments) == 0 {
		return time.Time{}
	}
	return b.Appointments[0].Date
}

func (b *dossierBook) open() bool {
	return !b.ReceivedAt.IsZero() && b.ResolvedAt.IsZero() && b.WithdrawnAt.IsZero()
}

// current is the handover the dossier is held under: the latest one that is not a part of a
// parallel step.
func (b *dossierBook) current() *handoverBook {
	for i := len(b.Handovers) - 1; i >= 0; i-- {
		if b.Handovers[i].Kind != projections.HandoverPart {
			return b.Handovers[i]
		}
	}
	return nil
}

// scenario is one run of the history against one database.
type scenario struct {
	t       testing.TB
	ctx     context.Context
	app     *commands.App
	store   eventstore.Store
	db      *sql.DB
	dialect engine.Dialect
	cal     *calendar.Calendar
	staff   map[string][]official
	clock   time.Time
	End     time.Time // "now" when the read models are queried
	last    eventstore.Position
	err     error
	Books   []*dossierBook
	Events  int
	// Feedback are the complaints, petitions and questions the scenario sent.
	Feedback []*feedbackBook
}

// Scenario period: dossiers arrive from Monday 2 March to Wednesday 29 April 2026 (the Hùng Kings'
// compensatory day, 30/4 and 1/5 fall inside); the read models are read on Thursday 7 May at 10:00.
var (
	scenarioStart = time.Date(2026, 3, 2, 7, 30, 0, 0, domain.VietnamTime)
	arrivalsEnd   = time.Date(2026, 4, 29, 17, 0, 0, 0, domain.VietnamTime)
	scenarioEnd   = time.Date(2026, 5, 7, 10, 0, 0, 0, domain.VietnamTime)
)

// backend is an event store with the SQL database its read models live in.
type backend struct {
	store   eventstore.Store
	db      *sql.DB
	dialect engine.Dialect
}

// onBothBackends runs test on SQLite and on PostgreSQL (skipped in -short mode), each in a
// parallel subtest named after it.
func onBothBackends(t *testing.T, test func(t *testing.T, b backend, name string)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if name == "sqlite" {
				test(t, sqliteBackend(t), name)
				return
			}
			if testing.Short() {
				t.Skip("PostgreSQL skipped in -short mode")
			}
			test(t, postgresBackend(t), name)
		})
	}
}

func sqliteBackend(t testing.TB) backend {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return backend{store: store, db: store.DB(), dialect: engine.SQLite}
}

func postgresBackend(t testing.TB) backend {
	t.Helper()
	ctx := context.Background()
	store, err := postgres.Open(ctx, pgtest.NewDatabaseInTurn(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(store.Pool())
	t.Cleanup(func() {
		db.Close()
		store.Close()
	})
	return backend{store: store, db: db, dialect: engine.PostgreSQL}
}

// newScenario prepares an empty history over b.
func newScenario(t testing.TB, b backend) *scenario {
	t.Helper()
	cal := calendar.Default()
	catalog, err := domain.ParseCatalog([]byte(scenarioCatalog), cal)
	if err != nil {
		t.Fatal(err)
	}
	app := commands.New(b.store, catalog, cal)
	app.Logger = slog.New(slog.DiscardHandler)
	s := &scenario{t: t, ctx: context.Background(), app: app, store: b.store, db: b.db, dialect: b.dialect, cal: cal, staff: scenarioStaff(), End: scenarioEnd}
	app.Now = func() time.Time { return s.clock }
	return s
}

// runScenario plays n dossiers' stories to the scenario's end, seeded so every run is the same.
func runScenario(t testing.TB, b backend, n int, seed uint64) *scenario {
	t.Helper()
	s := newScenario(t, b)
	arrivals := rand.New(rand.NewPCG(seed, 0))
	span := s.cal.WorkingTimeBetween(scenarioStart, arrivalsEnd)
	type running struct {
		at   time.Time
		next func() (float64, bool)
		stop func()
	}
	var queue []*running
	for i := range n {
		at := s.cal.AddWorkingTime(scenarioStart, time.Duration(arrivals.Int64N(int64(span/time.Minute)))*time.Minute)
		book := &dossierBook{Index: i, Officials: map[string]string{}, Units: map[string]bool{}}
		s.Books = append(s.Books, book)
		next, stop := iter.Pull(s.life(book, rand.New(rand.NewPCG(seed, uint64(i)+1))))
		queue = append(queue, &running{at: at, next: next, stop: stop})
	}
	// Complaints, petitions and questions arrive over the same weeks, one for every four dossiers,
	// some about a dossier already received (feedback_scenario_test.go).
	for i := range n / 4 {
		at := s.cal.AddWorkingTime(scenarioStart, time.Duration(arrivals.Int64N(int64(span/time.Minute)))*time.Minute)
		book := &feedbackBook{Index: i}
		s.Feedback = append(s.Feedback, book)
		next, stop := iter.Pull(s.feedbackLife(book, rand.New(rand.NewPCG(seed, uint64(n+i)+1))))
		queue = append(queue, &running{at: at, next: next, stop: stop})
	}
	s.app.FeedbackDesk = centre
	for len(queue) > 0 {
		// The earliest pending action runs next; ties keep the arrival order.
		first := 0
		for i, r := range queue {
			if r.at.Before(queue[first].at) {
				first = i
			}
		}
		r := queue[first]
		if r.at.After(s.End) {
			break
		}
		s.clock = r.at
		delay, more := r.next()
		if s.err != nil {
			for _, q := range queue {
				q.stop()
			}
			t.Fatalf("scenario at %s: %v", s.clock.In(domain.VietnamTime).Format(time.DateTime), s.err)
		}
		if !more {
			queue = append(queue[:first], queue[first+1:]...)
			continue
		}
		r.at = s.cal.AddWorkingTime(s.clock, hours(delay))
	}
	for _, q := range queue {
		q.stop()
	}
	return s
}

func hours(h float64) time.Duration { return time.Duration(math.Round(h*60)) * time.Minute }

// between draws a number of working hours in [lo, hi).
func between(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

func (s *scenario) pick(r *rand.Rand, agency string, role commands.Role) official {
	var candidates []official
	for _, o := range s.staff[agency] {
		if o.Has(role) {
			candidates = append(candidates, o)
		}
	}
	return candidates[r.IntN(len(candidates))]
}

// life is one dossier's story. Each yield waits the given working hours; the story stops early when
// the scenario's end comes first.
func (s *scenario) life(b *dossierBook, r *rand.Rand) iter.Seq[float64] {
	return func(yield func(float64) bool) {
		procedures := s.app.Catalog().Procedures
		p := procedures[r.IntN(len(procedures))]
		b.Procedure, b.CompetentAgency = p, p.CompetentAgency
		b.ReceivingUnit = centre
		if r.Float64() < 0.35 {
			b.ReceivingUnit = p.CompetentAgency
		}
		b.Channel = domain.ChannelDirect
		switch x := r.Float64(); {
		case x < 0.4:
			b.Channel = domain.ChannelOnline
		case x < 0.55:
			b.Channel = domain.ChannelPostal
		}
		desk := s.pick(r, b.ReceivingUnit, commands.RoleReception)
		head := s.pick(r, p.CompetentAgency, commands.RoleHead)
		specialist := s.pick(r, p.CompetentAgency, commands.RoleSpecialist)
		signer := s.pick(r, p.CompetentAgency, commands.RoleSigner)

		if !s.receive(b, desk) {
			return
		}
		if b.Channel == domain.ChannelOnline {
			// A quarter of online submissions wait past their 8 working hours.
			wait := between(r, 0.5, 7.5)
			if r.Float64() < 0.25 {
				wait = between(r, 8.5, 16)
			}
			if !yield(wait) {
				return
			}
			switch x := r.Float64(); {
			case x < 0.06:
				s.act(b, desk, commands.RefuseInput{Reason: "Thủ tục không thuộc thẩm quyền tiếp nhận"})
				return
			case x < 0.14:
				if !s.act(b, desk, commands.RequestSupplementInput{MissingItems: []string{"Bản sao giấy tờ tùy thân"}, Reason: "Thiếu giấy tờ"}) ||
					!yield(between(r, 2, 12)) || !s.act(b, desk, commands.SupplementInput{}) || !yield(0.5) {
					return
				}
			}
			accept := &commands.AcceptInput{}
			if !s.act(b, desk, accept) {
				return
			}
			b.Secret = accept.RatingSecret()
		}
		// Files: the dossier's own draws, so that the other draws (and every other dossier's
		// story) stay as they were before dossiers carried files.
		files := rand.New(rand.NewPCG(uint64(b.Index), 766))
		if files.Float64() < 0.6 && !s.attach(b, desk, "Đơn đề nghị", domain.OriginDeskScan) {
			return
		}
		if fees := p.TotalFees(); fees > 0 {
			channel := []domain.PaymentChannel{domain.PaymentOnline, domain.PaymentCash, domain.PaymentBank}[r.IntN(3)]
			if !yield(0.2) || !s.act(b, desk, commands.AssessFeeInput{}) || !yield(0.3) {
				return
			}
			// A quarter of the applicants pay in two instalments (the dossier's own draw, as its
			// files): between them the dossier still awaits payment.
			if first := fees / 2; first > 0 && rand.New(rand.NewPCG(uint64(b.Index), 224)).IntN(4) == 0 {
				if !s.act(b, desk, commands.PayInput{Amount: first, Channel: channel, ReceiptNumber: fmt.Sprintf("BL-%04d-1", b.Index)}) {
					return
				}
				fees -= first
			}
			if !s.act(b, desk, commands.PayInput{Amount: fees, Channel: channel, ReceiptNumber: fmt.Sprintf("BL-%04d", b.Index)}) {
				return
			}
		}
		// Some desks typed the phone wrong: a correction its head approves, or rejects (without
		// drawing on r, so the rest of the story stays as it was).
		if b.ReceivingUnit != centre && b.Index%7 >= 5 {
			phone := commands.RequestCorrectionInput{Reason: "Nhập sai số điện thoại", Changes: []commands.CorrectionChange{
				{Field: domain.FieldApplicantPhone, Old: fmt.Sprintf("09%08d", 10000000+b.Index), New: fmt.Sprintf("09%08d", 20000000+b.Index)}}}
			var decision commands.Input = commands.ApproveCorrectionInput{Number: 1}
			if b.Index%7 == 6 {
				decision = commands.RejectCorrectionInput{Number: 1, Reason: "Số điện thoại đúng như đã nhập"}
			}
			deskHead := s.staff[b.ReceivingUnit][1]
			if !yield(0.1) || !s.act(b, desk, phone) || !yield(0.2) || !s.act(b, deskHead, decision) {
				return
			}
		}
		if r.Float64() < 0.12 {
			if !yield(0.5) || !s.act(b, desk, commands.RequestSupplementInput{MissingItems: []string{"Bản vẽ", "Giấy xác nhận"}, Reason: "Hồ sơ chưa đầy đủ"}) ||
				!yield(between(r, 4, 30)) || !s.act(b, desk, commands.SupplementInput{Components: []domain.Component{{Name: "Bản vẽ", Copies: 1}}}) {
				return
			}
		}
		if r.Float64() < 0.03 {
			if yield(between(r, 1, 6)) {
				s.act(b, desk, commands.WithdrawInput{Reason: "Người nộp đề nghị rút hồ sơ"})
			}
			return
		}
		if !yield(0.5) {
			return
		}
		review := p.Workflow[1]
		if r.Float64() < 0.3 {
			// The desk sends it to the department head, who assigns a specialist.
			if !s.act(b, desk, commands.TransferInput{ToUnit: review.Unit, ToOfficialID: head.ID, ToOfficialName: head.Name,
				Step: "Phân công thụ lý", AllottedHours: 4}) || !yield(overrunOr(r, 4)) ||
				!s.act(b, head, commands.TransferInput{ToUnit: review.Unit, ToOfficialID: specialist.ID, ToOfficialName: specialist.Name, Step: review.Name}) {
				return
			}
		} else if !s.act(b, desk, commands.TransferInput{ToUnit: review.Unit, ToOfficialID: specialist.ID, ToOfficialName: specialist.Name, Step: review.Name}) {
			return
		}
		// An apology moves the date by at most the procedure's own time (docs/rules.md).
		if r.Float64() < 0.15 && s.cal.WorkingTimeBetween(s.clock, b.appointment()) > 2*s.cal.WorkingDayLength() {
			if !yield(1) || !s.act(b, signer, commands.IssueApologyInput{Reason: "Cần xác minh thêm tại thực địa", ExtraWorkingDays: 1 + r.IntN(min(4, p.ResolutionTime.Days))}) {
				return
			}
		}
		if r.Float64() < 0.06 {
			if !yield(between(r, 2, 8)) || !s.act(b, head, commands.SuspendInput{Reason: "Chờ ý kiến cơ quan liên quan"}) ||
				!yield(between(r, 4, 24)) || !s.act(b, head, commands.ResumeInput{}) {
				return
			}
		}
		if r.Float64() < 0.08 {
			requests := 1
			if r.Float64() < 0.3 {
				requests = 2
			}
			for range requests {
				if !yield(between(r, 2, 10)) || !s.act(b, specialist, commands.RequestSupplementInput{MissingItems: []string{"Văn bản giải trình"}, Reason: "Cần làm rõ"}) ||
					!yield(between(r, 4, 30)) || !s.act(b, desk, commands.SupplementInput{}) {
					return
				}
			}
		}
		if r.Float64() < 0.03 {
			if yield(between(r, 1, 10)) {
				s.act(b, desk, commands.WithdrawInput{Reason: "Người nộp không tiếp tục"})
			}
			return
		}
		hold := overrunOr(r, review.AllottedHours)
		if r.Float64() < 0.08 {
			hold = review.AllottedHours * between(r, 2.5, 5) // the file sits on a desk
		}
		if !yield(hold) {
			return
		}
		consulted := false
		if p.Code == "1.009972" && r.Float64() < 0.7 {
			consulted = true
			// The head sends the file for opinions at once: the department's own and the land
			// department's (liên thông), each part with its own deadline.
			consult := p.Workflow[2]
			landHead := s.pick(r, land, commands.RoleHead)
			if !s.act(b, head, commands.TransferInput{ToUnit: consult.Unit, ToOfficialID: head.ID, ToOfficialName: head.Name, Step: consult.Name}) ||
				!yield(overrunOr(r, consult.Parallel[0].AllottedHours)) ||
				!s.act(b, specialist, commands.CompletePartInput{Step: consult.Parallel[0].Name, Opinion: "Phù hợp quy hoạch"}) ||
				!yield(between(r, 0.5, 20)) ||
				!s.act(b, landHead, commands.CompletePartInput{Step: consult.Parallel[1].Name, Opinion: "Không có tranh chấp đất đai"}) ||
				!yield(between(r, 0.5, 4)) {
				return
			}
		}
		if p.CompetentAgency == land && r.Float64() < 0.5 {
			if !s.act(b, head, commands.InterAgencyTransferInput{ToAgency: tax, Purpose: "Xác định nghĩa vụ tài chính", AllottedHours: 16}) ||
				!yield(overrunOr(r, 16)) {
				return
			}
			taxOfficial := s.staff[tax][0]
			if !s.act(b, taxOfficial, commands.TransferInput{ToUnit: review.Unit, ToOfficialID: specialist.ID, ToOfficialName: specialist.Name,
				Step: "Hoàn thiện thẩm định", AllottedHours: 8}) || !yield(overrunOr(r, 8)) {
				return
			}
		}
		conclusion := domain.ConclusionApprove
		if r.Float64() < 0.08 {
			conclusion = domain.ConclusionReject
		}
		sign := p.Workflow[len(p.Workflow)-2]
		toSign, submitter := commands.TransferInput{ToUnit: sign.Unit, ToOfficialID: signer.ID, ToOfficialName: signer.Name, Step: sign.Name}, specialist
		if p.Code == "1.009972" && !consulted {
			// No opinions needed: the head passes the consultations over, with the reason recorded.
			toSign.SkipReason, submitter = "Công trình không thuộc trường hợp phải lấy ý kiến", head
		}
		if !s.act(b, specialist, commands.AppraiseInput{Conclusion: conclusion, Opinion: "Đã thẩm định"}) ||
			!s.act(b, submitter, toSign) ||
			!yield(overrunOr(r, sign.AllottedHours)) {
			return
		}
		if conclusion == domain.ConclusionReject {
			s.act(b, signer, commands.RejectInput{Reason: "Không đủ điều kiện theo quy định"})
			return
		}
		digest := sha256.Sum256([]byte(fmt.Sprint("document", b.Index)))
		if !s.act(b, signer, commands.SignInput{DocumentNumber: fmt.Sprintf("%d/GP", b.Index+1), DocumentHash: hex.EncodeToString(digest[:])}) {
			return
		}
		if files.Float64() < 0.5 {
			if !s.resultWithFile(b, signer, hex.EncodeToString(digest[:])) {
				return
			}
		} else if !s.act(b, signer, commands.MarkResultReadyInput{}) {
			return
		}
		if !yield(between(r, 0.5, 30)) ||
			!s.act(b, desk, commands.ReturnResultInput{Channel: []domain.Channel{domain.ChannelDirect, domain.ChannelPostal, domain.ChannelOnline}[r.IntN(3)]}) {
			return
		}
		if r.Float64() < 0.65 && yield(between(r, 2, 60)) {
			s.rate(b, r)
		}
	}
}

// overrunOr draws how long a step takes: mostly within its allotted hours, a quarter of the time
// over them.
func overrunOr(r *rand.Rand, allotted float64) float64 {
	switch x := r.Float64(); {
	case x < 0.5:
		return allotted * between(r, 0.2, 0.7)
	case x < 0.75:
		return allotted * between(r, 0.75, 1.0)
	}
	return allotted*between(r, 1.05, 1.8) + 1
}

func (s *scenario) fail(b *dossierBook, what string, err error) bool {
	if s.err == nil {
		s.err = fmt.Errorf("dossier %d (%s, %s): %s: %w", b.Index, b.Code, b.Procedure.Code, what, err)
	}
	return false
}

// receive brings the dossier to the desk, or files it online.
func (s *scenario) receive(b *dossierBook, desk official) bool {
	applicant := domain.Applicant{
		Type: domain.ApplicantCitizen, Name: fmt.Sprintf("Nguyễn Văn Dân %d", b.Index), IDNumber: fmt.Sprintf("0380%08d", 10000000+b.Index),
		Phone: fmt.Sprintf("09%08d", 10000000+b.Index), Address: fmt.Sprintf("Số %d, phường Hạc Thành, Thanh Hóa", b.Index+1),
	}
	receipt, err := s.app.Receive(s.ctx, desk.Caller, commands.ReceiveInput{
		ProcedureCode: b.Procedure.Code, Channel: b.Channel, Applicant: applicant, Components: []domain.Component{{Name: "Đơn đề nghị", Copies: 1}},
	})
	if err != nil {
		return s.fail(b, "receive", err)
	}
	s.record(b, desk, receipt.Result)
	b.ID, b.ApplicantName, b.Secret = receipt.DossierID, applicant.Name, receipt.RatingSecret
	b.Officials[desk.ID] = desk.Name
	if b.Channel == domain.ChannelOnline {
		b.SubmittedAt = s.clock
		// The rule of the online desk: answer within 8 working hours, counted from the next working moment.
		b.AcceptanceDeadline = s.cal.AddWorkingTime(s.cal.NextWorkingMoment(s.clock), 8*time.Hour)
		b.Handovers = append(b.Handovers, &handoverBook{Kind: projections.HandoverSubmission, From: projections.Party{OfficialName: applicant.Name},
			To: projections.Party{Unit: b.ReceivingUnit}, At: s.clock, Step: projections.StepOnlineReception, Deadline: b.AcceptanceDeadline})
		return true
	}
	s.received(b, desk, receipt.Dossier)
	return true
}

// received books the receipt: the reception step lasts until the deadline the domain set for
// handing the dossier to the department.
func (s *scenario) received(b *dossierBook, desk official, d domain.Dossier) {
	b.ReceivedAt, b.ReceivedBy = s.clock, desk.Name
	b.Handovers = append(b.Handovers, &handoverBook{Kind: projections.HandoverReception, From: projections.Party{OfficialName: b.ApplicantName},
		To: projections.Party{Unit: b.ReceivingUnit, OfficialID: desk.ID, OfficialName: desk.Name}, At: s.clock, Step: projections.StepReception,
		Deadline: d.StepDeadline})
}

// record keeps what a command answered: the code, and a new appointment date when it moved.
func (s *scenario) record(b *dossierBook, who official, res commands.Result) {
	s.last = res.Position
	s.Events += len(res.Events)
	if res.Code != "" {
		b.Code = res.Code
	}
	if d := res.Dossier.AppointmentDate; !d.IsZero() && !d.Equal(b.appointment()) {
		b.Appointments = append(b.Appointments, appointmentChange{At: s.clock, Date: d})
	}
	b.States = append(b.States, dossierState{At: s.clock, D: res.Dossier})
	b.Officials[who.ID] = who.Name
}

// end closes the dossier's current handover as the read models should: when, how, and by whom.
func (s *scenario) end(b *dossierBook, kind string, by official) {
	if h := b.current(); h != nil && h.EndedAt.IsZero() {
		h.EndedAt, h.EndKind, h.EndedByID, h.EndedByName = s.clock, kind, by.ID, by.Name
	}
}

// storedFile stands for a file the blob store kept: the read models read the facts, never the bytes.
func storedFile(name, sha string) commands.StoreFile {
	return func(context.Context, commands.FileTarget) (domain.StoredFile, error) {
		return domain.StoredFile{Name: name, MediaType: domain.MediaPDF, Size: 2048, SHA256: sha, Blob: sha, Sealed: false}, nil
	}
}

// attach attaches a scan to the dossier's component.
func (s *scenario) attach(b *dossierBook, who official, component string, origin domain.DocumentOrigin) bool {
	digest := sha256.Sum256([]byte(fmt.Sprint("scan", b.Index, component)))
	res, err := s.app.AttachDocument(s.ctx, who.Caller, b.ID, commands.AttachDocumentInput{Component: component, Origin: origin},
		storedFile("scan.pdf", hex.EncodeToString(digest[:])))
	if err != nil {
		return s.fail(b, "attach", err)
	}
	s.record(b, who, res)
	return true
}

// resultWithFile marks the result ready with its file, the signed document.
func (s *scenario) resultWithFile(b *dossierBook, who official, signed string) bool {
	res, err := s.app.MarkResultReadyWithFile(s.ctx, who.Caller, b.ID, nil, commands.MarkResultReadyInput{}, storedFile("ket-qua.pdf", signed))
	if err != nil {
		return s.fail(b, "result with its file", err)
	}
	return s.book(b, who, commands.MarkResultReadyInput{}, res)
}

// act runs one use case on the dossier and books what it did.
func (s *scenario) act(b *dossierBook, who official, in commands.Input) bool {
	// By id: a code would cost a lookup of the code stream on every action.
	res, err := s.app.Execute(s.ctx, who.Caller, b.ID, nil, in)
	if err != nil {
		return s.fail(b, string(in.Action()), err)
	}
	return s.book(b, who, in, res)
}

// book keeps what a use case did to the dossier.
func (s *scenario) book(b *dossierBook, who official, in commands.Input, res commands.Result) bool {
	s.record(b, who, res)
	d := res.Dossier
	switch in := in.(type) {
	case *commands.AcceptInput:
		b.RespondedAt, b.Response = firstTime(b.RespondedAt, s.clock), firstString(b.Response, "received")
		s.end(b, "received", who)
		s.received(b, who, d)
	case commands.RefuseInput:
		b.RespondedAt, b.Response, b.RefusedAt = firstTime(b.RespondedAt, s.clock), firstString(b.Response, "refused"), s.clock
		s.end(b, "refused", who)
	case commands.RequestSupplementInput:
		b.SupplementRequests = d.SupplementRequests
		if b.ReceivedAt.IsZero() {
			b.RespondedAt, b.Response = firstTime(b.RespondedAt, s.clock), firstString(b.Response, "supplement_requested")
		} else {
			b.Waiting = "supplement"
		}
	case commands.SupplementInput, commands.ResumeInput:
		b.Waiting = ""
	case commands.SuspendInput:
		b.Waiting = "suspended"
	case commands.CompletePartInput:
		for _, h := range b.Handovers {
			if h.Kind == projections.HandoverPart && h.Step == in.Step && h.EndedAt.IsZero() {
				h.EndedAt, h.EndKind, h.EndedByID, h.EndedByName = s.clock, "part_completed", who.ID, who.Name
				break
			}
		}
	case commands.PayInput:
		b.FirstPaidAt = firstTime(b.FirstPaidAt, s.clock)
		b.PaidOnline = b.PaidOnline || in.Channel == domain.PaymentOnline
	case commands.TransferInput:
		from := b.current().To.Unit
		if len(d.OpenParts) > 0 && d.Step == in.Step {
			// A parallel step: the coordinator holds the dossier, each part runs to its own deadline.
			s.end(b, projections.HandoverParallel, who)
			coordinator := projections.Party{Unit: in.ToUnit, OfficialID: in.ToOfficialID, OfficialName: in.ToOfficialName}
			b.Handovers = append(b.Handovers, &handoverBook{Kind: projections.HandoverParallel,
				From: projections.Party{Unit: from, OfficialID: who.ID, OfficialName: who.Name}, To: coordinator,
				At: s.clock, Step: in.Step, Deadline: d.StepDeadline})
			for _, part := range d.OpenParts {
				b.Handovers = append(b.Handovers, &handoverBook{Kind: projections.HandoverPart, From: coordinator, To: projections.Party{Unit: part.Unit},
					At: s.clock, Step: part.Step, AllottedHours: part.AllottedHours, Deadline: part.StepDeadline})
				b.Units[part.Unit] = true
				if part.Unit != b.CompetentAgency && part.Unit != b.ReceivingUnit && domain.ValidUnitCode(part.Unit) {
					b.CoordinatingAgencies = append(b.CoordinatingAgencies, part.Unit)
				}
			}
			b.Units[in.ToUnit] = true
			b.Officials[in.ToOfficialID] = in.ToOfficialName
			break
		}
		s.end(b, projections.HandoverTransfer, who)
		b.Handovers = append(b.Handovers, &handoverBook{Kind: projections.HandoverTransfer,
			From: projections.Party{Unit: from, OfficialID: who.ID, OfficialName: who.Name},
			To:   projections.Party{Unit: in.ToUnit, OfficialID: in.ToOfficialID, OfficialName: in.ToOfficialName},
			At:   s.clock, Step: in.Step, AllottedHours: allotted(b.Procedure, in), Deadline: d.StepDeadline})
		b.Units[in.ToUnit] = true
		if in.ToOfficialID != "" {
			b.Officials[in.ToOfficialID] = in.ToOfficialName
		}
	case commands.InterAgencyTransferInput:
		from := b.current().To.Unit
		s.end(b, projections.HandoverInterAgency, who)
		b.Handovers = append(b.Handovers, &handoverBook{Kind: projections.HandoverInterAgency,
			From: projections.Party{Unit: from, OfficialID: who.ID, OfficialName: who.Name}, To: projections.Party{Unit: in.ToAgency},
			At: s.clock, Step: in.Purpose, AllottedHours: in.AllottedHours, Deadline: d.StepDeadline})
		b.Units[in.ToAgency] = true
		b.CoordinatingAgencies = append(b.CoordinatingAgencies, in.ToAgency)
	case commands.IssueApologyInput:
		b.ApologyAt, b.ApologyOld, b.ApologyNew, b.ApologyBy = s.clock, b.appointmentBefore(s.clock), d.AppointmentDate, who.Name
	case commands.MarkResultReadyInput:
		from := b.current().To.Unit
		s.end(b, projections.HandoverResult, who)
		b.ResolvedAt, b.Resolution, b.ResolvedAppointment = s.clock, "result", b.appointment()
		b.Handovers = append(b.Handovers, &handoverBook{Kind: projections.HandoverResult,
			From: projections.Party{Unit: from, OfficialID: who.ID, OfficialName: who.Name}, To: projections.Party{Unit: b.ReceivingUnit},
			At: s.clock, Step: projections.StepReturn})
	case commands.ReturnResultInput:
		b.ReturnedAt = s.clock
		s.end(b, "returned", who)
	case commands.RejectInput:
		b.ResolvedAt, b.Resolution, b.ResolvedAppointment = s.clock, "rejected", b.appointment()
		s.end(b, "rejected", who)
	case commands.WithdrawInput:
		b.WithdrawnAt = s.clock
		if b.ReceivedAt.IsZero() && b.RespondedAt.IsZero() {
			b.Response = "withdrawn"
		}
		s.end(b, "withdrawn", who)
	}
	return true
}

// rate gives the applicant's rating: mostly all nine criteria, sometimes a few, now and then dissatisfied.
func (s *scenario) rate(b *dossierBook, r *rand.Rand) {
	scores := map[domain.Criterion]domain.RatingLevel{}
	complete := r.Float64() < 0.85
	for _, c := range domain.Criteria {
		if !complete && r.Float64() < 0.5 {
			continue
		}
		switch x := r.Float64(); {
		case x < 0.03:
			scores[c] = domain.Dissatisfied
		case x < 0.45:
			scores[c] = domain.Satisfied
		default:
			scores[c] = domain.VerySatisfied
		}
	}
	if len(scores) == 0 {
		scores[domain.CriterionStaffAttitude] = domain.Satisfied
	}
	res, err := s.app.Rate(s.ctx, b.Code, commands.RateInput{Secret: b.Secret, Scores: scores})
	if err != nil {
		s.fail(b, "rate", err)
		return
	}
	s.last = res.Position
	s.Events++
	b.RatedAt, b.Scores = s.clock, scores
}

// allotted is the step's time: the one given, else the procedure workflow's.
func allotted(p domain.Procedure, in commands.TransferInput) float64 {
	if in.AllottedHours > 0 {
		return in.AllottedHours
	}
	step, _ := p.Step(in.Step)
	return step.AllottedHours
}

func firstTime(have, t time.Time) time.Time {
	if have.IsZero() {
		return t
	}
	return have
}

func firstString(have, s string) string {
	if have == "" {
		return s
	}
	return have
}

// feed runs the given read models over everything the scenario appended and waits until each has
// applied it, through the projections' own runner.
func (s *scenario) feed(t testing.TB, views ...engine.Consumer) {
	t.Helper()
	feedAll(t, s.store, s.db, s.dialect, s.last, views...)
}

func feedAll(t testing.TB, store eventstore.Store, db *sql.DB, d engine.Dialect, last eventstore.Position, views ...engine.Consumer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait, stopWaiting := context.WithTimeout(ctx, 2*time.Minute)
	defer stopWaiting()
	// Migrate one after the other: PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe to race.
	if err := engine.MigrateCheckpoints(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		if err := v.Migrate(ctx, db, d); err != nil {
			t.Fatalf("%s: migrate: %v", v.Name(), err)
		}
	}
	failed := make(chan error, len(views))
	runners := make([]*engine.Runner, len(views))
	for i, v := range views {
		runners[i] = engine.NewRunner(store, db, d, v)
		runners[i].Logger = slog.New(slog.DiscardHandler)
		go func() {
			err := runners[i].Run(ctx)
			if err != nil && !errors.Is(err, context.Canceled) {
				failed <- fmt.Errorf("%s: %w", v.Name(), err)
				stopWaiting() // a runner that failed will never reach the position
			}
		}()
	}
	for i, r := range runners {
		if err := r.WaitFor(wait, last); err != nil {
			select {
			case runErr := <-failed:
				t.Fatalf("runner: %v", runErr)
			case <-time.After(time.Second):
				t.Fatalf("%s did not reach %s: %v\n%s", views[i].Name(), last, err, feedDiagnosis(store, db, d, last, runners))
			}
		}
	}
}

// feedDiagnosis says where each runner stands and, on PostgreSQL, which transactions of the
// cluster were running: the global log is read up to the cluster-wide transaction horizon, so a
// transaction left open anywhere holds every reader back.
func feedDiagnosis(store eventstore.Store, db *sql.DB, d engine.Dialect, last eventstore.Position, runners []*engine.Runner) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b strings.Builder
	for _, r := range runners {
		fmt.Fprintf(&b, "%s at %s, stalled: %v\n", r.Consumer.Name(), r.Position(), r.Stalled())
	}
	if page, err := store.ReadAll(ctx, eventstore.Position{}, 100000); err == nil {
		fmt.Fprintf(&b, "the store's log reads %d events now (last %s)\n", len(page), last)
	}
	if d != engine.PostgreSQL {
		return b.String()
	}
	rows, err := db.QueryContext(ctx, `SELECT datname, pid, coalesce(backend_xid::text, ''), coalesce(state, ''), coalesce(xact_start::text, ''), left(coalesce(query, ''), 120)
		FROM pg_stat_activity WHERE backend_xid IS NOT NULL OR state LIKE 'idle in%'`)
	if err != nil {
		return b.String() + "pg_stat_activity: " + err.Error()
	}
	defer rows.Close()
	for rows.Next() {
		var datname, pid, xid, state, start, query sql.NullString
		if err := rows.Scan(&datname, &pid, &xid, &state, &start, &query); err != nil {
			return b.String() + err.Error()
		}
		fmt.Fprintf(&b, "running: db %s pid %s xid %s %s since %s: %s\n", datname.String, pid.String, xid.String, state.String, start.String, query.String)
	}
	return b.String()
}

// Expected values: the books' view of the rules.

// verdictOf is the test's own statement of the early / on time / late rule: late after the
// deadline, early on a day before the deadline's day (Vietnam time), on time otherwise.
func verdictOf(done, deadline time.Time) projections.Verdict {
	if done.After(deadline) {
		return projections.VerdictLate
	}
	dy, dm, dd := done.In(domain.VietnamTime).Date()
	ly, lm, ld := deadline.In(domain.VietnamTime).Date()
	if time.Date(dy, dm, dd, 0, 0, 0, 0, time.UTC).Before(time.Date(ly, lm, ld, 0, 0, 0, 0, time.UTC)) {
		return projections.VerdictEarly
	}
	return projections.VerdictOnTime
}

// workingHoursBetween is the working time between two instants in hours, to two decimals.
func (s *scenario) workingHoursBetween(from, to time.Time) float64 {
	return math.Round(s.cal.WorkingTimeBetween(from, to).Hours()*100) / 100
}

// visibleTo reports whether the agency filter selects the dossier: it received or decides it.
func (b *dossierBook) visibleTo(agency string) bool {
	return agency == "" || b.ReceivingUnit == agency || b.CompetentAgency == agency
}

// month is a whole calendar month in Vietnam time.
func month(year int, m time.Month) projections.Period {
	return projections.Period{
		From: time.Date(year, m, 1, 0, 0, 0, 0, domain.VietnamTime),
		To:   time.Date(year, m+1, 1, 0, 0, 0, 0, domain.VietnamTime),
	}
}

// scenarioPeriods are the periods every report is checked over.
func scenarioPeriods() map[string]projections.Period {
	return map[string]projections.Period{
		"march":     month(2026, time.March),
		"april":     month(2026, time.April),
		"may-to-7":  {From: time.Date(2026, 5, 1, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(2026, 5, 8, 0, 0, 0, 0, domain.VietnamTime)},
		"mid-april": {From: time.Date(2026, 4, 15, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(2026, 4, 22, 0, 0, 0, 0, domain.VietnamTime)},
		"2026":      {From: time.Date(2026, 1, 1, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(2027, 1, 1, 0, 0, 0, 0, domain.VietnamTime)},
	}
}

var scenarioAgencies = []string{"", centre, building, justice, land}

// scenarioScope is the read scope of one of scenarioAgencies, "" standing for every agency.
func scenarioScope(agency string) projections.AgencyScope {
	if agency == "" {
		return projections.AllAgencies()
	}
	return projections.OneAgency(agency)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestScenarioSQLite plays the history on a real SQLite file and checks every read model.
func TestScenarioSQLite(t *testing.T) {
	t.Parallel()
	s := runScenario(t, sqliteBackend(t), 200, 2026)
	checkScenario(t, s)
	t.Run("rebuild", func(t *testing.T) { checkRebuild(t, s) })
	t.Run("late_dashboard_after_rebuild", func(t *testing.T) { checkLateDashboards(t, s) })
	t.Run("satisfaction_after_rebuild", func(t *testing.T) { checkSatisfaction(t, s) })
	t.Run("feedback_after_rebuild", func(t *testing.T) { checkFeedback(t, s) })
}

// TestScenarioPostgres plays another history on PostgreSQL and checks every read model, and that
// applying events one at a time (as live delivery does) gives exactly the rows that batches (as
// catch-up and rebuild apply them) give.
func TestScenarioPostgres(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("PostgreSQL scenario skipped in -short mode")
	}
	s := runScenario(t, postgresBackend(t), 240, 766)
	checkScenario(t, s)
	t.Run("one_by_one", func(t *testing.T) { checkOneByOne(t, s) })
	t.Run("rebuild", func(t *testing.T) { checkRebuild(t, s) })
	t.Run("late_dashboard_after_rebuild", func(t *testing.T) { checkLateDashboards(t, s) })
	t.Run("satisfaction_after_rebuild", func(t *testing.T) { checkSatisfaction(t, s) })
	t.Run("feedback_after_rebuild", func(t *testing.T) { checkFeedback(t, s) })
}

// checkRebuild rebuilds every read model from the scenario's log, in pages of 100 events that cut
// across dossiers' lives (so rows are both created and updated by the replay, and on PostgreSQL
// both copied in and upserted), and compares every table with what incremental processing built.
func checkRebuild(t *testing.T, s *scenario) {
	s.feed(t, projections.PublicStatusView{}, projections.WorkQueueView{}, projections.CorrectionsView{})
	var tables []string
	consumers := append(projections.All(), citizenView)
	for _, p := range consumers {
		tables = append(tables, p.Tables()...)
	}
	want := map[string][]string{}
	for _, table := range tables {
		want[table] = dumpTable(t, s.db, table)
	}
	rebuilder := &engine.Rebuilder{Store: s.store, DB: s.db, Dialect: s.dialect, Consumers: consumers, BatchSize: 100, Logger: slog.New(slog.DiscardHandler)}
	if _, err := rebuilder.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		got := dumpTable(t, s.db, table)
		if len(got) == 0 || strings.Join(got, "\n") != strings.Join(want[table], "\n") {
			t.Errorf("table %s differs after a rebuild (%d rows, %d incrementally)", table, len(got), len(want[table]))
			for i := range min(len(got), len(want[table])) {
				if got[i] != want[table][i] {
					t.Logf("first difference:\n got %s\nwant %s", got[i], want[table][i])
					break
				}
			}
		}
	}
}

// checkOneByOne applies the log of every tenth dossier into fresh tables twice — one event per
// call, and in batches of 100 that cut across dossiers' lives — and compares the tables.
func checkOneByOne(t *testing.T, s *scenario) {
	ctx := context.Background()
	sampled := map[string]bool{}
	for i, b := range s.Books {
		if i%10 == 0 {
			sampled[commands.StreamName(b.ID)] = true
		}
	}
	for i, fb := range s.Feedback {
		if i%3 == 0 {
			sampled[domain.FeedbackAggregate.StreamName(fb.ID)] = true
		}
	}
	var events []eventstore.RecordedEvent
	for _, re := range s.log(t) {
		if sampled[re.Stream] {
			events = append(events, re)
		}
	}
	apply := func(p engine.Consumer, chunk int) {
		t.Helper()
		if err := p.Migrate(ctx, s.db, s.dialect); err != nil {
			t.Fatal(err)
		}
		for from := 0; from < len(events); from += chunk {
			part := events[from:min(from+chunk, len(events))]
			tx, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = p.Apply(ctx, tx, engine.Batch{Dialect: s.dialect, Events: part})
			if err != nil {
				tx.Rollback()
				t.Fatalf("%s: %v", p.Name(), err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, view := range scenarioViews() {
		apply(view.WithPrefix("single_"), 1)
		apply(view.WithPrefix("batch_"), 100)
		for _, table := range view.Tables() {
			single, batched := dumpTable(t, s.db, "single_"+table), dumpTable(t, s.db, "batch_"+table)
			if len(batched) == 0 || strings.Join(batched, "\n") != strings.Join(single, "\n") {
				t.Errorf("%s: table %s differs between one-by-one and batches (%d rows one by one, %d batched)",
					view.Name(), table, len(single), len(batched))
			}
		}
	}
	t.Logf("%d events of %d dossiers applied both ways", len(events), len(sampled))
}

// log returns the whole global log the scenario wrote.
func (s *scenario) log(t testing.TB) []eventstore.RecordedEvent {
	t.Helper()
	var events []eventstore.RecordedEvent
	for after := eventstore.Start; ; {
		page, err := s.store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return events
		}
		events = append(events, page...)
		after = page[len(page)-1].Position
	}
}

// BenchmarkApplyBatch measures how fast each read model folds the scenario's log in batches of
// 500 events, as catch-up and rebuild feed it: the events/s figure is the log's events (including
// the code-allocation events every read model skips) over the time taken.
func BenchmarkApplyBatch(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			be := sqliteBackend(b)
			if kind == "postgres" {
				be = postgresBackend(b)
			}
			s := runScenario(b, be, 200, 9)
			events := s.log(b)
			ctx := context.Background()
			for _, view := range scenarioViews() {
				b.Run(view.Name(), func(b *testing.B) {
					round := 0
					for b.Loop() {
						round++
						p := view.WithPrefix(fmt.Sprintf("bench%d_", round))
						if err := p.Migrate(ctx, s.db, s.dialect); err != nil {
							b.Fatal(err)
						}
						for from := 0; from < len(events); from += 500 {
							tx, err := s.db.BeginTx(ctx, nil)
							if err != nil {
								b.Fatal(err)
							}
							if err := p.Apply(ctx, tx, engine.Batch{Dialect: s.dialect, Events: events[from:min(from+500, len(events))]}); err != nil {
								b.Fatal(err)
							}
							if err := tx.Commit(); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.ReportMetric(float64(len(events))*float64(round)/b.Elapsed().Seconds(), "events/s")
				})
			}
		})
	}
}

// dumpTable returns every row of table as text, sorted.
func dumpTable(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM ` + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		cells := make([]sql.NullString, len(columns))
		dest := make([]any, len(columns))
		for i := range cells {
			dest[i] = &cells[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		line := make([]string, len(cells))
		for i, c := range cells {
			line[i] = fmt.Sprintf("%v:%q", c.Valid, c.String)
		}
		out = append(out, strings.Join(line, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// scenarioViews are the read models the scenario checks.
func scenarioViews() []engine.Consumer {
	return []engine.Consumer{projections.ProcessControlView{}, projections.ResolutionReportView{}, projections.SatisfactionView{}, citizenView, projections.FeedbackView{}}
}

// citizenView is the citizens' index, keyed as a deployment keys it.
var citizenView = projections.CitizenDossiersView{Key: projections.ApplicantIndexKey("scenario-blind-index-key-32-bytes")}

// checkCitizenDossiers finds each sampled dossier through the blind index of its applicant's
// number (each scenario applicant files one), with the public status view's code and status.
func checkCitizenDossiers(t *testing.T, s *scenario) {
	s.feed(t, projections.PublicStatusView{})
	ctx := context.Background()
	for i, b := range s.Books {
		if i%7 != 0 || b.ID == "" {
			continue
		}
		page, err := projections.CitizenDossiersOf(ctx, s.db, citizenView.Key.Of(fmt.Sprintf("0380%08d", 10000000+b.Index)), projections.PageRequest{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Total != 1 || page.Items[0].DossierID != b.ID || page.Items[0].Status.Code != b.Code {
			t.Errorf("dossier %d (%s %s): the citizen's list is %+v", b.Index, b.ID, b.Code, page)
		}
	}
	if page, err := projections.CitizenDossiersOf(ctx, s.db, citizenView.Key.Of("[đã xoá]"), projections.PageRequest{}, time.Now()); err != nil || len(page.Items) != 0 {
		t.Errorf("a placeholder's list: %+v, %v", page, err)
	}
}

func checkScenario(t *testing.T, s *scenario) {
	s.describe(t)
	s.feed(t, scenarioViews()...)
	t.Run("resolution_report", func(t *testing.T) { checkResolutionReports(t, s) })
	t.Run("late_dashboard", func(t *testing.T) { checkLateDashboards(t, s) })
	t.Run("control_sheets", func(t *testing.T) { checkControlSheets(t, s) })
	t.Run("satisfaction", func(t *testing.T) { checkSatisfaction(t, s) })
	t.Run("citizen_dossiers", func(t *testing.T) { checkCitizenDossiers(t, s) })
	t.Run("register", func(t *testing.T) { checkRegisters(t, s) })
	t.Run("feedback", func(t *testing.T) { checkFeedback(t, s) })
}

// describe logs what the history holds and fails if it lacks a kind of case the checks rely on.
func (s *scenario) describe(t *testing.T) {
	t.Helper()
	counts := map[string]int{}
	for _, b := range s.Books {
		switch {
		case !b.RefusedAt.IsZero():
			counts["refused"]++
		case !b.WithdrawnAt.IsZero():
			counts["withdrawn"]++
		case b.Resolution == "rejected":
			counts["rejected"]++
		case !b.ResolvedAt.IsZero():
			counts["resolved"]++
			if b.resolvedVerdict(legalRule) == projections.VerdictLate {
				counts["resolved late"]++
			}
		case b.open():
			counts["open"]++
			if b.overdueAt(s.End, legalRule) {
				counts["open overdue"]++
			}
		}
		if !b.ApologyAt.IsZero() {
			counts["apologies"]++
			if !b.ResolvedAt.IsZero() && b.resolvedVerdict(legalRule) == projections.VerdictLate && !b.ResolvedAt.After(b.ResolvedAppointment) {
				counts["apologised, late in law, kept the new date"]++
			}
		}
		if b.SupplementRequests > 1 && !b.ResolvedAt.IsZero() && b.resolvedVerdict(legalRule) != projections.VerdictLate {
			counts["indicator-late by supplements, not late in law"]++
		}
		if b.SupplementRequests > 0 {
			counts["supplemented"]++
		}
		if len(b.CoordinatingAgencies) > 0 {
			counts["inter-agency"]++
		}
		for _, h := range b.Handovers {
			if h.Kind == projections.HandoverPart {
				counts["parallel parts"]++
			}
		}
		if b.Waiting != "" && b.open() {
			counts["paused"]++
		}
		if !b.RatedAt.IsZero() {
			counts["rated"]++
		}
		if !b.SubmittedAt.IsZero() && b.AcceptanceDeadline.Before(firstTime(b.RespondedAt, firstTime(b.WithdrawnAt, s.End))) {
			counts["late acceptance"]++
		}
		for _, h := range b.Handovers {
			if !h.Deadline.IsZero() && !h.EndedAt.IsZero() && h.EndedAt.After(h.Deadline) {
				counts["overrun steps"]++
			}
		}
	}
	t.Logf("scenario: %d dossiers, %d events: %v", len(s.Books), s.Events, counts)
	for _, need := range []string{"refused", "withdrawn", "rejected", "resolved late", "open overdue", "apologies", "supplemented",
		"inter-agency", "parallel parts", "rated", "late acceptance", "overrun steps",
		"apologised, late in law, kept the new date", "indicator-late by supplements, not late in law"} {
		if counts[need] == 0 {
			t.Errorf("the scenario has no %s dossier: the checks would not cover it", need)
		}
	}
}
