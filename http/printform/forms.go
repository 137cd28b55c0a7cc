package printform

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"strings"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"

	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/l10n"
)

// vi is the language of every form's PDF: the circular's templates are Vietnamese documents.
const vi = l10n.VI

// signHint is what the templates print under a signer's title.
const signHint = "(Ký, ghi rõ họ tên)"

// PDF writes the form as an A4 PDF, laid out like the circular's template.
func (f *Dossier) PDF(w io.Writer) error {
	d, err := newDoc(f.titleText()+" — "+string(f.D.Code), false, f.issuedAt())
	if err != nil {
		return err
	}
	number := ""
	if f.D.Code != "" {
		number = "Số: " + string(f.D.Code)
	}
	issuer := vi.T("print.one_stop")
	if f.Form == FormStop || f.Form == FormConversion || f.Rejected != nil && f.Form == FormRefusal {
		// Decided by the competent agency, not the desk.
		issuer = f.CompetentName
	}
	agency := f.ReceivingName
	if issuer == f.CompetentName {
		agency = ""
	}
	d.header(vi.T("print.template_"+f.Form), agency, issuer, number)
	d.dateLine(f.issuedAt())
	switch f.Form {
	case FormReceipt:
		err = f.receipt(d)
	case FormSupplement:
		f.supplement(d)
	case FormRefusal:
		f.refusal(d)
	case FormApology:
		f.apology(d)
	case FormStop:
		f.stop(d)
	case FormConversion:
		err = f.conversion(d)
	default:
		return ErrNotApplicable
	}
	if err != nil {
		return err
	}
	return d.write(w)
}

// FileName is the form's download name: ASCII, from the form and the dossier's code.
func (f *Dossier) FileName() string {
	ref := string(f.D.Code)
	if ref == "" {
		ref = f.D.ID
	}
	name := "mau-" + f.Form
	if f.Form == FormConversion {
		name = "ban-chuyen-doi"
		if f.Result != nil {
			ref = f.Result.Ready.ResultCode
		}
	}
	return safeFileName(name + "_" + ref + ".pdf")
}

// safeFileName keeps letters, digits, '-', '_' and '.': a name no header or file system misreads.
func safeFileName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, name)
}

// ContentDisposition is the header offering a form as a file to open inline (the browser's viewer
// prints it), under a safe name.
func ContentDisposition(name string) string {
	return fmt.Sprintf("inline; filename=%q", safeFileName(name))
}

func (f *Dossier) titleText() string {
	if f.Form == FormRefusal && f.Rejected != nil {
		return vi.T("print.form_03_rejected")
	}
	return vi.T("print.form_" + f.Form)
}

// issuedAt is the date the form bears: when what it records happened.
func (f *Dossier) issuedAt() time.Time {
	switch f.Form {
	case FormReceipt:
		return f.D.ReceivedAt
	case FormSupplement:
		if f.Supplement != nil {
			return f.Supplement.RequestedAt
		}
	case FormRefusal:
		if f.Rejected != nil {
			return f.Rejected.RejectedAt
		}
		return f.RefusedAt.RefusedAt
	case FormApology:
		if f.Apology != nil {
			return f.Apology.IssuedAt
		}
	case FormStop:
		if f.Stop != nil {
			return f.Stop.SuspendedAt
		}
	case FormConversion:
		if f.Result != nil {
			return f.Result.ConvertedAt
		}
	}
	return time.Time{}
}

func (f *Dossier) receipt(d *doc) error {
	dossier := f.D
	d.title(f.titleText(), vi.T("print.code")+" "+string(dossier.Code))
	// The codes on the right, level with the first facts: QR (the lookup link) and the barcode.
	qr, err := httpkit.QRPNG(f.LookupURL)
	if err != nil {
		return fmt.Errorf("qr: %w", err)
	}
	bar, err := BarcodePNG(string(dossier.Code))
	if err != nil {
		return err
	}
	const qrSize = 32.0
	top := d.pdf.GetY()
	right := d.left + d.width() - qrSize
	d.image(qr, right, top, qrSize)
	d.pdf.SetXY(right-10, top+qrSize)
	d.font("I", 9)
	d.pdf.CellFormat(qrSize+10, 4, vi.T("print.qr_caption"), "", 1, "C", false, 0, "")
	d.pdf.SetXY(d.left, top)
	d.font("", bodySize)
	d.pdf.SetRightMargin(d.right + qrSize + 4)
	d.para(f.ReceivingName + " " + vi.T("print.received_from"))
	d.fact(vi.T("dossier.applicant"), dossier.Applicant.Name, true)
	d.fact(vi.T("receive.address"), dossier.Applicant.Address, false)
	d.fact(vi.T("receive.phone"), dossier.Applicant.Phone, false)
	d.fact(vi.T("receive.email"), dossier.Applicant.Email, false)
	d.fact(vi.T("lookup.procedure"), dossier.Procedure.Name, false)
	d.fact(vi.T("lookup.channel"), vi.Channel(dossier.Channel), false)
	d.pdf.SetY(max(d.pdf.GetY(), top+qrSize+5))
	d.pdf.SetRightMargin(d.right)
	d.heading(vi.T("print.components") + ":")
	components := make([]string, len(dossier.Components))
	for i, c := range dossier.Components {
		components[i] = c.Name + " — " + vi.T("print.copies", c.Copies)
	}
	d.list(components)
	d.fact(vi.T("print.count"), fmt.Sprint(len(dossier.Components)), false)
	d.fact(vi.T("lookup.received_at"), vi.DateTime(dossier.ReceivedAt), false)
	d.fact(vi.T("print.appointment"), vi.DateTime(dossier.FirstAppointment), true)
	d.fact(vi.T("print.return_place"), f.ReceivingName, false)
	d.fact(vi.T("print.lookup_at"), f.LookupURL, false)
	if f.Secret != "" {
		d.fact(vi.T("print.secret"), f.Secret, true)
		d.font("I", 10)
		d.pdf.MultiCell(0, 5, nfc(vi.T("print.secret_hint")), "", "L", false)
	}
	d.pdf.Ln(2)
	barTop := d.pdf.GetY()
	d.pdf.SetY(barTop + d.image(bar, d.left, barTop, 70))
	d.signatures(signature{Role: vi.T("print.applicant_sign"), Hint: signHint}, signature{Role: vi.T("print.official_sign"), Hint: signHint, Name: f.Official.Name})
	return nil
}

func (f *Dossier) regarding(d *doc, intro string) {
	d.fact(strings.TrimSuffix(vi.T("print.dear"), ":"), f.D.Applicant.Name, true)
	code := ""
	if f.D.Code != "" {
		code = " (" + vi.T("print.code") + " " + string(f.D.Code) + ")"
	}
	d.para(intro + " " + f.D.Procedure.Name + code + ".")
}

func (f *Dossier) supplement(d *doc) {
	s := f.Supplement
	d.title(f.titleText())
	f.regarding(d, vi.T("print.supplement_intro"))
	d.para(vi.T("print.supplement_list"))
	d.list(s.MissingItems)
	d.fact(vi.T("dossier.reason"), s.Reason, false)
	d.para(vi.T("print.supplement_note"))
	d.signatures(signature{}, signature{Role: vi.T("print.official_sign"), Hint: signHint, Name: f.Official.Name})
}

func (f *Dossier) refusal(d *doc) {
	d.title(f.titleText())
	f.regarding(d, vi.T("print.refusal_intro"))
	reason := f.RefusedAt.Reason
	if f.Rejected != nil {
		reason = f.Rejected.Reason
	}
	d.fact(vi.T("dossier.reason"), reason, false)
	role := vi.T("print.official_sign")
	if f.Rejected != nil {
		role = vi.T("print.head_sign")
	}
	d.signatures(signature{}, signature{Role: role, Hint: signHint, Name: f.Official.Name})
}

func (f *Dossier) apology(d *doc) {
	a := f.Apology
	d.title(f.titleText())
	d.fact(strings.TrimSuffix(vi.T("print.dear"), ":"), f.D.Applicant.Name, true)
	d.para(vi.T("print.apology_intro", f.D.Code, vi.DateTime(f.D.ReceivedAt)) + " " + f.D.Procedure.Name + ".")
	d.para(vi.T("print.apology_old") + " " + vi.DateTime(a.OldAppointmentDate) + ". " + vi.T("print.apology_reason") + " " + a.Reason)
	d.para(vi.T("print.apology_sorry") + " " + vi.DateTime(a.NewAppointmentDate) + ".")
	d.signatures(signature{}, signature{Role: vi.T("print.head_sign"), Hint: signHint, Name: f.Official.Name})
}

func (f *Dossier) stop(d *doc) {
	s := f.Stop
	d.title(f.titleText())
	f.regarding(d, vi.T("print.stop_intro"))
	d.fact(vi.T("print.stop_at"), vi.DateTime(s.SuspendedAt), true)
	d.fact(vi.T("dossier.reason"), s.Reason, false)
	d.para(vi.T("print.stop_note"))
	d.signatures(signature{}, signature{Role: vi.T("print.head_sign"), Hint: signHint, Name: f.Official.Name})
}

func (f *Dossier) conversion(d *doc) error {
	c := f.Result
	d.title(f.titleText())
	d.para(vi.T("print.conversion_intro"))
	qr, err := httpkit.QRPNG(c.VerifyURL)
	if err != nil {
		return fmt.Errorf("qr: %w", err)
	}
	const qrSize = 32.0
	top := d.pdf.GetY()
	right := d.left + d.width() - qrSize
	d.image(qr, right, top, qrSize)
	d.pdf.SetXY(right-12, top+qrSize)
	d.font("I", 9)
	d.pdf.MultiCell(qrSize+12, 4, nfc(vi.T("print.verify_caption")), "", "C", false)
	d.pdf.SetXY(d.left, top)
	d.pdf.SetRightMargin(d.right + qrSize + 4)
	d.fact(vi.T("dossier.applicant"), f.D.Applicant.Name, true)
	d.fact(vi.T("lookup.procedure"), f.D.Procedure.Name, false)
	d.fact(vi.T("print.code"), string(f.D.Code), false)
	d.fact(vi.T("print.result_code"), c.Ready.ResultCode, true)
	d.fact(vi.T("result.document_number"), c.Ready.DocumentNumber, false)
	if s := c.Signed; s != nil {
		signer := s.Signer.OfficialName
		if s.SignerTitle != "" {
			signer += " — " + s.SignerTitle
		}
		d.fact(vi.T("result.signed_by"), signer, false)
		d.fact(vi.T("result.signed_at"), vi.DateTime(s.SignedAt), false)
	}
	d.fact(vi.T("result.ready_at"), vi.DateTime(c.Ready.ReadyAt), false)
	d.pdf.SetY(max(d.pdf.GetY(), top+qrSize+10))
	d.pdf.SetRightMargin(d.right)
	d.fact(vi.T("result.hash"), c.Ready.DocumentHash, false)
	d.fact(vi.T("print.verify_at"), c.VerifyURL, false)
	d.fact(vi.T("print.converted_at"), vi.DateTime(c.ConvertedAt), false)
	d.signatures(signature{}, signature{Role: vi.T("print.converted_by"), Hint: signHint, Name: c.ConvertedBy})
	return nil
}

// BarcodePNG is a dossier code as a Code 128 barcode for desk scanners, as a PNG.
func BarcodePNG(text string) ([]byte, error) {
	code, err := code128.Encode(text)
	if err != nil {
		return nil, fmt.Errorf("code128: %w", err)
	}
	scaled, err := barcode.Scale(code, 520, 70)
	if err != nil {
		return nil, fmt.Errorf("code128: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, scaled); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
