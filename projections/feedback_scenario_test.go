package projections_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/projections"
)

// feedbackBook is what the scenario did to one feedback.
type feedbackBook struct {
	Index int
	ID    string
	Code  string
}

// feedbackLife sends a complaint, petition or question and handles it, with delays drawn around
// the QĐ 766 group 5 limits (routing and publishing 2 working days = 16 h, asking 5 = 40 h,
// answering 15 = 120 h), so that some acts are late, some feedback stays open past its limit,
// and some is refused or never published.
func (s *scenario) feedbackLife(fb *feedbackBook, r *rand.Rand) iter.Seq[float64] {
	return func(yield func(float64) bool) {
		in := commands.FeedbackSubmission{Kind: domain.FeedbackKinds[r.IntN(len(domain.FeedbackKinds))],
			Subject: fmt.Sprintf("Phản ánh số %d", fb.Index), Content: "Nội dung phản ánh, kiến nghị",
			Submitter: domain.FeedbackSubmitter{Name: fmt.Sprintf("Người dân %d", fb.Index)}}
		// Some name a dossier already received: the agency deciding it receives them.
		if r.Float64() < 0.4 {
			var codes []string
			for _, b := range s.Books {
				if b.Code != "" && !b.ReceivedAt.IsZero() && b.ReceivedAt.Before(s.clock) {
					codes = append(codes, b.Code)
				}
			}
			if len(codes) > 0 {
				in.DossierCode = codes[r.IntN(len(codes))]
			}
		}
		res, err := s.app.SubmitFeedback(s.ctx, in)
		if !s.feedbackDone(fb, "submit", res, err) {
			return
		}
		fb.ID, fb.Code = res.FeedbackID, res.LookupCode
		intake := res.Feedback.Agency
		act := func(who official, what commands.FeedbackInput) bool {
			res, err := s.app.ExecuteFeedback(s.ctx, who.Caller, fb.Code, nil, what)
			return s.feedbackDone(fb, string(what.Action()), res, err)
		}
		agencies := []string{building, justice, land}
		if !yield(between(r, 1, 28)) {
			return
		}
		if r.Float64() < 0.1 && intake != centre {
			act(s.pick(r, intake, commands.RoleHead), commands.RefuseFeedbackInput{Reason: "Không thuộc phạm vi"})
			return
		}
		router := s.pick(r, intake, commands.RoleReception)
		responsible := agencies[r.IntN(len(agencies))]
		if !act(router, commands.RouteFeedbackInput{Agency: responsible}) {
			return
		}
		if r.Float64() < 0.1 {
			if yield(between(r, 4, 24)) {
				act(s.pick(r, responsible, commands.RoleHead), commands.RefuseFeedbackInput{Reason: "Không thuộc thẩm quyền"})
			}
			return
		}
		if r.Float64() < 0.3 {
			if !yield(between(r, 8, 50)) || !act(s.pick(r, responsible, commands.RoleSpecialist), commands.AskFeedbackInput{Question: "Đề nghị bổ sung"}) {
				return
			}
			if !yield(between(r, 4, 40)) {
				return
			}
			res, err := s.app.SupplyFeedbackPublic(s.ctx, fb.Code, commands.SupplyFeedbackInput{Information: "Thông tin bổ sung"})
			if !s.feedbackDone(fb, "supply", res, err) {
				return
			}
		}
		if !yield(between(r, 16, 140)) || !act(s.pick(r, responsible, commands.RoleSpecialist), commands.AnswerFeedbackInput{Answer: "Trả lời"}) {
			return
		}
		if r.Float64() < 0.85 && yield(between(r, 1, 24)) {
			act(s.pick(r, responsible, commands.RoleHead), commands.PublishFeedbackInput{})
		}
	}
}

func (s *scenario) feedbackDone(fb *feedbackBook, what string, res commands.FeedbackResult, err error) bool {
	if err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("feedback %d (%s): %s: %w", fb.Index, fb.Code, what, err)
		}
		return false
	}
	s.last = res.Position
	s.Events += len(res.Events)
	return true
}

// feedbackTally is what the test computes from the raw events: per agency, stage and Vietnam day,
// the acts on time and late; the feedback as the log leaves it; the dossiers first complained about.
type feedbackTally struct {
	acts       []feedbackAct
	final      map[string]domain.Feedback
	complaints map[string]feedbackAct // dossier code → its first complaint (agency, day)
}

type feedbackAct struct {
	agency string
	stage  projections.FeedbackStage
	at     time.Time
	onTime bool
}

// tallyFeedback folds the scenario's log by hand: each act is judged against a limit the test
// computes itself with the calendar — 2, 5, 15 and 2 working days from the act that started the
// clock, the answer's moved on by the working time spent waiting for the submitter — and checked
// against the limit the event recorded.
func tallyFeedback(t *testing.T, s *scenario) feedbackTally {
	t.Helper()
	cal := s.cal
	tally := feedbackTally{final: map[string]domain.Feedback{}, complaints: map[string]feedbackAct{}}
	type clock struct {
		routeBy, refuseBy, askBy, answerBy, publishBy, askedAt time.Time
	}
	clocks := map[string]*clock{}
	for _, re := range s.log(t) {
		id, ok := domain.FeedbackAggregate.IDOf(re.Stream)
		if !ok {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		f := tally.final[id]
		c := clocks[id]
		judge := func(stage projections.FeedbackStage, at, due, recorded time.Time) {
			if !due.Equal(recorded) {
				t.Errorf("feedback %s: %s recorded the limit %s, the calendar gives %s", f.LookupCode, stage, recorded, due)
			}
			tally.acts = append(tally.acts, feedbackAct{agency: f.Agency, stage: stage, at: at, onTime: !at.After(due)})
		}
		switch e := e.(type) {
		case domain.FeedbackReceived:
			c = &clock{routeBy: cal.AddWorkingTime(e.ReceivedAt, 2*8*time.Hour)}
			clocks[id] = c
			if e.Kind == domain.FeedbackComplaint && e.DossierCode != "" {
				if _, seen := tally.complaints[string(e.DossierCode)]; !seen {
					tally.complaints[string(e.DossierCode)] = feedbackAct{agency: e.Agency, at: e.ReceivedAt}
				}
			}
		case domain.FeedbackRouted:
			judge(projections.FeedbackStageRoute, e.RoutedAt, c.routeBy, e.Due)
			c.refuseBy = cal.AddWorkingTime(e.RoutedAt, 2*8*time.Hour)
			c.askBy = cal.AddWorkingTime(e.RoutedAt, 5*8*time.Hour)
			c.answerBy = cal.AddWorkingTime(e.RoutedAt, 15*8*time.Hour)
		case domain.FeedbackRefused:
			if f.Status == domain.FeedbackStatusRouted {
				judge(projections.FeedbackStageRefuse, e.RefusedAt, c.refuseBy, e.Due)
			} else {
				judge(projections.FeedbackStageRoute, e.RefusedAt, c.routeBy, e.Due)
			}
		case domain.FeedbackInformationRequested:
			judge(projections.FeedbackStageAsk, e.RequestedAt, c.askBy, e.Due)
			c.askedAt = e.RequestedAt
		case domain.FeedbackInformationSupplied:
			c.answerBy = cal.AddWorkingTime(c.answerBy, cal.WorkingTimeBetween(c.askedAt, e.SuppliedAt))
			if !e.AnswerBy.Equal(c.answerBy) {
				t.Errorf("feedback %s: the reply moved the answer's limit to %s, the calendar gives %s", f.LookupCode, e.AnswerBy, c.answerBy)
			}
		case domain.FeedbackAnswered:
			judge(projections.FeedbackStageAnswer, e.AnsweredAt, c.answerBy, e.Due)
			c.publishBy = cal.AddWorkingTime(e.AnsweredAt, 2*8*time.Hour)
		case domain.FeedbackPublished:
			judge(projections.FeedbackStagePublish, e.PublishedAt, c.publishBy, e.Due)
		}
		tally.final[id] = domain.EvolveFeedback(f, e)
	}
	return tally
}

// expected is the dashboard the tally gives for an agency ("" every one) and period at now.
func (tally feedbackTally) expected(agency string, p projections.Period, now time.Time) projections.FeedbackDashboard {
	want := projections.FeedbackDashboard{Agency: agency, Period: p}
	end := p.To
	if now.Before(end) {
		end = now
	}
	for _, stage := range projections.FeedbackStages {
		st := projections.FeedbackStageStats{Stage: stage}
		for _, a := range tally.acts {
			if a.stage == stage && (agency == "" || a.agency == agency) && p.Contains(a.at) {
				st.Done++
				if a.onTime {
					st.OnTime++
				} else {
					st.Late++
				}
			}
		}
		for _, f := range tally.final {
			if agency != "" && f.Agency != agency || !f.ReceivedAt.Before(p.To) {
				continue
			}
			var due time.Time
			var waiting projections.FeedbackStage
			switch f.Status {
			case domain.FeedbackStatusReceived:
				due, waiting = f.RouteBy, projections.FeedbackStageRoute
			case domain.FeedbackStatusRouted:
				due, waiting = f.AnswerBy, projections.FeedbackStageAnswer
			case domain.FeedbackStatusAnswered:
				due, waiting = f.PublishBy, projections.FeedbackStagePublish
			}
			if waiting == stage && due.Before(end) {
				st.Overdue++
			}
		}
		if st.Done+st.Overdue > 0 {
			st.OnTimeRate = float64(int(10000*float64(st.OnTime)/float64(st.Done+st.Overdue)+0.5)) / 100
		}
		want.Stages = append(want.Stages, st)
	}
	for _, first := range tally.complaints {
		if (agency == "" || first.agency == agency) && p.Contains(first.at) {
			want.ComplainedDossiers++
		}
	}
	return want
}

// checkFeedback compares the feedback dashboard, the QĐ 766 group 5 indicators and the officials'
// queue with what the raw events give, for every agency and several periods (whole months, part
// of one, the whole scenario).
func checkFeedback(t *testing.T, s *scenario) {
	ctx := context.Background()
	tally := tallyFeedback(t, s)
	if len(tally.acts) < 40 {
		t.Fatalf("the scenario judged only %d feedback acts", len(tally.acts))
	}
	late := 0
	for _, a := range tally.acts {
		if !a.onTime {
			late++
		}
	}
	if late == 0 || late == len(tally.acts) {
		t.Fatalf("%d of %d acts late: the scenario must have both", late, len(tally.acts))
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, domain.VietnamTime) }
	periods := map[string]projections.Period{
		"march":    {From: day(2026, 3, 1), To: day(2026, 4, 1)},
		"april_h1": {From: day(2026, 4, 1), To: day(2026, 4, 16)},
		"all":      {From: day(2026, 3, 1), To: day(2026, 6, 1)},
	}
	for name, p := range periods {
		for _, agency := range []string{"", centre, building, justice, land} {
			where := fmt.Sprintf("%s/%q", name, agency)
			scope := scenarioScope(agency)
			got, err := projections.FeedbackDashboardOf(ctx, s.db, scope, p, s.End)
			if err != nil {
				t.Fatal(err)
			}
			want := tally.expected(agency, p, s.End)
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
				t.Errorf("%s: dashboard\n got %+v\nwant %+v", where, got, want)
			}
			// The indicators take now as the clock; the scenario ended before it, so past periods
			// judge the open feedback at the period's end, and the whole span at the log's end
			// (nothing the scenario left open becomes due between its end and now, or it is late
			// both ways).
			report, err := projections.SatisfactionOf(ctx, s.db, scope, p)
			if err != nil {
				t.Fatal(err)
			}
			wantAt := tally.expected(agency, p, time.Now())
			for _, in := range report.Indicators.Feedback {
				var done, onTime, overdue int
				for _, stage := range in.Stages {
					st := stageOf(wantAt, stage)
					done, onTime, overdue = done+st.Done, onTime+st.OnTime, overdue+st.Overdue
				}
				if in.Done != done || in.OnTime != onTime || in.Overdue != overdue {
					t.Errorf("%s: indicator %s = %+v, want %d done, %d on time, %d overdue", where, in.Code, in, done, onTime, overdue)
				}
			}
			if report.Indicators.ComplainedDossiers != want.ComplainedDossiers {
				t.Errorf("%s: %d dossiers complained about, want %d", where, report.Indicators.ComplainedDossiers, want.ComplainedDossiers)
			}
		}
	}
	checkFeedbackQueue(t, s, tally)
}

func stageOf(d projections.FeedbackDashboard, stage projections.FeedbackStage) projections.FeedbackStageStats {
	for _, s := range d.Stages {
		if s.Stage == stage {
			return s
		}
	}
	return projections.FeedbackStageStats{}
}

// checkFeedbackQueue reads each agency's queue page by page and compares it with the open
// feedback the log leaves that agency, in order.
func checkFeedbackQueue(t *testing.T, s *scenario, tally feedbackTally) {
	ctx := context.Background()
	for _, agency := range []string{"", centre, building, justice, land} {
		want := 0
		for _, f := range tally.final {
			open := f.Status == domain.FeedbackStatusReceived || f.Status == domain.FeedbackStatusRouted ||
				f.Status == domain.FeedbackStatusAwaitingInformation || f.Status == domain.FeedbackStatusAnswered
			if open && (agency == "" || f.Agency == agency) {
				want++
			}
		}
		var got []projections.FeedbackRow
		page := projections.PageRequest{Limit: 3}
		for {
			p, err := projections.FeedbackQueueOf(ctx, s.db, scenarioScope(agency), s.End, page)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != want {
				t.Errorf("queue of %q: total %d, want %d", agency, p.Total, want)
			}
			got = append(got, p.Items...)
			if p.Next == "" {
				break
			}
			if page.After, err = projections.DecodeCursor(p.Next); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) != want {
			t.Errorf("queue of %q: %d rows paged, want %d", agency, len(got), want)
		}
		for i, row := range got {
			f := tally.final[row.ID]
			if row.Agency != f.Agency || row.Status != f.Status || (agency != "" && row.Agency != agency) {
				t.Errorf("queue of %q: row %+v, feedback %+v", agency, row, f)
			}
			if i > 0 && !queueOrdered(got[i-1], row) {
				t.Errorf("queue of %q: %s before %s", agency, got[i-1].LookupCode, row.LookupCode)
			}
			if row.Overdue != (!row.Due.IsZero() && s.End.After(row.Due)) {
				t.Errorf("queue of %q: %s overdue %v with limit %s", agency, row.LookupCode, row.Overdue, row.Due)
			}
		}
	}
}

// queueOrdered: soonest limit first, waits for the submitter last, then by code.
func queueOrdered(a, b projections.FeedbackRow) bool {
	switch {
	case a.Due.IsZero() && !b.Due.IsZero():
		return false
	case !a.Due.IsZero() && b.Due.IsZero():
		return true
	case !a.Due.Equal(b.Due):
		return a.Due.Before(b.Due)
	}
	return a.LookupCode < b.LookupCode
}
