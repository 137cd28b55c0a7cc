package domain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/motcua/motcua/domain"
)

// The applicant's choice of channels is checked where the dossier is received: a name that is no
// channel, or a channel without what it needs (SMS and Zalo a phone, e-mail an address), is a 400
// naming applicant.notify.
func TestNotifyChoiceIsValidatedWithTheApplicant(t *testing.T) {
	base := domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn An", IDNumber: "038012345678"}
	for name, tc := range map[string]struct {
		phone, email string
		notify       []string
		ok           bool
	}{
		"sms and zalo with a phone": {phone: "0912 345 678", notify: []string{"sms", "zalo"}, ok: true},
		"nothing at all":            {phone: "0912 345 678", notify: []string{}, ok: true},
		"not a channel":             {phone: "0912 345 678", notify: []string{"sms", "fax"}},
		"sms without a phone":       {email: "an@example.vn", notify: []string{"sms"}},
		"zalo without a phone":      {email: "an@example.vn", notify: []string{"zalo"}},
		"email without an address":  {phone: "0912 345 678", notify: []string{"email"}},
	} {
		a := base
		a.Phone, a.Email, a.Notify = tc.phone, tc.email, domain.ParseNotify(tc.notify)
		var v domain.Validation
		a.Validate(&v, "applicant")
		err := v.Err()
		if tc.ok != (err == nil) {
			t.Fatalf("%s: %v", name, err)
		}
		var de *domain.Error
		if err != nil && (!errors.As(err, &de) || len(de.Fields) != 1 || de.Fields[0].Field != "applicant.notify") {
			t.Fatalf("%s: %v, want one error on applicant.notify", name, err)
		}
	}
}

// Events recorded before the choice existed have no "notify" member (testdata/older-events, which
// TestOlderPayloadsStillDecodeUnchanged re-encodes byte for byte; the submission stored before
// external_code is older still): they decode as
// not stated, and the default applies — e-mail if an address was given, SMS if a phone was. A
// stated choice, also an empty one ("nothing, please"), survives the round trip.
func TestNotifyChoiceOfOlderEventsIsTheDefault(t *testing.T) {
	var a domain.Applicant
	for eventType, file := range map[string]string{domain.TypeSubmitted: "dossier.submitted.v1.before-external-code.json",
		domain.TypeReceived: "dossier.received.v1.before-notify.json"} {
		stored, err := os.ReadFile(filepath.Join("testdata", "older-events", file))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, []byte(`"notify"`)) {
			t.Fatalf("the older %s payload has a notify member", eventType)
		}
		decoded, err := domain.DecodeEvent(eventType, stored)
		if err != nil {
			t.Fatal(err)
		}
		a = domain.Evolve(domain.Dossier{}, decoded).Applicant
		if a.Notify.Stated || !slices.Equal(a.Notifications().Names(), []string{"email", "sms"}) {
			t.Fatalf("an older %s applicant reads as %+v, notified by %v", eventType, a.Notify, a.Notifications().Names())
		}
	}
	a.Email = ""
	if got := a.Notifications().Names(); !slices.Equal(got, []string{"sms"}) {
		t.Fatalf("without an address the default is %v", got)
	}
	for _, names := range [][]string{{}, {"zalo"}, {"email", "sms", "zalo"}} {
		a.Notify = domain.ParseNotify(names)
		raw, _ := json.Marshal(a)
		var back domain.Applicant
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if back != a || !slices.Equal(back.Notifications().Names(), names) {
			t.Fatalf("%v round-trips as %+v (%s)", names, back.Notify, raw)
		}
	}
}
