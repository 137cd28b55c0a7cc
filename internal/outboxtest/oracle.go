package outboxtest

import (
	"testing"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/email"
)

// FoldLog folds every dossier of log from its events alone, calling each (when not nil) with
// every dossier event and its dossier before and after it, and returns the dossiers as they end.
func FoldLog(t testing.TB, log []eventstore.RecordedEvent, each func(re eventstore.RecordedEvent, e domain.Event, before, after domain.Dossier)) map[string]domain.Dossier {
	t.Helper()
	states := map[string]domain.Dossier{}
	for _, re := range log {
		if !domain.IsDossierEvent(re.Type) {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		before := states[re.Stream]
		after := domain.Evolve(before, e)
		states[re.Stream] = after
		if each != nil {
			each(re, e, before, after)
		}
	}
	return states
}

// ExpectedEmails computes, from the log alone, the e-mail each event calls for (its kind, by
// idempotency key): a supplement request, an apology, a ready result, a fee to pay, or any other
// change of the public status, to an applicant who gave an address. It restates the rules of
// email.Notifier.Plan on the events, so that the tests do not take the code they test as the
// oracle.
func ExpectedEmails(t testing.TB, log []eventstore.RecordedEvent) map[string]string {
	t.Helper()
	want := map[string]string{}
	hasEmail := map[string]bool{}
	FoldLog(t, log, func(re eventstore.RecordedEvent, e domain.Event, before, after domain.Dossier) {
		if after.Applicant.Email != "" {
			hasEmail[re.Stream] = true
		}
		if !hasEmail[re.Stream] {
			return
		}
		kind := ""
		switch e := e.(type) {
		case domain.SupplementRequested:
			kind = email.KindSupplementRequested
		case domain.ApologyIssued:
			kind = email.KindApology
		case domain.ResultReady:
			kind = email.KindResultReady
		case domain.FeeAssessed:
			if e.Total > 0 {
				kind = email.KindPaymentDue
			}
		}
		if kind == "" && before.Status != after.Status {
			kind = email.KindStatusChanged
		}
		if kind != "" {
			want[delivery.Key(email.DestinationName, re.ID.String(), kind)] = kind
		}
	})
	return want
}
