package templatefile_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/motcua/motcua/integrations/templatefile"
)

var builtin = fstest.MapFS{
	"hello.txt": {Data: []byte("Version: 1\nSubject: Chào {{.Name}}\n\nXin chào {{.Name}}.\n")},
	"bye.txt":   {Data: []byte("Version: 4\nSubject: Tạm biệt\n\nTạm biệt.\n")},
}

type data struct{ Name string }

// A file in the province's directory replaces the built-in one of its name and no other; one
// saved by a Windows editor (a BOM, CRLF line ends) reads the same; the version and the source
// are kept.
func TestTheProvincesFileReplacesTheBuiltInOne(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"),
		[]byte("\ufeffVersion: 2\r\nSubject: Kính chào {{.Name}}\r\n\r\nKính chào {{.Name}}.\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set := templatefile.Set{Dir: dir, Builtin: builtin, Headers: []string{"Subject"}}
	hello, err := set.Load("hello")
	if err != nil {
		t.Fatal(err)
	}
	subject, err := hello.Header("Subject", data{"An"})
	if err != nil || subject != "Kính chào An" || hello.Label() != "hello v2" || hello.Source != filepath.Join(dir, "hello.txt") {
		t.Fatalf("hello: %q, %v, %s from %s", subject, err, hello.Label(), hello.Source)
	}
	bye, err := set.Load("bye")
	if err != nil || bye.Label() != "bye v4" || bye.Source != "built-in" {
		t.Fatalf("bye: %v, %v", bye, err)
	}
	if err := set.Check([]string{"hello", "bye"}, func(string) any { return data{"An"} }); err != nil {
		t.Fatal(err)
	}
}

// Check names every file at fault: a missing header, headers without the blank line, an unknown
// kind, a placeholder the data does not have.
func TestCheckNamesEveryBrokenFile(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"noversion.txt": "Subject: x\n\nx\n",
		"noblank.txt":   "Version: 1\nSubject: x",
		"unknown.txt":   "Version: 1\nSubject: x\n\n{{.Nobody}}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set := templatefile.Set{Dir: dir, Builtin: builtin, Headers: []string{"Subject"}}
	err := set.Check([]string{"noversion", "noblank", "unknown", "missing"}, func(string) any { return data{"An"} })
	for _, want := range []string{`noversion.txt`, `"Version:" and "Subject:" are required`, "noblank.txt", "no blank line", "Nobody", `no template for "missing"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check: %v, want it to name %s", err, want)
		}
	}
}
