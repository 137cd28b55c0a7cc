package engine

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

// A flush's COPY goes in statements of at most copyRowsPerStatement rows, every row written: a
// statement-level trigger counts the statements.
func TestCopyIntoWritesInStatementsOfBoundedRows(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("pgx", pgtest.NewDatabaseInTurn(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		`CREATE TABLE copied (n BIGINT NOT NULL)`,
		`CREATE TABLE copy_statements (rows_then BIGINT NOT NULL)`,
		`CREATE FUNCTION count_copy() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN INSERT INTO copy_statements SELECT count(*) FROM copied; RETURN NULL; END $$`,
		`CREATE TRIGGER counted AFTER INSERT ON copied FOR EACH STATEMENT EXECUTE FUNCTION count_copy()`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	defer func(n int) { copyRowsPerStatement = n }(copyRowsPerStatement)
	copyRowsPerStatement = 3
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var rows [][]any
	for n := range 10 {
		rows = append(rows, []any{int64(n)})
	}
	if err := copyInto(conn)(ctx, "copied", []string{"n"}, rows); err != nil {
		t.Fatal(err)
	}
	var count, sum int64
	if err := db.QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(n), 0) FROM copied`).Scan(&count, &sum); err != nil {
		t.Fatal(err)
	}
	if count != 10 || sum != 45 {
		t.Fatalf("copied %d rows summing %d, want 10 summing 45", count, sum)
	}
	var statements []int64
	result, err := db.QueryContext(ctx, `SELECT rows_then FROM copy_statements ORDER BY rows_then`)
	if err != nil {
		t.Fatal(err)
	}
	for result.Next() {
		var n int64
		if err := result.Scan(&n); err != nil {
			t.Fatal(err)
		}
		statements = append(statements, n)
	}
	if err := result.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []int64{3, 6, 9, 10}; !slices.Equal(statements, want) {
		t.Fatalf("COPY statements ended with %v rows in the table, want %v", statements, want)
	}
}
