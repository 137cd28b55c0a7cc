package projections

import (
	"context"
	"database/sql"
)

// LateCounterRowsRead is how many counter rows the late dashboard's period summaries read under f.
func LateCounterRowsRead(ctx context.Context, db *sql.DB, f LateFilter) (int, error) {
	query, args, err := lateCountsQuery(f, lateCountsRowsRead)
	if err != nil {
		return 0, err
	}
	var n sql.NullInt64
	err = db.QueryRowContext(ctx, query, args...).Scan(&n)
	return int(n.Int64), err
}

// LateCountsStatement is the statement the late dashboard's period summaries run under f.
func LateCountsStatement(f LateFilter) (string, []any, error) {
	return lateCountsQuery(f, lateCountsByGroup)
}

// OpenOverdueRowsRead is how many counter rows and list entries the late dashboard's open overdue
// summary reads under f.
func OpenOverdueRowsRead(ctx context.Context, db *sql.DB, f LateFilter) (int, error) {
	query, args := openOverdueQuery(db, f, openOverdueRowsRead)
	var n sql.NullInt64
	err := db.QueryRowContext(ctx, query, args...).Scan(&n)
	return int(n.Int64), err
}

// OpenOverdueStatement is the statement the late dashboard's open overdue summary runs under f.
func OpenOverdueStatement(db *sql.DB, f LateFilter) (string, []any) {
	return openOverdueQuery(db, f, openOverdueByLine)
}

// OpenOverdueStepsRowsRead is how many counter rows the late dashboard's open overdue steps read
// under f, besides today's handovers.
func OpenOverdueStepsRowsRead(ctx context.Context, db *sql.DB, f LateFilter) (int, error) {
	query, args := openOverdueStepsQuery(db, f, openOverdueStepsRowsRead)
	if query == "" {
		return 0, nil
	}
	var n sql.NullInt64
	err := db.QueryRowContext(ctx, query, args...).Scan(&n)
	return int(n.Int64), err
}

// OpenOverdueStepsStatements are the statements the late dashboard's open overdue steps run
// under f: the counters', then today's handovers', each with its arguments.
func OpenOverdueStepsStatements(db *sql.DB, f LateFilter) (statements []string, args [][]any) {
	query, a := openOverdueStepsQuery(db, f, openOverdueStepsCounterRows)
	statements, args = append(statements, query), append(args, a)
	for _, q := range overdueStepsFromHandoversQueries(db, f) {
		statements, args = append(statements, q.query), append(args, q.args)
	}
	return statements, args
}

// PendingNotLateStatement is the statement the late acceptances' total runs under f for the
// submissions not answered yet and not late at f.Now.
func PendingNotLateStatement(db *sql.DB, f LateFilter) (string, []any) {
	return pendingNotLateQuery(db, f)
}
