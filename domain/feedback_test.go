package domain_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

// The feedback examples happen around Tết 2026 (14–22/02/2026 off, regulations.md §4), so every
// limit counted over those days has to skip them.
var (
	feedbackID          = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	feedbackCode        = "PAKN-7K3M9-QX2WZ"
	feedbackReceivedAt  = vn(2026, time.February, 12, 10, 0) // Thursday before Tết
	feedbackRouteBy     = vn(2026, time.February, 23, 10, 0) // Fri 13/02 is one day, Mon 23/02 the second
	feedbackRoutedAt    = vn(2026, time.February, 13, 9, 0)  // Friday, the last working day before Tết
	feedbackRefuseBy    = vn(2026, time.February, 24, 9, 0)  // Fri 13, Mon 23, Tue 24
	feedbackAskBy       = vn(2026, time.February, 27, 9, 0)  // 5: 23, 24, 25, 26, 27
	feedbackAnswerBy    = vn(2026, time.March, 13, 9, 0)     // 15: five weeks of five after Tết, less nothing
	feedbackAnsweredAt  = vn(2026, time.March, 5, 14, 0)     // Thursday
	feedbackPublishBy   = vn(2026, time.March, 9, 14, 0)     // Fri 06, Mon 09
	feedbackSubmitter   = domain.FeedbackSubmitter{Name: "Nguyễn Văn An", Phone: "0912345678"}
	feedbackAgency      = "000.00.01.H56"
	feedbackResponsible = "000.00.10.H56"
)

func feedbackReceived() domain.FeedbackReceived {
	return domain.FeedbackReceived{FeedbackID: feedbackID, LookupCode: feedbackCode, Kind: domain.FeedbackComplaint,
		Source: domain.FeedbackFromPublic, DossierCode: dossierCode, Subject: "Hồ sơ trễ hẹn", Content: "Quá hẹn chưa có kết quả",
		Submitter: feedbackSubmitter, Agency: feedbackAgency, ReceivedAt: feedbackReceivedAt.UTC(), RouteBy: feedbackRouteBy.UTC(),
		CalendarVersion: cal.Version()}
}

func feedbackRouted() domain.FeedbackRouted {
	return domain.FeedbackRouted{Agency: feedbackResponsible, Note: "Thuộc thẩm quyền", RoutedAt: feedbackRoutedAt.UTC(),
		Due: feedbackRouteBy.UTC(), RefuseBy: feedbackRefuseBy.UTC(), AskBy: feedbackAskBy.UTC(), AnswerBy: feedbackAnswerBy.UTC(),
		CalendarVersion: cal.Version()}
}

func feedbackAsked(at time.Time) domain.FeedbackInformationRequested {
	return domain.FeedbackInformationRequested{Question: "Số biên nhận?", RequestedAt: at.UTC(), Due: feedbackAskBy.UTC()}
}

func feedbackAnswered() domain.FeedbackAnswered {
	return domain.FeedbackAnswered{Answer: "Đã giải quyết", AnsweredAt: feedbackAnsweredAt.UTC(), Due: feedbackAnswerBy.UTC(),
		PublishBy: feedbackPublishBy.UTC(), CalendarVersion: cal.Version()}
}

type feedbackCase struct {
	name  string
	given []domain.Event
	when  domain.FeedbackCommand
	then  []domain.Event
}

func TestFeedbackTransitions(t *testing.T) {
	receive := domain.ReceiveFeedback{FeedbackID: feedbackID, LookupCode: feedbackCode, Kind: domain.FeedbackComplaint,
		Source: domain.FeedbackFromPublic, DossierCode: dossierCode, Subject: "Hồ sơ trễ hẹn", Content: "Quá hẹn chưa có kết quả",
		Submitter: feedbackSubmitter, Agency: feedbackAgency, At: feedbackReceivedAt, Calendar: cal}
	imported := receive
	imported.Source, imported.ExternalID, imported.DossierCode = domain.FeedbackFromNational, "QG-2026-000123", ""
	importedEvent := feedbackReceived()
	importedEvent.Source, importedEvent.ExternalID, importedEvent.DossierCode = domain.FeedbackFromNational, "QG-2026-000123", ""

	askedAt := vn(2026, time.February, 24, 10, 0)
	suppliedAt := vn(2026, time.February, 26, 10, 0) // two working days later: the answer's limit moves by two
	afterRouting := []domain.Event{feedbackReceived(), feedbackRouted()}
	cases := []feedbackCase{
		{name: "receive from the public page", when: receive, then: []domain.Event{feedbackReceived()}},
		{name: "import from the national system", when: imported, then: []domain.Event{importedEvent}},
		{name: "route to the responsible agency", given: []domain.Event{feedbackReceived()},
			when: domain.RouteFeedback{Agency: feedbackResponsible, Note: "Thuộc thẩm quyền", At: feedbackRoutedAt, Calendar: cal},
			then: []domain.Event{feedbackRouted()}},
		{name: "refuse before routing: judged against the routing limit", given: []domain.Event{feedbackReceived()},
			when: domain.RefuseFeedback{Reason: "Không thuộc phạm vi", At: feedbackRoutedAt},
			then: []domain.Event{domain.FeedbackRefused{Reason: "Không thuộc phạm vi", RefusedAt: feedbackRoutedAt.UTC(), Due: feedbackRouteBy.UTC()}}},
		{name: "refuse after routing: judged against the responsible agency's own limit", given: afterRouting,
			when: domain.RefuseFeedback{Reason: "Không thuộc thẩm quyền", At: askedAt},
			then: []domain.Event{domain.FeedbackRefused{Reason: "Không thuộc thẩm quyền", RefusedAt: askedAt.UTC(), Due: feedbackRefuseBy.UTC()}}},
		{name: "ask for more information", given: afterRouting,
			when: domain.AskFeedbackInformation{Question: "Số biên nhận?", At: askedAt},
			then: []domain.Event{feedbackAsked(askedAt)}},
		{name: "the reply moves the answer's limit by the working time waited", given: append(afterRouting, feedbackAsked(askedAt)),
			when: domain.SupplyFeedbackInformation{Information: "000.00.01.H56-250314-0001", At: suppliedAt, Calendar: cal},
			then: []domain.Event{domain.FeedbackInformationSupplied{Information: "000.00.01.H56-250314-0001", SuppliedAt: suppliedAt.UTC(),
				AnswerBy: vn(2026, time.March, 17, 9, 0).UTC(), CalendarVersion: cal.Version()}}},
		{name: "answer", given: afterRouting,
			when: domain.AnswerFeedback{Answer: "Đã giải quyết", At: feedbackAnsweredAt, Calendar: cal},
			then: []domain.Event{feedbackAnswered()}},
		{name: "publish the answer", given: append(afterRouting, feedbackAnswered()),
			when: domain.PublishFeedback{At: feedbackPublishBy},
			then: []domain.Event{domain.FeedbackPublished{PublishedAt: feedbackPublishBy.UTC(), Due: feedbackPublishBy.UTC()}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.DecideFeedback(domain.FoldFeedback(tc.given...), tc.when)
			if err != nil {
				t.Fatalf("DecideFeedback(%s) = %v", tc.when.Action(), err)
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Errorf("DecideFeedback(%s)\n got: %+v\nwant: %+v", tc.when.Action(), got, tc.then)
			}
		})
	}
}

// Every action refused in every status that does not allow it, with a conflict.
func TestFeedbackRefusedTransitions(t *testing.T) {
	askedAt := vn(2026, time.February, 24, 10, 0)
	histories := map[domain.FeedbackStatus][]domain.Event{
		domain.FeedbackStatusNew:                 nil,
		domain.FeedbackStatusReceived:            {feedbackReceived()},
		domain.FeedbackStatusRouted:              {feedbackReceived(), feedbackRouted()},
		domain.FeedbackStatusAwaitingInformation: {feedbackReceived(), feedbackRouted(), feedbackAsked(askedAt)},
		domain.FeedbackStatusAnswered:            {feedbackReceived(), feedbackRouted(), feedbackAnswered()},
		domain.FeedbackStatusPublished: {feedbackReceived(), feedbackRouted(), feedbackAnswered(),
			domain.FeedbackPublished{PublishedAt: feedbackPublishBy.UTC(), Due: feedbackPublishBy.UTC()}},
		domain.FeedbackStatusRefused: {feedbackReceived(), domain.FeedbackRefused{Reason: "x", RefusedAt: feedbackRoutedAt.UTC()}},
	}
	commands := []domain.FeedbackCommand{
		domain.ReceiveFeedback{FeedbackID: feedbackID, LookupCode: feedbackCode, Kind: domain.FeedbackQuestion, Source: domain.FeedbackFromPublic,
			Subject: "s", Content: "c", Submitter: feedbackSubmitter, Agency: feedbackAgency, At: feedbackReceivedAt, Calendar: cal},
		domain.RouteFeedback{Agency: feedbackResponsible, At: askedAt, Calendar: cal},
		domain.AskFeedbackInformation{Question: "q", At: askedAt},
		domain.SupplyFeedbackInformation{Information: "i", At: askedAt, Calendar: cal},
		domain.AnswerFeedback{Answer: "a", At: askedAt, Calendar: cal},
		domain.PublishFeedback{At: askedAt},
		domain.RefuseFeedback{Reason: "r", At: askedAt},
	}
	for status, given := range histories {
		f := domain.FoldFeedback(given...)
		if f.Status != status {
			t.Fatalf("history of %q folds to %q", status, f.Status)
		}
		for _, c := range commands {
			allowed := false
			for _, s := range domain.FeedbackAllowed[c.Action()] {
				allowed = allowed || s == status
			}
			_, err := domain.DecideFeedback(f, c)
			var te *domain.FeedbackTransitionError
			switch {
			case allowed && err != nil:
				t.Errorf("%s in %q: %v, want it allowed", c.Action(), status, err)
			case !allowed && (!errors.As(err, &te) || te.Action != c.Action() || te.Status != status):
				t.Errorf("%s in %q = %v, want a *FeedbackTransitionError", c.Action(), status, err)
			case !allowed && domain.ErrorCodeOf(err) != domain.ECONFLICT:
				t.Errorf("%s in %q: code %s, want a conflict", c.Action(), status, domain.ErrorCodeOf(err))
			}
		}
	}
}

// Bad input is refused field by field, and nothing is decided.
func TestFeedbackInvalidInput(t *testing.T) {
	received := []domain.Event{feedbackReceived()}
	routed := []domain.Event{feedbackReceived(), feedbackRouted()}
	asked := append(routed[:2:2], feedbackAsked(feedbackAskBy))
	answered := append(routed[:2:2], feedbackAnswered())
	cases := []struct {
		name   string
		given  []domain.Event
		when   domain.FeedbackCommand
		fields []string
	}{
		{"receive with nothing", nil, domain.ReceiveFeedback{},
			[]string{"feedback_id", "lookup_code", "kind", "source", "subject", "content", "submitter.name", "agency", "at", "calendar"}},
		{"a public feedback with a national id, a bad dossier code", nil, domain.ReceiveFeedback{FeedbackID: feedbackID, LookupCode: "PAKN-00000-00000",
			Kind: domain.FeedbackPetition, Source: domain.FeedbackFromPublic, ExternalID: "x", DossierCode: "not-a-code", Subject: "s", Content: "c",
			Submitter: feedbackSubmitter, Agency: feedbackAgency, At: feedbackReceivedAt, Calendar: cal},
			[]string{"lookup_code", "external_id", "dossier_code"}},
		{"an import without the national id", nil, domain.ReceiveFeedback{FeedbackID: feedbackID, LookupCode: feedbackCode,
			Kind: domain.FeedbackPetition, Source: domain.FeedbackFromNational, Subject: "s", Content: "c",
			Submitter: feedbackSubmitter, Agency: feedbackAgency, At: feedbackReceivedAt, Calendar: cal},
			[]string{"external_id"}},
		{"route nowhere", received, domain.RouteFeedback{At: feedbackRoutedAt, Calendar: cal}, []string{"agency"}},
		{"ask nothing", routed, domain.AskFeedbackInformation{At: feedbackRoutedAt}, []string{"question"}},
		{"reply nothing", asked, domain.SupplyFeedbackInformation{At: feedbackRoutedAt, Calendar: cal}, []string{"information"}},
		{"answer nothing", routed, domain.AnswerFeedback{At: feedbackRoutedAt, Calendar: cal}, []string{"answer"}},
		{"publish at no time", answered, domain.PublishFeedback{}, []string{"at"}},
		{"refuse without a reason", received, domain.RefuseFeedback{At: feedbackRoutedAt}, []string{"reason"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events, err := domain.DecideFeedback(domain.FoldFeedback(tc.given...), tc.when)
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.EINVALID || events != nil {
				t.Fatalf("= %v, %v; want EINVALID and no events", events, err)
			}
			var got []string
			for _, f := range de.Fields {
				got = append(got, f.Field)
			}
			if !reflect.DeepEqual(got, tc.fields) {
				t.Errorf("fields at fault %v, want %v", got, tc.fields)
			}
		})
	}
}

// Each of the four QĐ 766 group 5 limits, computed across Tết 2026, and an act one working minute
// before it is on time, one after it late: the limit is recorded by the event that starts its
// clock and copied into the event judged against it.
func TestFeedbackDeadlinesAroundTheLimit(t *testing.T) {
	minute := time.Minute
	type limit struct {
		name  string
		given []domain.Event
		act   func(at time.Time) domain.FeedbackCommand
		due   time.Time
	}
	receivedOnly := []domain.Event{feedbackReceived()}
	routed := []domain.Event{feedbackReceived(), feedbackRouted()}
	answered := []domain.Event{feedbackReceived(), feedbackRouted(), feedbackAnswered()}
	limits := []limit{
		{"route within 2 working days", receivedOnly, func(at time.Time) domain.FeedbackCommand {
			return domain.RouteFeedback{Agency: feedbackResponsible, At: at, Calendar: cal}
		}, feedbackRouteBy},
		{"refuse within 2 working days of routing", routed, func(at time.Time) domain.FeedbackCommand {
			return domain.RefuseFeedback{Reason: "r", At: at}
		}, feedbackRefuseBy},
		{"ask within 5 working days", routed, func(at time.Time) domain.FeedbackCommand {
			return domain.AskFeedbackInformation{Question: "q", At: at}
		}, feedbackAskBy},
		{"answer within 15 working days", routed, func(at time.Time) domain.FeedbackCommand {
			return domain.AnswerFeedback{Answer: "a", At: at, Calendar: cal}
		}, feedbackAnswerBy},
		{"publish within 2 working days", answered, func(at time.Time) domain.FeedbackCommand {
			return domain.PublishFeedback{At: at}
		}, feedbackPublishBy},
	}
	for _, l := range limits {
		t.Run(l.name, func(t *testing.T) {
			before, after := cal.AddWorkingTime(l.due, -minute), cal.AddWorkingTime(l.due, minute)
			for _, c := range []struct {
				at     time.Time
				onTime bool
			}{{before, true}, {l.due, true}, {after, false}} {
				events, err := domain.DecideFeedback(domain.FoldFeedback(l.given...), l.act(c.at))
				if err != nil {
					t.Fatal(err)
				}
				due := dueOf(t, events[0])
				if !due.Equal(l.due) {
					t.Fatalf("recorded limit %s, want %s", due, l.due)
				}
				if got := domain.FeedbackOnTime(c.at, due); got != c.onTime {
					t.Errorf("act at %s: on time %v, want %v", c.at.In(domain.VietnamTime), got, c.onTime)
				}
			}
		})
	}
	// The route limit falls on the first day after Tết: a minute before it is 09:59 on Monday
	// 23/02, not a day of the break.
	if before := cal.AddWorkingTime(feedbackRouteBy, -minute); !before.Equal(vn(2026, time.February, 23, 9, 59)) {
		t.Errorf("a working minute before the route limit is %s", before)
	}
	// And a minute before the start of that day is the end of Friday 13/02, across the break.
	if before := cal.AddWorkingTime(vn(2026, time.February, 23, 7, 31), -2*minute); !before.Equal(vn(2026, time.February, 13, 16, 59)) {
		t.Errorf("two working minutes before 07:31 on 23/02 is %s, want 16:59 on 13/02", before)
	}
}

func dueOf(t *testing.T, e domain.Event) time.Time {
	t.Helper()
	switch e := e.(type) {
	case domain.FeedbackRouted:
		return e.Due
	case domain.FeedbackRefused:
		return e.Due
	case domain.FeedbackInformationRequested:
		return e.Due
	case domain.FeedbackAnswered:
		return e.Due
	case domain.FeedbackPublished:
		return e.Due
	}
	t.Fatalf("%T judges no limit", e)
	return time.Time{}
}

// Folding the whole history gives the state the pages show.
func TestEvolveFeedback(t *testing.T) {
	askedAt := vn(2026, time.February, 24, 10, 0)
	supplied := domain.FeedbackInformationSupplied{Information: "i", SuppliedAt: askedAt.Add(time.Hour).UTC(), AnswerBy: feedbackAnswerBy.Add(time.Hour).UTC()}
	f := domain.FoldFeedback(feedbackReceived(), feedbackRouted(), feedbackAsked(askedAt), supplied, feedbackAnswered(),
		domain.FeedbackPublished{PublishedAt: feedbackPublishBy.UTC(), Due: feedbackPublishBy.UTC()})
	if f.Status != domain.FeedbackStatusPublished || f.Agency != feedbackResponsible || f.Answer != "Đã giải quyết" ||
		len(f.InformationRounds) != 1 || f.InformationRounds[0].Information != "i" || !f.AnswerBy.Equal(supplied.AnswerBy) ||
		!f.PublishedAt.Equal(feedbackPublishBy) || f.LookupCode != feedbackCode {
		t.Errorf("folded %+v", f)
	}
	if !domain.ValidFeedbackLookupCode(domain.NewFeedbackLookupCode()) || domain.ValidFeedbackLookupCode("PAKN-0OIL1-AAAAA") {
		t.Error("lookup codes")
	}
}
