package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
)

// WorkQueueFilter selects a work queue. Every filter is a column of an index that ends with the
// queue's order, so a page is read in order from one index and stops after the page.
type WorkQueueFilter struct {
	// Agency is whose dossiers may be listed: those the agency is involved in (received, decides,
	// holds, or does an open part of a parallel step), or every dossier. A scope of no agency lists
	// nothing.
	Agency AgencyScope
	// Responsible keeps the dossiers waiting on this agency's officials now: an agency's own queue.
	Responsible   string
	Unit          string        // held by this unit (department or agency code)
	OfficialID    string        // assigned to this official
	ProcedureCode string        // of this procedure
	FieldCode     string        // of this field
	Status        domain.Status // in this status
	// DueWithinDays, when above zero, keeps the dossiers whose clock runs and that are due within
	// that many working days from now, not yet overdue.
	DueWithinDays int
}

// QueueStatuses are the statuses of the dossiers a work queue holds: those it can be filtered by.
var QueueStatuses = []domain.Status{domain.StatusSubmitted, domain.StatusReceived, domain.StatusProcessing, domain.StatusAwaitingPayment,
	domain.StatusSupplementRequested, domain.StatusSuspended, domain.StatusResultReady}

// SummaryDueWithinDays is the "due soon" horizon of the per-agency summary, in working days: the
// late dashboard's default.
const SummaryDueWithinDays = 3

// DueKind says which deadline a work item races.
type DueKind string

const (
	DueAcceptance  DueKind = "acceptance"  // an online submission must be accepted or sent back (8 working hours)
	DueStep        DueKind = "step"        // the current step's deadline
	DueAppointment DueKind = "appointment" // the appointment date promised to the applicant
)

// WorkItem is one dossier of a work queue.
type WorkItem struct {
	DossierID         string        `json:"dossier_id"`
	Code              string        `json:"code,omitempty"`
	Status            domain.Status `json:"status"`
	ProcedureCode     string        `json:"procedure_code"`
	ProcedureName     string        `json:"procedure_name"`
	ApplicantName     string        `json:"applicant_name"`
	ResponsibleAgency string        `json:"responsible_agency"`
	HolderUnit        string        `json:"holder_unit"`
	HolderOfficialID  string        `json:"holder_official_id,omitempty"`
	HolderOfficial    string        `json:"holder_official,omitempty"`
	Step              string        `json:"step,omitempty"`
	ArrivedAt         time.Time     `json:"arrived_at,omitzero"` // submitted or received
	AppointmentDate   time.Time     `json:"appointment_date,omitzero"`
	DueKind           DueKind       `json:"due_kind,omitempty"`
	DueAt             time.Time     `json:"due_at,omitzero"`
	// RemainingHours is the working time left until DueAt, negative once overdue. For a dossier
	// whose clock is paused (waiting for a supplement, suspended) it is what was left when it paused.
	RemainingHours float64 `json:"remaining_hours"`
	Overdue        bool    `json:"overdue"`
	Paused         bool    `json:"paused"`
	Version        uint64  `json:"version"`
	// Files are the dossier's first files (at most MaxItemFiles), so whoever picks the dossier up
	// sees what it carries and previews it from the queue; FileCount counts them all.
	Files     []WorkItemFile `json:"files,omitempty"`
	FileCount int            `json:"file_count,omitempty"`
}

// MaxItemFiles bounds the files a work item lists: a page of the queue stays small whatever the
// dossiers hold (up to domain.MaxDocuments each); the dossier lists every one.
const MaxItemFiles = 5

// WorkItemFile is one of a dossier's files as its work item lists it.
type WorkItemFile struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
}

// queueCountCap bounds the count of a queue's total: beyond it the total is that many, labelled
// an estimate ("more than"), so that counting costs at most that many index entries.
const queueCountCap = 10_000

// WorkQueueOf returns one page of the dossiers matching f: overdue first, then by the working
// hours left; results waiting to be handed back next; paused dossiers last, since nobody at the
// agency can move them (queuePlace). The page is a range of one index read in order.
func WorkQueueOf(ctx context.Context, db *sql.DB, f WorkQueueFilter, req PageRequest, cal *calendar.Calendar, now time.Time) (Page[WorkItem], error) {
	size := req.Size()
	if f.Agency.none() {
		return PageOf([]WorkItem{}, size, nil), nil
	}
	from, c := queueSelection(db, f, cal, now)
	key := from.key()
	total, estimated, err := queueTotal(ctx, db, f, from, c, cal, now)
	if err != nil {
		return Page[WorkItem]{}, err
	}
	if len(req.After) > 0 {
		rank, due, code, id, err := parseQueueCursor(req.After)
		if err != nil {
			return Page[WorkItem]{}, err
		}
		c.add("("+key+".sort_rank, "+key+".due_key, "+key+".code, "+key+".dossier_id) > (?, ?, ?, ?)", rank, due, code, id)
	}
	c.args = append(c.args, size+1)
	rows, err := db.QueryContext(ctx, `SELECT q.state_json, q.acceptance_deadline, `+key+`.sort_rank, `+key+`.due_key, `+key+`.code, `+key+`.dossier_id
		FROM `+from.tables+c.where()+` ORDER BY `+key+`.sort_rank, `+key+`.due_key, `+key+`.code, `+key+`.dossier_id LIMIT $`+strconv.Itoa(len(c.args)), c.args...)
	if err != nil {
		return Page[WorkItem]{}, err
	}
	defer rows.Close()
	type placed struct {
		item WorkItem
		at   Cursor
	}
	var found []placed
	for rows.Next() {
		var stateJSON, due, code, id string
		var rank int
		var acceptance sql.NullString
		if err := rows.Scan(&stateJSON, &acceptance, &rank, &due, &code, &id); err != nil {
			return Page[WorkItem]{}, err
		}
		var d domain.Dossier
		if err := json.Unmarshal([]byte(stateJSON), &d); err != nil {
			return Page[WorkItem]{}, err
		}
		found = append(found, placed{workItemOf(d, parseSQLTime(acceptance), cal, now), queueCursor(rank, due, code, id)})
	}
	if err := rows.Err(); err != nil {
		return Page[WorkItem]{}, err
	}
	p := PageOf(found, size, func(p placed) Cursor { return p.at })
	page := Page[WorkItem]{Items: make([]WorkItem, len(p.Items)), Next: p.Next, Total: total, TotalEstimated: estimated}
	for i, it := range p.Items {
		page.Items[i] = it.item
	}
	return page, nil
}

// queueTotal counts the rows of the queue f selects (from, c): from its counters when they count
// it (countScope), otherwise a range of the index of its pages, up to queueCountCap.
func queueTotal(ctx context.Context, db *sql.DB, f WorkQueueFilter, from queueTables, c conditions, cal *calendar.Calendar, now time.Time) (int, bool, error) {
	scope, agency, counted := countScope(f)
	switch {
	case !counted:
		return countCapped(ctx, db, from.counted(c), c.args)
	case f.DueWithinDays > 0:
		n, err := runningCount(ctx, db, f, scope, agency, dueSpan{low: sqlTime(now).String,
			high: sqlTime(cal.AddWorkingDays(now, f.DueWithinDays)).String, highIncluded: true}, cal, now)
		return n, false, err
	}
	var n int64
	err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM work_queue_counts WHERE scope = $1 AND agency = $2`, scope, agency).Scan(&n)
	return int(n), false, err
}

// countScope is the scope and agency of the work_queue_counts rows that count f's queue, when
// they do: every dossier, an agency's own queue or the dossiers it is involved in, none of them
// filtered further but by the "due within" horizon.
func countScope(f WorkQueueFilter) (scope, agency string, counted bool) {
	if f.Unit != "" || f.OfficialID != "" || f.ProcedureCode != "" || f.FieldCode != "" || f.Status != "" || f.Agency.none() {
		return "", "", false
	}
	switch {
	case f.Agency.All() && f.Responsible == "":
		return countScopeAll, "", true
	case f.Agency.All():
		return countScopeResponsible, f.Responsible, true
	case f.Responsible == "":
		return countScopeInvolved, f.Agency.Agency(), true
	case f.Responsible == f.Agency.Agency():
		return countScopeOwn, f.Responsible, true
	}
	return "", "", false
}

// dueSpan is a span of due keys: from low (included; "" for no bound) to high, included or not.
type dueSpan struct {
	low, high    string
	highIncluded bool
}

// dayEnd bounds the due keys of a day from above (excluded): every key of day is day + "T…".
func dayEnd(day string) string { return day + "U" }

// runningCount counts the dossiers of f's queue, counted in the counter rows of scope and agency,
// whose clock runs and that are due within s: the counter rows of the days wholly within s, and
// the index entries of its first and last days — a day's dossiers at most, however many are open.
func runningCount(ctx context.Context, db *sql.DB, f WorkQueueFilter, scope, agency string, s dueSpan, cal *calendar.Calendar, now time.Time) (int, error) {
	lowDay, highDay := dueDay(s.low), dueDay(s.high)
	total := 0
	exact := func(low, high string, highIncluded bool) error {
		f.DueWithinDays = 0
		from, c := queueSelection(db, f, cal, now)
		key := from.key()
		c.add(key+".sort_rank = ?", rankRunning)
		c.add(key+".due_key >= ?", low)
		if highIncluded {
			c.add(key+".due_key <= ?", high)
		} else {
			c.add(key+".due_key < ?", high)
		}
		var n int
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+from.counted(c)+`) counted`, c.args...).Scan(&n)
		total += n
		return err
	}
	if s.low != "" && lowDay == highDay {
		return total, exact(s.low, s.high, s.highIncluded)
	}
	var c conditions
	c.add("scope = ?", scope)
	c.add("agency = ?", agency)
	c.add("sort_rank = ?", rankRunning)
	if s.low != "" {
		if err := exact(s.low, dayEnd(lowDay), false); err != nil {
			return 0, err
		}
		c.add("due_day > ?", lowDay)
	}
	c.add("due_day < ?", highDay)
	var whole int64
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM work_queue_counts`+c.where(), c.args...).Scan(&whole); err != nil {
		return 0, err
	}
	total += int(whole)
	return total, exact(highDay, s.high, s.highIncluded)
}

// WorkQueueOverdueOf counts the overdue dossiers of the queue f selects: from its counters when
// they count it (countScope), otherwise a range of the same index as its pages, up to queueCountCap.
func WorkQueueOverdueOf(ctx context.Context, db *sql.DB, f WorkQueueFilter, cal *calendar.Calendar, now time.Time) (int, error) {
	if f.Agency.none() || f.DueWithinDays > 0 { // due within N days: not overdue yet, by definition
		return 0, nil
	}
	if scope, agency, counted := countScope(f); counted {
		return runningCount(ctx, db, f, scope, agency, dueSpan{high: sqlTime(now).String}, cal, now)
	}
	from, c := queueSelection(db, f, cal, now)
	key := from.key()
	c.add(key+".sort_rank = ?", rankRunning)
	c.add(key+".due_key < ?", sqlTime(now).String)
	n, _, err := countCapped(ctx, db, from.counted(c), c.args)
	return n, err
}

// queueTables is where a queue's rows are read from: the agencies' index table first when the
// scope's agency is the most selective filter, the queue's own otherwise.
type queueTables struct {
	tables      string
	agencyFirst bool
	// agencyOnly: every condition but the join is on the agencies' index rows, so counting
	// needs no row of the queue's own table.
	agencyOnly bool
}

// joinAgencyRow is the condition joining an agency's index row to the queue's row.
const joinAgencyRow = "q.dossier_id = a.dossier_id"

// counted returns the selection of c's rows to count: from the agencies' index rows alone when
// that is enough.
func (t queueTables) counted(c conditions) string {
	if !t.agencyOnly {
		return `SELECT 1 FROM ` + t.tables + c.where()
	}
	only := conditions{args: c.args}
	for _, clause := range c.clauses {
		if clause != joinAgencyRow {
			only.clauses = append(only.clauses, clause)
		}
	}
	return `SELECT 1 FROM work_queue_agencies a` + only.where()
}

// key is the alias of the table whose columns order the rows: the one read first.
func (t queueTables) key() string {
	if t.agencyFirst {
		return "a"
	}
	return "q"
}

// queueSelection returns the tables and conditions selecting f's rows on db. The scope's agency
// drives the query through its index rows unless a holder, unit or responsible agency — fewer rows
// still — is asked for; the scope is then checked on each row by its index row's whole key.
func queueSelection(db *sql.DB, f WorkQueueFilter, cal *calendar.Calendar, now time.Time) (queueTables, conditions) {
	var c conditions
	from := queueTables{tables: "work_queue q"}
	switch {
	case f.Agency.All():
	case f.Responsible == "" && f.Unit == "" && f.OfficialID == "":
		// CROSS JOIN keeps SQLite's planner from reordering: the agency's index rows are read in order.
		from = queueTables{tables: "work_queue_agencies a CROSS JOIN work_queue q", agencyFirst: true,
			agencyOnly: f.ProcedureCode == "" && f.FieldCode == "" && f.Status == ""}
		c.add("a.agency = ?", f.Agency.Agency())
		c.add(joinAgencyRow)
	default:
		// PostgreSQL turns an EXISTS into a semi join, which it hashed: both tables' every row of
		// the agency read and sorted for a page of 50 (an agency's own queue, the reception's page).
		// OFFSET 0 keeps the check a lookup per row of the index read in order.
		fence := ""
		if isPostgresDB(db) {
			fence = " OFFSET 0"
		}
		c.add(`EXISTS (SELECT 1 FROM work_queue_agencies a WHERE a.agency = ? AND a.sort_rank = q.sort_rank
			AND a.due_key = q.due_key AND a.code = q.code AND a.dossier_id = q.dossier_id`+fence+`)`, f.Agency.Agency())
	}
	for _, filter := range []struct{ column, value string }{
		{"responsible_agency", f.Responsible}, {"holder_unit", f.Unit}, {"holder_official_id", f.OfficialID},
		{"procedure_code", f.ProcedureCode}, {"field_code", f.FieldCode}, {"status", string(f.Status)},
	} {
		if filter.value != "" {
			c.add("q."+filter.column+" = ?", filter.value)
		}
	}
	if key := from.key(); f.DueWithinDays > 0 {
		c.add(key+".sort_rank = ?", rankRunning)
		c.add(key+".due_key >= ?", sqlTime(now).String)
		c.add(key+".due_key <= ?", sqlTime(cal.AddWorkingDays(now, f.DueWithinDays)).String)
	}
	return from, c
}

// countCapped counts the rows of a selection up to queueCountCap, and says when there are more.
func countCapped(ctx context.Context, db *sql.DB, selection string, args []any) (total int, estimated bool, err error) {
	args = append(args[:len(args):len(args)], queueCountCap+1)
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+selection+` LIMIT $`+strconv.Itoa(len(args))+`) counted`, args...).Scan(&total)
	if total > queueCountCap {
		return queueCountCap, true, err
	}
	return total, false, err
}

func workItemOf(d domain.Dossier, acceptanceDeadline time.Time, cal *calendar.Calendar, now time.Time) WorkItem {
	item := WorkItem{
		DossierID: d.ID, Code: string(d.Code), Status: d.Status, ProcedureCode: d.Procedure.Code, ProcedureName: d.Procedure.Name,
		ApplicantName: d.Applicant.Name, ResponsibleAgency: responsibleAgency(d), HolderUnit: d.Holder.Unit,
		HolderOfficialID: d.Holder.OfficialID, HolderOfficial: d.Holder.OfficialName, Step: d.Step,
		ArrivedAt: d.ReceivedAt, AppointmentDate: d.AppointmentDate, Version: d.Version,
	}
	if d.Status == domain.StatusSubmitted {
		item.ArrivedAt = d.SubmittedAt
	}
	item.FileCount = len(d.Documents)
	for _, doc := range d.Documents[:min(len(d.Documents), MaxItemFiles)] {
		item.Files = append(item.Files, WorkItemFile{ID: doc.DocumentID, Name: doc.Name(), MediaType: doc.MediaType})
	}
	item.DueKind, item.DueAt = dueOf(d, acceptanceDeadline)
	// The clock stops while the applicant owes documents or processing is suspended.
	clock := now
	switch {
	case d.Status == domain.StatusSuspended:
		item.Paused, clock = true, d.SuspendedAt
	case d.Status == domain.StatusSupplementRequested && d.PendingSupplement != nil:
		item.Paused, clock = true, d.PendingSupplement.RequestedAt
	case d.Status == domain.StatusResultReady && len(d.Results) > 0:
		// The agency's part ended when the result was ready: the dossier is overdue only if that
		// was after the appointment date, however long the applicant then takes to collect it.
		clock = d.Results[0].ReadyAt
	}
	if !item.DueAt.IsZero() {
		item.RemainingHours = math.Round(cal.WorkingTimeBetween(clock, item.DueAt).Hours()*100) / 100
		// Past the date by less than a working minute (after hours, on a holiday) is late too.
		item.Overdue = !item.Paused && (item.RemainingHours < 0 || (item.RemainingHours == 0 && clock.After(item.DueAt)))
	}
	return item
}

// AgencyQueueSummary is one agency's work queue in figures: the dossiers waiting on its officials
// now (responsible_agency), as its queue lists them.
type AgencyQueueSummary struct {
	Agency           string `json:"agency"`
	Open             int    `json:"open"`
	Overdue          int    `json:"overdue"`
	DueSoon          int    `json:"due_soon"` // clock running, due within the horizon, not overdue yet
	Paused           int    `json:"paused"`
	WaitingApplicant int    `json:"waiting_applicant"` // paused for a supplement the applicant owes
}

// WorkQueueSummaryOf sums up the queue of each agency in scope at now, dueWithinDays working days
// being "due soon": one GROUP BY over the agencies' counter rows (work_queue_counts, scope
// responsible: a row per rank, and per due day of the running clocks), and the dossiers due on
// the first and last days of the horizon counted from the index on (responsible_agency, rank, due
// moment) — one row per agency, never one per open dossier.
func WorkQueueSummaryOf(ctx context.Context, db *sql.DB, scope AgencyScope, dueWithinDays int, cal *calendar.Calendar, now time.Time) ([]AgencyQueueSummary, error) {
	out := []AgencyQueueSummary{}
	if scope.none() {
		return out, nil
	}
	nowKey, soonKey := sqlTime(now).String, sqlTime(cal.AddWorkingDays(now, dueWithinDays)).String
	today, lastDay := dueDay(nowKey), dueDay(soonKey)
	var c conditions
	c.args = []any{today, lastDay}
	c.add("scope = ?", countScopeResponsible)
	if !scope.All() {
		c.add("agency = ?", scope.Agency())
	}
	rows, err := db.QueryContext(ctx, `SELECT agency, SUM(n),
			SUM(CASE WHEN sort_rank = 0 AND due_day < $1 THEN n ELSE 0 END),
			SUM(CASE WHEN sort_rank = 0 AND due_day > $1 AND due_day < $2 THEN n ELSE 0 END),
			SUM(CASE WHEN sort_rank >= 2 THEN n ELSE 0 END),
			SUM(CASE WHEN sort_rank = 3 THEN n ELSE 0 END)
		FROM work_queue_counts`+c.where()+` GROUP BY agency ORDER BY agency`, c.args...)
	if err != nil {
		return nil, err
	}
	at := map[string]int{}
	for rows.Next() {
		var s AgencyQueueSummary
		if err := rows.Scan(&s.Agency, &s.Open, &s.Overdue, &s.DueSoon, &s.Paused, &s.WaitingApplicant); err != nil {
			rows.Close()
			return nil, err
		}
		at[s.Agency] = len(out)
		out = append(out, s)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil // no dossier queued anywhere
	}
	// The first and last days of the horizon, counted dossier by dossier: overdue before now, due
	// soon from now to the horizon's end.
	days := []string{today}
	if lastDay != today {
		days = append(days, lastDay)
	}
	for _, day := range days {
		var c conditions
		c.args = []any{nowKey, soonKey}
		c.add("sort_rank = ?", rankRunning)
		c.add("due_key >= ?", day)
		c.add("due_key < ?", dayEnd(day))
		if scope.All() {
			// Naming the agencies (those with a queue, from the counters above) lets the day's
			// dossiers be counted from the index on (responsible_agency, rank, due moment) alone:
			// through the queue's order index every one of them was looked up in the table for its
			// agency, and a day's dossiers grow with a province's daily rate (the inspector's page
			// 1.5 ms at 100 k, 1.6–2.7 ms at 1 M dossiers a year on SQLite).
			agencies := make([]any, len(out))
			for i, s := range out {
				agencies[i] = s.Agency
			}
			c.add("responsible_agency IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(agencies)), ", ")+")", agencies...)
		} else {
			c.add("responsible_agency = ?", scope.Agency())
		}
		rows, err := db.QueryContext(ctx, `SELECT responsible_agency,
				SUM(CASE WHEN due_key < $1 THEN 1 ELSE 0 END),
				SUM(CASE WHEN due_key >= $1 AND due_key <= $2 THEN 1 ELSE 0 END)
			FROM work_queue`+c.where()+` GROUP BY responsible_agency`, c.args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var agency string
			var overdue, soon int
			if err := rows.Scan(&agency, &overdue, &soon); err != nil {
				rows.Close()
				return nil, err
			}
			if i, ok := at[agency]; ok { // every queued dossier is counted in its agency's rows
				out[i].Overdue += overdue
				out[i].DueSoon += soon
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	return out, nil
}
