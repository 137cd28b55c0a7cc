// Package printform is what the printable forms of a dossier show, and their PDF: the forms of
// TT 01/2018/TT-VPCP and TT 03/2025/TT-VPCP (01 receipt and appointment, 02 supplement request,
// 03 refusal, 04 apology, 05 notice of stopping, the process-control sheet, the register) and the
// paper copy of an electronic result (Quyết định 27/2020/QĐ-UBND of Bình Định, art. 16). The pages
// render the same view as HTML (http/web), so a form says the same on screen, on paper and in PDF;
// the PDF is always in Vietnamese, the language of the forms.
package printform

import (
	"errors"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/http/httpkit"
)

// The forms of one dossier, by the name their print address carries.
const (
	FormReceipt    = "01"
	FormSupplement = "02"
	FormRefusal    = "03"
	FormApology    = "04"
	FormStop       = "05"
	FormConversion = "chuyen-doi"
)

// ErrNotApplicable is the answer for a form the dossier has no occasion for (no refusal, no
// apology, no such result…).
var ErrNotApplicable = errors.New("printform: the dossier has no such form")

// Dossier is a printable form of one dossier: what the HTML print view and the PDF both show.
type Dossier struct {
	Form          string
	D             domain.Dossier
	ReceivingName string
	CompetentName string
	Official      eventstore.Actor // who received, requested, refused, apologised or stopped
	LookupURL     string           // the receipt's QR: the public lookup page
	Secret        string           // the rating secret, only on a receipt printed right after receiving
	Supplement    *domain.SupplementRequested
	RefusedAt     domain.ReceptionRefused
	Rejected      *domain.Rejected
	Apology       *domain.ApologyIssued
	Stop          *domain.Suspended
	Result        *ResultCopy // the paper copy of an electronic result
}

// ResultCopy is what the paper copy of an electronic result carries (Bình Định art. 16): the
// result, who signed it and when, the page that checks it is genuine, and who made the copy when.
type ResultCopy struct {
	Ready       domain.ResultReady
	Signed      *domain.Signed // the signature that preceded the result; nil when none was recorded
	VerifyURL   string
	ConvertedBy string
	ConvertedAt time.Time
}

// Inputs are what a form is built from: the dossier as loaded with its events, and the facts of
// the request.
type Inputs struct {
	Form       string
	Dossier    domain.Dossier
	Recorded   []eventstore.RecordedEvent
	AgencyName func(code string) string
	BaseURL    string // the public scheme and host the QR codes point to
	Secret     string // printed on a fresh receipt only
	Result     int    // the conversion's result, 1-based; 0 the latest
	Printer    string // the official printing (the conversion's "converted by")
	Now        time.Time
}

// Build gathers the form in.Form of the dossier from its recorded events, or ErrNotApplicable.
func Build(in Inputs) (*Dossier, error) {
	d := in.Dossier
	page := &Dossier{Form: in.Form, D: d, ReceivingName: in.AgencyName(d.ReceivingUnit), CompetentName: in.AgencyName(d.CompetentAgency), Secret: in.Secret}
	var lastSigned *domain.Signed
	var results []ResultCopy
	for _, e := range in.Recorded {
		event, err := domain.DecodeEvent(e.Type, e.Data)
		if err != nil {
			return nil, err
		}
		switch e := event.(type) {
		case domain.SupplementRequested:
			page.Supplement = &e
		case domain.ReceptionRefused:
			page.RefusedAt = e
		case domain.Rejected:
			page.Rejected = &e
		case domain.ApologyIssued:
			page.Apology = &e
		case domain.Suspended:
			page.Stop = &e
		case domain.Signed:
			lastSigned = &e
		case domain.ResultReady:
			results = append(results, ResultCopy{Ready: e, Signed: lastSigned})
		}
	}
	var found bool
	switch in.Form {
	case FormReceipt:
		found = d.Code != ""
		page.Official = recordedActor(in.Recorded, domain.TypeReceived)
		page.LookupURL = httpkit.LookupURL(in.BaseURL, d.Code, in.Secret)
	case FormSupplement:
		found = page.Supplement != nil
		page.Official = recordedActor(in.Recorded, domain.TypeSupplementRequested)
	case FormRefusal:
		found = page.Rejected != nil || !page.RefusedAt.RefusedAt.IsZero()
		page.Official = recordedActor(in.Recorded, domain.TypeReceptionRefused)
		if page.Rejected != nil {
			page.Official = recordedActor(in.Recorded, domain.TypeRejected)
		}
	case FormApology:
		found = page.Apology != nil
		page.Official = recordedActor(in.Recorded, domain.TypeApologyIssued)
	case FormStop:
		found = page.Stop != nil
		page.Official = recordedActor(in.Recorded, domain.TypeSuspended)
	case FormConversion:
		n := in.Result
		if n == 0 {
			n = len(results)
		}
		if n >= 1 && n <= len(results) {
			found = true
			c := results[n-1]
			c.VerifyURL = httpkit.ResultURL(in.BaseURL, c.Ready.ResultCode)
			c.ConvertedBy, c.ConvertedAt = in.Printer, in.Now
			page.Result = &c
		}
	}
	if !found {
		return nil, ErrNotApplicable
	}
	return page, nil
}

// FormOf names the form an event makes printable, or "" when none: 01 receipt, 02 supplement
// request, 03 refusal (at reception or after appraisal), 04 apology, 05 notice of stopping, and
// the paper copy of a result.
func FormOf(e domain.Event) string {
	switch e.(type) {
	case domain.Received:
		return FormReceipt
	case domain.SupplementRequested:
		return FormSupplement
	case domain.ReceptionRefused, domain.Rejected:
		return FormRefusal
	case domain.ApologyIssued:
		return FormApology
	case domain.Suspended:
		return FormStop
	case domain.ResultReady:
		return FormConversion
	}
	return ""
}

// recordedActor is who recorded the latest event of eventType.
func recordedActor(recorded []eventstore.RecordedEvent, eventType string) eventstore.Actor {
	for i := len(recorded) - 1; i >= 0; i-- {
		if recorded[i].Type == eventType {
			return recorded[i].Metadata.Actor
		}
	}
	return eventstore.Actor{}
}
