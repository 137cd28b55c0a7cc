package projections

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
)

// copyRowsFunc writes rows into table with PostgreSQL's COPY, inside the transaction under way.
type copyRowsFunc func(ctx context.Context, table string, columns []string, rows [][]any) error

type copyRowsKey struct{}

// withCopy returns ctx carrying a COPY into the transaction conn holds. A rebuild on PostgreSQL
// sets it: the rows a replay writes are nearly all new, and COPY takes them for a fraction of what
// multi-row INSERTs cost the client (building and binding statements) and the server (parsing,
// planning, conflict checks per statement).
func withCopy(ctx context.Context, conn *sql.Conn) context.Context {
	copyRows := func(ctx context.Context, table string, columns []string, rows [][]any) error {
		return conn.Raw(func(driverConn any) error {
			pgxConn, ok := driverConn.(interface{ Conn() *pgx.Conn })
			if !ok {
				return errors.New("rebuild: COPY needs a pgx connection")
			}
			_, err := pgxConn.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
			return err
		})
	}
	return context.WithValue(ctx, copyRowsKey{}, copyRowsFunc(copyRows))
}

// insertNewRows writes rows whose keys the table cannot hold yet — looked up in this transaction
// and not found, or a new event's own — by COPY when ctx carries one (a PostgreSQL rebuild), and
// otherwise like insertRows, onConflict included.
func insertNewRows(ctx context.Context, tx *sql.Tx, table string, columns []string, rows [][]any, onConflict string) error {
	if len(rows) == 0 {
		return nil
	}
	if copyRows, ok := ctx.Value(copyRowsKey{}).(copyRowsFunc); ok {
		for _, row := range rows {
			for i, v := range row {
				row[i] = plain(v)
			}
		}
		return copyRows(ctx, table, columns, rows)
	}
	return insertRows(ctx, tx, table, columns, rows, onConflict)
}
