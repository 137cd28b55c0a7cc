// Package golden keeps the pinned JSON files that tests compare stored and served bytes with
// (event payloads in domain/testdata/events, API answers in http/testdata/api). A file holds the
// JSON indented for reading; what it pins is its compact form, byte for byte.
package golden

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"testing"
)

// Read returns the compact JSON pinned in path.
func Read(t testing.TB, path string) []byte {
	t.Helper()
	indented, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no golden file %s: %v", path, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, indented); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return compact.Bytes()
}

// Write pins got (compact JSON, as encoding/json writes it) in path, indented for reading.
func Write(t testing.TB, path string, got []byte) {
	t.Helper()
	var indented bytes.Buffer
	if err := json.Indent(&indented, bytes.TrimSuffix(got, []byte("\n")), "", "\t"); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	indented.WriteByte('\n')
	if err := os.WriteFile(path, indented.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// WriteNew pins got in path only when path does not exist yet: the payload of a new event type or
// version. A published payload is never rewritten — the comparison that follows then fails and
// says why.
func WriteNew(t testing.TB, path string, got []byte) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	Write(t, path, got)
}
