package shred

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// personalData is what cmd/motcua passes the shredder: the domain's locator of applicants' data.
var personalData = PersonalData{Fields: domain.ApplicantFields(), Erased: domain.ErasedName, SubjectMembers: domain.PersonalSubjectMembers()}

// Every field the shredder seals exists, once, in its event type's stored payload, as the applicant
// object whose type the envelope keeps and whose identity number picks the key.
func TestPersonalFieldsExistInGoldenPayloads(t *testing.T) {
	payloads := domaintest.GoldenEvents(t)
	for eventType, field := range personalData.Fields {
		payload, ok := payloads[eventType]
		if !ok {
			t.Errorf("the shredder seals %q of %s, which has no golden payload", field, eventType)
			continue
		}
		spans, err := fieldValues(payload, field)
		if err != nil || len(spans) != 1 {
			t.Errorf("%s: the golden payload has %d members %q (%v), want 1", eventType, len(spans), field, err)
			continue
		}
		var applicant struct {
			Type     string `json:"type"`
			IDNumber string `json:"id_number"`
		}
		value := payload[spans[0].start:spans[0].end]
		if member, keyedByMember := personalData.SubjectMembers[eventType]; keyedByMember {
			// A person with no identity number (a complaint's sender): keyed by a member in clear.
			if spans, err := fieldValues(payload, member); err != nil || len(spans) != 1 || json.Unmarshal(value, new(map[string]any)) != nil {
				t.Errorf("%s: want an object %q and one member %q keying it (%v)", eventType, field, member, err)
			}
			continue
		}
		if err := json.Unmarshal(value, &applicant); err != nil || applicant.Type == "" || applicant.IDNumber == "" {
			t.Errorf("%s: %q is %s, want an object with a type and an id_number (%v)", eventType, field, value, err)
		}
	}
}

// Appended through the shredder to a real store, no golden payload leaves any of an applicant's
// identity data in clear in the stored bytes — so an event type that starts carrying an applicant
// without joining domain.ApplicantFields fails here — and every payload reads back exactly as appended.
func TestGoldenPayloadsStoreNoApplicantDataInClear(t *testing.T) {
	ctx := context.Background()
	inner, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	keys, err := OpenSQLKeys(ctx, inner.DB())
	if err != nil {
		t.Fatal(err)
	}
	store := Wrap(inner, keys, personalData)
	sealedSome := false
	for eventType, payload := range domaintest.GoldenEvents(t) {
		stream := "golden-" + eventType
		if _, err := store.Append(ctx, stream, eventstore.NoStream, eventstore.EventData{ID: eventstore.NewEventID(), Type: eventType, Data: payload}); err != nil {
			t.Fatalf("%s: %v", eventType, err)
		}
		stored, err := inner.ReadStream(ctx, stream, 1)
		if err != nil || len(stored) != 1 {
			t.Fatalf("%s: read %d events: %v", eventType, len(stored), err)
		}
		for _, personal := range applicantData(t, payload) {
			if bytes.Contains(stored[0].Data, []byte(personal)) {
				t.Errorf("%s stores the applicant's %q in clear:\n%s", eventType, personal, stored[0].Data)
			}
			sealedSome = true
		}
		read, err := store.ReadStream(ctx, stream, 1)
		if err != nil || len(read) != 1 || !bytes.Equal(read[0].Data, payload) {
			t.Fatalf("%s reads back as %v (%v), want\n%s", eventType, read, err, payload)
		}
	}
	if !sealedSome {
		t.Fatal("no golden payload carries an applicant: the test proves nothing")
	}
}

// applicantData returns the identity strings of every applicant-like member of a payload: a
// top-level object with an id_number, all its text but its type.
func applicantData(t *testing.T, payload []byte) []string {
	t.Helper()
	var members map[string]json.RawMessage
	if err := json.Unmarshal(payload, &members); err != nil {
		t.Fatal(err)
	}
	var personal []string
	for _, raw := range members {
		var object map[string]any
		if json.Unmarshal(raw, &object) != nil || object["id_number"] == nil {
			continue
		}
		for name, value := range object {
			if text, ok := value.(string); ok && name != "type" && text != "" {
				personal = append(personal, text)
			}
		}
	}
	return personal
}
