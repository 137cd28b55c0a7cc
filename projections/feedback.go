package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
)

// FeedbackView is the read model of complaints, petitions and questions (PAKN,
// domain.FeedbackAggregate): the officials' queue of open feedback per agency, the counters of
// acts done on time or late per stage that the dashboard and the QĐ 766 group 5 indicators sum,
// and the dossiers first complained about (the satisfaction group's complaint share).
//
// A feedback's row carries where it stands in the queue as indexed columns — (agency, open,
// due_key, lookup_code) — so an agency's queue is a range of an index read in order. due_key is
// the limit it races now (routing, answer, publication), or "~" while the submitter is asked for
// more: the clock stops, and it sorts after every instant.
type FeedbackView struct {
	Prefix string
}

func (FeedbackView) Name() string { return "feedback" }
func (FeedbackView) Tables() []string {
	return []string{"feedback", "feedback_counts", "feedback_dossiers"}
}
func (FeedbackView) SchemaVersion() int                       { return 1 }
func (FeedbackView) WithPrefix(prefix string) engine.Consumer { return FeedbackView{Prefix: prefix} }
func (v FeedbackView) table() string                          { return v.Prefix + "feedback" }
func (v FeedbackView) counts() string                         { return v.Prefix + "feedback_counts" }
func (v FeedbackView) dossiers() string                       { return v.Prefix + "feedback_dossiers" }

// FeedbackStage is a stage of handling a feedback whose time QĐ 766 group 5 counts.
type FeedbackStage string

const (
	FeedbackStageRoute   FeedbackStage = "route"   // routed or refused by the receiving agency (≤ 2 working days)
	FeedbackStageRefuse  FeedbackStage = "refuse"  // refused by the responsible agency (≤ 2 from routing)
	FeedbackStageAsk     FeedbackStage = "ask"     // more information asked (≤ 5)
	FeedbackStageAnswer  FeedbackStage = "answer"  // answered (≤ 15, waits left out)
	FeedbackStagePublish FeedbackStage = "publish" // the answer published (≤ 2)
)

// FeedbackStages lists the stages in the order of handling.
var FeedbackStages = []FeedbackStage{FeedbackStageRoute, FeedbackStageRefuse, FeedbackStageAsk, FeedbackStageAnswer, FeedbackStagePublish}

// feedbackPaused is the due_key of a feedback waiting for its submitter.
const feedbackPaused = "~"

// The counter kinds beside the stages.
const feedbackCountComplainedDossier = "complained_dossier" // a dossier's first complaint

func (v FeedbackView) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	if err := execAll(ctx, db, createTable(d, v.table(), `
			feedback_id TEXT PRIMARY KEY,
			lookup_code TEXT NOT NULL,
			kind TEXT NOT NULL,
			agency TEXT NOT NULL,
			status TEXT NOT NULL,
			open INTEGER NOT NULL,
			stage TEXT NOT NULL,
			due_key TEXT NOT NULL,
			received_at TEXT NOT NULL,
			state_json TEXT NOT NULL,
			version BIGINT NOT NULL`, "feedback_id",
		tableIndex{"_queue", "agency, open, due_key, lookup_code"},
		tableIndex{"_open", "open, due_key, lookup_code"},
		tableIndex{"_stage", "open, stage, due_key, agency"})); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, createKeyTable(d, v.counts(), `
			grain INTEGER NOT NULL,
			span TEXT NOT NULL,
			agency TEXT NOT NULL,
			kind TEXT NOT NULL,
			on_time BIGINT NOT NULL,
			late BIGINT NOT NULL,
			PRIMARY KEY (grain, span, agency, kind)`)); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, createKeyTable(d, v.dossiers(), `
			dossier_code TEXT PRIMARY KEY,
			first_complaint_at TEXT NOT NULL`))
	return err
}

// Apply folds the batch's feedback events into their rows, one feedback at a time; every other
// event (the dossiers', the codes') is not the feedback's and is left alone.
// NewFold keeps the log's feedback events until the flush applies them (selectiveFold).
func (v FeedbackView) NewFold(bool) engine.Fold {
	return newSelectiveFold(v.Apply, func(b engine.Batch, i int) bool {
		return domain.FeedbackAggregate.Holds(b.Events[i].Stream, b.Events[i].Type)
	})
}

func (v FeedbackView) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	events, err := batch.EventsOf(domain.FeedbackAggregate)
	if err != nil {
		return err
	}
	held := map[string]*domain.Feedback{}
	var order []string
	for i, e := range events {
		if e == nil {
			continue
		}
		re := batch.Events[i]
		id, _ := domain.FeedbackAggregate.IDOf(re.Stream)
		f, ok := held[id]
		if !ok {
			if f, err = v.load(ctx, tx, batch.Dialect, id); err != nil {
				return err
			}
			held[id] = f
			order = append(order, id)
		}
		if err := v.count(ctx, tx, batch.Dialect, *f, e); err != nil {
			return err
		}
		*f = domain.EvolveFeedback(*f, e)
		f.Version = re.Version
	}
	for _, id := range order {
		if err := v.write(ctx, tx, batch.Dialect, held[id]); err != nil {
			return err
		}
	}
	return nil
}

func (v FeedbackView) load(ctx context.Context, tx *sql.Tx, d engine.Dialect, id string) (*domain.Feedback, error) {
	var state string
	err := tx.QueryRowContext(ctx, `SELECT state_json FROM `+v.table()+` WHERE feedback_id = `+d.Placeholders(1, 1, 1), id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return &domain.Feedback{}, nil
	}
	if err != nil {
		return nil, err
	}
	var f domain.Feedback
	if err := json.Unmarshal([]byte(state), &f); err != nil {
		return nil, fmt.Errorf("feedback %s: %w", id, err)
	}
	return &f, nil
}

// feedbackPlace is the stage a feedback waits in and the limit it races.
func feedbackPlace(f domain.Feedback) (open bool, stage FeedbackStage, dueKey string) {
	switch f.Status {
	case domain.FeedbackStatusReceived:
		return true, FeedbackStageRoute, sqlTime(f.RouteBy).String
	case domain.FeedbackStatusRouted:
		return true, FeedbackStageAnswer, sqlTime(f.AnswerBy).String
	case domain.FeedbackStatusAwaitingInformation:
		return true, FeedbackStageAnswer, feedbackPaused
	case domain.FeedbackStatusAnswered:
		return true, FeedbackStagePublish, sqlTime(f.PublishBy).String
	}
	return false, "", feedbackPaused
}

func (v FeedbackView) write(ctx context.Context, tx *sql.Tx, d engine.Dialect, f *domain.Feedback) error {
	state, err := json.Marshal(f)
	if err != nil {
		return err
	}
	open, stage, due := feedbackPlace(*f)
	columns := []string{"feedback_id", "lookup_code", "kind", "agency", "status", "open", "stage", "due_key", "received_at", "state_json", "version"}
	row := []any{f.ID, f.LookupCode, string(f.Kind), f.Agency, string(f.Status), boolInt(open), string(stage), due,
		sqlTime(f.ReceivedAt).String, string(state), int64(f.Version)}
	return insertRows(ctx, tx, engine.Batch{Dialect: d}, v.table(), columns, [][]any{row}, `ON CONFLICT (feedback_id) DO UPDATE SET
		agency = excluded.agency, status = excluded.status, open = excluded.open, stage = excluded.stage,
		due_key = excluded.due_key, state_json = excluded.state_json, version = excluded.version`)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// count adds e's act to the counters of its stage, on time or late against the limit the event
// recorded, on the Vietnam day and month of the act, for the agency that had to act; and a
// complaint naming a dossier never complained about before to that dossier's counter.
func (v FeedbackView) count(ctx context.Context, tx *sql.Tx, d engine.Dialect, before domain.Feedback, e domain.Event) error {
	var stage FeedbackStage
	var at, due time.Time
	agency := before.Agency
	switch e := e.(type) {
	case domain.FeedbackReceived:
		if e.Kind != domain.FeedbackComplaint || e.DossierCode == "" {
			return nil
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO `+v.dossiers()+` (dossier_code, first_complaint_at) VALUES `+
			d.Placeholders(1, 2, 1)+` ON CONFLICT (dossier_code) DO NOTHING`, string(e.DossierCode), sqlTime(e.ReceivedAt).String)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return v.addCount(ctx, tx, d, e.ReceivedAt, e.Agency, feedbackCountComplainedDossier, true)
	case domain.FeedbackRouted:
		stage, at, due = FeedbackStageRoute, e.RoutedAt, e.Due
	case domain.FeedbackRefused:
		stage, at, due = FeedbackStageRoute, e.RefusedAt, e.Due
		if before.Status == domain.FeedbackStatusRouted {
			stage = FeedbackStageRefuse
		}
	case domain.FeedbackInformationRequested:
		stage, at, due = FeedbackStageAsk, e.RequestedAt, e.Due
	case domain.FeedbackAnswered:
		stage, at, due = FeedbackStageAnswer, e.AnsweredAt, e.Due
	case domain.FeedbackPublished:
		stage, at, due = FeedbackStagePublish, e.PublishedAt, e.Due
	default:
		return nil // a reply from the submitter is no act of the agency
	}
	return v.addCount(ctx, tx, d, at, agency, string(stage), domain.FeedbackOnTime(at, due))
}

func (v FeedbackView) addCount(ctx context.Context, tx *sql.Tx, d engine.Dialect, at time.Time, agency, kind string, onTime bool) error {
	local := at.In(domain.VietnamTime)
	onTimeN, lateN := 0, 1
	if onTime {
		onTimeN, lateN = 1, 0
	}
	rows := [][]any{
		{grainDay, local.Format(time.DateOnly), agency, kind, onTimeN, lateN},
		{grainMonth, local.Format("2006-01"), agency, kind, onTimeN, lateN},
	}
	return addCounters(ctx, tx, engine.Batch{Dialect: d}, v.counts(), []string{"grain", "span", "agency", "kind"}, nil, []string{"on_time", "late"}, rows, nil, "")
}

// FeedbackRow is one feedback of the officials' queue.
type FeedbackRow struct {
	ID          string                `json:"id"`
	LookupCode  string                `json:"lookup_code"`
	Kind        domain.FeedbackKind   `json:"kind"`
	Status      domain.FeedbackStatus `json:"status"`
	Agency      string                `json:"agency"`
	Stage       FeedbackStage         `json:"stage,omitempty"`
	Subject     string                `json:"subject"`
	DossierCode string                `json:"dossier_code,omitempty"`
	ReceivedAt  time.Time             `json:"received_at"`
	// Due is the limit the feedback races now; zero while the submitter is asked for more.
	Due     time.Time `json:"due,omitzero"`
	Overdue bool      `json:"overdue"`
	Version uint64    `json:"version"`
}

// FeedbackQueueOf returns a page of the open feedback the scope's agency holds (every agency's for
// AllAgencies), soonest limit first, waits for the submitter last; overdue is judged at now.
func FeedbackQueueOf(ctx context.Context, db *sql.DB, scope AgencyScope, now time.Time, page PageRequest) (Page[FeedbackRow], error) {
	if page.After != nil && len(page.After) != 2 {
		return Page[FeedbackRow]{}, ErrBadCursor
	}
	var c conditions
	switch {
	case scope.none():
		return Page[FeedbackRow]{Items: []FeedbackRow{}}, nil
	case !scope.All():
		c.add("agency = ?", scope.Agency())
	}
	c.add("open = ?", 1)
	var total int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM feedback`+c.where(), c.args...).Scan(&total); err != nil {
		return Page[FeedbackRow]{}, err
	}
	if page.After != nil {
		c.add("(due_key > ? OR (due_key = ? AND lookup_code > ?))", page.After[0], page.After[0], page.After[1])
	}
	size := page.Size()
	rows, err := db.QueryContext(ctx, `SELECT due_key, state_json FROM feedback`+c.where()+
		` ORDER BY due_key, lookup_code LIMIT `+strconv.Itoa(size+1), c.args...)
	if err != nil {
		return Page[FeedbackRow]{}, err
	}
	defer rows.Close()
	var items []FeedbackRow
	keys := map[string]string{}
	for rows.Next() {
		var due, state string
		if err := rows.Scan(&due, &state); err != nil {
			return Page[FeedbackRow]{}, err
		}
		var f domain.Feedback
		if err := json.Unmarshal([]byte(state), &f); err != nil {
			return Page[FeedbackRow]{}, err
		}
		row := FeedbackRowOf(f, now)
		keys[row.ID] = due
		items = append(items, row)
	}
	if err := rows.Err(); err != nil {
		return Page[FeedbackRow]{}, err
	}
	p := PageOf(items, size, func(r FeedbackRow) Cursor { return Cursor{keys[r.ID], r.LookupCode} })
	p.Total = total
	return p, nil
}

// FeedbackRowOf is the queue's row of f, overdue judged at now.
func FeedbackRowOf(f domain.Feedback, now time.Time) FeedbackRow {
	open, stage, due := feedbackPlace(f)
	row := FeedbackRow{ID: f.ID, LookupCode: f.LookupCode, Kind: f.Kind, Status: f.Status, Agency: f.Agency, Stage: stage,
		Subject: f.Subject, DossierCode: string(f.DossierCode), ReceivedAt: f.ReceivedAt, Version: f.Version}
	if open && due != feedbackPaused {
		row.Due = parseSQLTime(sql.NullString{String: due, Valid: true})
		row.Overdue = now.After(row.Due)
	}
	return row
}

// FeedbackStageStats counts the acts of one stage done in a period, on time or late, and the open
// feedback whose limit for the stage had passed by the period's end without the act.
type FeedbackStageStats struct {
	Stage      FeedbackStage `json:"stage"`
	Done       int           `json:"done"`
	OnTime     int           `json:"on_time"`
	Late       int           `json:"late"`
	Overdue    int           `json:"overdue"` // still not done, past the limit
	OnTimeRate float64       `json:"on_time_rate"`
}

// FeedbackDashboard is the on-time handling of feedback per stage for an agency and period.
type FeedbackDashboard struct {
	Agency string               `json:"agency,omitempty"`
	Period Period               `json:"period"`
	Stages []FeedbackStageStats `json:"stages"`
	// ComplainedDossiers counts the dossiers first named by a complaint in the period.
	ComplainedDossiers int `json:"complained_dossiers"`
}

// FeedbackDashboardOf sums the counters of the period — whole Vietnam days — for the scope, and
// counts the open feedback overdue at the period's end (or now, if earlier) from the queue's stage
// index. Its cost is that of the counter rows of the period and of the overdue rows.
func FeedbackDashboardOf(ctx context.Context, db *sql.DB, scope AgencyScope, p Period, now time.Time) (FeedbackDashboard, error) {
	spans, err := periodSpans(p)
	if err != nil {
		return FeedbackDashboard{}, err
	}
	out := FeedbackDashboard{Agency: scope.Agency(), Period: p}
	done := map[string][2]int{}
	for _, s := range spans {
		var c conditions
		c.add("grain = ?", s.grain)
		c.add("span >= ?", s.from)
		c.add("span < ?", s.to)
		switch {
		case scope.none():
			c.add("1 = 0")
		case !scope.All():
			c.add("agency = ?", scope.Agency())
		}
		rows, err := db.QueryContext(ctx, `SELECT kind, COALESCE(SUM(on_time), 0), COALESCE(SUM(late), 0) FROM feedback_counts`+c.where()+` GROUP BY kind`, c.args...)
		if err != nil {
			return FeedbackDashboard{}, err
		}
		for rows.Next() {
			var kind string
			var onTime, late int
			if err := rows.Scan(&kind, &onTime, &late); err != nil {
				rows.Close()
				return FeedbackDashboard{}, err
			}
			t := done[kind]
			t[0] += int(s.sign) * onTime
			t[1] += int(s.sign) * late
			done[kind] = t
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return FeedbackDashboard{}, err
		}
	}
	end := p.To
	if now.Before(end) {
		end = now
	}
	overdue := map[FeedbackStage]int{}
	if !scope.none() {
		var c conditions
		c.add("open = ?", 1)
		c.add("due_key < ?", sqlTime(end).String)
		c.add("received_at < ?", sqlTime(p.To).String)
		if !scope.All() {
			c.add("agency = ?", scope.Agency())
		}
		rows, err := db.QueryContext(ctx, `SELECT stage, COUNT(*) FROM feedback`+c.where()+` GROUP BY stage`, c.args...)
		if err != nil {
			return FeedbackDashboard{}, err
		}
		for rows.Next() {
			var stage string
			var n int
			if err := rows.Scan(&stage, &n); err != nil {
				rows.Close()
				return FeedbackDashboard{}, err
			}
			overdue[FeedbackStage(stage)] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return FeedbackDashboard{}, err
		}
	}
	for _, stage := range FeedbackStages {
		t := done[string(stage)]
		s := FeedbackStageStats{Stage: stage, OnTime: t[0], Late: t[1], Done: t[0] + t[1], Overdue: overdue[stage]}
		s.OnTimeRate = percent(s.OnTime, s.Done+s.Overdue)
		out.Stages = append(out.Stages, s)
	}
	out.ComplainedDossiers = done[feedbackCountComplainedDossier][0]
	return out, nil
}

// Stage returns the statistics of one stage.
func (d FeedbackDashboard) Stage(stage FeedbackStage) FeedbackStageStats {
	for _, s := range d.Stages {
		if s.Stage == stage {
			return s
		}
	}
	return FeedbackStageStats{Stage: stage}
}
