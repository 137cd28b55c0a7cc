package http

import (
	"encoding/csv"
	"io"
	"strconv"
)

// csvWriter is the one CSV writer of every export. It neutralises spreadsheet formulas: a cell
// that begins with =, +, -, @, tab or carriage return is run as a formula by Excel and LibreOffice
// when the file is opened ("CSV injection") — a step or an official named "=HYPERLINK(…)" would
// be a link planted in an inspector's report. As OWASP's guidance says, such a cell is prefixed
// with a single quote, which spreadsheets show as text; numbers ("-2.50") are left as they are,
// since no number is a formula.
type csvWriter struct{ w *csv.Writer }

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{w: csv.NewWriter(w)} }

// Write writes one record, its cells neutralised.
func (c *csvWriter) Write(record []string) error { return c.w.Write(neutraliseCSVRecord(record)) }

// WriteAll writes records, their cells neutralised, and flushes.
func (c *csvWriter) WriteAll(records [][]string) error {
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
