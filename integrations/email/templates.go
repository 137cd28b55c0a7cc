package email

import (
	"embed"
	"io/fs"
	"strings"
	"text/template"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/notification"
	"github.com/motcua/motcua/integrations/templatefile"
)

// The kinds of notification, one template file each (<kind>.txt): notification's.
const (
	KindStatusChanged       = notification.KindStatusChanged
	KindSupplementRequested = notification.KindSupplementRequested
	KindApology             = notification.KindApology
	KindResultReady         = notification.KindResultReady
	KindPaymentDue          = notification.KindPaymentDue
)

//go:embed templates/*.txt
var defaultTemplates embed.FS

// builtin is the defaults, <kind>.txt at its root.
var builtin, _ = fs.Sub(defaultTemplates, "templates")

// Templates finds each kind's template: the file <kind>.txt in Dir when it is there, so that a
// province edits its wording without a rebuild, otherwise the built-in default. Files are read at
// every send: an edit takes effect at the next message, and one that does not parse makes the
// deliveries of its kind fail (and retry) with the parse error until it is fixed — Check finds
// that at start.
type Templates struct {
	Dir string
}

// Template is one kind's wording, in a given version.
type Template struct {
	*templatefile.Template
}

// MailTemplates is a set of e-mail templates: the headers "Version:" and "Subject:", a blank
// line, then the body; found in dir, else in builtin (<kind>.txt at its root). The deadline
// alarms' messages (timers) are written from such a set too.
func MailTemplates(dir string, builtin fs.FS) templatefile.Set {
	return templatefile.Set{Dir: dir, Builtin: builtin, Headers: []string{"Subject"}, Funcs: funcs}
}

func (t Templates) set() templatefile.Set { return MailTemplates(t.Dir, builtin) }

// Load reads and parses kind's template.
func (t Templates) Load(kind string) (*Template, error) {
	tmpl, err := t.set().Load(kind)
	if err != nil {
		return nil, err
	}
	return &Template{tmpl}, nil
}

// Check loads every kind's template and renders it with sample data, so that a mistyped
// placeholder is found when the server starts rather than at the first message.
func (t Templates) Check() error {
	return t.set().Check(notification.Kinds, func(string) any { return notification.SampleData() })
}

var funcs = template.FuncMap{"inc": func(i int) int { return i + 1 }}

// Render fills the template with data: the subject on one line, the body; both NFC.
func (t *Template) Render(data notification.Data) (subject, body string, err error) {
	return RenderMail(t.Template, data)
}

// RenderMail fills an e-mail template (MailTemplates) with data: the subject on one line, the
// body ending in a line break; both NFC.
func RenderMail(t *templatefile.Template, data any) (subject, body string, err error) {
	if subject, err = t.Header("Subject", data); err != nil {
		return "", "", err
	}
	if body, err = t.Body(data); err != nil {
		return "", "", err
	}
	subject = strings.Join(strings.Fields(subject), " ")
	return domain.NormalizeText(subject), domain.NormalizeText(body) + "\n", nil
}
