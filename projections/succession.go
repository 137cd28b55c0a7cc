package projections

import (
	"context"
	"database/sql"
	"strconv"
)

// OpenDossierPage lists a page of the open dossiers agency is involved in — received, decides,
// holds, or does an open part of — from the work queue's per-agency index, in the queue's order
// after the cursor after ("" for the first page), and the cursor of the next page ("" after the
// last). It is what an agency succession walks (commands.OpenDossierLister): the page is a range
// of the index's key, however many dossiers the agency has.
func OpenDossierPage(ctx context.Context, db *sql.DB, agency, after string, limit int) ([]string, string, error) {
	limit = PageRequest{Limit: limit}.Size()
	cursor, err := DecodeCursor(after)
	if err != nil {
		return nil, "", err
	}
	args := []any{agency}
	where := "agency = $1"
	if cursor != nil {
		rank, due, code, id, err := parseQueueCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		args = append(args, rank, due, code, id)
		where += " AND (sort_rank, due_key, code, dossier_id) > ($2, $3, $4, $5)"
	}
	args = append(args, limit+1)
	rows, err := db.QueryContext(ctx, `SELECT sort_rank, due_key, code, dossier_id FROM work_queue_agencies WHERE `+where+
		` ORDER BY sort_rank, due_key, code, dossier_id LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var ids []string
	var last Cursor
	for rows.Next() {
		var rank int
		var due, code, id string
		if err := rows.Scan(&rank, &due, &code, &id); err != nil {
			return nil, "", err
		}
		if len(ids) == limit {
			return ids, last.Encode(), rows.Err()
		}
		ids = append(ids, id)
		last = queueCursor(rank, due, code, id)
	}
	return ids, "", rows.Err()
}
