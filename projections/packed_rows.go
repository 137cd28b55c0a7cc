package projections

import (
	"database/sql"
	"fmt"
	"strings"
)

// A statement may hand back its rows packed into one text: each row's values joined by the unit
// separator (U+001F), the rows by the record separator (U+001E). The driver's cost is per row and
// per column (≈ 0.5 µs a row and 0.1 µs a column on SQLite), SQLite's own per row a fraction of it,
// so thousands of small counter rows cost less packed than read; the read models store no control
// character (domain.SanitizeText), so the separators cannot occur in a value.
const (
	packedValueSeparator = "\x1f"
	packedRowSeparator   = "\x1e"
)

// packedRow returns the SQL expression joining the expressions, each non-NULL, into one packed row.
func packedRow(db *sql.DB, expressions ...string) string {
	return strings.Join(expressions, " || "+sqlChar(db, packedValueSeparator)+" || ")
}

// packedRows returns the statement aggregating the column packed (a packedRow) of from's rows into
// one text, NULL when there is none.
func packedRows(db *sql.DB, packed, from string) string {
	aggregate := "group_concat"
	if isPostgresDB(db) {
		aggregate = "string_agg"
	}
	return `SELECT ` + aggregate + `(` + packed + `, ` + sqlChar(db, packedRowSeparator) + `) FROM (` + from + `) packed`
}

// sqlChar is the SQL expression of a one-byte character.
func sqlChar(db *sql.DB, c string) string {
	if isPostgresDB(db) {
		return fmt.Sprintf("chr(%d)", c[0])
	}
	return fmt.Sprintf("char(%d)", c[0])
}

// unpackRows calls each with the values of every row of packed, each row of n values.
func unpackRows(packed sql.NullString, n int, each func(values []string) error) error {
	if !packed.Valid || packed.String == "" {
		return nil
	}
	values := make([]string, 0, n)
	for row := range strings.SplitSeq(packed.String, packedRowSeparator) {
		values = values[:0]
		for v := range strings.SplitSeq(row, packedValueSeparator) {
			values = append(values, v)
		}
		if len(values) != n {
			return fmt.Errorf("projections: a packed row of %d values, want %d: %q", len(values), n, row)
		}
		if err := each(values); err != nil {
			return err
		}
	}
	return nil
}
