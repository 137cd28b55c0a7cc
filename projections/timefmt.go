package projections

import (
	"database/sql"
	"time"
)

// sqlTimeLayout stores instants as fixed-width UTC text, which sorts and compares correctly as text
// on both SQLite and PostgreSQL.
const sqlTimeLayout = "2006-01-02T15:04:05.000000Z"

func sqlTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: t.UTC().Format(sqlTimeLayout), Valid: true}
}

func parseSQLTime(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	t, _ := time.Parse(sqlTimeLayout, s.String)
	return t
}
