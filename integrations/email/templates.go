package email

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/notification"
)

// The kinds of notification, one template file each (<kind>.txt): notification's.
const (
	KindStatusChanged       = notification.KindStatusChanged
	KindSupplementRequested = notification.KindSupplementRequested
	KindApology             = notification.KindApology
	KindResultReady         = notification.KindResultReady
	KindPaymentDue          = notification.KindPaymentDue
)

// Kinds lists every kind of notification.
var Kinds = notification.Kinds

//go:embed templates/*.txt
var defaultTemplates embed.FS

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
	Kind, Version string
	// Source says where it was read: the file's path, or "built-in".
	Source  string
	subject *template.Template
	body    *template.Template
}

// Load reads and parses kind's template.
func (t Templates) Load(kind string) (*Template, error) {
	name := kind + ".txt"
	var (
		raw    []byte
		source = "built-in"
		err    error
	)
	if t.Dir != "" {
		path := filepath.Join(t.Dir, name)
		raw, err = os.ReadFile(path)
		if err == nil {
			source = path
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
	}
	if raw == nil {
		if raw, err = defaultTemplates.ReadFile("templates/" + name); err != nil {
			return nil, fmt.Errorf("no template for %q", kind)
		}
	}
	tmpl, err := parseTemplate(kind, raw)
	if err != nil {
		return nil, fmt.Errorf("template %s (%s): %w", name, source, err)
	}
	tmpl.Source = source
	return tmpl, nil
}

// Check loads every kind's template and renders it with sample data, so that a mistyped
// placeholder is found when the server starts rather than at the first message.
func (t Templates) Check() error {
	var errs []error
	for _, kind := range Kinds {
		tmpl, err := t.Load(kind)
		if err == nil {
			_, _, err = tmpl.Render(SampleData())
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var funcs = template.FuncMap{"inc": func(i int) int { return i + 1 }}

// parseTemplate reads a template file: header lines "Version: …" and "Subject: …", a blank line,
// then the body. Subject and body are text/template with Data's fields as placeholders.
func parseTemplate(kind string, raw []byte) (*Template, error) {
	raw = bytes.TrimPrefix(raw, []byte("\ufeff")) // editors on Windows save a BOM
	reader := bufio.NewReader(bytes.NewReader(raw))
	headers := map[string]string{}
	for {
		line, err := reader.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("header line %q is not \"Name: value\"", line)
		}
		headers[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
		if err != nil {
			return nil, errors.New("no blank line after the headers")
		}
	}
	version, subjectText := headers["version"], headers["subject"]
	if version == "" || subjectText == "" {
		return nil, errors.New(`the headers "Version:" and "Subject:" are required`)
	}
	rest, _ := readAll(reader)
	subject, err := template.New(kind + " subject").Funcs(funcs).Option("missingkey=error").Parse(subjectText)
	if err != nil {
		return nil, err
	}
	body, err := template.New(kind).Funcs(funcs).Option("missingkey=error").Parse(string(rest))
	if err != nil {
		return nil, err
	}
	return &Template{Kind: kind, Version: version, subject: subject, body: body}, nil
}

func readAll(r *bufio.Reader) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r)
	return b.Bytes(), err
}

// Render fills the template with data: the subject on one line, the body; both NFC.
func (t *Template) Render(data Data) (subject, body string, err error) {
	var s, b strings.Builder
	if err := t.subject.Execute(&s, data); err != nil {
		return "", "", fmt.Errorf("template %s: %w", t.Kind, err)
	}
	if err := t.body.Execute(&b, data); err != nil {
		return "", "", fmt.Errorf("template %s: %w", t.Kind, err)
	}
	subject = strings.Join(strings.Fields(s.String()), " ")
	return domain.NormalizeText(subject), domain.NormalizeText(b.String()) + "\n", nil
}
