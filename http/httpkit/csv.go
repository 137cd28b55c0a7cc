package httpkit

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// CSVWriter is the one CSV writer of every export. It neutralises spreadsheet formulas: a cell
// that begins with =, +, -, @, tab or carriage return is run as a formula by Excel and LibreOffice
// when the file is opened ("CSV injection") — a step or an official named "=HYPERLINK(…)" would
// be a link planted in an inspector's report. As OWASP's guidance says, such a cell is prefixed
// with a single quote, which spreadsheets show as text; numbers ("-2.50") are left as they are,
// since no number is a formula.
type CSVWriter struct{ w *csv.Writer }

func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: csv.NewWriter(w)} }

// Write writes one record, its cells neutralised.
func (c *CSVWriter) Write(record []string) error { return c.w.Write(neutraliseCSVRecord(record)) }

// WriteAll writes records, their cells neutralised, and flushes.
func (c *CSVWriter) WriteAll(records [][]string) error {
	for _, record := range records {
		if err := c.Write(record); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}

func neutraliseCSVRecord(record []string) []string {
	out := make([]string, len(record))
	for i, cell := range record {
		out[i] = neutraliseCSVCell(cell)
	}
	return out
}

func neutraliseCSVCell(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if _, err := strconv.ParseFloat(cell, 64); err == nil {
			return cell
		}
		return "'" + cell
	}
	return cell
}

// WriteCSVAttachment sends a table as a CSV download that Excel opens correctly: UTF-8 with a byte
// order mark (without it Excel reads Vietnamese as Windows-1258 mojibake) and CRLF line ends.
func WriteCSVAttachment(w http.ResponseWriter, filename string, header []string, records [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filename))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("\ufeff"))
	cw := NewCSVWriter(w)
	cw.w.UseCRLF = true
	_ = cw.Write(header)
	_ = cw.WriteAll(records)
}

// CSVStream writes a CSV download a part at a time, as WriteCSVAttachment writes it whole: an
// export of many pages sends each page as it is read.
type CSVStream struct {
	cw      *CSVWriter
	w       http.ResponseWriter
	started bool
	header  []string
}

// NewCSVStream starts a CSV download on w (its headers set by the caller) with the header row.
func NewCSVStream(w http.ResponseWriter, header []string) *CSVStream {
	cw := NewCSVWriter(w)
	cw.w.UseCRLF = true
	return &CSVStream{cw: cw, w: w, header: header}
}

// Started reports whether anything was sent: until then a failure can still be answered with an
// error status.
func (s *CSVStream) Started() bool { return s.started }

// Write sends records, after the byte order mark and the header row the first time.
func (s *CSVStream) Write(records [][]string) error {
	if !s.started {
		s.started = true
		s.w.WriteHeader(http.StatusOK)
		if _, err := s.w.Write([]byte("\ufeff")); err != nil {
			return err
		}
		if err := s.cw.Write(s.header); err != nil {
			return err
		}
	}
	return s.cw.WriteAll(records)
}
