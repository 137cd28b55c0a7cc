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

// Events recorded before the choice existed have no "notify" member: they decode as not stated,
// the default applies (e-mail if an address was given, SMS if a phone was), and they encode back
// to the same bytes. A stated choice — also an empty one, "nothing please" — survives the round
// trip.
func TestNotifyChoiceOfOlderEventsIsTheDefault(t *testing.T) {
	stored, err := os.ReadFile(filepath.Join("testdata", "events", "dossier.received.v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The payload as it was stored before: without the member.
	notify := []byte(",\n\t\t\"notify\": [\n\t\t\t\"email\",\n\t\t\t\"sms\",\n\t\t\t\"zalo\"\n\t\t]")
	if !bytes.Contains(stored, notify) {
		t.Fatal("the golden payload's notify member is not where the test looks")
	}
	old := bytes.Replace(stored, notify, nil, 1)
	decoded, err := domain.DecodeEvent(domain.TypeReceived, old)
	if err != nil {
		t.Fatal(err)
	}
	a := decoded.(domain.Received).Applicant
	if a.Notify.Stated || !slices.Equal(a.Notifications().Names(), []string{"email", "sms"}) {
		t.Fatalf("an older applicant reads as %+v, notified by %v", a.Notify, a.Notifications().Names())
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, old); err != nil {
		t.Fatal(err)
	}
	if _, again, err := domain.EncodeEvent(decoded); err != nil || !bytes.Equal(again, compact.Bytes()) {
		t.Fatalf("an older event encodes as\n%s\nnot\n%s (%v)", again, old, err)
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
