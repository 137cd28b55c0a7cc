package timers

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
)

// MaxAlarmDossiers bounds how many dossiers one AlarmsOf reads: a page of a list at most.
const MaxAlarmDossiers = 500

// QueueAlarm is an alarm as the work queue shows it beside its dossier.
type QueueAlarm struct {
	Kind  Kind   `json:"kind"`
	State string `json:"state"` // armed or fired
	// Due is when it fires (fired); Deadline the deadline it warns of.
	Due      time.Time `json:"due_at"`
	Deadline time.Time `json:"deadline"`
	FiredAt  time.Time `json:"fired_at,omitzero"`
	Step     string    `json:"step,omitempty"`
}

// Querier reads rows.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// AlarmsOf returns the armed and fired alarms of the dossiers with the given ids (at most
// MaxAlarmDossiers: the rows of one page), by dossier id, each dossier's by due instant. Alarms of
// dossiers that moved on were disarmed and are not shown; a fired alarm stays until the dossier
// moves on from what it warned of.
func AlarmsOf(ctx context.Context, q Querier, dossierIDs []string) (map[string][]QueueAlarm, error) {
	out := map[string][]QueueAlarm{}
	if len(dossierIDs) == 0 {
		return out, nil
	}
	if len(dossierIDs) > MaxAlarmDossiers {
		return nil, fmt.Errorf("timers: the alarms of %d dossiers asked at once (at most %d)", len(dossierIDs), MaxAlarmDossiers)
	}
	args := make([]any, len(dossierIDs))
	marks := make([]string, len(dossierIDs))
	for i, id := range dossierIDs {
		args[i] = streamOf(id)
		marks[i] = "$" + strconv.Itoa(i+1)
	}
	rows, err := q.QueryContext(ctx, `SELECT dossier_id, kind, state, due_at, deadline_at, fired_at, step FROM `+alarmsTable+`
		WHERE dossier_id IN (`+strings.Join(marks, ", ")+`) AND state IN ('armed', 'fired') ORDER BY dossier_id, due_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("timers: read the alarms: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			stream, kind        string
			a                   QueueAlarm
			due, deadline, fire int64
		)
		if err := rows.Scan(&stream, &kind, &a.State, &due, &deadline, &fire, &a.Step); err != nil {
			return nil, err
		}
		a.Kind = Kind(kind)
		a.Due, a.Deadline = time.UnixMilli(due).In(domain.VietnamTime), time.UnixMilli(deadline).In(domain.VietnamTime)
		if fire != 0 {
			a.FiredAt = time.UnixMilli(fire).In(domain.VietnamTime)
		}
		id := strings.TrimPrefix(stream, "dossier-")
		out[id] = append(out[id], a)
	}
	return out, rows.Err()
}

// streamOf is the stream of a dossier id (or the stream itself).
func streamOf(id string) string {
	if strings.HasPrefix(id, "dossier-") {
		return id
	}
	return "dossier-" + id
}
