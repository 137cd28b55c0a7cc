package web

import (
	"html/template"
	"strings"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
)

// pageFuncs are the helpers templates use besides the words of l10n.Lang.
var pageFuncs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	// idempotencyKey is a fresh key for each form rendered (httpkit.IdempotencyFormField).
	"idempotencyKey": httpkit.NewIdempotencyKey,
	// dict builds a map for passing several values to a partial template.
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	// deref reads an optional boolean of an API answer.
	"deref": func(b *bool) bool { return b != nil && *b },
	"iso":   func(t time.Time) string { return t.Format(time.RFC3339) },
	// age shows a number of seconds as a duration (1h2m3s).
	"age": func(seconds int64) string { return (time.Duration(seconds) * time.Second).String() },
	// localInput formats an instant for a datetime-local input, in Vietnam time.
	"localInput": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(domain.VietnamTime).Format("2006-01-02T15:04")
	},
	"join": strings.Join,
	// hasRole reports whether the official holds the role.
	"hasRole": func(c commands.Caller, role string) bool { return c.Has(commands.Role(role)) },
	// can reports whether the official holds a role allowed to take action (whatever the dossier).
	"can": func(c commands.Caller, action string) bool {
		for _, r := range commands.RolesFor(domain.Action(action)) {
			if c.Has(r) {
				return true
			}
		}
		return false
	},
}
