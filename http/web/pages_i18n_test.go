package web

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/l10n"
)

// Every text a template asks for, every event a timeline names and every action a form offers has
// a Vietnamese and an English message; a missing one would show its key to the user.
func TestPageMessagesExist(t *testing.T) {
	key := regexp.MustCompile(`\.T "([^"]+)"`)
	files, err := fs.Glob(webFiles, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	var wanted []string
	for _, f := range files {
		data, err := fs.ReadFile(webFiles, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range key.FindAllStringSubmatch(string(data), -1) {
			wanted = append(wanted, m[1])
		}
	}
	wanted = append(wanted, domain.EventTypes()...)
	for a := range domain.Allowed {
		wanted = append(wanted, "action."+string(a))
	}
	for _, k := range wanted {
		if !l10n.Has(k) {
			t.Errorf("no Vietnamese and English message for %q", k)
		}
	}
}
