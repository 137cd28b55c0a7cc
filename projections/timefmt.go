package projections

import (
	"database/sql"
	"time"

	"github.com/motcua/motcua/domain"
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

// plain returns v with database/sql's nullable wrappers unwrapped: nil or the value. pgx encodes
// a wrapper through its driver.Valuer, planning the encoding anew for every value it writes, which
// was a tenth of a PostgreSQL rebuild's client time; both drivers take nil as NULL.
//
// Text goes through domain.SanitizeText: every row a read model writes passes here, and an event
// recorded before the edge refused control characters (or written to the log by other means) must
// neither stop the read model — PostgreSQL text cannot hold U+0000 — nor reach a page or an export.
//
// A clean string comes back as the interface it came in: boxing it again allocated once per text
// value written, a tenth of the values' cost in a flush.
func plain(v any) any {
	switch x := v.(type) {
	case string:
		if clean := domain.SanitizeText(x); clean != x {
			return clean
		}
	case sql.NullString:
		if !x.Valid {
			return nil
		}
		return domain.SanitizeText(x.String)
	case sql.NullFloat64:
		if !x.Valid {
			return nil
		}
		return x.Float64
	case sql.NullInt64:
		if !x.Valid {
			return nil
		}
		return x.Int64
	}
	return v
}
