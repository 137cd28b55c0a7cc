package printform

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/text/unicode/norm"

	"github.com/motcua/motcua/domain"
)

// The page kit every form is drawn with: A4, the margins of administrative documents (NĐ 30/2020
// appendix I: top and bottom 20 mm, left 30 mm, right 15 mm), the national motto header and the
// signature block of the circular's templates, in Noto Serif embedded from fonts/ (subset to Latin
// and Vietnamese; the OFL licence is fonts/OFL.txt). fpdf embeds only the glyphs a document uses.

//go:embed fonts/NotoSerif-Regular.ttf fonts/NotoSerif-Bold.ttf fonts/NotoSerif-Italic.ttf
var fonts embed.FS

const (
	family = "NotoSerif"
	// ContentType is the media type of the forms.
	ContentType = "application/pdf"

	marginTop, marginBottom, marginLeft, marginRight = 20.0, 20.0, 30.0, 15.0
	bodySize                                         = 12.0
	lineHeight                                       = 6.0
	leftColumn                                       = 0.45 // the agency's share of the header's width
)

// faces are the font files by fpdf style, in a fixed order (the same input makes the same PDF).
var faces = []struct{ style, file string }{
	{"", "fonts/NotoSerif-Regular.ttf"}, {"B", "fonts/NotoSerif-Bold.ttf"}, {"I", "fonts/NotoSerif-Italic.ttf"},
}

// doc is a form being drawn. The first error fpdf meets sticks in it and is returned by write.
type doc struct {
	pdf         *fpdf.Fpdf
	images      int
	left, right float64 // the margins: landscape tables take more of the page
}

// newDoc starts an A4 document, portrait or (landscape set) landscape, titled title.
func newDoc(title string, landscape bool, created time.Time) (*doc, error) {
	orientation := "P"
	if landscape {
		orientation = "L"
	}
	pdf := fpdf.New(orientation, "mm", "A4", "")
	d := &doc{pdf: pdf, left: marginLeft, right: marginRight}
	if landscape {
		d.left, d.right = 15, 15
	}
	for _, face := range faces {
		data, err := fonts.ReadFile(face.file)
		if err != nil {
			return nil, err
		}
		pdf.AddUTF8FontFromBytes(family, face.style, data)
	}
	pdf.SetMargins(d.left, marginTop, d.right)
	pdf.SetAutoPageBreak(true, marginBottom)
	pdf.SetTitle(nfc(title), true)
	pdf.SetCreator("motcua", true)
	pdf.SetCatalogSort(true) // the same input makes the same bytes
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.SetFont(family, "", bodySize)
	pdf.AliasNbPages("")
	if landscape {
		// The register runs to many pages: each is numbered, as bound registers are.
		pdf.SetFooterFunc(func() {
			pdf.SetY(-12)
			pdf.SetFont(family, "I", 8)
			pdf.CellFormat(0, 4, fmt.Sprintf("Trang %d/{nb}", pdf.PageNo()), "", 0, "C", false, 0, "")
		})
	}
	pdf.AddPage()
	return d, pdf.Error()
}

// nfc is text as the font's precomposed glyphs draw it: Vietnamese in NFC (a decomposed "ộ" would
// otherwise be drawn as a letter and two floating marks).
func nfc(s string) string { return norm.NFC.String(s) }

func (d *doc) width() float64 {
	w, _ := d.pdf.GetPageSize()
	return w - d.left - d.right
}

func (d *doc) font(style string, size float64) { d.pdf.SetFont(family, style, size) }

// header draws the two columns of the circular's templates: on the left the agency (its name, then
// the unit issuing the form in bold, underlined by a short rule, then the form's number line if
// any); on the right the national motto, underlined. form, when set, is printed small above.
func (d *doc) header(form string, agency, unit, number string) {
	p := d.pdf
	if form != "" {
		d.font("I", 9)
		p.CellFormat(0, 4, nfc(form), "", 1, "R", false, 0, "")
	}
	top := p.GetY()
	left := d.width() * leftColumn
	right := d.width() - left
	// Left column.
	p.SetXY(d.left, top)
	d.font("", 10.5)
	if agency != "" {
		p.MultiCell(left, 5, nfc(strings.ToUpper(agency)), "", "C", false)
	}
	d.font("B", 10.5)
	p.SetX(d.left)
	p.MultiCell(left, 5, nfc(strings.ToUpper(unit)), "", "C", false)
	ruled := p.GetY() + 0.5
	p.Line(d.left+left/2-12, ruled, d.left+left/2+12, ruled)
	p.SetY(ruled + 1.5)
	if number != "" {
		d.font("", 11)
		p.SetX(d.left)
		p.MultiCell(left, 5, nfc(number), "", "C", false)
	}
	leftBottom := p.GetY()
	// Right column.
	p.SetXY(d.left+left, top)
	d.font("B", 11)
	p.CellFormat(right, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "", 2, "C", false, 0, "")
	d.font("B", 12)
	motto := "Độc lập - Tự do - Hạnh phúc"
	p.CellFormat(right, 6, motto, "", 2, "C", false, 0, "")
	half := p.GetStringWidth(motto) / 2
	centre := d.left + left + right/2
	p.Line(centre-half, p.GetY()+0.3, centre+half, p.GetY()+0.3)
	p.SetY(max(leftBottom, p.GetY()+2) + 2)
	d.font("", bodySize)
}

// dateLine is the place and date line under the motto, in italics on the right: "ngày … tháng …
// năm …" in Vietnam time.
func (d *doc) dateLine(t time.Time) {
	if t.IsZero() {
		return
	}
	t = t.In(domain.VietnamTime)
	d.font("I", bodySize)
	left := d.width() * leftColumn
	d.pdf.SetX(d.left + left)
	d.pdf.CellFormat(d.width()-left, lineHeight, fmt.Sprintf("Ngày %02d tháng %02d năm %d", t.Day(), int(t.Month()), t.Year()), "", 1, "C", false, 0, "")
	d.font("", bodySize)
	d.pdf.Ln(2)
}

// title draws the form's title, bold and upper case, centred; sub lines follow in regular type.
func (d *doc) title(title string, sub ...string) {
	d.pdf.Ln(3)
	d.font("B", 14)
	d.pdf.MultiCell(0, 7, nfc(strings.ToUpper(title)), "", "C", false)
	d.font("", bodySize)
	for _, s := range sub {
		d.pdf.MultiCell(0, lineHeight, nfc(s), "", "C", false)
	}
	d.pdf.Ln(3)
}

// para draws a paragraph of body text.
func (d *doc) para(text string) {
	d.font("", bodySize)
	d.pdf.MultiCell(0, lineHeight, nfc(text), "", "J", false)
}

// fact draws "label value" with the label in regular type and the value in bold when strong.
func (d *doc) fact(label, value string, strong bool) {
	if value == "" {
		return
	}
	label = strings.TrimSuffix(nfc(label), ":") + ": "
	d.font("", bodySize)
	d.pdf.Write(lineHeight, label)
	if strong {
		d.font("B", bodySize)
	}
	d.pdf.Write(lineHeight, nfc(value))
	d.pdf.Ln(lineHeight)
	d.font("", bodySize)
}

// list draws numbered lines.
func (d *doc) list(items []string) {
	d.font("", bodySize)
	for i, item := range items {
		d.pdf.SetX(d.left + 5)
		d.pdf.CellFormat(8, lineHeight, fmt.Sprintf("%d.", i+1), "", 0, "L", false, 0, "")
		d.pdf.MultiCell(d.width()-13, lineHeight, nfc(item), "", "L", false)
	}
}

// heading draws a bold line.
func (d *doc) heading(text string) {
	d.pdf.Ln(1)
	d.font("B", bodySize)
	d.pdf.MultiCell(0, lineHeight, nfc(text), "", "L", false)
	d.font("", bodySize)
}

// image draws a PNG width mm wide at (x, y) and returns its height in mm.
func (d *doc) image(png []byte, x, y, width float64) float64 {
	d.images++
	name := fmt.Sprintf("image%d", d.images)
	info := d.pdf.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
	if info == nil || info.Width() == 0 {
		return 0
	}
	d.pdf.ImageOptions(name, x, y, width, 0, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	return width * info.Height() / info.Width()
}

// signature is one column of the signature block.
type signature struct {
	Role string // in bold: who signs ("Người tiếp nhận")
	Hint string // in italics under it: "(Ký, ghi rõ họ tên)"
	Name string // printed under the space left to sign
}

// signatures draws the signature block: left and right columns, an empty one left blank.
func (d *doc) signatures(left, right signature) {
	p := d.pdf
	const space = 24.0
	if p.GetY()+space+20 > pageHeight(p)-marginBottom {
		p.AddPage()
	}
	p.Ln(4)
	top := p.GetY()
	half := d.width() / 2
	bottom := top
	for i, s := range []signature{left, right} {
		if s.Role == "" {
			continue
		}
		x := d.left + float64(i)*half
		p.SetXY(x, top)
		d.font("B", bodySize)
		p.MultiCell(half, lineHeight, nfc(s.Role), "", "C", false)
		if s.Hint != "" {
			d.font("I", 11)
			p.SetX(x)
			p.MultiCell(half, 5, nfc(s.Hint), "", "C", false)
		}
		p.SetXY(x, p.GetY()+space)
		d.font("B", bodySize)
		p.MultiCell(half, lineHeight, nfc(s.Name), "", "C", false)
		bottom = max(bottom, p.GetY())
	}
	p.SetY(bottom)
	d.font("", bodySize)
}

func pageHeight(p *fpdf.Fpdf) float64 {
	_, h := p.GetPageSize()
	return h
}

// column is a table column: its heading and its width in mm.
type column struct {
	Heading string
	Width   float64
}

// table draws a table whose cells wrap; its heading is drawn again at the top of every page.
type table struct {
	d       *doc
	columns []column
	size    float64
}

func (d *doc) table(columns []column, size float64) *table {
	t := &table{d: d, columns: columns, size: size}
	t.heading()
	return t
}

func (t *table) heading() {
	t.d.font("B", t.size)
	t.cells(t.headings(), true)
	t.d.font("", t.size)
}

func (t *table) headings() []string {
	out := make([]string, len(t.columns))
	for i, c := range t.columns {
		out[i] = c.Heading
	}
	return out
}

// row draws one row, starting a new page (with the heading again) when it does not fit.
func (t *table) row(cells ...string) {
	t.d.font("", t.size)
	p := t.d.pdf
	if p.GetY()+t.rowHeight(cells) > pageHeight(p)-marginBottom {
		p.AddPage()
		t.heading()
	}
	t.cells(cells, false)
}

func (t *table) lineHeight() float64 { return t.size * 0.45 }

func (t *table) rowHeight(cells []string) float64 {
	lines := 1
	for i, c := range cells {
		lines = max(lines, len(t.d.pdf.SplitText(nfc(c), t.columns[i].Width-2)))
	}
	return float64(lines)*t.lineHeight() + 2
}

func (t *table) cells(cells []string, centred bool) {
	p := t.d.pdf
	h := t.rowHeight(cells)
	x, y := p.GetX(), p.GetY()
	p.SetAutoPageBreak(false, marginBottom)
	align := "L"
	if centred {
		align = "C"
	}
	for i, c := range cells {
		w := t.columns[i].Width
		p.Rect(x, y, w, h, "D")
		p.SetXY(x+1, y+1)
		p.MultiCell(w-2, t.lineHeight(), nfc(c), "", align, false)
		x += w
	}
	p.SetAutoPageBreak(true, marginBottom)
	p.SetXY(t.d.left, y+h)
}

// write outputs the document, or the first error met while drawing it.
func (d *doc) write(w io.Writer) error {
	if err := d.pdf.Error(); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	return d.pdf.Output(w)
}
