package projections

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
)

// CorrectionsView lists the corrections of recorded data (domain/correction.go) by the agency that
// requested them, so its heads and signers find those awaiting their decision (CorrectionsPageOf).
// It names the fields corrected, never their values: the applicant's values are personal data,
// sealed in the events, and the dossier's own pages show them to those who may read them.
type CorrectionsView struct {
	Prefix string // table name prefix; empty for the serving tables
}

func (CorrectionsView) Name() string       { return "corrections" }
func (CorrectionsView) Tables() []string   { return []string{"corrections"} }
func (CorrectionsView) SchemaVersion() int { return 1 }
func (CorrectionsView) WithPrefix(prefix string) engine.Consumer {
	return CorrectionsView{Prefix: prefix}
}
func (v CorrectionsView) table() string { return v.Prefix + "corrections" }

// Correction states as the list keeps them.
const (
	CorrectionPending  = "pending"
	CorrectionApproved = "approved"
	CorrectionRejected = "rejected"
)

// Correction is one correction of a dossier's recorded data.
type Correction struct {
	DossierID       string    `json:"dossier_id"`
	Code            string    `json:"code"`
	Number          int       `json:"number"`
	Agency          string    `json:"agency"` // the requester's: whose heads and signers decide it
	State           string    `json:"state"`
	Fields          []string  `json:"fields"`
	Reason          string    `json:"reason"`
	RequestedByID   string    `json:"requested_by_id"`
	RequestedByName string    `json:"requested_by_name"`
	RequestedAt     time.Time `json:"requested_at"`
	DecidedByName   string    `json:"decided_by_name,omitempty"`
	DecidedAt       time.Time `json:"decided_at,omitzero"`
	DecisionReason  string    `json:"decision_reason,omitempty"` // a rejection's

	requestedKey string
}

func (v CorrectionsView) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	return execAll(ctx, db, createTable(d, v.table(), `
		dossier_id TEXT NOT NULL,
		number INTEGER NOT NULL,
		code TEXT NOT NULL,
		agency TEXT NOT NULL,
		state TEXT NOT NULL,
		fields TEXT NOT NULL,
		reason TEXT NOT NULL,
		requested_by_id TEXT NOT NULL,
		requested_by_name TEXT NOT NULL,
		requested_at TEXT NOT NULL,
		decided_by_name TEXT NOT NULL DEFAULT '',
		decided_at TEXT,
		decision_reason TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (dossier_id, number)`, "dossier_id, number",
		tableIndex{"_agency", "agency, state, requested_at"}))
}

// NewFold keeps the log's corrections until the flush applies them (selectiveFold), and every
// dossier event that does not decode: Apply decodes each of the batch's dossier events and fails
// on such an event, which the engine then parks — as the live path does.
func (v CorrectionsView) NewFold(bool) engine.Fold {
	return newSelectiveFold(v.Apply, func(b engine.Batch, i int) bool {
		re := b.Events[i]
		if !domain.DossierAggregate.Holds(re.Stream, re.Type) {
			return false
		}
		switch re.Type {
		case domain.TypeCorrectionRequested, domain.TypeCorrectionApproved, domain.TypeCorrectionRejected:
			return true
		}
		if len(b.Decoded) == len(b.Events) {
			return false // the page decoded whole
		}
		_, err := b.Slice(i, i+1).DossierEvents()
		return err != nil
	})
}

// Apply records each request and its decision. Corrections are rare, so one statement per event;
// a redelivered event finds its row written and changes nothing.
func (v CorrectionsView) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	decoded, err := batch.DossierEvents()
	if err != nil {
		return err
	}
	for i, e := range decoded {
		id := strings.TrimPrefix(batch.Events[i].Stream, "dossier-")
		switch e := e.(type) {
		case domain.CorrectionRequested:
			fields := make([]string, 0, len(e.Changes)+5)
			if e.Applicant != nil {
				for _, ch := range e.Applicant.Changes {
					fields = append(fields, ch.Field)
				}
			}
			for _, ch := range e.Changes {
				fields = append(fields, ch.Field)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+v.table()+` (dossier_id, number, code, agency, state, fields, reason,
				requested_by_id, requested_by_name, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (dossier_id, number) DO NOTHING`,
				id, e.Number, string(e.Code), e.RequesterAgency, CorrectionPending, strings.Join(fields, ","), e.Reason,
				e.RequestedBy.OfficialID, e.RequestedBy.OfficialName, sqlTime(e.RequestedAt)); err != nil {
				return err
			}
		case domain.CorrectionApproved:
			if err := v.decide(ctx, tx, id, e.Number, CorrectionApproved, e.ApprovedBy.OfficialName, e.ApprovedAt, ""); err != nil {
				return err
			}
		case domain.CorrectionRejected:
			if err := v.decide(ctx, tx, id, e.Number, CorrectionRejected, e.RejectedBy.OfficialName, e.RejectedAt, e.Reason); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v CorrectionsView) decide(ctx context.Context, tx *sql.Tx, id string, number int, state, by string, at time.Time, reason string) error {
	_, err := tx.ExecContext(ctx, `UPDATE `+v.table()+` SET state = $1, decided_by_name = $2, decided_at = $3, decision_reason = $4
		WHERE dossier_id = $5 AND number = $6`, state, by, sqlTime(at), reason, id, number)
	return err
}

// CorrectionsPageOf lists the corrections of the scope's agencies in the given state (every state
// when ""), oldest request first: a queue of what awaits a decision.
func CorrectionsPageOf(ctx context.Context, db *sql.DB, scope AgencyScope, state string, req PageRequest) (Page[Correction], error) {
	var c conditions
	switch {
	case scope.All():
	case scope.none():
		c.add("1 = 0")
	default:
		c.add("c.agency = ?", scope.Agency())
	}
	if state != "" {
		c.add("c.state = ?", state)
	}
	var total int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM corrections c`+c.where(), c.args...).Scan(&total); err != nil {
		return Page[Correction]{}, err
	}
	if req.After != nil {
		if len(req.After) != 3 {
			return Page[Correction]{}, ErrBadCursor
		}
		number, err := strconv.Atoi(req.After[2])
		if err != nil {
			return Page[Correction]{}, ErrBadCursor
		}
		c.add("(c.requested_at, c.dossier_id, c.number) > (?, ?, ?)", req.After[0], req.After[1], number)
	}
	size := req.Size()
	rows, err := db.QueryContext(ctx, `SELECT c.dossier_id, c.number, c.code, c.agency, c.state, c.fields, c.reason, c.requested_by_id,
		c.requested_by_name, c.requested_at, c.decided_by_name, c.decided_at, c.decision_reason FROM corrections c`+c.where()+
		` ORDER BY c.requested_at, c.dossier_id, c.number LIMIT `+strconv.Itoa(size+1), c.args...)
	if err != nil {
		return Page[Correction]{}, err
	}
	defer rows.Close()
	var list []Correction
	for rows.Next() {
		var k Correction
		var fields string
		var requested, decided sql.NullString
		if err := rows.Scan(&k.DossierID, &k.Number, &k.Code, &k.Agency, &k.State, &fields, &k.Reason, &k.RequestedByID,
			&k.RequestedByName, &requested, &k.DecidedByName, &decided, &k.DecisionReason); err != nil {
			return Page[Correction]{}, err
		}
		k.Fields = strings.Split(fields, ",")
		k.requestedKey, k.RequestedAt, k.DecidedAt = requested.String, parseSQLTime(requested), parseSQLTime(decided)
		list = append(list, k)
	}
	if err := rows.Err(); err != nil {
		return Page[Correction]{}, err
	}
	page := PageOf(list, size, func(k Correction) Cursor {
		return Cursor{k.requestedKey, k.DossierID, strconv.Itoa(k.Number)}
	})
	page.Total = total
	return page, nil
}

// NoteCorrected marks the process-control sheet's rows a correction put right. Param lists them:
// NoteOnReception for the receipt's data (the applicant, the procedure), NoteOnTransfer for a
// redirected transfer's own row; Detail names the fields and the reason.
const (
	NoteCorrected   = "corrected"
	NoteOnReception = "reception"
	NoteOnTransfer  = "transfer"
)

// correct applies an approved correction to a dossier's summary: the applicant's name, address and
// phone, the procedure and the dates it set, and who holds the dossier after a transfer redirected.
func (r *summaryRow) correct(e domain.CorrectionApproved) {
	if e.Applicant != nil {
		for _, ch := range e.Applicant.Changes {
			switch ch.Field {
			case domain.FieldApplicantName:
				r.ApplicantName = ch.New
			case domain.FieldApplicantAddress:
				r.ApplicantAddress = ch.New
			case domain.FieldApplicantPhone:
				r.ApplicantPhone = ch.New
			}
		}
	}
	if p := e.Procedure; p != nil {
		r.ProcedureCode, r.ProcedureName, r.FieldCode, r.FieldName = p.Procedure.Code, p.Procedure.Name, p.Procedure.FieldCode, p.Procedure.FieldName
		r.FirstAppointment, r.AppointmentDate, r.DueDate, r.IndicatorDueDate = p.NewFirstAppointment, p.NewAppointmentDate, p.NewDueDate, p.NewIndicatorDueDate
	}
	if t := e.Transfer; t != nil {
		// Only a transfer nothing has followed is corrected: the dossier is still where it went.
		if r.HolderUnit == t.OldTo.Unit {
			r.HolderUnit, r.HolderOfficialID, r.HolderOfficialName = t.NewTo.Unit, t.NewTo.OfficialID, t.NewTo.OfficialName
		}
		if r.FirstTransferAt.Equal(t.TransferredAt) && r.FirstTransferUnit == t.OldTo.Unit {
			r.FirstTransferUnit = t.NewTo.Unit
		}
	}
}

// correct records an approved correction on the sheet: a redirected transfer's row names the unit
// and official it should have gone to; a note marks the rows corrected.
func (l *handoverLog) correct(re *eventstore.RecordedEvent, e domain.CorrectionApproved) {
	fields := make([]string, 0, 4)
	for _, ch := range e.AllChanges() {
		fields = append(fields, ch.Field)
	}
	var rows []string
	if e.Applicant != nil || e.Procedure != nil {
		rows = append(rows, NoteOnReception)
	}
	var seq int64
	if t := e.Transfer; t != nil {
		if h := l.current(); h != nil && h.kind == HandoverTransfer && h.handedAt.Equal(t.TransferredAt) {
			h.toUnit, h.toID, h.toName = t.NewTo.Unit, t.NewTo.OfficialID, t.NewTo.OfficialName
			h.changed = true
			seq = h.seq
			rows = append(rows, NoteOnTransfer)
		}
	}
	l.notes = append(l.notes, noteRow{version: int64(re.Version), seq: seq, at: e.ApprovedAt, kind: NoteCorrected,
		param: strings.Join(rows, ","), detail: strings.Join(fields, ", ") + ": " + e.Reason, byName: re.Metadata.Actor.Name})
}

// markCorrected attaches a correction's note to the rows it corrected (NoteCorrected) and marks them.
func markCorrected(handovers []Handover, bySeq map[int64]int, seq int64, n ControlNote) {
	rows := strings.Split(n.Param, ",")
	if slices.Contains(rows, NoteOnReception) {
		if i, ok := receptionRow(handovers); ok {
			handovers[i].Events = append(handovers[i].Events, n)
			handovers[i].Corrected = true
		}
	}
	if i, ok := bySeq[seq]; ok && slices.Contains(rows, NoteOnTransfer) {
		handovers[i].Events = append(handovers[i].Events, n)
		handovers[i].Corrected = true
	}
}

// receptionRow is the row of the receipt — where the applicant and the procedure were recorded —
// or of the online submission when the dossier has no receipt row.
func receptionRow(handovers []Handover) (int, bool) {
	for _, kind := range []string{HandoverReception, HandoverSubmission} {
		if i := slices.IndexFunc(handovers, func(h Handover) bool { return h.Kind == kind }); i >= 0 {
			return i, true
		}
	}
	return 0, false
}
