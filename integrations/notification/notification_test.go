package notification_test

import (
	"testing"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/notification"
)

// Every channel plans the same kind for an event, and only for an applicant who chose it — or,
// with no choice stated, by the default: e-mail with an address, SMS with a phone, never Zalo —
// and gave what it needs.
func TestEachChannelPlansTheSameKindForTheApplicantsWhoChoseIt(t *testing.T) {
	change := delivery.Change{Event: domain.SupplementRequested{MissingItems: []string{"Bản vẽ"}, Reason: "Thiếu", RequestNumber: 1}}
	for name, tc := range map[string]struct {
		contact delivery.Contact
		want    map[domain.NotifyChannel]bool
	}{
		"no choice, both given":        {delivery.Contact{Email: true, Phone: true}, map[domain.NotifyChannel]bool{domain.NotifyEmail: true, domain.NotifySMS: true}},
		"no choice, a phone only":      {delivery.Contact{Phone: true}, map[domain.NotifyChannel]bool{domain.NotifySMS: true}},
		"only Zalo":                    {delivery.Contact{Email: true, Phone: true, Notify: domain.ParseNotify([]string{"zalo"})}, map[domain.NotifyChannel]bool{domain.NotifyZalo: true}},
		"nothing":                      {delivery.Contact{Email: true, Phone: true, Notify: domain.ParseNotify(nil)}, nil},
		"SMS chosen, the phone erased": {delivery.Contact{Notify: domain.ParseNotify([]string{"sms", "email"})}, nil},
	} {
		change.Contact = tc.contact
		for _, channel := range []domain.NotifyChannel{domain.NotifyEmail, domain.NotifySMS, domain.NotifyZalo} {
			got := notification.PlanFor(channel, change)
			want := ""
			if tc.want[channel] {
				want = notification.KindSupplementRequested
			}
			if got != want {
				t.Errorf("%s, %s: planned %q, want %q", name, channel, got, want)
			}
		}
	}
	// A transfer inside the agency changes no public status: nothing, on any channel.
	transfer := delivery.Change{Event: domain.Transferred{}, Before: domain.Dossier{Status: domain.StatusProcessing},
		After: domain.Dossier{Status: domain.StatusProcessing}, Contact: delivery.Contact{Email: true, Phone: true}}
	if kind := notification.Plan(transfer); kind != "" {
		t.Errorf("a transfer planned %q", kind)
	}
}
