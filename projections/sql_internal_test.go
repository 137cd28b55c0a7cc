package projections

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

// TestPlainSanitizesTextAndLeavesCleanTextUnboxed checks what a flush binds: text with a character
// no field may hold comes out replaced, NULL wrappers unwrapped, and clean text — nearly every value
// a catch-up writes — as the interface it came in, without an allocation per value.
func TestPlainSanitizesTextAndLeavesCleanTextUnboxed(t *testing.T) {
	cases := []struct {
		in   any
		want any
	}{
		{"Nguyễn Văn A", "Nguyễn Văn A"},
		{"a\x00b", "a\uFFFDb"},
		{"bad \xff byte", "bad \uFFFD byte"},
		{sql.NullString{String: "x\x01", Valid: true}, "x\uFFFD"},
		{sql.NullString{}, nil},
		{sql.NullInt64{Int64: 7, Valid: true}, int64(7)},
		{sql.NullFloat64{}, nil},
		{int64(1 << 40), int64(1 << 40)},
	}
	for _, c := range cases {
		if got := plain(c.in); got != c.want {
			t.Errorf("plain(%#v) = %#v, want %#v", c.in, got, c.want)
		}
	}
	var clean any = "000.00.00.H56 — Trung tâm Phục vụ hành chính công"
	var out any
	if allocs := testing.AllocsPerRun(100, func() { out = plain(clean) }); allocs != 0 {
		t.Errorf("plain of clean text: %.0f allocations per value, want 0", allocs)
	}
	_ = out
}

// insertRowsCase is a table and rows of every kind of value the read models bind, more than one
// full statement's worth (perStatement) plus a short one.
func insertRowsCase(n int) (columns []string, rows [][]any) {
	columns = []string{"id", "name", "maybe", "count", "small", "amount", "nullable", "flag"}
	for i := range n {
		name := fmt.Sprintf("Hồ sơ %d", i)
		if i%97 == 0 {
			name += "\x00\xff" // sanitised on the way in
		}
		maybe := sql.NullString{String: fmt.Sprintf("%d", i), Valid: i%3 != 0}
		rows = append(rows, []any{fmt.Sprintf("d-%05d", i), name, maybe, int64(i) << 33, i % 7, float64(i) / 4,
			sql.NullInt64{Int64: int64(i), Valid: i%2 == 0}, i%5 == 0})
	}
	return columns, rows
}

func openInsertDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "rows.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, table := range []string{"through_sql", "through_driver"} {
		if _, err := db.Exec(`CREATE TABLE ` + table + ` (id TEXT PRIMARY KEY, name TEXT NOT NULL, maybe TEXT,
			count BIGINT NOT NULL, small BIGINT NOT NULL, amount REAL NOT NULL, nullable BIGINT, flag BOOLEAN NOT NULL)`); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// insertInTx runs insertRows into table in a transaction on a connection of its own, through the
// driver (as a catch-up's flush) or through database/sql (as a live delivery), and commits or not.
func insertInTx(ctx context.Context, db *sql.DB, throughDriver, commit bool, table string, columns []string, rows [][]any, onConflict string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	b := engine.Batch{Dialect: engine.SQLite}
	if throughDriver {
		b.Raw = conn.Raw
	}
	if err := insertRows(ctx, tx, b, table, columns, rows, onConflict); err != nil {
		return err
	}
	if !commit {
		return tx.Rollback()
	}
	return tx.Commit()
}

func dumpRows(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query(`SELECT id, name, maybe, count, small, amount, nullable, flag, typeof(count), typeof(flag) FROM ` + table + ` ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var sb strings.Builder
	for rows.Next() {
		var id, name, countType, flagType string
		var maybe sql.NullString
		var count, small int64
		var amount float64
		var nullable sql.NullInt64
		var flag bool
		if err := rows.Scan(&id, &name, &maybe, &count, &small, &amount, &nullable, &flag, &countType, &flagType); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s|%q|%v|%d|%d|%g|%v|%v|%s|%s\n", id, name, maybe, count, small, amount, nullable, flag, countType, flagType)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// TestInsertRowsThroughTheDriverWritesWhatDatabaseSQLWrites: a flush writing through the driver's
// own statements (a catch-up's or a rebuild's, Batch.Raw) leaves the same rows as through
// database/sql (a live delivery's) — values converted and sanitised alike, upserts alike —, inside
// the transaction (a rollback leaves nothing), and stops when its context ends.
func TestInsertRowsThroughTheDriverWritesWhatDatabaseSQLWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openInsertDB(t)
	columns, rows := insertRowsCase(3*maxParameters/8 + 5) // three full statements and a short one
	upsert := `ON CONFLICT (id) DO UPDATE SET name = excluded.name, count = count + excluded.count`
	for _, through := range []struct {
		table  string
		driver bool
	}{{"through_sql", false}, {"through_driver", true}} {
		if err := insertInTx(ctx, db, through.driver, false, through.table, columns, rows, upsert); err != nil {
			t.Fatal(err)
		}
		if got := dumpRows(t, db, through.table); got != "" {
			t.Fatalf("%s: a rolled-back transaction left rows:\n%s", through.table, got)
		}
		// Twice: the second time every row conflicts and is updated.
		for range 2 {
			if err := insertInTx(ctx, db, through.driver, true, through.table, columns, rows, upsert); err != nil {
				t.Fatal(err)
			}
		}
	}
	want, got := dumpRows(t, db, "through_sql"), dumpRows(t, db, "through_driver")
	if want == "" || strings.Count(want, "\n") != len(rows) {
		t.Fatalf("database/sql wrote %d rows, want %d", strings.Count(want, "\n"), len(rows))
	}
	if got != want {
		t.Fatalf("through the driver:\n%s\nthrough database/sql:\n%s", got, want)
	}
	if !strings.Contains(want, "\"Hồ sơ 0\uFFFD\uFFFD\"") {
		t.Fatalf("text with forbidden bytes was not sanitised:\n%.300s", want)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := insertInTx(canceled, db, true, true, "through_driver", columns, rows, upsert); err == nil {
		t.Fatal("an insert with an ended context succeeded")
	}
}

// BenchmarkInsertRows writes 20,000 rows of eight values in one transaction (rolled back), through
// database/sql and through the driver's own statements, alternately with -count:
//
//	go test ./projections -run '^$' -bench InsertRows -count 5
func BenchmarkInsertRows(b *testing.B) {
	ctx := context.Background()
	db := openInsertDB(b)
	columns, rows := insertRowsCase(20000)
	for _, through := range []struct {
		name   string
		driver bool
	}{{"database-sql", false}, {"driver", true}} {
		b.Run(through.name, func(b *testing.B) {
			for b.Loop() {
				if err := insertInTx(ctx, db, through.driver, false, "through_sql", columns, rows, `ON CONFLICT DO NOTHING`); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
		})
	}
}

// On PostgreSQL, in a flush of the engine's own (Batch.CopyRows), insertRows writes many rows by
// COPY into a staging table and one INSERT … SELECT, not a statement (a round trip, a parse and a
// plan) per few dozen rows; it upserts as the statements do, and twice into one table in one
// transaction (the staging table is emptied after each use).
func TestInsertRowsOnPostgreSQLUpsertsManyRowsThroughCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	config, err := pgxpool.ParseConfig(pgtest.NewDatabaseInTurn(t))
	if err != nil {
		t.Fatal(err)
	}
	statements := &insertCounter{}
	config.ConnConfig.Tracer = statements
	pool, err := pgxpool.NewWithConfig(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(ctx, `CREATE TABLE rows_pg (id TEXT PRIMARY KEY, name TEXT NOT NULL, maybe TEXT,
		count BIGINT NOT NULL, small BIGINT NOT NULL, amount DOUBLE PRECISION NOT NULL, nullable BIGINT, flag BOOLEAN NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	columns, rows := insertRowsCase(3000)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	batch := engine.Batch{Dialect: engine.PostgreSQL, CopyRows: func(ctx context.Context, table string, columns []string, rows [][]any) error {
		return conn.Raw(func(driverConn any) error {
			_, err := driverConn.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
			return err
		})
	}}
	upsert := "ON CONFLICT (id) DO UPDATE SET amount = rows_pg.amount + excluded.amount"
	if err := insertRows(ctx, tx, batch, "rows_pg", columns, rows[:2000], upsert); err != nil {
		t.Fatal(err)
	}
	// The second write adds the last thousand rows and doubles the amounts of the thousand before.
	if err := insertRows(ctx, tx, batch, "rows_pg", columns, rows[1000:], upsert); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := statements.n.Load(); n > 2 {
		t.Errorf("two writes of 2,000 rows of %d columns sent %d INSERT statements, want one each", len(columns), n)
	}
	var n int
	var sum float64
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), SUM(amount) FROM rows_pg`).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for i := range rows {
		want += float64(i) / 4
		if i >= 1000 && i < 2000 {
			want += float64(i) / 4
		}
	}
	if n != len(rows) || sum != want {
		t.Errorf("%d rows summing %v written, want %d summing %v", n, sum, len(rows), want)
	}
	var name string
	if err := db.QueryRowContext(ctx, `SELECT name FROM rows_pg WHERE id = 'd-00097'`).Scan(&name); err != nil || strings.ContainsRune(name, 0) {
		t.Errorf("a name with a NUL written as %q, %v: want it cleaned as the statements clean it", name, err)
	}
}

// insertCounter counts the INSERT statements sent through pgx.
type insertCounter struct{ n atomic.Int64 }

func (c *insertCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if strings.HasPrefix(data.SQL, "INSERT") {
		c.n.Add(1)
	}
	return ctx
}
func (c *insertCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
