// Package email notifies applicants by e-mail through the delivery outbox (integrations/delivery):
// on every public status change, a supplement request (with everything missing), an apology (the
// content of form 04), a result ready and a payment due. Wording comes from one template file per
// kind (templates/, overridable from a directory); the applicant's address is read from the dossier
// through the store the application reads, so an erased applicant gets nothing; messages go out
// over SMTP with STARTTLS and authentication (smtp.go). See docs/integrations.md.
package email

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/l10n"
)

// DestinationName is the e-mail destination's name in the deliveries table. It is part of every
// idempotency key: never change it.
const DestinationName = "email"

// Reader reads a dossier's events as the application does: through the store that opens sealed
// personal data and shows erased applicants as erased.
type Reader interface {
	ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]eventstore.RecordedEvent, error)
}

// Sender hands a message to a mail server.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Notifier is the e-mail destination of the outbox.
type Notifier struct {
	Store     Reader
	Sender    Sender
	Templates Templates
	// From is the sender: the agency's name and its no-reply address. Its domain names the
	// messages' Message-IDs.
	From mail.Address
	// PublicURL is the scheme and host of the public pages, for the lookup link ("" for none).
	PublicURL string
}

// Name is DestinationName.
func (n *Notifier) Name() string { return DestinationName }

// Plan decides which notification an event calls for. Applicants who gave no e-mail address get
// none. A supplement request, an apology, a fee assessment and a ready result have their own
// message; any other change of the public status the generic one.
func (n *Notifier) Plan(c delivery.Change) string {
	if !c.Contact.Email {
		return ""
	}
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

// Send renders the delivery's message from the dossier as it stood after the event, and sends it
// to the applicant's address with the delivery's key as Message-ID.
func (n *Notifier) Send(ctx context.Context, d delivery.Delivery) error {
	events, err := n.Store.ReadStream(ctx, d.DossierID, 1)
	if err != nil {
		return fmt.Errorf("read the dossier: %w", err)
	}
	var (
		dossier domain.Dossier
		event   domain.Event
		at      eventstore.RecordedEvent
	)
	for _, re := range events {
		if re.Version > d.StreamVersion {
			break
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return fmt.Errorf("decode %s v%d: %w", d.DossierID, re.Version, err)
		}
		dossier = domain.Evolve(dossier, e)
		event, at = e, re
	}
	if event == nil || at.Version != d.StreamVersion || at.ID.String() != d.EventID {
		return fmt.Errorf("the dossier has no event %s at version %d", d.EventID, d.StreamVersion)
	}
	applicant := dossier.Applicant
	if applicant.Name == domain.ErasedName || applicant.IDNumber == domain.ErasedName {
		return delivery.Skip("the applicant's personal data was erased")
	}
	if applicant.Email == "" {
		return delivery.Skip("the applicant gave no e-mail address")
	}
	to, err := mail.ParseAddress(applicant.Email)
	if err != nil {
		return delivery.Skip("the applicant's e-mail address is not valid")
	}
	to.Name = applicant.Name
	tmpl, err := n.Templates.Load(d.Kind)
	if err != nil {
		return err
	}
	subject, body, err := tmpl.Render(n.data(dossier, event, at))
	if err != nil {
		return err
	}
	date := at.Metadata.OccurredAt
	if date.IsZero() {
		date = at.RecordedAt
	}
	return n.Sender.Send(ctx, Message{
		From: n.From, To: *to, Subject: subject, Body: body, Date: date,
		MessageID: MessageID(d.Key, n.From.Address), Template: tmpl.Kind + " v" + tmpl.Version,
	})
}

// MessageID is the Message-ID of the delivery with idempotency key key: the key's characters that
// a message id may hold, at the sender's domain.
func MessageID(key, from string) string {
	domainPart := "motcua.invalid"
	if _, host, ok := strings.Cut(from, "@"); ok && host != "" {
		domainPart = host
	}
	local := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '.'
	}, key)
	return "<" + local + "@" + domainPart + ">"
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

func (n *Notifier) data(d domain.Dossier, e domain.Event, at eventstore.RecordedEvent) Data {
	vi := l10n.VI
	occurred := at.Metadata.OccurredAt
	if occurred.IsZero() {
		occurred = at.RecordedAt
	}
	data := Data{
		Agency: n.From.Name, ApplicantName: d.Applicant.Name, Code: string(d.Code), ProcedureName: d.Procedure.Name,
		Status: vi.Status(d.Status), StatusCode: string(d.Status), EventTime: vi.DateTime(occurred),
		ReceivedDate: vi.Date(d.ReceivedAt), AppointmentDate: vi.Date(d.AppointmentDate),
	}
	if data.Agency == "" {
		data.Agency = "Bộ phận Một cửa"
	}
	if n.PublicURL != "" && d.Code != "" {
		data.LookupURL = strings.TrimRight(n.PublicURL, "/") + "/tra-cuu/" + string(d.Code)
	}
	switch e := e.(type) {
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
