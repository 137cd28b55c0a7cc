package commands_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

const responsible = "000.00.10.H56"

var (
	feedbackHead = commands.Caller{ID: "ld1", Name: "Trần Văn Lãnh", Roles: []commands.Role{commands.RoleHead}, Agency: responsible}
	otherHead    = commands.Caller{ID: "ld2", Name: "Phạm Thị Khác", Roles: []commands.Role{commands.RoleHead}, Agency: "000.00.06.H56"}
	deskHead     = commands.Caller{ID: "ld0", Name: "Lê Văn Bàn", Roles: []commands.Role{commands.RoleHead, commands.RoleReception}, Agency: centre}
)

func petition() commands.FeedbackSubmission {
	return commands.FeedbackSubmission{Kind: domain.FeedbackPetition, Agency: centre, Subject: "Thủ tục rườm rà",
		Content: "Đề nghị bỏ bản sao chứng thực", Submitter: domain.FeedbackSubmitter{Name: "Nguyễn Văn An", Phone: "0912345678"}}
}

// A public feedback goes the whole way through the use cases, each act by the agency holding it,
// and the stream is the feedback's own: feedback-<id derived from the code>.
func TestFeedbackThroughTheUseCases(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, domain.VietnamTime)
	app, store := newApp(t, now)
	res, err := app.SubmitFeedback(ctx, petition())
	if err != nil {
		t.Fatal(err)
	}
	if !domain.ValidFeedbackLookupCode(res.LookupCode) || res.FeedbackID != commands.FeedbackIDOf(res.LookupCode) ||
		res.Status != domain.FeedbackStatusReceived || res.Version != 1 {
		t.Fatalf("submitted %+v", res)
	}
	if !res.Feedback.RouteBy.Equal(time.Date(2026, 3, 4, 9, 0, 0, 0, domain.VietnamTime)) {
		t.Errorf("route by %s, want two working days on", res.Feedback.RouteBy)
	}
	// The responsible agency cannot act before it holds it; the desk can route it.
	if _, err := app.ExecuteFeedback(ctx, feedbackHead, res.LookupCode, nil, commands.RefuseFeedbackInput{Reason: "x"}); domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
		t.Fatalf("another agency refusing: %v", err)
	}
	steps := []struct {
		caller commands.Caller
		in     commands.FeedbackInput
		status domain.FeedbackStatus
	}{
		{deskHead, commands.RouteFeedbackInput{Agency: responsible}, domain.FeedbackStatusRouted},
		{feedbackHead, commands.AskFeedbackInput{Question: "Thủ tục nào?"}, domain.FeedbackStatusAwaitingInformation},
	}
	for _, s := range steps {
		r, err := app.ExecuteFeedback(ctx, s.caller, res.LookupCode, nil, s.in)
		if err != nil || r.Status != s.status {
			t.Fatalf("%s = %+v, %v", s.in.Action(), r, err)
		}
	}
	if _, err := app.SupplyFeedbackPublic(ctx, res.LookupCode, commands.SupplyFeedbackInput{Information: "Cấp giấy phép xây dựng"}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.ExecuteFeedback(ctx, otherHead, res.LookupCode, nil, commands.AnswerFeedbackInput{Answer: "x"}); domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
		t.Fatalf("an agency that never held it answering: %v", err)
	}
	if _, _, err := app.LoadFeedbackIfReadable(ctx, otherHead, res.LookupCode); domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
		t.Fatalf("an agency that never held it reading: %v", err)
	}
	if _, err := app.ExecuteFeedback(ctx, deskHead, res.LookupCode, nil, commands.AnswerFeedbackInput{Answer: "x"}); domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
		t.Fatalf("the desk answering what it routed away: %v", err)
	}
	for _, in := range []commands.FeedbackInput{commands.AnswerFeedbackInput{Answer: "Đã tiếp thu"}, commands.PublishFeedbackInput{}} {
		if _, err := app.ExecuteFeedback(ctx, feedbackHead, res.LookupCode, nil, in); err != nil {
			t.Fatalf("%s: %v", in.Action(), err)
		}
	}
	f, recorded, err := app.LoadFeedback(ctx, res.LookupCode)
	if err != nil || f.Status != domain.FeedbackStatusPublished || len(recorded) != 6 {
		t.Fatalf("loaded %+v (%d events), %v", f, len(recorded), err)
	}
	if recorded[0].Stream != "feedback-"+res.FeedbackID || recorded[1].Metadata.Actor.ID != deskHead.ID || recorded[3].Metadata.Actor.Role != "public" {
		t.Errorf("stream %s, actors %+v %+v", recorded[0].Stream, recorded[1].Metadata.Actor, recorded[3].Metadata.Actor)
	}
	// The dossier streams are untouched: the log of codes and dossiers holds nothing of it.
	all, err := store.ReadAll(ctx, eventstore.Start, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if !domain.FeedbackAggregate.Holds(e.Stream, e.Type) {
			t.Errorf("event %s on %s", e.Type, e.Stream)
		}
	}
}

// Importing the same national feedback twice records it once.
func TestFeedbackImportIsIdempotent(t *testing.T) {
	ctx := context.Background()
	app, _ := newApp(t, time.Date(2026, 3, 2, 9, 0, 0, 0, domain.VietnamTime))
	in := petition()
	in.ExternalID = "QG-2026-000777"
	const racers = 8
	results := make([]commands.FeedbackResult, racers)
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { results[i], errs[i] = app.ImportFeedback(ctx, reception, in) })
	}
	wg.Wait()
	written := 0
	for i := range racers {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if results[i].FeedbackID != results[0].FeedbackID || results[i].Version != 1 {
			t.Errorf("import %d: %+v", i, results[i])
		}
		if !results[i].Replayed {
			written++
		}
	}
	if written != 1 {
		t.Errorf("%d imports wrote, want 1", written)
	}
	if _, err := app.ImportFeedback(ctx, feedbackHead, in); domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
		t.Errorf("a head importing: %v", err)
	}
}

// Two officials answering and refusing at once: one wins, the other meets a conflict.
func TestFeedbackConcurrentConflictingActions(t *testing.T) {
	ctx := context.Background()
	app, _ := newApp(t, time.Date(2026, 3, 2, 9, 0, 0, 0, domain.VietnamTime))
	res, err := app.SubmitFeedback(ctx, petition())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.ExecuteFeedback(ctx, deskHead, res.LookupCode, nil, commands.RouteFeedbackInput{Agency: responsible}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() {
		_, errs[0] = app.ExecuteFeedback(ctx, feedbackHead, res.LookupCode, nil, commands.AnswerFeedbackInput{Answer: "Trả lời"})
	})
	wg.Go(func() {
		_, errs[1] = app.ExecuteFeedback(ctx, feedbackHead, res.LookupCode, nil, commands.RefuseFeedbackInput{Reason: "Từ chối"})
	})
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("answer %v, refuse %v: want exactly one to win", errs[0], errs[1])
	}
	for _, err := range errs {
		if err != nil && domain.ErrorCodeOf(err) != domain.ECONFLICT {
			t.Errorf("the loser got %v, want a conflict", err)
		}
	}
	stale := uint64(2)
	if _, err := app.ExecuteFeedback(ctx, feedbackHead, res.LookupCode, &stale, commands.PublishFeedbackInput{}); err == nil ||
		(domain.ErrorCodeOf(err) != domain.EPRECONDITION && domain.ErrorCodeOf(err) != domain.ECONFLICT) {
		t.Errorf("acting on a stale version: %v", err)
	}
}

// A submission that names no agency goes to the agency deciding the dossier it names, or to the
// province's desk; with neither it is refused, naming the field.
func TestFeedbackReceivingAgency(t *testing.T) {
	ctx := context.Background()
	app, _ := newApp(t, time.Date(2026, 3, 2, 9, 0, 0, 0, domain.VietnamTime))
	received, err := app.Receive(ctx, reception, receiptInput("Nguyễn Thị Hồ Sơ"))
	if err != nil {
		t.Fatal(err)
	}
	in := petition()
	in.Agency, in.DossierCode = "", received.Code
	res, err := app.SubmitFeedback(ctx, in)
	if err != nil || res.Feedback.Agency != received.Dossier.CompetentAgency || string(res.Feedback.DossierCode) != received.Code {
		t.Fatalf("about a dossier: %+v, %v", res.Feedback, err)
	}
	in.DossierCode = ""
	var de *domain.Error
	if _, err := app.SubmitFeedback(ctx, in); !errors.As(err, &de) || len(de.Fields) != 1 || de.Fields[0].Field != "agency" {
		t.Fatalf("about nothing, without a desk: %v", err)
	}
	app.FeedbackDesk = centre
	if res, err := app.SubmitFeedback(ctx, in); err != nil || res.Feedback.Agency != centre {
		t.Fatalf("about nothing, with a desk: %+v, %v", res.Feedback, err)
	}
	in.Agency = "999.99.99.Z99"
	if _, err := app.SubmitFeedback(ctx, in); !errors.As(err, &de) || de.Fields[0].Field != "agency" {
		t.Fatalf("an unknown agency: %v", err)
	}
}
