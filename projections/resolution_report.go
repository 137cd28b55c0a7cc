package projections

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
)

// ResolutionReportView feeds the statistics report on receiving and resolving dossiers (form
// II.06a/VPCP/KSTT, regulations §6). Besides the per-dossier summary it keeps every change of a
// dossier's clock — its statutory and indicator due dates, whether it is paused, its supplement
// requests — and since when, so a past period is judged with the clock as it stood at its end.
type ResolutionReportView struct {
	Prefix string // table name prefix; empty for the serving tables
}

func (ResolutionReportView) Name() string { return "resolution_report" }
func (ResolutionReportView) Tables() []string {
	return []string{"resolution_dossiers", "resolution_clock"}
}
func (ResolutionReportView) SchemaVersion() int { return summarySchemaVersion + 1 } // the summary and the clock changes
func (ResolutionReportView) WithPrefix(prefix string) engine.Consumer {
	return ResolutionReportView{Prefix: prefix}
}
func (v ResolutionReportView) summary() dossierSummary {
	return dossierSummary{table: v.Prefix + "resolution_dossiers"}
}
func (v ResolutionReportView) clock() string { return v.Prefix + "resolution_clock" }

var clockColumns = []string{"dossier_id", "version", "changed_at", "due_date", "indicator_due_date", "paused_at", "supplement_requests"}

func (v ResolutionReportView) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	return execAll(ctx, db, append(v.summary().statements(d, summaryByCompetentAgency, summaryByReceivingUnit),
		`CREATE TABLE IF NOT EXISTS `+v.clock()+` (
			dossier_id TEXT NOT NULL,
			version BIGINT NOT NULL,
			changed_at TEXT NOT NULL,
			due_date TEXT NOT NULL,
			indicator_due_date TEXT NOT NULL,
			paused_at TEXT,
			supplement_requests INTEGER NOT NULL,
			PRIMARY KEY (dossier_id, version))`))
}

// Apply folds a batch into the summary rows it touches, reading and writing each once, and
// records every change of a received dossier's clock.
func (v ResolutionReportView) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	var changes [][]any
	err := foldBatch(ctx, tx, v.summary(), batch, batchHooks{each: func(id string, re eventstore.RecordedEvent, e domain.Event, row *summaryRow) error {
		if changedAt := clockChangeOf(e); !changedAt.IsZero() && !row.ReceivedAt.IsZero() {
			changes = append(changes, []any{id, int64(re.Version), sqlTime(changedAt), sqlTime(row.DueDate), sqlTime(row.IndicatorDueDate),
				sqlTime(row.PausedAt), int64(row.SupplementRequests)})
		}
		return nil
	}})
	if err != nil {
		return err
	}
	return insertNewRows(ctx, tx, batch, v.clock(), clockColumns, changes, `ON CONFLICT (dossier_id, version) DO NOTHING`)
}

// clockChangeOf returns when e changed the dossier's clock — set or moved a due date, paused or
// restarted it, counted a supplement request — and zero when it did not. An apology is not among
// them: its new date is a promise to the applicant, not a new time limit.
func clockChangeOf(e domain.Event) time.Time {
	switch e := e.(type) {
	case domain.Received:
		return e.ReceivedAt
	case domain.SupplementRequested:
		return e.RequestedAt
	case domain.Supplemented:
		return e.SupplementedAt
	case domain.Suspended:
		return e.SuspendedAt
	case domain.Resumed:
		return e.ResumedAt
	}
	return time.Time{}
}

// dossierClock is a dossier's clock as it stood at some moment.
type dossierClock struct {
	DueDate, IndicatorDueDate, PausedAt time.Time
	SupplementRequests                  int
}

// verdictRule is which time limit a statistic judges dossiers against.
type verdictRule int

const (
	// ruleLegal judges against the statutory due date (Dossier.LegalVerdict): form II.06a, the
	// control sheet, the late dashboard, TT 01/2018's time criteria.
	ruleLegal verdictRule = iota
	// ruleIndicator judges against the national indicator's due date, and counts a dossier with
	// more supplement requests than allowed as late (Dossier.IndicatorVerdict): Quyết định 766.
	ruleIndicator
)

// resolvedVerdict judges a dossier resolved (a first result or a written rejection) against the
// due date in force when it was.
func resolvedVerdict(d summaryRow, rule verdictRule) Verdict {
	if rule == ruleLegal {
		return judge(d.ResolvedAt, d.ResolvedDueDate)
	}
	v := judge(d.ResolvedAt, d.ResolvedIndicatorDueDate)
	if v != "" && d.SupplementRequests > d.IndicatorSupplementLimit {
		v = VerdictLate
	}
	return v
}

// overdueAt reports whether a dossier still in progress at `at`, with its clock as it stood then,
// is overdue: judged at `at`, or at the moment its clock stopped when it is paused — waiting for the
// applicant's supplement, or suspended — as the domain judges it.
func overdueAt(d summaryRow, c dossierClock, at time.Time, rule verdictRule) bool {
	judgedAt := at
	if !c.PausedAt.IsZero() {
		judgedAt = c.PausedAt
	}
	if rule == ruleLegal {
		return judgedAt.After(c.DueDate)
	}
	return judgedAt.After(c.IndicatorDueDate) || c.SupplementRequests > d.IndicatorSupplementLimit
}

// ResolutionCounts are the columns of form II.06a, counted in dossiers.
type ResolutionCounts struct {
	ReceivedTotal            int `json:"received_total"`
	ReceivedOnline           int `json:"received_online"`
	ReceivedInPersonOrPostal int `json:"received_in_person_or_postal"`
	CarriedOver              int `json:"carried_over"` // received before the period, not resolved or withdrawn by its start
	ResolvedTotal            int `json:"resolved_total"`
	ResolvedEarly            int `json:"resolved_early"`
	ResolvedOnTime           int `json:"resolved_on_time"`
	ResolvedLate             int `json:"resolved_late"`
	ResolvedByRejection      int `json:"resolved_by_rejection"` // of the resolved, refused in writing after appraisal
	InProgressTotal          int `json:"in_progress_total"`
	InProgressWithinTime     int `json:"in_progress_within_time"`
	InProgressOverdue        int `json:"in_progress_overdue"`
	Withdrawn                int `json:"withdrawn"` // counted apart: received, then withdrawn in the period
}

func (c *ResolutionCounts) add(o ResolutionCounts) {
	c.ReceivedTotal += o.ReceivedTotal
	c.ReceivedOnline += o.ReceivedOnline
	c.ReceivedInPersonOrPostal += o.ReceivedInPersonOrPostal
	c.CarriedOver += o.CarriedOver
	c.ResolvedTotal += o.ResolvedTotal
	c.ResolvedEarly += o.ResolvedEarly
	c.ResolvedOnTime += o.ResolvedOnTime
	c.ResolvedLate += o.ResolvedLate
	c.ResolvedByRejection += o.ResolvedByRejection
	c.InProgressTotal += o.InProgressTotal
	c.InProgressWithinTime += o.InProgressWithinTime
	c.InProgressOverdue += o.InProgressOverdue
	c.Withdrawn += o.Withdrawn
}

// ProcedureResolution is one procedure's line under its field.
type ProcedureResolution struct {
	ProcedureCode string `json:"procedure_code"`
	ProcedureName string `json:"procedure_name"`
	ResolutionCounts
}

// FieldResolution is one field's line of the report, with its procedures.
type FieldResolution struct {
	FieldCode  string                `json:"field_code"`
	FieldName  string                `json:"field_name"`
	Procedures []ProcedureResolution `json:"procedures"`
	ResolutionCounts
}

// ResolutionReport is form II.06a for an agency (or all) and a period.
type ResolutionReport struct {
	Agency string            `json:"agency,omitempty"`
	Period Period            `json:"period"`
	Fields []FieldResolution `json:"fields"`
	Total  ResolutionCounts  `json:"total"`
}

// ResolutionReportOf counts, for dossiers the agency received or decides, what was
// received in period p (which must be bounded), what was resolved in it — early, on time or late:
// the first result, or a written rejection, against the statutory due date in force at that
// moment — and what was still in progress at its end, within time or overdue against the clock as
// it stood then. An apology's new date does not move the statutory due date: form 04 admits the
// lateness. Every dossier counted as received is in exactly one of resolved, in progress or
// withdrawn.
func ResolutionReportOf(ctx context.Context, db *sql.DB, agency AgencyScope, p Period) (ResolutionReport, error) {
	return resolutionReport(ctx, db, agency, p, ruleLegal)
}

func resolutionReport(ctx context.Context, db *sql.DB, agency AgencyScope, p Period, rule verdictRule) (ResolutionReport, error) {
	if p.From.IsZero() || p.To.IsZero() || !p.From.Before(p.To) {
		return ResolutionReport{}, fmt.Errorf("resolution report: the period must be bounded and not empty, got %v–%v", p.From, p.To)
	}
	var c conditions
	c.agency("d", agency)
	c.add("d.received_at < ?", sqlTime(p.To))
	c.add("(d.resolved_at IS NULL OR d.resolved_at >= ?)", sqlTime(p.From))
	c.add("(d.withdrawn_at IS NULL OR d.withdrawn_at >= ?)", sqlTime(p.From))
	c.args = append(c.args, sqlTime(p.To))
	// The clock in force at the period's end: its last change before it.
	clockAtEnd := fmt.Sprintf(` LEFT JOIN resolution_clock k ON k.dossier_id = d.dossier_id AND k.version =
		(SELECT MAX(x.version) FROM resolution_clock x WHERE x.dossier_id = d.dossier_id AND x.changed_at < $%d)`, len(c.args))
	rows, err := db.QueryContext(ctx, `SELECT `+summaryColumnList("d")+`, k.due_date, k.indicator_due_date, k.paused_at, k.supplement_requests
		FROM resolution_dossiers d`+clockAtEnd+c.where(), c.args...)
	if err != nil {
		return ResolutionReport{}, err
	}
	type clockCells struct {
		due, indicator, paused sql.NullString
		supplements            sql.NullInt64
	}
	var clocks []*clockCells
	list, err := scanSummaryRows(rows, func() []any {
		k := &clockCells{}
		clocks = append(clocks, k)
		return []any{&k.due, &k.indicator, &k.paused, &k.supplements}
	})
	if err != nil {
		return ResolutionReport{}, err
	}
	type key struct{ field, procedure string }
	counts := map[key]*ProcedureResolution{}
	fieldNames := map[string]string{}
	for i, d := range list {
		k := key{d.FieldCode, d.ProcedureCode}
		line := counts[k]
		if line == nil {
			line = &ProcedureResolution{ProcedureCode: d.ProcedureCode, ProcedureName: d.ProcedureName}
			counts[k] = line
			fieldNames[d.FieldCode] = d.FieldName
		}
		atEnd := dossierClock{DueDate: parseSQLTime(clocks[i].due), IndicatorDueDate: parseSQLTime(clocks[i].indicator),
			PausedAt: parseSQLTime(clocks[i].paused), SupplementRequests: int(clocks[i].supplements.Int64)}
		classify(&line.ResolutionCounts, d, atEnd, p, rule)
	}
	report := ResolutionReport{Agency: agency.Agency(), Period: p, Fields: []FieldResolution{}}
	byField := map[string]*FieldResolution{}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].field != keys[j].field {
			return keys[i].field < keys[j].field
		}
		return keys[i].procedure < keys[j].procedure
	})
	for _, k := range keys {
		f := byField[k.field]
		if f == nil {
			report.Fields = append(report.Fields, FieldResolution{FieldCode: k.field, FieldName: fieldNames[k.field]})
			f = &report.Fields[len(report.Fields)-1]
			byField[k.field] = f
		}
		f.Procedures = append(f.Procedures, *counts[k])
		f.ResolutionCounts.add(counts[k].ResolutionCounts)
		report.Total.add(counts[k].ResolutionCounts)
	}
	return report, nil
}

// classify counts one dossier received before the period's end and still pending at its start.
func classify(c *ResolutionCounts, d summaryRow, clockAtEnd dossierClock, p Period, rule verdictRule) {
	switch {
	case d.ReceivedAt.Before(p.From):
		c.CarriedOver++
	case d.Channel == string(domain.ChannelOnline):
		c.ReceivedOnline++
	default:
		c.ReceivedInPersonOrPostal++
	}
	c.ReceivedTotal++
	switch {
	case p.Contains(d.ResolvedAt):
		c.ResolvedTotal++
		if d.Resolution == "rejected" {
			c.ResolvedByRejection++
		}
		switch resolvedVerdict(d, rule) {
		case VerdictEarly:
			c.ResolvedEarly++
		case VerdictOnTime:
			c.ResolvedOnTime++
		default:
			c.ResolvedLate++
		}
	case p.Contains(d.WithdrawnAt):
		c.Withdrawn++
	default:
		c.InProgressTotal++
		if overdueAt(d, clockAtEnd, p.To, rule) {
			c.InProgressOverdue++
		} else {
			c.InProgressWithinTime++
		}
	}
}

// CSVRecords returns the report as rows in the column order of l10n.Lang.ResolutionCSVHeader: each
// field, then its procedures, then the total, labelled totalLabel (words come from l10n).
func (r ResolutionReport) CSVRecords(totalLabel string) [][]string {
	var out [][]string
	line := func(no, fieldCode, name, procedureCode string, c ResolutionCounts) {
		out = append(out, append([]string{no, fieldCode, name, procedureCode}, countCells(c)...))
	}
	for i, f := range r.Fields {
		line(fmt.Sprint(i+1), f.FieldCode, f.FieldName, "", f.ResolutionCounts)
		for j, p := range f.Procedures {
			line(fmt.Sprintf("%d.%d", i+1, j+1), f.FieldCode, p.ProcedureName, p.ProcedureCode, p.ResolutionCounts)
		}
	}
	line("", "", totalLabel, "", r.Total)
	return out
}

func countCells(c ResolutionCounts) []string {
	values := []int{c.ReceivedTotal, c.ReceivedOnline, c.ReceivedInPersonOrPostal, c.CarriedOver,
		c.ResolvedTotal, c.ResolvedEarly, c.ResolvedOnTime, c.ResolvedLate, c.ResolvedByRejection,
		c.InProgressTotal, c.InProgressWithinTime, c.InProgressOverdue, c.Withdrawn}
	cells := make([]string, len(values))
	for i, v := range values {
		cells[i] = fmt.Sprint(v)
	}
	return cells
}
