package projections

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// ResolutionReportView feeds the statistics report on receiving and resolving dossiers (form
// II.06a/VPCP/KSTT, regulations §6). Besides the per-dossier summary it keeps every appointment date
// a dossier had and since when, so a past period is reported with the date in force at its end.
type ResolutionReportView struct {
	Prefix string // table name prefix; empty for the serving tables
}

func (ResolutionReportView) Name() string { return "resolution_report" }
func (ResolutionReportView) Tables() []string {
	return []string{"resolution_dossiers", "resolution_appointments"}
}
func (ResolutionReportView) WithPrefix(prefix string) Projection {
	return ResolutionReportView{Prefix: prefix}
}
func (v ResolutionReportView) summary() dossierSummary {
	return dossierSummary{table: v.Prefix + "resolution_dossiers"}
}
func (v ResolutionReportView) appointments() string { return v.Prefix + "resolution_appointments" }

func (v ResolutionReportView) Migrate(ctx context.Context, db *sql.DB) error {
	return execAll(ctx, db, append(v.summary().statements(db, summaryByCompetentAgency, summaryByReceivingUnit),
		`CREATE TABLE IF NOT EXISTS `+v.appointments()+` (
			dossier_id TEXT NOT NULL,
			version BIGINT NOT NULL,
			changed_at TEXT NOT NULL,
			appointment_date TEXT NOT NULL,
			PRIMARY KEY (dossier_id, version))`))
}

func (v ResolutionReportView) Apply(ctx context.Context, tx *sql.Tx, re eventstore.RecordedEvent) error {
	return v.ApplyBatch(ctx, tx, []eventstore.RecordedEvent{re})
}

// ApplyBatch folds a batch into the summary rows it touches, reading and writing each once, and
// records every change of appointment date.
func (v ResolutionReportView) ApplyBatch(ctx context.Context, tx *sql.Tx, events []eventstore.RecordedEvent) error {
	var changes [][]any
	err := foldBatch(ctx, tx, v.summary(), events, batchHooks{each: func(id string, re eventstore.RecordedEvent, e domain.Event, _ *summaryRow) error {
		if changedAt, appointment := appointmentChangeOf(e); !appointment.IsZero() {
			changes = append(changes, []any{id, int64(re.Version), sqlTime(changedAt), sqlTime(appointment)})
		}
		return nil
	}})
	if err != nil {
		return err
	}
	return insertNewRows(ctx, tx, v.appointments(), []string{"dossier_id", "version", "changed_at", "appointment_date"}, changes,
		`ON CONFLICT (dossier_id, version) DO NOTHING`)
}

// appointmentChangeOf returns when e set a new appointment date and the date; zero when it set none.
func appointmentChangeOf(e domain.Event) (at, appointment time.Time) {
	switch e := e.(type) {
	case domain.Received:
		return e.ReceivedAt, e.AppointmentDate
	case domain.Supplemented:
		return e.SupplementedAt, e.NewAppointmentDate
	case domain.ApologyIssued:
		return e.IssuedAt, e.NewAppointmentDate
	case domain.Resumed:
		return e.ResumedAt, e.NewAppointmentDate
	}
	return time.Time{}, time.Time{}
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
// the first result, or a written rejection, against the appointment date in force at that moment —
// and what was still in progress at its end, within time or overdue against the appointment date in
// force then. Every dossier counted as received is in exactly one of resolved, in progress or
// withdrawn.
func ResolutionReportOf(ctx context.Context, db *sql.DB, agency AgencyScope, p Period) (ResolutionReport, error) {
	if p.From.IsZero() || p.To.IsZero() || !p.From.Before(p.To) {
		return ResolutionReport{}, fmt.Errorf("resolution report: the period must be bounded and not empty, got %v–%v", p.From, p.To)
	}
	var c conditions
	c.agency("d", agency)
	c.add("d.received_at < ?", sqlTime(p.To))
	c.add("(d.resolved_at IS NULL OR d.resolved_at >= ?)", sqlTime(p.From))
	c.add("(d.withdrawn_at IS NULL OR d.withdrawn_at >= ?)", sqlTime(p.From))
	c.args = append(c.args, sqlTime(p.To))
	inForce := fmt.Sprintf(`(SELECT a.appointment_date FROM resolution_appointments a
		WHERE a.dossier_id = d.dossier_id AND a.changed_at < $%d ORDER BY a.version DESC LIMIT 1)`, len(c.args))
	rows, err := db.QueryContext(ctx, `SELECT `+summaryColumnList("d")+`, `+inForce+` FROM resolution_dossiers d`+c.where(), c.args...)
	if err != nil {
		return ResolutionReport{}, err
	}
	var appointmentsAtEnd []sql.NullString
	list, err := scanSummaryRows(rows, func() []any {
		appointmentsAtEnd = append(appointmentsAtEnd, sql.NullString{})
		return []any{&appointmentsAtEnd[len(appointmentsAtEnd)-1]}
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
		classify(&line.ResolutionCounts, d, parseSQLTime(appointmentsAtEnd[i]), p)
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
func classify(c *ResolutionCounts, d summaryRow, appointmentAtEnd time.Time, p Period) {
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
		switch judge(d.ResolvedAt, d.ResolvedAppointment) {
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
		if appointmentAtEnd.Before(p.To) {
			c.InProgressOverdue++
		} else {
			c.InProgressWithinTime++
		}
	}
}

// ResolutionCSVHeader is the report's column headings, as on form II.06a.
var ResolutionCSVHeader = []string{
	"STT", "Mã lĩnh vực", "Lĩnh vực, thủ tục", "Mã thủ tục",
	"Số hồ sơ nhận giải quyết - Tổng số", "Trong kỳ - Trực tuyến", "Trong kỳ - Trực tiếp, dịch vụ bưu chính", "Từ kỳ trước chuyển qua",
	"Số hồ sơ đã giải quyết - Tổng số", "Trước hạn", "Đúng hạn", "Quá hạn", "Trong đó từ chối giải quyết",
	"Số hồ sơ đang giải quyết - Tổng số", "Trong hạn", "Quá hạn",
	"Số hồ sơ rút (tính riêng)",
}

// CSVRecords returns the report as rows under ResolutionCSVHeader: each field, then its procedures,
// then the total.
func (r ResolutionReport) CSVRecords() [][]string {
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
	line("", "", "Tổng cộng", "", r.Total)
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
