package l10n_test

import (
	"testing"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/l10n"
	"github.com/motcua/motcua/projections"
)

// Every code a read model, the API or a page carries has its words in both languages: a missing
// one would show the bare code to a citizen or in an inspector's CSV.
func TestEveryCodeHasWords(t *testing.T) {
	var keys []string
	for _, s := range domain.AllStatuses {
		keys = append(keys, "status."+string(s))
	}
	for _, c := range []domain.Channel{domain.ChannelDirect, domain.ChannelOnline, domain.ChannelPostal} {
		keys = append(keys, "channel."+string(c))
	}
	for _, c := range domain.Criteria {
		keys = append(keys, "criterion."+string(c))
	}
	for _, v := range []domain.RatingLevel{domain.VerySatisfied, domain.Satisfied, domain.Dissatisfied} {
		keys = append(keys, "level."+string(v))
	}
	for _, r := range commands.Roles {
		keys = append(keys, "role."+string(r))
	}
	for _, v := range []projections.Verdict{projections.VerdictEarly, projections.VerdictOnTime, projections.VerdictLate} {
		keys = append(keys, "verdict."+string(v))
	}
	for _, g := range []projections.Grade{projections.GradeExcellent, projections.GradeGood, projections.GradeFair, projections.GradeAverage, projections.GradeWeak} {
		keys = append(keys, "grade."+string(g))
	}
	keys = append(keys, "role.applicant", "step.reception", "step.return")
	for _, k := range keys {
		if !l10n.Has(k) {
			t.Errorf("no Vietnamese and English words for %q", k)
		}
	}
}

// The postal channel reads the same in the register CSV and on the pages: one catalogue.
func TestOneWordPerCode(t *testing.T) {
	if got := l10n.VI.Channel(domain.ChannelPostal); got != "Qua dịch vụ bưu chính công ích" {
		t.Errorf("postal channel in Vietnamese = %q", got)
	}
	if got := l10n.EN.Status(domain.StatusResultReturned); got != "Result returned" {
		t.Errorf("result returned in English = %q", got)
	}
	if got := l10n.VI.Status("no_such_status"); got != "no_such_status" {
		t.Errorf("an unknown code shows as %q, want the code itself", got)
	}
}

// Every code of the feedback (complaints and petitions) has its words: kinds, statuses, actions,
// stages, the QĐ 766 group 5 indicators, event types.
func TestEveryFeedbackCodeHasWords(t *testing.T) {
	var keys []string
	for _, k := range domain.FeedbackKinds {
		keys = append(keys, "feedback_kind."+string(k))
	}
	for _, s := range domain.FeedbackStatuses {
		keys = append(keys, "feedback_status."+string(s))
	}
	for a := range domain.FeedbackAllowed {
		if a != domain.ActionFeedbackReceive {
			keys = append(keys, "feedback_action."+string(a))
		}
	}
	for _, s := range projections.FeedbackStages {
		keys = append(keys, "feedback_stage."+string(s))
	}
	keys = append(keys, "indicator.5.1", "indicator.5.2", "indicator.5.3", "indicator.5.4", "indicator.complaint_rate")
	keys = append(keys, domain.FeedbackAggregate.EventTypes()...)
	for _, k := range keys {
		if !l10n.Has(k) {
			t.Errorf("no Vietnamese and English words for %q", k)
		}
	}
}
