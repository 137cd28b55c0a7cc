package domain_test

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

// The fuzz targets below run for a few seconds each in CI (scripts/test.sh); locally, e.g.
//
//	go test -run='^$' -fuzz='^FuzzDecodeEvent$' -fuzztime=1m ./domain

// sampleEvents are realistic events, seeds of FuzzDecodeEvent beside an empty object of every type.
func sampleEvents() []domain.Event {
	at := time.Date(2026, 3, 2, 8, 30, 0, 0, domain.VietnamTime)
	handler := domain.Handler{Unit: "PQLXD", OfficialID: "cv1", OfficialName: "Trần Văn Bình"}
	applicant := domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn An", IDNumber: "038012345678", Phone: "0912345678", Email: "an@example.vn", Address: "12 Lê Lợi"}
	procedure := domain.ProcedureRef{Code: "1.009972", Name: "Cấp giấy phép xây dựng", FieldCode: "XD", FieldName: "Hoạt động xây dựng", ResolutionTime: domain.ResolutionTime{Days: 5}}
	components := []domain.Component{{Name: "Đơn đề nghị", Copies: 1}}
	return []domain.Event{
		domain.Submitted{DossierID: "d1", Procedure: procedure, Applicant: applicant, Components: components, ReceivingUnit: "000.00.00.H56",
			CompetentAgency: "000.00.06.H56", SubmittedAt: at, AcceptanceDeadline: at.Add(8 * time.Hour), CalendarVersion: "vn-2026"},
		domain.Received{DossierID: "d1", Code: "000.00.00.H56-260302-0001", Procedure: procedure, Applicant: applicant, Channel: domain.ChannelDirect,
			Components: components, ReceivingUnit: "000.00.00.H56", CompetentAgency: "000.00.06.H56", ReceivedAt: at, AppointmentDate: at.AddDate(0, 0, 7),
			CalendarVersion: "vn-2026", RatingSecretHash: strings.Repeat("ab", 32)},
		domain.ReceptionRefused{Reason: "Không thuộc thẩm quyền", RefusedAt: at},
		domain.SupplementRequested{MissingItems: []string{"Bản vẽ"}, Reason: "Thiếu bản vẽ", RequestNumber: 1, RequestedAt: at},
		domain.Supplemented{Components: components, SupplementedAt: at, WaitingTime: 3 * time.Hour, OldAppointmentDate: at, NewAppointmentDate: at.AddDate(0, 0, 7)},
		domain.Transferred{From: domain.Handler{Unit: "000.00.00.H56"}, To: handler, Step: "Thẩm định hồ sơ", AllottedHours: 24, StepDeadline: at.Add(72 * time.Hour), TransferredAt: at},
		domain.InterAgencyTransferred{FromAgency: "000.00.06.H56", ToAgency: "000.00.10.H56", From: handler, Purpose: "Xác nhận", AllottedHours: 16, TransferredAt: at},
		domain.Appraised{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện", Appraiser: handler, AppraisedAt: at},
		domain.Signed{Signer: handler, SignerTitle: "Phó Giám đốc", DocumentNumber: "12/GPXD", DocumentHash: strings.Repeat("cd", 32), SignedAt: at},
		domain.FeeAssessed{Items: []domain.Fee{{Name: "Lệ phí", Amount: 150000}}, Total: 150000, AssessedAt: at},
		domain.Paid{Amount: 150000, Channel: domain.PaymentCash, ReceiptNumber: "BL-0001", PaidAt: at},
		domain.ResultReady{ResultCode: "000.00.00.H56-260302-0001-KQ1", Index: 1, DocumentNumber: "12/GPXD", ReadyAt: at},
		domain.ResultReturned{Channel: domain.ChannelDirect, ReturnedAt: at, AppointmentDate: at},
		domain.ApologyIssued{Reason: "Cần thêm thời gian", OldAppointmentDate: at, NewAppointmentDate: at.AddDate(0, 0, 2), IssuedAt: at},
		domain.Suspended{Reason: "Chờ ý kiến", SuspendedAt: at},
		domain.Resumed{ResumedAt: at, PausedWorkingTime: time.Hour, OldAppointmentDate: at, NewAppointmentDate: at.Add(time.Hour)},
		domain.Withdrawn{Reason: "Rút hồ sơ", WithdrawnAt: at},
		domain.Rejected{Reason: "Không đủ điều kiện", RejectedAt: at},
		domain.Rated{Scores: map[domain.Criterion]domain.RatingLevel{domain.CriterionStaffAttitude: "very_satisfied"}, Comment: "Tốt", RatedAt: at},
	}
}

// eventTypes lists every wire name in a fixed order, so a fuzzed index picks the same type each run.
func eventTypes() []string {
	types := domain.EventTypes()
	slices.Sort(types)
	return types
}

// Any payload, under any event type, either decodes or is refused with an error: never a panic.
// A decoded event encodes back into a payload that decodes to the same encoding (the store's bytes
// are stable), and folding it into a dossier never panics, whatever state the dossier is in.
func FuzzDecodeEvent(f *testing.F) {
	types := eventTypes()
	for i := range types {
		f.Add(uint8(i), []byte(`{}`))
	}
	for _, e := range sampleEvents() {
		typ, data, err := domain.EncodeEvent(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(slices.Index(types, typ)), data)
	}
	f.Add(uint8(0), []byte(`null`))
	f.Add(uint8(1), []byte(`{"applicant":{"sealed":{"alg":"A256GCM"}}}`))
	f.Add(uint8(2), []byte(`{"received_at":"2026-13-45T99:00:00Z"}`))
	f.Add(uint8(3), []byte(`{"scores":{"staff_attitude":7}}`))
	f.Add(uint8(4), []byte(`[1,2,3]`))
	states := []domain.Dossier{{Status: domain.StatusNew}, {Status: domain.StatusReceived, Code: "000.00.00.H56-260302-0001"}, {Status: domain.StatusProcessing}, {Status: domain.StatusAwaitingPayment, FeesDue: 1}}
	f.Fuzz(func(t *testing.T, typeIndex uint8, data []byte) {
		typ := types[int(typeIndex)%len(types)]
		event, err := domain.DecodeEvent(typ, data)
		if err != nil {
			return
		}
		if event.EventType() != typ {
			t.Fatalf("%s decoded as %s", typ, event.EventType())
		}
		typ2, encoded, err := domain.EncodeEvent(event)
		if err != nil {
			t.Fatalf("a decoded %s does not encode: %v", typ, err)
		}
		again, err := domain.DecodeEvent(typ2, encoded)
		if err != nil {
			t.Fatalf("%s: its own encoding does not decode: %v\n%s", typ, err, encoded)
		}
		if _, reencoded, _ := domain.EncodeEvent(again); !bytes.Equal(reencoded, encoded) {
			t.Fatalf("%s: encoding is not stable:\n%s\n%s", typ, encoded, reencoded)
		}
		for _, d := range states {
			domain.Evolve(d, event)
		}
	})
}

// Dossier codes come from URLs: anything either parses into a code that is exactly what
// NewDossierCode makes of its parts, or is refused as invalid input.
func FuzzParseDossierCode(f *testing.F) {
	for _, seed := range []string{"000.00.00.H56-260302-0001", "000.00.06.H56-231027-0361", "000.00.00.H56-261332-0001", "000.00.00.H56-260302-0000",
		"000.00.00.H56-260302-00001", "h56-260302-0001", "000.00.00.H56-260302-0001\n", "", "-", "000.00.00.H56-260302-0001-KQ1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parsed, err := domain.ParseDossierCode(s)
		if err != nil {
			if domain.ErrorCodeOf(err) != domain.EINVALID {
				t.Fatalf("%q refused with %v, want invalid input", s, err)
			}
			return
		}
		date, err := time.ParseInLocation("060102", parsed.Day, domain.VietnamTime)
		if err != nil {
			t.Fatalf("%q accepted with day %q: %v", s, parsed.Day, err)
		}
		rebuilt, err := domain.NewDossierCode(parsed.Unit, date, parsed.Seq)
		if err != nil || rebuilt != parsed.Code || string(parsed.Code) != s {
			t.Fatalf("%q parsed into %+v, which makes %q (%v)", s, parsed, rebuilt, err)
		}
	})
}

// Result codes come from URLs and QR codes: one result has one spelling.
func FuzzParseResultCode(f *testing.F) {
	for _, seed := range []string{"000.00.00.H56-260302-0001-KQ1", "000.00.00.H56-260302-0001-KQ12", "000.00.00.H56-260302-0001-KQ0",
		"000.00.00.H56-260302-0001-KQ01", "000.00.00.H56-260302-0001-KQ+1", "000.00.00.H56-260302-0001-KQ", "-KQ1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, n, err := domain.ParseResultCode(s)
		if err != nil {
			if domain.ErrorCodeOf(err) != domain.EINVALID {
				t.Fatalf("%q refused with %v, want invalid input", s, err)
			}
			return
		}
		if got := domain.ResultCode(code, n); got != s {
			t.Fatalf("%q accepted as result %d of %s, which is spelled %q", s, n, code, got)
		}
		if n < 1 || strconv.Itoa(n) != s[strings.LastIndex(s, "KQ")+2:] {
			t.Fatalf("%q: result number %d", s, n)
		}
	})
}
