package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
)

// The dossier register (sổ theo dõi hồ sơ, TT 01/2018 form 06) lists every dossier a receiving unit
// received, in order of receipt, with where it went and when its result came back and was handed
// over. It is a query over process control's summary (ProcessControlView), through its index on
// the receiving unit and the time of receipt: a page costs what its rows cost, whatever the year
// holds.

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

	dossierID, receivedKey string // the keyset cursor's values
}

// registerYear is the span of a year in Vietnam time.
func registerYear(year int) Period {
	return Period{From: time.Date(year, 1, 1, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(year+1, 1, 1, 0, 0, 0, 0, domain.VietnamTime)}
}

// RegisterPageOf returns a page of the register of the dossiers unit received in year, in order of
// receipt, each numbered by its place in the year's register. The cursor carries the last line's
// time of receipt, dossier id and number; Total counts the year's lines on the index.
func RegisterPageOf(ctx context.Context, db *sql.DB, unit string, year int, req PageRequest) (Page[RegisterEntry], error) {
	return registerPage(ctx, db, unit, year, req, true)
}

// registerPage reads a page of the register, and counts the year's lines when count is set.
func registerPage(ctx context.Context, db *sql.DB, unit string, year int, req PageRequest, count bool) (Page[RegisterEntry], error) {
	var c conditions
	c.add("d.register_unit = ?", unit) // a succession moves the dossier, not its line in the register
	c.within("d.received_at", registerYear(year))
	var total int
	if count {
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM control_dossiers d`+c.where(), c.args...).Scan(&total); err != nil {
			return Page[RegisterEntry]{}, err
		}
	}
	number := 0
	if req.After != nil {
		if len(req.After) != 3 {
			return Page[RegisterEntry]{}, ErrBadCursor
		}
		n, err := strconv.Atoi(req.After[2])
		if err != nil || n < 1 {
			return Page[RegisterEntry]{}, ErrBadCursor
		}
		number = n
		// The first condition lets SQLite seek the index to the cursor rather than skip the lines before it.
		c.add("d.received_at >= ?", req.After[0])
		c.add("(d.received_at, d.dossier_id) > (?, ?)", req.After[0], req.After[1])
	}
	size := req.Size()
	rows, err := db.QueryContext(ctx, `SELECT `+columnList(controlColumns, "d")+` FROM control_dossiers d`+c.where()+
		` ORDER BY d.received_at, d.dossier_id LIMIT `+strconv.Itoa(size+1), c.args...)
	if err != nil {
		return Page[RegisterEntry]{}, err
	}
	list, err := scanSummaryColumns(rows, controlColumns, nil)
	if err != nil {
		return Page[RegisterEntry]{}, err
	}
	entries := make([]RegisterEntry, len(list))
	received := make([]string, len(list))
	for i, d := range list {
		number++
		received[i] = sqlTime(d.ReceivedAt).String
		entries[i] = RegisterEntry{
			Number: number, Code: d.Code, ProcedureCode: d.ProcedureCode, ProcedureName: d.ProcedureName, FieldName: d.FieldName,
			ApplicantName: d.ApplicantName, ApplicantAddress: d.ApplicantAddress, ApplicantPhone: d.ApplicantPhone,
			Channel: domain.Channel(d.Channel), CompetentAgency: d.CompetentAgency, ReceivedAt: d.ReceivedAt, ReceivedBy: d.ReceivedByName,
			AppointmentDate: d.FirstAppointment, AppointmentInForce: d.AppointmentDate, TransferredAt: d.FirstTransferAt,
			TransferredTo: d.FirstTransferUnit, ResolvedAt: d.ResolvedAt, Resolution: d.Resolution, ReturnedAt: d.ReturnedAt,
			Closed: d.CloseKind, Note: d.CloseReason, dossierID: d.DossierID, receivedKey: received[i],
		}
		if !d.ApologyAt.IsZero() {
			entries[i].ApologyNewDate, entries[i].ApologyReason = d.ApologyNew, d.ApologyReason
		}
	}
	page := PageOf(entries, size, func(e RegisterEntry) Cursor {
		return Cursor{e.receivedKey, e.dossierID, strconv.Itoa(e.Number)}
	})
	page.Total = total
	return page, nil
}

// EachRegisterPage calls each with every page of the register in turn (MaxPageSize lines each,
// not counted): an export streams the year without holding it.
func EachRegisterPage(ctx context.Context, db *sql.DB, unit string, year int, each func([]RegisterEntry) error) error {
	req := PageRequest{Limit: MaxPageSize}
	for {
		page, err := registerPage(ctx, db, unit, year, req, false)
		if err != nil {
			return err
		}
		if err := each(page.Items); err != nil {
			return err
		}
		if page.Next == "" {
			return nil
		}
		if req.After, err = DecodeCursor(page.Next); err != nil {
			return err
		}
	}
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

// RegisterCSVRecords returns register lines as rows in the column order of
// l10n.Lang.RegisterCSVHeader, times in Vietnam time, codes in words.
func RegisterCSVRecords(entries []RegisterEntry, words Words) [][]string {
	out := make([][]string, 0, len(entries))
	for _, e := range entries {
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
