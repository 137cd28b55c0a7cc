package commands

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/events/*.json from the examples")

// The code reservation is stored for ever like a dossier event (lookup reads it to resolve a code),
// so its payload is pinned by a golden file too (see domain/golden_test.go).
func TestGoldenCodeAllocatedPayload(t *testing.T) {
	path := filepath.Join("testdata", "events", TypeCodeAllocated+".json")
	got, err := json.Marshal(codeAllocated{Code: "000.00.01.H56-260302-0001", DossierID: "0b5e6a3c-1f2d-4e5f-8a9b-0c1d2e3f4a5b"})
	if err != nil {
		t.Fatal(err)
	}
	if *updateGolden {
		var indented bytes.Buffer
		_ = json.Indent(&indented, got, "", "\t")
		indented.WriteByte('\n')
		if err := os.WriteFile(path, indented.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, stored); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("%s now encodes as\n%s\nbut is stored as\n%s\na published event's stored shape must never change: add a new version with an upcaster",
			TypeCodeAllocated, got, want.Bytes())
	}
	dec := json.NewDecoder(bytes.NewReader(want.Bytes()))
	dec.DisallowUnknownFields()
	var decoded codeAllocated
	if err := dec.Decode(&decoded); err != nil {
		t.Fatalf("the stored %s no longer decodes: %v", TypeCodeAllocated, err)
	}
	if again, _ := json.Marshal(decoded); !bytes.Equal(again, want.Bytes()) {
		t.Fatalf("%s re-encodes as %s, not as stored %s", TypeCodeAllocated, again, want.Bytes())
	}
}
