package printform

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/projections"
)

// ControlSheet is the process-control sheet of a dossier (form 05 of TT 01/2018, 06 of TT 03/2025)
// as the print view and the PDF show it.
type ControlSheet struct {
	Sheet         projections.ControlSheet
	ReceivingName string
	CompetentName string
}

// ControlSheetForm is the control sheet's name in its print address.
const ControlSheetForm = "phieu-kiem-soat"

// FileName is the sheet's download name.
func (c *ControlSheet) FileName() string {
	ref := c.Sheet.Code
	if ref == "" {
		ref = c.Sheet.DossierID
	}
	return safeFileName("phieu-kiem-soat_" + ref + ".pdf")
}

// PDF writes the sheet: the dossier's facts, then one row per handover with its verdict.
func (c *ControlSheet) PDF(w io.Writer) error {
	s := c.Sheet
	d, err := newDoc(vi.T("print.form_phieu-kiem-soat")+" — "+s.Code, false, s.GeneratedAt)
	if err != nil {
		return err
	}
	d.header(vi.T("print.template_phieu-kiem-soat"), "", c.CompetentName, "")
	d.title(vi.T("print.form_phieu-kiem-soat"))
	d.fact(vi.T("print.code"), s.Code, true)
	d.fact(vi.T("dossier.applicant"), s.ApplicantName, true)
	d.fact(vi.T("lookup.procedure"), s.ProcedureName, false)
	d.fact(vi.T("lookup.received_at"), vi.DateTime(s.ReceivedAt), false)
	appointment := vi.DateTime(s.FirstAppointment)
	if !s.AppointmentDate.Equal(s.FirstAppointment) {
		appointment += " - " + vi.DateTime(s.AppointmentDate)
	}
	d.fact(vi.T("print.appointment"), appointment, false)
	if !s.DueDate.IsZero() && !s.DueDate.Equal(s.AppointmentDate) {
		d.fact(vi.T("dash.late.due"), vi.DateTime(s.DueDate), false)
	}
	d.fact(vi.T("lookup.receiving"), c.ReceivingName, false)
	d.fact(vi.T("lookup.competent"), c.CompetentName, false)
	d.fact(vi.T("print.coordinating"), strings.Join(s.CoordinatingAgencies, ", "), false)
	if !s.ResolvedAt.IsZero() {
		finished := vi.DateTime(s.ResolvedAt)
		if s.ResolutionVerdict != "" {
			finished += " (" + vi.T("verdict."+string(s.ResolutionVerdict)) + ")"
		}
		d.fact(vi.T("lookup.finished_at"), finished, false)
	}
	d.pdf.Ln(3)
	widths := []float64{10, 32, 34, 26, 26, 19, 18}
	headings := []string{"sheet.no", "sheet.from", "sheet.to", "sheet.handed", "sheet.deadline", "sheet.ended", "sheet.verdict"}
	columns := make([]column, len(widths))
	for i := range widths {
		columns[i] = column{Heading: vi.T(headings[i]), Width: widths[i]}
	}
	t := d.table(columns, 9)
	for _, h := range s.Handovers {
		deadline := vi.DateTime(h.Deadline)
		if h.AllottedHours != 0 {
			deadline += "\n" + vi.Hours(h.AllottedHours) + " h"
		}
		verdict := ""
		switch {
		case h.Verdict != "":
			verdict = vi.T("verdict." + string(h.Verdict))
		case h.Ongoing:
			verdict = vi.T("sheet.ongoing")
		}
		if h.OverrunHours != 0 {
			verdict += "\n+" + vi.Hours(h.OverrunHours) + " h"
		}
		if h.Note != "" {
			verdict += "\n" + h.Note
		}
		t.row(strconv.Itoa(h.No), lines(h.From.Unit, h.From.OfficialName), lines(h.To.Unit, h.To.OfficialName, vi.Step(h.Step)),
			vi.DateTime(h.HandedAt), deadline, vi.DateTime(h.EndedAt), strings.TrimSpace(verdict))
	}
	return d.write(w)
}

// lines joins the parts that are set, one per line.
func lines(parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n")
}

// MaxRegisterLines is the longest register drawn as one PDF: fpdf holds the document in memory
// until it writes it, about 6.5 KiB a line (10,000 lines ≈ 65 MiB, some 400 pages); the CSV and
// the workbook stream any year.
const MaxRegisterLines = 10000

// Register is the dossier register of a receiving unit's year (form 06 of TT 01/2018, 07 of
// TT 03/2025) being drawn, page by page as the read model gives it: landscape A4, the same words
// as its CSV and workbook.
type Register struct {
	d          *doc
	t          *table
	agencyName func(code string) string
}

// NewRegister starts the register of the unit named unitName for year, drawn at now; agencyName
// names the competent agencies.
func NewRegister(year int, unitName string, agencyName func(code string) string, now time.Time) (*Register, error) {
	title := "Sổ theo dõi hồ sơ"
	d, err := newDoc(title+" "+strconv.Itoa(year), true, now)
	if err != nil {
		return nil, err
	}
	d.header("Mẫu số 06 — Thông tư 01/2018/TT-VPCP (mẫu 07 Thông tư 03/2025/TT-VPCP)", unitName, vi.T("print.one_stop"), "")
	d.title(title, "Năm "+strconv.Itoa(year))
	h := vi.RegisterCSVHeader() // number, code, procedure, field, applicant, address, phone, channel, competent agency, received at, received by, appointment, in force, transferred to, transferred at, resolved at, returned at, note
	cols := []column{
		{h[0], 10}, {h[1], 41}, {h[2], 30}, {h[4], 33}, {h[8], 26}, {h[9], 22}, {h[11], 22}, {h[13], 24}, {h[15], 20}, {h[16], 20}, {h[17], 19},
	}
	// The table's heading repeats on every page.
	return &Register{d: d, t: d.table(cols, 8), agencyName: agencyName}, d.pdf.Error()
}

// Write adds entries, in the register's order.
func (r *Register) Write(entries []projections.RegisterEntry) error {
	texts := projections.RegisterCSVRecords(entries, vi)
	for i, t := range texts {
		appointment := t[11]
		if t[12] != "" && t[12] != t[11] {
			appointment += "\n" + t[12]
		}
		r.t.row(t[0], t[1], lines(t[2], t[7]), lines(t[4], t[5], t[6]), r.agencyName(entries[i].CompetentAgency),
			lines(t[9], t[10]), appointment, lines(t[13], t[14]), t[15], t[16], t[17])
	}
	return r.d.pdf.Error()
}

// PDF writes the register drawn so far.
func (r *Register) PDF(w io.Writer) error { return r.d.write(w) }
