package projections

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/motcua/motcua/engine"
)

// maxParameters bounds a statement's parameters. Multi-row statements save PostgreSQL round
// trips; SQLite gets anonymous parameters (see placeholders), so their number costs it little.
const maxParameters = 500

// rowsPerInsert is how many rows of columns one of insertRows's multi-row statements carries.
// Larger statements do not pay on PostgreSQL: at 16,000 parameters a flush's upserts cost the server
// three times as much per row (parsing and planning each statement's thousands of parameters) as at
// 500; many rows go by COPY instead (upsertByCopy).
func rowsPerInsert(columns int) int { return max(1, maxParameters/columns) }

// copyUpsertRows is the number of rows from which insertRows, on a PostgreSQL transaction of the
// engine's own (b.CopyRows: a catch-up's or a rebuild's flush), writes through a temporary table
// filled by COPY (upsertByCopy) rather than by multi-row statements.
const copyUpsertRows = 200

// isPostgresDB reports whether db is a database/sql handle on pgx (PostgreSQL) rather than on
// SQLite, for the queries written differently for each; false for no database (a server built
// without its read models, in tests).
func isPostgresDB(db *sql.DB) bool {
	if db == nil {
		return false
	}
	driver := reflect.TypeOf(db.Driver())
	for driver.Kind() == reflect.Pointer {
		driver = driver.Elem()
	}
	return driver.PkgPath() == "github.com/jackc/pgx/v5/stdlib"
}

// driverCachesStatements reports whether db's driver keeps each connection's statements parsed
// itself: pgx does (its statement cache), modernc's SQLite does not.
func driverCachesStatements(db *sql.DB) bool { return isPostgresDB(db) }

// deleteByID deletes table's rows of the dossiers ids, at most perStatement a statement.
func deleteByID(ctx context.Context, tx *sql.Tx, d engine.Dialect, table string, ids []string, perStatement int) error {
	for chunk := range slices.Chunk(ids, perStatement) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE dossier_id IN (`+d.Placeholders(len(chunk), 1, 1)+`)`, engine.StringArgs(chunk)...); err != nil {
			return err
		}
	}
	return nil
}

// insertRows writes rows (values in the order of columns) with multi-row INSERTs ending with
// onConflict, each within the parameter budget; the full-size statement is prepared once. Rows
// must not repeat a key within a call. On SQLite, in a transaction of the engine's own (b.Raw: a
// catch-up's or a rebuild's flush), the statements go to the driver directly (insertRowsRaw).
func insertRows(ctx context.Context, tx *sql.Tx, b engine.Batch, table string, columns []string, rows [][]any, onConflict string) error {
	if len(rows) == 0 {
		return nil
	}
	perStatement := rowsPerInsert(len(columns))
	statement := func(n int) string {
		var sb strings.Builder
		sb.WriteString(`INSERT INTO ` + table + ` (` + strings.Join(columns, ", ") + `) VALUES `)
		for i := range n {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(" + b.Dialect.Placeholders(len(columns), 1, i*len(columns)+1) + ")")
		}
		return sb.String() + " " + onConflict
	}
	if b.Dialect == engine.SQLite && b.Raw != nil {
		return b.Raw(func(driverConn any) error {
			return insertRowsRaw(ctx, driverConn, statement, perStatement, rows)
		})
	}
	if b.Dialect == engine.PostgreSQL && b.CopyRows != nil && len(rows) >= copyUpsertRows {
		return upsertByCopy(ctx, tx, b, table, columns, rows, onConflict)
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	// One argument list for every statement: the driver is done with it when Exec returns.
	args := make([]any, 0, min(len(rows), perStatement)*len(columns))
	for start := 0; start < len(rows); start += perStatement {
		chunk := rows[start:min(start+perStatement, len(rows))]
		args = args[:0]
		for _, row := range chunk {
			for _, v := range row {
				args = append(args, plain(v))
			}
		}
		var err error
		if len(chunk) < perStatement {
			_, err = tx.ExecContext(ctx, statement(len(chunk)), args...)
		} else {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, statement(perStatement)); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// insertRowsRaw is insertRows through the driver connection the transaction is on: database/sql
// would convert and check each argument again (driverArgsConnLocked), and its context would have
// the driver watch every statement from a goroutine of its own. The values are converted here as
// database/sql converts them (plain, then driver.DefaultParameterConverter); ctx is checked between
// statements, each a few hundred parameters.
func insertRowsRaw(ctx context.Context, driverConn any, statement func(rows int) string, perStatement int, rows [][]any) error {
	conn, ok := driverConn.(driver.ConnPrepareContext)
	if !ok {
		return fmt.Errorf("insert rows: the driver connection %T cannot prepare statements", driverConn)
	}
	columns := len(rows[0])
	args := make([]driver.NamedValue, min(len(rows), perStatement)*columns)
	for i := range args {
		args[i].Ordinal = i + 1
	}
	unwatched := context.WithoutCancel(ctx)
	var full driver.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for start := 0; start < len(rows); start += perStatement {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := rows[start:min(start+perStatement, len(rows))]
		n := 0
		for _, row := range chunk {
			for _, v := range row {
				value, err := driverValue(v)
				if err != nil {
					return fmt.Errorf("insert rows: argument %d: %w", n+1, err)
				}
				args[n].Value = value
				n++
			}
		}
		stmt := full
		if len(chunk) < perStatement || full == nil {
			prepared, err := conn.PrepareContext(unwatched, statement(len(chunk)))
			if err != nil {
				return err
			}
			if len(chunk) == perStatement {
				full = prepared
			} else {
				defer prepared.Close()
			}
			stmt = prepared
		}
		execer, ok := stmt.(driver.StmtExecContext)
		if !ok {
			return fmt.Errorf("insert rows: the driver statement %T cannot execute with a context", stmt)
		}
		if _, err := execer.ExecContext(unwatched, args[:n]); err != nil {
			return err
		}
	}
	clear(args) // the rows' values, for the collector
	return nil
}

// driverValue is what database/sql binds for v: plain's value, converted as its default converter
// converts it, the common types without reflection.
func driverValue(v any) (driver.Value, error) {
	switch x := plain(v).(type) {
	case nil, string, int64, float64, bool, []byte, time.Time:
		return x, nil
	case int:
		return int64(x), nil
	default:
		return driver.DefaultParameterConverter.ConvertValue(x)
	}
}

// upsertByCopy writes rows into table as insertRows does, onConflict included, in four statements
// whatever their number: COPY into a temporary table shaped like table (made in the transaction
// and dropped at its end, so that it always has the table's current columns — a pooled session
// outlives migrations), one INSERT … SELECT from it, then TRUNCATE. A catch-up's flush upserts tens of
// thousands of counter and summary rows, which went 10 to 60 rows a statement — a round trip, a
// parse and a plan each (13,600 statements for the II.06a counters of 200,000 events).
func upsertByCopy(ctx context.Context, tx *sql.Tx, b engine.Batch, table string, columns []string, rows [][]any, onConflict string) error {
	staging := "copy_" + table
	if _, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE IF NOT EXISTS `+staging+` (LIKE `+table+` INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("upsert %s: staging table: %w", table, err)
	}
	for _, row := range rows {
		for i, v := range row {
			row[i] = plain(v)
		}
	}
	if err := b.CopyRows(ctx, staging, columns, rows); err != nil {
		return fmt.Errorf("upsert %s: copy: %w", table, err)
	}
	// The staging table, empty and filled by one COPY, is scanned in the order the rows were copied:
	// counter flushes sort their rows by key, so that two transactions adding to the same rows lock
	// them in one order (an ORDER BY ctid spilled a flush's sort to disk: twice the insert's time).
	list := strings.Join(columns, ", ")
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (`+list+`) SELECT `+list+` FROM `+staging+` `+onConflict); err != nil {
		return err
	}
	// Emptied now too — a flush may write the same table twice before its commit —, by TRUNCATE:
	// a DELETE of 100,000 staged rows took a third of the insert's time.
	_, err := tx.ExecContext(ctx, `TRUNCATE `+staging)
	return err
}

// insertNewRows writes rows whose keys the table cannot hold yet — looked up in this transaction
// and not found, or a new event's own — by COPY when the batch carries it (a PostgreSQL rebuild),
// and otherwise like insertRows, onConflict included.
func insertNewRows(ctx context.Context, tx *sql.Tx, b engine.Batch, table string, columns []string, rows [][]any, onConflict string) error {
	if len(rows) == 0 {
		return nil
	}
	if b.CopyRows != nil {
		for _, row := range rows {
			for i, v := range row {
				row[i] = plain(v)
			}
		}
		return b.CopyRows(ctx, table, columns, rows)
	}
	return insertRows(ctx, tx, b, table, columns, rows, onConflict)
}

// conditions builds a WHERE clause with numbered placeholders, in the dialect both databases share.
type conditions struct {
	clauses []string
	args    []any
}

// add appends a clause in which each "?" stands for the next argument.
func (c *conditions) add(clause string, args ...any) {
	for _, a := range args {
		c.args = append(c.args, a)
		clause = strings.Replace(clause, "?", fmt.Sprintf("$%d", len(c.args)), 1)
	}
	c.clauses = append(c.clauses, clause)
}

// agency restricts to dossiers the scope's agency received or decides; a scope of no agency
// matches nothing.
func (c *conditions) agency(alias string, scope AgencyScope) {
	switch {
	case scope.All():
	case scope.none():
		c.add("1 = 0")
	default:
		c.add("("+alias+".receiving_unit = ? OR "+alias+".competent_agency = ?)", scope.Agency(), scope.Agency())
	}
}

func (c *conditions) where() string {
	if len(c.clauses) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.clauses, " AND ")
}

// Period is a half-open span of time [From, To), usually whole days in Vietnam time; a zero bound
// is unbounded.
type Period struct {
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
}

// Contains reports whether t lies in the period.
func (p Period) Contains(t time.Time) bool {
	return !t.IsZero() && (p.From.IsZero() || !t.Before(p.From)) && (p.To.IsZero() || t.Before(p.To))
}

// within restricts column to the period.
func (c *conditions) within(column string, p Period) {
	if !p.From.IsZero() {
		c.add(column+" >= ?", sqlTime(p.From))
	}
	if !p.To.IsZero() {
		c.add(column+" < ?", sqlTime(p.To))
	}
	if p.From.IsZero() && p.To.IsZero() {
		c.add(column + " IS NOT NULL")
	}
}

// tableIndex is a secondary index of a read-model table: its name's suffix and its columns.
type tableIndex struct{ suffix, columns string }

// createTable returns the statements creating table — body is its columns and constraints, key its
// primary key's columns — with its secondary indexes. On SQLite each index is a UNIQUE constraint
// over its columns followed by the key: unique because the key is, it finds the same rows, and
// SQLite names a constraint's index after its table and renames it with the table. So a rebuild's
// swap renames the scratch tables and is done, where a named index had to be dropped and built
// again (SQLite cannot rename one): 3 s of a million-event rebuild. PostgreSQL renames indexes, so
// it gets ordinary ones, over the same columns followed by the key: a keyset page ordered by the
// index's columns and the key reads the index in order.
func createTable(d engine.Dialect, table, body, key string, indexes ...tableIndex) []string {
	if d == engine.SQLite {
		for _, i := range indexes {
			body += `, UNIQUE (` + i.columns + `, ` + key + `)`
		}
		return []string{`CREATE TABLE IF NOT EXISTS ` + table + ` (` + body + `)`}
	}
	statements := []string{`CREATE TABLE IF NOT EXISTS ` + table + ` (` + body + `)`}
	for _, i := range indexes {
		statements = append(statements, `CREATE INDEX IF NOT EXISTS `+table+i.suffix+` ON `+table+` (`+i.columns+`, `+key+`)`)
	}
	return statements
}

// createKeyTable returns the statement creating table — body is its columns and its primary key —
// read and written through its key alone. On SQLite the table is its key's B-tree (WITHOUT ROWID):
// a rowid table wrote every row into two B-trees, the table's and its key's index, and a flush's
// upserts looked each key up in the index, then the row in the table.
func createKeyTable(d engine.Dialect, table, body string) string {
	statement := `CREATE TABLE IF NOT EXISTS ` + table + ` (` + body + `)`
	if d == engine.SQLite {
		statement += ` WITHOUT ROWID`
	}
	return statement
}

// createCounterTable creates a table of counters: its key's text columns, the names it keeps beside
// them (text), its counters (integers from 0), keyed by the key alone — every counter table of the
// reports and the late dashboard has this shape, and is read by ranges of its key.
func createCounterTable(d engine.Dialect, table string, keyColumns, nameColumns, counterColumns []string) string {
	defs := make([]string, 0, len(keyColumns)+len(nameColumns)+len(counterColumns))
	for _, c := range slices.Concat(keyColumns, nameColumns) {
		defs = append(defs, c+" TEXT NOT NULL")
	}
	for _, c := range counterColumns {
		defs = append(defs, c+" BIGINT NOT NULL DEFAULT 0")
	}
	return createKeyTable(d, table, strings.Join(defs, ", ")+", PRIMARY KEY ("+strings.Join(keyColumns, ", ")+")")
}

// addCounters writes rows of a counter table — keyed by keyColumns, as createCounterTable makes
// them; each row its key columns' values, then its names', then its counters' — as increments: a row's names keep the
// greatest written, its counters add up, so that folds writing the same rows in any order give the
// same table. Callers pass the rows in key order, so that two transactions lock them in one order.
// Then it deletes, of the rows keyed by fell (key values, row after row: those a change took
// from), those where zero holds, so the table holds the rows something counts in now. Never COPY:
// another transaction of the same rebuild may hold the same counter rows.
func addCounters(ctx context.Context, tx *sql.Tx, b engine.Batch, table string, keyColumns, nameColumns, counterColumns []string, rows [][]any,
	fell []any, zero string) error {
	sets := make([]string, 0, len(nameColumns)+len(counterColumns))
	for _, c := range nameColumns {
		sets = append(sets, greatestName(table, c))
	}
	for _, c := range counterColumns {
		sets = append(sets, c+" = "+table+"."+c+" + excluded."+c)
	}
	if err := insertRows(ctx, tx, b, table, slices.Concat(keyColumns, nameColumns, counterColumns), rows,
		`ON CONFLICT (`+strings.Join(keyColumns, ", ")+`) DO UPDATE SET `+strings.Join(sets, ", ")); err != nil {
		return err
	}
	return deleteFallenToZero(ctx, tx, b.Dialect, table, keyColumns, zero, fell)
}

// takePrepared returns what a fold's PrepareFlush worked out for this flush, once, or else works it
// out now with work: Apply's folds of one batch are never prepared (engine.FlushPreparer).
func takePrepared[W any](prepared **W, work func() (*W, error)) (*W, error) {
	if w := *prepared; w != nil {
		*prepared = nil
		return w, nil
	}
	return work()
}

// counterWrite is what a flush adds to one counter table — addCounters' arguments, the rows in key
// order —, worked out before the flush's transaction opens where the fold can (engine.FlushPreparer):
// building and sorting thousands of keys took seconds a flush at a million dossiers, all of it
// time a transaction sat idle.
type counterWrite struct {
	table                                   string
	keyColumns, nameColumns, counterColumns []string
	rows                                    [][]any
	fell                                    []any
	zero                                    string
}

// write adds the rows in tx.
func (w counterWrite) write(ctx context.Context, tx *sql.Tx, b engine.Batch) error {
	if len(w.rows) == 0 {
		return nil
	}
	return addCounters(ctx, tx, b, w.table, w.keyColumns, w.nameColumns, w.counterColumns, w.rows, w.fell, w.zero)
}

func execAll(ctx context.Context, db *sql.DB, statements []string) error {
	for _, stmt := range statements {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// deleteFallenToZero deletes, of the counter rows of table keyed by keys — the values of
// keyColumns, row after row —, those where zero holds: a counter table holds the rows some
// dossier counts in now, never every row one once did. Increments keep the rows of any order of
// folding equal; only the rows a flush took something from can have fallen to zero.
func deleteFallenToZero(ctx context.Context, tx *sql.Tx, d engine.Dialect, table string, keyColumns []string, zero string, keys []any) error {
	width := len(keyColumns)
	for start := 0; start < len(keys); start += width * counterKeysPerDelete {
		chunk := keys[start:min(start+width*counterKeysPerDelete, len(keys))]
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+zero+` AND (`+strings.Join(keyColumns, ", ")+`) IN (`+
			valuesList(d, len(chunk)/width, width)+`)`, chunk...); err != nil {
			return err
		}
	}
	return nil
}

// counterKeysPerDelete bounds the keys one statement of deleteFallenToZero deletes.
const counterKeysPerDelete = 100

// greatestName is the ON CONFLICT update of a counter row's name column keeping the greatest name
// written, so that any order of folding gives the same table.
func greatestName(table, column string) string {
	return column + " = CASE WHEN excluded." + column + " > " + table + "." + column + " THEN excluded." + column + " ELSE " + table + "." + column + " END"
}

// replacingUpsert is the conflict clause replacing a row's columns by the new row's: the latest
// state of a dossier's row wins.
func replacingUpsert(key string, columns []string) string {
	sets := make([]string, len(columns))
	for i, c := range columns {
		sets[i] = c + " = excluded." + c
	}
	return `ON CONFLICT (` + key + `) DO UPDATE SET ` + strings.Join(sets, ", ")
}
