package shred

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// The fuzz target runs for a few seconds in CI (scripts/test.sh); locally, e.g.
//
//	go test -run='^$' -fuzz='^FuzzSealAndOpen$' -fuzztime=1m ./eventstore/shred

// Whatever payload an event carries, sealing it and opening the result gives back exactly the
// appended bytes, and a stored payload that was never sealed reads unchanged: the decorator never
// loses, reorders or invents a byte of an event.
func FuzzSealAndOpen(f *testing.F) {
	for _, seed := range []string{
		`{"dossier_id":"d1","applicant":{"type":"citizen","name":"Nguyễn Văn An","id_number":"038012345678"},"code":"x"}`,
		`{"applicant":"Nguyễn Văn An"}`, `{"applicant":null}`, `{"applicant":{"sealed":{"alg":"A256GCM","kid":"k"}}}`,
		`{"applicant":{"id_number":1},"applicant":{"name":"B"}}`, `{ "applicant" : [1, {"a":"b"}] , "x":"\u00e9"}`, `[]`, `"x"`, `{}`, `{"a":`,
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	keys, err := OpenSQLKeys(context.Background(), store.DB())
	if err != nil {
		f.Fatal(err)
	}
	s := Wrap(store, keys, PersonalData{Fields: map[string]string{"received": "applicant", "submitted": "applicant"}, Erased: "[erased]"})
	f.Fuzz(func(t *testing.T, payload string, submitted bool) {
		ctx := context.Background()
		event := eventstore.EventData{ID: eventstore.NewEventID(), Type: "received", Data: []byte(payload)}
		if submitted {
			event.Type = "submitted"
		}
		sealed, err := s.seal(ctx, event)
		if err != nil {
			return // refused before anything is stored
		}
		if containsForeignEnvelope(payload) {
			// An envelope made elsewhere (an event copied from another store) is kept as it is; reading
			// it opens it or says why not.
			if !bytes.Equal(sealed, event.Data) {
				t.Fatalf("an envelope was sealed again:\n%s\n%s", event.Data, sealed)
			}
			return
		}
		recorded := eventstore.RecordedEvent{EventData: event, Stream: "dossier-fuzz", Version: 1}
		recorded.Data = sealed
		opened, err := s.open(ctx, recorded)
		if err != nil {
			t.Fatalf("a payload does not read back: %v\n%s", err, sealed)
		}
		if !bytes.Equal(opened.Data, event.Data) {
			t.Fatalf("payload changed on the way through:\n%s\n%s", event.Data, opened.Data)
		}
	})
}

// containsForeignEnvelope reports whether a payload arrived holding an envelope-shaped applicant,
// which the decorator leaves as it is and tries to open on read.
func containsForeignEnvelope(payload string) bool {
	spans, err := fieldValues([]byte(payload), "applicant")
	if err != nil {
		return false
	}
	for _, sp := range spans {
		if isSealed([]byte(payload)[sp.start:sp.end]) {
			return true
		}
	}
	return false
}
