// Package workbook writes the reports provincial offices forward upward as Excel workbooks (.xlsx,
// github.com/xuri/excelize/v2): the statistics report of form II.06a, the late-dossier dashboard,
// the satisfaction statistics and the dossier register (form 06). Each sheet has the report's
// title, period and unit on top, the form's column headings (Vietnamese, the language of every
// export) with merged group headings, frozen header rows, counts as whole numbers and rates as
// percentages. Both faces use it: the API (?format=xlsx) and the officials' pages.
//
// A workbook is written with excelize's stream writer: each sheet's rows go to a buffer that
// excelize moves to a temporary file past 16 MiB, and the zip is written straight to the response
// rather than built in memory, so an export's memory is bounded whatever its number of rows. The
// whole sheet is written before the first byte is sent: a failure reading the data is still a
// clean error answer, never a truncated file.
package workbook

import (
	"archive/zip"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/motcua/motcua/domain"
)

// ContentType is the media type of an .xlsx workbook, also accepted in an Accept header.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Book is a workbook being written, sheet by sheet. Close it when done (it may hold temporary
// files).
type Book struct {
	f      *excelize.File
	sheets int
	style  styles
}

type styles struct {
	title, subtitle, header, number, text, integer, percent, decimal, dateTime, totalText, totalInteger int
}

// New starts a workbook.
func New() (*Book, error) {
	f := excelize.NewFile()
	b := &Book{f: f}
	border := []excelize.Border{{Type: "left", Color: "808080", Style: 1}, {Type: "right", Color: "808080", Style: 1},
		{Type: "top", Color: "808080", Style: 1}, {Type: "bottom", Color: "808080", Style: 1}}
	font := func(bold, italic bool, size float64) *excelize.Font {
		return &excelize.Font{Family: "Times New Roman", Size: size, Bold: bold, Italic: italic}
	}
	custom := func(format string) *string { return &format }
	for _, s := range []struct {
		id    *int
		style excelize.Style
	}{
		{&b.style.title, excelize.Style{Font: font(true, false, 14), Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		{&b.style.subtitle, excelize.Style{Font: font(false, true, 12), Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		{&b.style.header, excelize.Style{Font: font(true, false, 11), Border: border, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E7E6E6"}},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		{&b.style.number, excelize.Style{Font: font(false, true, 10), Border: border, Alignment: &excelize.Alignment{Horizontal: "center"}}},
		{&b.style.text, excelize.Style{Font: font(false, false, 11), Border: border, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}},
		// Counts are whole numbers with thousands grouped (built-in format 3, shown in the reader's locale).
		{&b.style.integer, excelize.Style{Font: font(false, false, 11), Border: border, NumFmt: 3}},
		{&b.style.percent, excelize.Style{Font: font(false, false, 11), Border: border, CustomNumFmt: custom("0.0%")}},
		{&b.style.decimal, excelize.Style{Font: font(false, false, 11), Border: border, CustomNumFmt: custom("0.0")}},
		{&b.style.dateTime, excelize.Style{Font: font(false, false, 11), Border: border, CustomNumFmt: custom("hh:mm dd/mm/yyyy")}},
		{&b.style.totalText, excelize.Style{Font: font(true, false, 11), Border: border}},
		{&b.style.totalInteger, excelize.Style{Font: font(true, false, 11), Border: border, NumFmt: 3}},
	} {
		id, err := f.NewStyle(&s.style)
		if err != nil {
			_ = f.Close()
			return nil, err
		}
		*s.id = id
	}
	return b, nil
}

// Close removes the workbook's temporary files.
func (b *Book) Close() error { return b.f.Close() }

// Stream writes the workbook to w, the zip written as it is made rather than built in memory
// first (excelize's File.Write builds it in a buffer; its zip writer is the documented way out).
func (b *Book) Stream(w io.Writer) error {
	b.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	return b.f.Write(io.Discard)
}

// Column is a heading of a table: a leaf is a column of cells, a heading with children spans
// theirs (a merged cell).
type Column struct {
	Heading  string
	Width    float64 // characters; leaves only, 0 for the default
	Children []Column
}

func (c Column) leaves() []Column {
	if len(c.Children) == 0 {
		return []Column{c}
	}
	var out []Column
	for _, child := range c.Children {
		out = append(out, child.leaves()...)
	}
	return out
}

func (c Column) depth() int {
	d := 0
	for _, child := range c.Children {
		d = max(d, child.depth())
	}
	return d + 1
}

// Sheet is a sheet being written, row by row.
type Sheet struct {
	b    *Book
	sw   *excelize.StreamWriter
	row  int // the last row written
	cols int
}

// Top is what a sheet shows above its table: the form's name (may be empty), the report's title,
// its period and the unit reporting.
type Top struct {
	Form, Title, Period, Unit string
}

// Sheet adds a sheet named name (at most 31 characters) with the top lines and the table's
// headings, then a row numbering the columns ((1), (2) …) when numbered, as the circular's forms
// do. The header rows are frozen.
func (b *Book) Sheet(name string, top Top, columns []Column, numbered bool) (*Sheet, error) {
	if b.sheets == 0 {
		if err := b.f.SetSheetName("Sheet1", name); err != nil {
			return nil, err
		}
	} else if _, err := b.f.NewSheet(name); err != nil {
		return nil, err
	}
	b.sheets++
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	s := &Sheet{b: b, sw: sw}
	var leaves []Column
	depth := 0
	for _, c := range columns {
		leaves = append(leaves, c.leaves()...)
		depth = max(depth, c.depth())
	}
	s.cols = len(leaves)
	for i, c := range leaves {
		if c.Width > 0 {
			if err := sw.SetColWidth(i+1, i+1, c.Width); err != nil {
				return nil, err
			}
		}
	}
	var lines []struct {
		text  string
		style int
	}
	if top.Form != "" {
		lines = append(lines, struct {
			text  string
			style int
		}{top.Form, b.style.subtitle})
	}
	for _, l := range []struct {
		text  string
		style int
	}{{top.Title, b.style.title}, {top.Period, b.style.subtitle}, {top.Unit, b.style.subtitle}} {
		if l.text != "" {
			lines = append(lines, l)
		}
	}
	headerStart := len(lines) + 2 // a blank row between the top and the table
	headerRows := depth
	if numbered {
		headerRows++
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: headerStart + headerRows - 1,
		TopLeftCell: cellName(1, headerStart+headerRows), ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	for i, l := range lines {
		if err := sw.SetRow(cellName(1, i+1), []any{excelize.Cell{StyleID: l.style, Value: l.text}}, excelize.RowOpts{Height: 20}); err != nil {
			return nil, err
		}
		if err := sw.MergeCell(cellName(1, i+1), cellName(s.cols, i+1)); err != nil {
			return nil, err
		}
	}
	// The header grid: each heading in its top-left cell, merged across the leaves it spans and,
	// for a leaf above the last header row, down to it.
	grid := make([][]any, depth)
	for i := range grid {
		grid[i] = make([]any, s.cols)
		for j := range grid[i] {
			grid[i][j] = excelize.Cell{StyleID: b.style.header}
		}
	}
	var place func(c Column, level, col int) (int, error)
	place = func(c Column, level, col int) (int, error) {
		width := len(c.leaves())
		grid[level][col] = excelize.Cell{StyleID: b.style.header, Value: c.Heading}
		lastRow := level
		if len(c.Children) == 0 {
			lastRow = depth - 1
		}
		if width > 1 || lastRow > level {
			if err := sw.MergeCell(cellName(col+1, headerStart+level), cellName(col+width, headerStart+lastRow)); err != nil {
				return 0, err
			}
		}
		next := col
		for _, child := range c.Children {
			var err error
			if next, err = place(child, level+1, next); err != nil {
				return 0, err
			}
		}
		return col + width, nil
	}
	col := 0
	for _, c := range columns {
		var err error
		if col, err = place(c, 0, col); err != nil {
			return nil, err
		}
	}
	for i, cells := range grid {
		if err := sw.SetRow(cellName(1, headerStart+i), cells, excelize.RowOpts{Height: 32}); err != nil {
			return nil, err
		}
	}
	s.row = headerStart + depth - 1
	if numbered {
		cells := make([]any, s.cols)
		for i := range cells {
			cells[i] = excelize.Cell{StyleID: b.style.number, Value: fmt.Sprintf("(%d)", i+1)}
		}
		s.row++
		if err := sw.SetRow(cellName(1, s.row), cells); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Row writes the next row: each value is Text, Int, Percent, Decimal, DateTime or nil (an empty
// bordered cell).
func (s *Sheet) Row(values ...Value) error { return s.write(false, values) }

// TotalRow writes the next row in bold: a table's total.
func (s *Sheet) TotalRow(values ...Value) error { return s.write(true, values) }

func (s *Sheet) write(total bool, values []Value) error {
	cells := make([]any, max(len(values), s.cols))
	st := s.b.style
	for i := range cells {
		var v Value
		if i < len(values) {
			v = values[i]
		}
		switch v := v.(type) {
		case Text:
			cells[i] = excelize.Cell{StyleID: pick(total, st.totalText, st.text), Value: string(v)}
		case Int:
			cells[i] = excelize.Cell{StyleID: pick(total, st.totalInteger, st.integer), Value: int64(v)}
		case Percent:
			cells[i] = excelize.Cell{StyleID: st.percent, Value: float64(v)}
		case Decimal:
			cells[i] = excelize.Cell{StyleID: st.decimal, Value: float64(v)}
		case DateTime:
			if time.Time(v).IsZero() {
				cells[i] = excelize.Cell{StyleID: st.text}
				continue
			}
			cells[i] = excelize.Cell{StyleID: st.dateTime, Value: wallClock(time.Time(v))}
		default:
			cells[i] = excelize.Cell{StyleID: pick(total, st.totalText, st.text)}
		}
	}
	s.row++
	return s.sw.SetRow(cellName(1, s.row), cells)
}

// Note writes a line of text across the table, below it (what the table leaves out, for example).
func (s *Sheet) Note(text string) error {
	s.row++
	if err := s.sw.SetRow(cellName(1, s.row), []any{excelize.Cell{StyleID: s.b.style.subtitle, Value: text}}); err != nil {
		return err
	}
	return s.sw.MergeCell(cellName(1, s.row), cellName(s.cols, s.row))
}

// Done ends the sheet.
func (s *Sheet) Done() error { return s.sw.Flush() }

// Value is a cell's value: Text, Int, Percent, Decimal or DateTime.
type Value interface{ cell() }

type (
	Text     string
	Int      int64
	Percent  float64 // a fraction: 0.25 shows as 25.0%
	Decimal  float64 // shown with one decimal
	DateTime time.Time
)

func (Text) cell()     {}
func (Int) cell()      {}
func (Percent) cell()  {}
func (Decimal) cell()  {}
func (DateTime) cell() {}

// PercentOf turns a rate held as a percentage (as the read models hold them) into a cell.
func PercentOf(p float64) Percent { return Percent(p / 100) }

// wallClock is t as Vietnam's clocks showed it: a spreadsheet's date has no time zone.
func wallClock(t time.Time) time.Time {
	v := t.In(domain.VietnamTime)
	return time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), 0, time.UTC)
}

func pick(cond bool, yes, no int) int {
	if cond {
		return yes
	}
	return no
}

func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

// PeriodLine is a report's period as its top shows it; to is the period's exclusive end.
func PeriodLine(from, to time.Time) string {
	return fmt.Sprintf("Kỳ báo cáo: từ ngày %s đến ngày %s", civil(from), civil(to.Add(-time.Nanosecond)))
}

func civil(t time.Time) string { return t.In(domain.VietnamTime).Format("02/01/2006") }

// ContentDisposition is an attachment header naming the file twice: an ASCII name for old clients
// and the Vietnamese one (RFC 6266 with RFC 5987's filename*), so "Báo cáo" survives the download.
func ContentDisposition(asciiName, name string) string {
	var b strings.Builder
	for _, c := range []byte(name) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, asciiOnly(asciiName), b.String())
}

// asciiOnly keeps the characters a quoted filename may hold safely.
func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, s)
}
