// Package templatefile reads the notification templates a province edits without a rebuild: one
// UTF-8 file per kind (<kind>.txt) holding header lines ("Version: 2", "Subject: …"), a blank
// line, then the body, as Go text/template. The built-in files are embedded in the binary; a file
// of the same name in the province's directory replaces one. The e-mail notifications
// (integrations/email) and the deadline alarms (timers) read theirs through it.
package templatefile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// Set finds each kind's template: the file <kind>.txt in Dir when it is there, otherwise the
// built-in one in Builtin. Files are read at every Load, so an edit takes effect at the next
// message; Check finds a broken one at start.
type Set struct {
	// Dir is the province's directory; empty: the built-in templates only.
	Dir string
	// Builtin holds the default <kind>.txt files at its root.
	Builtin fs.FS
	// Headers are the headers every file must have besides Version, each itself a template
	// (e.g. "Subject").
	Headers []string
	// Funcs are the functions the templates may call besides text/template's.
	Funcs template.FuncMap
}

// Template is one kind's wording, in a given version.
type Template struct {
	Kind, Version string
	// Source says where it was read: the file's path, or "built-in".
	Source  string
	headers map[string]*template.Template
	body    *template.Template
}

// Label names the template and its version, e.g. "status_changed v2": messages carry it
// (X-Motcua-Template), so a complaint about wording can be traced to the file.
func (t *Template) Label() string { return t.Kind + " v" + t.Version }

// Header renders the header name (one of the Set's Headers) with data.
func (t *Template) Header(name string, data any) (string, error) {
	tmpl, ok := t.headers[strings.ToLower(name)]
	if !ok {
		return "", fmt.Errorf("template %s has no header %q", t.Kind, name)
	}
	return execute(t.Kind, tmpl, data)
}

// Body renders the body with data.
func (t *Template) Body(data any) (string, error) { return execute(t.Kind, t.body, data) }

func execute(kind string, tmpl *template.Template, data any) (string, error) {
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("template %s: %w", kind, err)
	}
	return b.String(), nil
}

// Load reads and parses kind's template.
func (s Set) Load(kind string) (*Template, error) {
	name := kind + ".txt"
	var (
		raw    []byte
		source = "built-in"
		err    error
	)
	if s.Dir != "" {
		path := filepath.Join(s.Dir, name)
		raw, err = os.ReadFile(path)
		if err == nil {
			source = path
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
	}
	if raw == nil {
		if s.Builtin == nil {
			return nil, fmt.Errorf("no template for %q", kind)
		}
		if raw, err = fs.ReadFile(s.Builtin, name); err != nil {
			return nil, fmt.Errorf("no template for %q", kind)
		}
	}
	tmpl, err := s.parse(kind, raw)
	if err != nil {
		return nil, fmt.Errorf("template %s (%s): %w", name, source, err)
	}
	tmpl.Source = source
	return tmpl, nil
}

// Check loads every kind's template and renders its headers and body with sample(kind), so that
// a mistyped placeholder is found when the server starts rather than at the first message. Each
// error names the file and where it was read.
func (s Set) Check(kinds []string, sample func(kind string) any) error {
	var errs []error
	for _, kind := range kinds {
		tmpl, err := s.Load(kind)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		data := sample(kind)
		parts := []*template.Template{tmpl.body}
		for _, header := range s.Headers {
			parts = append(parts, tmpl.headers[strings.ToLower(header)])
		}
		for _, part := range parts {
			if err := part.Execute(io.Discard, data); err != nil {
				errs = append(errs, fmt.Errorf("template %s.txt (%s): %w", kind, tmpl.Source, err))
			}
		}
	}
	return errors.Join(errs...)
}

// parse reads a template file: header lines "Name: value", a blank line, then the body.
func (s Set) parse(kind string, raw []byte) (*Template, error) {
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
	tmpl := &Template{Kind: kind, Version: headers["version"], headers: map[string]*template.Template{}}
	required := append([]string{"Version"}, s.Headers...)
	for _, name := range required {
		if headers[strings.ToLower(name)] == "" {
			return nil, fmt.Errorf("the headers %s are required", quoted(required))
		}
	}
	for _, name := range s.Headers {
		parsed, err := s.template(kind+" "+strings.ToLower(name), headers[strings.ToLower(name)])
		if err != nil {
			return nil, err
		}
		tmpl.headers[strings.ToLower(name)] = parsed
	}
	var rest bytes.Buffer
	_, _ = rest.ReadFrom(reader) // reading from memory does not fail
	body, err := s.template(kind, rest.String())
	if err != nil {
		return nil, err
	}
	tmpl.body = body
	return tmpl, nil
}

func (s Set) template(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(s.Funcs).Option("missingkey=error").Parse(text)
}

func quoted(names []string) string {
	q := make([]string, len(names))
	for i, name := range names {
		q[i] = `"` + name + `:"`
	}
	return strings.Join(q, " and ")
}
