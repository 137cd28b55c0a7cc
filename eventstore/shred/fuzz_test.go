package shred

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
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

// canonicalSealed, the fast path for envelopes as seal writes them, reads whatever it accepts
// exactly as the general decoding does (hasSealedMember, then encoding/json), and accepts what
// seal writes.
func FuzzCanonicalSealedReadsAsDecoded(f *testing.F) {
	key, err := NewKey()
	if err != nil {
		f.Fatal(err)
	}
	for _, object := range []bool{true, false} {
		env, err := encrypt(key, []byte(`{"name":"An"}`), associatedData("e", "received"))
		if err != nil {
			f.Fatal(err)
		}
		env.Object = object
		for _, typ := range []json.RawMessage{nil, json.RawMessage(`"citizen"`)} {
			written, err := json.Marshal(sealed{Type: typ, Sealed: env})
			if err != nil {
				f.Fatal(err)
			}
			if _, ok := canonicalSealed(written); !ok {
				f.Fatalf("the fast path refuses what seal writes: %s", written)
			}
			f.Add(written)
		}
	}
	for _, seed := range []string{`{"type":"citizen","sealed":{"alg":"A256GCM","kid":"k","nonce":"AAAA","ct":"=A=="}}`,
		`{"type":"c","sealed":{"alg":"A","kid":"k","nonce":"","ct":"","object":true}}x`, `{"sealed":{"alg":"\u0041","kid":"k","nonce":"","ct":""}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fast, ok := canonicalSealed(raw)
		if !ok {
			return
		}
		var decoded sealed
		if !hasSealedMember(raw) || json.Unmarshal(raw, &decoded) != nil || decoded.Sealed == nil {
			t.Fatalf("the fast path accepts what the general decoding refuses: %s", raw)
		}
		if !reflect.DeepEqual(fast, decoded) {
			t.Fatalf("%s reads\n%+v %+v by the fast path,\n%+v %+v decoded", raw, fast, *fast.Sealed, decoded, *decoded.Sealed)
		}
	})
}
