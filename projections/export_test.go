package projections

import (
	"context"
	"database/sql"

	"github.com/motcua/motcua/engine"
)

// ResolutionCounterRowsRead is how many counter rows ResolutionReportOf reads for agency and p.
func ResolutionCounterRowsRead(ctx context.Context, db *sql.DB, agency AgencyScope, p Period) (int, error) {
	query, args, err := counterQuery("resolution_counts", agency, p, true)
	if err != nil {
		return 0, err
	}
	var n sql.NullInt64
	err = db.QueryRowContext(ctx, query, args...).Scan(&n)
	return int(n.Int64), err
}

// ResolutionReportStatement is the statement ResolutionReportOf runs for agency and p.
func ResolutionReportStatement(agency AgencyScope, p Period) (string, []any, error) {
	return counterQuery("resolution_counts", agency, p, false)
}

// NewResolutionFold starts a fold of the II.06a read model that holds at most heldLimit open
// dossiers between flushes.
func NewResolutionFold(v ResolutionReportView, fresh bool, heldLimit int) engine.Fold {
	f := v.NewFold(fresh).(*resolutionFold)
	f.heldLimit = heldLimit
	return f
}

// NewProcessControlFold starts a fold of process control whose flushes work their rows out on
// parts goroutines once share dossiers each are dirty.
func NewProcessControlFold(v ProcessControlView, fresh bool, share, parts int) engine.Fold {
	f := v.NewFold(fresh).(*controlFold)
	f.prepareShare, f.prepareParts = share, parts
	return f
}
