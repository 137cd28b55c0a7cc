package phone

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
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/notification"
)

//go:embed templates/*.txt
var defaultTemplates embed.FS

// Templates finds each kind's SMS text: the file <kind>.txt in Dir when it is there (a province
// edits its wording without a rebuild), otherwise the built-in one. Files are read at every send;
// Check finds a broken one at start.
type Templates struct {
	Dir string
	// Unicode keeps the Vietnamese diacritics. Off by default: most brandname routes carry only
	// GSM-7 text, and a Unicode segment holds 70 characters instead of 160 (docs/integrations.md).
	Unicode bool
	// Segments caps a text at this many concatenated segments (153 GSM-7 or 67 Unicode
	// characters each); when zero, 2 for GSM-7 (306 characters) and 4 for Unicode (268). The
	// lookup link is always kept whole.
	Segments int
}

// Limit is the most characters a text may have.
func (t Templates) Limit() int {
	segments := t.Segments
	if segments <= 0 {
		segments = 2
		if t.Unicode {
			segments = 4
		}
	}
	if segments == 1 {
		if t.Unicode {
			return 70
		}
		return 160
	}
	if t.Unicode {
		return 67 * segments
	}
	return 153 * segments
}

// Template is one kind's SMS text, in a given version.
type Template struct {
	Kind, Version string
	Source        string // the file's path, or "built-in"
	text          *template.Template
	templates     Templates
}

var funcs = template.FuncMap{"join": strings.Join}

// Load reads and parses kind's template: a header "Version: …", a blank line, then the text
// (text/template over notification.Data). Line breaks in the text become spaces.
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
			return nil, fmt.Errorf("sms template %s: %w", name, err)
		}
	}
	if raw == nil {
		if raw, err = defaultTemplates.ReadFile("templates/" + name); err != nil {
			return nil, fmt.Errorf("no sms template for %q", kind)
		}
	}
	raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
	reader := bufio.NewReader(bytes.NewReader(raw))
	version := ""
	for {
		line, err := reader.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("sms template %s (%s): header line %q is not \"Name: value\"", name, source, line)
		}
		if strings.EqualFold(strings.TrimSpace(key), "version") {
			version = strings.TrimSpace(value)
		}
		if err != nil {
			return nil, fmt.Errorf("sms template %s (%s): no blank line after the headers", name, source)
		}
	}
	if version == "" {
		return nil, fmt.Errorf("sms template %s (%s): the header \"Version:\" is required", name, source)
	}
	var rest bytes.Buffer
	_, _ = rest.ReadFrom(reader)
	text, err := template.New(kind).Funcs(funcs).Option("missingkey=error").Parse(rest.String())
	if err != nil {
		return nil, fmt.Errorf("sms template %s (%s): %w", name, source, err)
	}
	return &Template{Kind: kind, Version: version, Source: source, text: text, templates: t}, nil
}

// Check loads every kind's template and renders it with sample data.
func (t Templates) Check() error {
	var errs []error
	for _, kind := range notification.Kinds {
		tmpl, err := t.Load(kind)
		if err == nil {
			_, err = tmpl.Render(notification.SampleData())
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Render fills the template with data on one line, NFC (or without diacritics unless Unicode),
// within Limit: when too long, the free texts (procedure name, reason, missing items) are
// shortened first, then the text before the lookup link, which is always kept whole.
func (t *Template) Render(data notification.Data) (string, error) {
	limit := t.templates.Limit()
	text, err := t.render(data)
	if err != nil {
		return "", err
	}
	for tries := 0; utf8.RuneCountInString(text) > limit && tries < 20; tries++ {
		if !shortenLongest(&data) {
			break
		}
		if text, err = t.render(data); err != nil {
			return "", err
		}
	}
	if utf8.RuneCountInString(text) <= limit {
		return text, nil
	}
	link := ""
	if data.LookupURL != "" {
		link = t.clean(data.LookupURL)
	}
	head := text
	if link != "" {
		// Wherever a province's wording put the link, it goes last, whole.
		head = strings.Replace(head, link, "", 1)
	}
	head = strings.Join(strings.Fields(head), " ")
	room := limit - utf8.RuneCountInString(link) - 3
	if room < 0 {
		room = 0
	}
	return strings.TrimSpace(string([]rune(head)[:min(room, utf8.RuneCountInString(head))]) + ".. " + link), nil
}

func (t *Template) render(data notification.Data) (string, error) {
	var b strings.Builder
	if err := t.text.Execute(&b, data); err != nil {
		return "", fmt.Errorf("sms template %s: %w", t.Kind, err)
	}
	return t.clean(strings.Join(strings.Fields(b.String()), " ")), nil
}

func (t *Template) clean(s string) string {
	s = domain.NormalizeText(s)
	if t.templates.Unicode {
		return s
	}
	return ASCII(s)
}

// shortenLongest cuts the longest free text of data by a quarter; false when all are short.
func shortenLongest(data *notification.Data) bool {
	missing := strings.Join(data.MissingItems, "; ")
	fields := []*string{&data.ProcedureName, &data.Reason, &missing}
	longest := fields[0]
	for _, f := range fields[1:] {
		if utf8.RuneCountInString(*f) > utf8.RuneCountInString(*longest) {
			longest = f
		}
	}
	runes := []rune(*longest)
	if len(runes) <= 12 {
		return false
	}
	*longest = strings.TrimSpace(string(runes[:len(runes)*3/4])) + ".."
	if longest == &missing {
		data.MissingItems = []string{missing}
	}
	return true
}

// ASCII writes Vietnamese without diacritics ("Hồ sơ đã tiếp nhận" → "Ho so da tiep nhan"), the
// form every GSM-7 route carries; any other character outside ASCII becomes "?" but for common
// punctuation.
func ASCII(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ':
			b.WriteRune('d')
		case r == 'Đ':
			b.WriteRune('D')
		case r == '–' || r == '—':
			b.WriteRune('-')
		case r == '“' || r == '”':
			b.WriteRune('"')
		case r == '‘' || r == '’':
			b.WriteRune('\'')
		case r == '…':
			b.WriteString("...")
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		default:
			b.WriteRune('?')
		}
	}
	return b.String()
}
