package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
)

// RegisterView is the dossier register (sổ theo dõi hồ sơ, TT 01/2018 form 06): every dossier a
// receiving unit received, in order of receipt, with where it went and when its result came back and
// was handed over. It keeps the per-dossier summary the register is printed from.
type RegisterView struct {
	Prefix string // table name prefix; empty for the serving tables
}

func (RegisterView) Name() string       { return "register" }
func (RegisterView) Tables() []string   { return []string{"register_dossiers"} }
func (RegisterView) SchemaVersion() int { return summarySchemaVersion } // the summary alone
func (RegisterView) WithPrefix(prefix string) engine.Consumer {
	return RegisterView{Prefix: prefix}
}
func (v RegisterView) summary() dossierSummary {
	return dossierSummary{table: v.Prefix + "register_dossiers"}
}

func (v RegisterView) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	if v.Prefix == "" {
		if err := retireLedger(ctx, db); err != nil {
			return err
		}
	}
	return execAll(ctx, db, v.summary().statements(d, summaryByReceivingUnit)) // RegisterOf: a unit's receipts
}

// retireLedger drops what the register left under its former name, "dossier_ledger" with table
// ledger_dossiers: its checkpoint and parked events go with the table, so the register under its
// new name starts from an empty table and catches up from the log like a new read model.
func retireLedger(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS ledger_dossiers`); err != nil {
		return fmt.Errorf("register: drop the former ledger_dossiers: %w", err)
	}
	return engine.Forget(ctx, db, "dossier_ledger")
}

// Apply folds a batch into the rows it touches, reading each row once and writing it once.
func (v RegisterView) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	return foldBatch(ctx, tx, v.summary(), batch, batchHooks{})
}

// RegisterEntry is one line of the dossier register.
type RegisterEntry struct {
	Number             int            `json:"no"`
	Code               string         `json:"code"`
	ProcedureCode      string         `json:"procedure_code"`
	ProcedureName      string         `json:"procedure_name"`
	FieldName          string         `json:"field_name"`
	ApplicantName      string         `json:"applicant_name"`
	ApplicantAddress   string         `json:"applicant_address,omitempty"`
	ApplicantPhone     string         `json:"applicant_phone,omitempty"`
	Channel            domain.Channel `json:"channel"`
	CompetentAgency    string         `json:"competent_agency"`
	ReceivedAt         time.Time      `json:"received_at"`
	ReceivedBy         string         `json:"received_by"`
	AppointmentDate    time.Time      `json:"appointment_date"` // as printed on the receipt
	AppointmentInForce time.Time      `json:"appointment_in_force"`
	TransferredAt      time.Time      `json:"transferred_at,omitzero"`
	TransferredTo      string         `json:"transferred_to,omitempty"`
	ResolvedAt         time.Time      `json:"resolved_at,omitzero"` // result (or refusal) back from the deciding body
	Resolution         string         `json:"resolution,omitempty"` // result or rejected
	ReturnedAt         time.Time      `json:"returned_at,omitzero"`
	Closed             string         `json:"closed,omitempty"`          // returned, withdrawn or rejected
	Note               string         `json:"note,omitempty"`            // why it closed (withdrawal, rejection, refusal)
	ApologyNewDate     time.Time      `json:"apology_new_date,omitzero"` // the new appointment of a letter of apology
	ApologyReason      string         `json:"apology_reason,omitempty"`
}

// Register is a receiving unit's register for one year (Vietnam time).
type Register struct {
	Unit    string          `json:"unit"`
	Year    int             `json:"year"`
	Entries []RegisterEntry `json:"entries"`
}

// RegisterOf returns the register of the dossiers unit received in year, numbered in order of receipt.
func RegisterOf(ctx context.Context, db *sql.DB, unit string, year int) (Register, error) {
	var c conditions
	c.add("d.receiving_unit = ?", unit)
	c.within("d.received_at", Period{
		From: time.Date(year, 1, 1, 0, 0, 0, 0, domain.VietnamTime),
		To:   time.Date(year+1, 1, 1, 0, 0, 0, 0, domain.VietnamTime),
	})
	rows, err := db.QueryContext(ctx, `SELECT `+summaryColumnList("d")+` FROM register_dossiers d`+c.where()+
		` ORDER BY d.received_at, d.code`, c.args...)
	if err != nil {
		return Register{}, err
	}
	list, err := scanSummaryRows(rows, nil)
	if err != nil {
		return Register{}, err
	}
	register := Register{Unit: unit, Year: year, Entries: make([]RegisterEntry, 0, len(list))}
	for i, d := range list {
		entry := RegisterEntry{
			Number: i + 1, Code: d.Code, ProcedureCode: d.ProcedureCode, ProcedureName: d.ProcedureName, FieldName: d.FieldName,
			ApplicantName: d.ApplicantName, ApplicantAddress: d.ApplicantAddress, ApplicantPhone: d.ApplicantPhone,
			Channel: domain.Channel(d.Channel), CompetentAgency: d.CompetentAgency, ReceivedAt: d.ReceivedAt, ReceivedBy: d.ReceivedByName,
			AppointmentDate: d.FirstAppointment, AppointmentInForce: d.AppointmentDate, TransferredAt: d.FirstTransferAt,
			TransferredTo: d.FirstTransferUnit, ResolvedAt: d.ResolvedAt, Resolution: d.Resolution, ReturnedAt: d.ReturnedAt,
			Closed: d.CloseKind, Note: d.CloseReason,
		}
		if !d.ApologyAt.IsZero() {
			entry.ApologyNewDate, entry.ApologyReason = d.ApologyNew, d.ApologyReason
		}
		register.Entries = append(register.Entries, entry)
	}
	return register, nil
}

// Words turns the register's codes into the words its CSV shows (l10n.VI): the read model holds
// codes only.
type Words interface {
	Channel(domain.Channel) string
	Status(domain.Status) string
	ApologyNote(newDate time.Time, reason string) string
}

// closedStatus is the status a register entry closed as (Closed) ended the dossier in.
var closedStatus = map[string]domain.Status{
	"withdrawn": domain.StatusWithdrawn, "rejected": domain.StatusRejected, "refused": domain.StatusReceptionRefused,
}

// CSVRecords returns the register as rows in the column order of l10n.Lang.RegisterCSVHeader, times in Vietnam time, codes in words.
func (l Register) CSVRecords(words Words) [][]string {
	out := make([][]string, 0, len(l.Entries))
	for _, e := range l.Entries {
		note := e.Note
		if !e.ApologyNewDate.IsZero() {
			note = strings.TrimSpace(note + " " + words.ApologyNote(e.ApologyNewDate, e.ApologyReason))
		}
		if e.Closed != "" && e.Closed != "returned" {
			note = strings.TrimSpace(closedWords(words, e.Closed) + ". " + note)
		}
		out = append(out, []string{
			fmt.Sprint(e.Number), e.Code, e.ProcedureName, e.FieldName, e.ApplicantName, e.ApplicantAddress, e.ApplicantPhone,
			words.Channel(e.Channel), e.CompetentAgency, vnTime(e.ReceivedAt), e.ReceivedBy, vnTime(e.AppointmentDate),
			vnTime(e.AppointmentInForce), e.TransferredTo, vnTime(e.TransferredAt), vnTime(e.ResolvedAt), vnTime(e.ReturnedAt), note,
		})
	}
	return out
}

func closedWords(words Words, kind string) string {
	if status, ok := closedStatus[kind]; ok {
		return words.Status(status)
	}
	return kind
}

func vnTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(domain.VietnamTime).Format("15:04 02/01/2006")
}
