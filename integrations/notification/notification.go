// Package notification is what every channel to the applicant shares (e-mail, SMS, Zalo ZNS): which
// events call for which kind of notification (Plan), the dossier as it stood after the event, read
// through the store that honours erasures (Read), and the facts a template may name (Data). Each
// channel adds only its own wording, its own address and its own way of sending. See
// docs/integrations.md.
package notification

import (
	"context"
	"fmt"
	"strings"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/l10n"
)

// The kinds of notification: one template per kind and channel.
const (
	KindStatusChanged       = "status_changed"
	KindSupplementRequested = "supplement_requested"
	KindApology             = "apology"
	KindResultReady         = "result_ready"
	KindPaymentDue          = "payment_due"
)

// Kinds lists every kind of notification.
var Kinds = []string{KindStatusChanged, KindSupplementRequested, KindApology, KindResultReady, KindPaymentDue}

// Plan decides which notification an event calls for, whatever the channel: a supplement request,
// an apology, a fee assessment and a ready result have their own; any other change of the public
// status the generic one (Nghị định 224/2026 art. 15(1): every status change). "" for none.
func Plan(c delivery.Change) string {
	switch e := c.Event.(type) {
	case domain.SupplementRequested:
		return KindSupplementRequested
	case domain.ApologyIssued:
		return KindApology
	case domain.ResultReady:
		return KindResultReady
	case domain.FeeAssessed:
		if e.Total > 0 {
			return KindPaymentDue
		}
	}
	if c.StatusChanged() {
		return KindStatusChanged
	}
	return ""
}

// PlanFor is Plan for a channel: "" unless the applicant chose the channel and gave what it needs.
func PlanFor(channel domain.NotifyChannel, c delivery.Change) string {
	if !c.Contact.Wants(channel) {
		return ""
	}
	return Plan(c)
}

// Reader reads a dossier's events as the application does: through the store that opens sealed
// personal data and shows erased applicants as erased.
type Reader interface {
	ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]eventstore.RecordedEvent, error)
}

// Subject is what a delivery is about: the dossier as it stood after the delivery's event.
type Subject struct {
	Dossier  domain.Dossier
	Event    domain.Event
	Recorded eventstore.RecordedEvent
}

// Read folds the delivery's dossier up to the delivery's event. It returns a Skip error when the
// applicant's personal data was erased: nothing is sent about them.
func Read(ctx context.Context, store Reader, d delivery.Delivery) (Subject, error) {
	events, err := store.ReadStream(ctx, d.DossierID, 1)
	if err != nil {
		return Subject{}, fmt.Errorf("read the dossier: %w", err)
	}
	var s Subject
	for _, re := range events {
		if re.Version > d.StreamVersion {
			break
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return Subject{}, fmt.Errorf("decode %s v%d: %w", d.DossierID, re.Version, err)
		}
		s.Dossier = domain.Evolve(s.Dossier, e)
		s.Event, s.Recorded = e, re
	}
	if s.Event == nil || s.Recorded.Version != d.StreamVersion || s.Recorded.ID.String() != d.EventID {
		return Subject{}, fmt.Errorf("the dossier has no event %s at version %d", d.EventID, d.StreamVersion)
	}
	if applicant := s.Dossier.Applicant; applicant.Name == domain.ErasedName || applicant.IDNumber == domain.ErasedName {
		return Subject{}, delivery.Skip("the applicant's personal data was erased")
	}
	return s, nil
}

// Data is what a template's placeholders name. Dates are Vietnam civil dates (dd/mm/yyyy), times
// "15:04 ngày dd/mm/yyyy", amounts in đồng with dots; every field may be empty where the dossier
// has no such fact yet.
type Data struct {
	Agency          string // the sender's name (the agency)
	ApplicantName   string
	Code            string // the dossier code; empty for an online submission not yet received
	ProcedureName   string
	Status          string // the public status in Vietnamese
	StatusCode      string // the status code (received, processing …)
	EventTime       string // when the event happened
	ReceivedDate    string
	AppointmentDate string // the appointment date in force
	LookupURL       string // the public lookup page of the dossier

	Reason        string   // of a supplement request, apology, refusal, suspension, rejection, withdrawal
	MissingItems  []string // a supplement request's full list
	RequestNumber int      // a supplement request's number (1 for the first)

	OldAppointmentDate, NewAppointmentDate string // an apology's (form 04)

	ResultCode, DocumentNumber string // a ready result's

	Fees     []FeeLine // assessed fees
	FeeTotal string
}

// FeeLine is one assessed fee.
type FeeLine struct{ Name, Amount string }

// DataOf is the template data of s: agency is the sender's name ("Bộ phận Một cửa" when empty),
// publicURL the scheme and host of the public pages ("" for no lookup link).
func DataOf(s Subject, agency, publicURL string) Data {
	vi := l10n.VI
	d, at := s.Dossier, s.Recorded
	occurred := at.Metadata.OccurredAt
	if occurred.IsZero() {
		occurred = at.RecordedAt
	}
	data := Data{
		Agency: agency, ApplicantName: d.Applicant.Name, Code: string(d.Code), ProcedureName: d.Procedure.Name,
		Status: vi.Status(d.Status), StatusCode: string(d.Status), EventTime: vi.DateTime(occurred),
		ReceivedDate: vi.Date(d.ReceivedAt), AppointmentDate: vi.Date(d.AppointmentDate),
	}
	if data.Agency == "" {
		data.Agency = "Bộ phận Một cửa"
	}
	if publicURL != "" && d.Code != "" {
		data.LookupURL = strings.TrimRight(publicURL, "/") + "/tra-cuu/" + string(d.Code)
	}
	switch e := s.Event.(type) {
	case domain.SupplementRequested:
		data.Reason, data.MissingItems, data.RequestNumber = e.Reason, e.MissingItems, e.RequestNumber
	case domain.ApologyIssued:
		data.Reason = e.Reason
		data.OldAppointmentDate, data.NewAppointmentDate = vi.Date(e.OldAppointmentDate), vi.Date(e.NewAppointmentDate)
	case domain.ResultReady:
		data.ResultCode, data.DocumentNumber = e.ResultCode, e.DocumentNumber
	case domain.FeeAssessed:
		for _, fee := range e.Items {
			data.Fees = append(data.Fees, FeeLine{Name: fee.Name, Amount: vi.Money(fee.Amount)})
		}
		data.FeeTotal = vi.Money(e.Total)
	case domain.ReceptionRefused:
		data.Reason = e.Reason
	case domain.Suspended:
		data.Reason = e.Reason
	case domain.Rejected:
		data.Reason = e.Reason
	case domain.Withdrawn:
		data.Reason = e.Reason
	}
	return data
}

// SampleData is a dossier's data with every field filled, for checking templates.
func SampleData() Data {
	return Data{
		Agency: "Trung tâm Phục vụ hành chính công tỉnh", ApplicantName: "Nguyễn Văn An", Code: "000.00.00.H01-261204-0001",
		ProcedureName: "Cấp giấy phép xây dựng", Status: "Đang xử lý", StatusCode: "processing",
		EventTime: "09:30 ngày 04/12/2026", ReceivedDate: "01/12/2026", AppointmentDate: "15/12/2026",
		LookupURL: "https://motcua.example.gov.vn/tra-cuu/000.00.00.H01-261204-0001", Reason: "Thiếu bản vẽ",
		MissingItems: []string{"Bản vẽ thiết kế", "Giấy tờ về quyền sử dụng đất"}, RequestNumber: 1,
		OldAppointmentDate: "15/12/2026", NewAppointmentDate: "22/12/2026", ResultCode: "000.00.00.H01-261204-0001-KQ1",
		DocumentNumber: "123/GPXD", Fees: []FeeLine{{Name: "Lệ phí cấp phép", Amount: "150.000 đ"}}, FeeTotal: "150.000 đ",
	}
}
