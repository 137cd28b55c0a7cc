package http

import (
	"bytes"
	"flag"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/internal/golden"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/api/*.json from the examples")

// The officials' dossier response is pinned byte for byte (testdata/api/dossier.json, from a
// dossier with every field set): it is the API's own type, so neither a change of the domain's
// state nor of an event's payload may change it unnoticed. A deliberate API change updates the
// file (go test ./http -run GoldenAPI -update) and docs/api.md together.
func TestGoldenAPIDossierResponse(t *testing.T) {
	// A dossier just filed online: no code, no parts, no fees — what absent members look like.
	submitted := domain.Dossier{ID: "0b5e6a3c-1f2d-4e5f-8a9b-0c1d2e3f4a5b", Version: 1, Status: domain.StatusSubmitted,
		Applicant: domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn An", IDNumber: "038012345678"}}
	for name, d := range map[string]domain.Dossier{"dossier.json": goldenDossier(), "dossier-submitted.json": submitted} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeJSON(rec, 200, dossierResponseOf(d, goldenNow))
			checkGoldenAPI(t, name, rec.Body.Bytes())
		})
	}
}

// The receipt (POST /api/v1/dossiers) is pinned the same way.
func TestGoldenAPIReceiptResponse(t *testing.T) {
	receipt := commands.Receipt{
		Result: commands.Result{DossierID: "0b5e6a3c-1f2d-4e5f-8a9b-0c1d2e3f4a5b", Code: "000.00.01.H56-260302-0001",
			Status: domain.StatusReceived, Version: 1, Events: []string{domain.TypeReceived}},
		ReceivedAt: goldenNow, AppointmentDate: goldenAt(21 * 24), RatingSecret: "ABCDEFGHJK",
	}
	rec := httptest.NewRecorder()
	writeJSON(rec, 201, receiptResponseOf(receipt))
	checkGoldenAPI(t, "receipt.json", rec.Body.Bytes())
}

// goldenNow is when the pinned responses are made, in Vietnam time as the service answers.
var goldenNow = time.Date(2026, time.March, 2, 9, 15, 0, 0, time.FixedZone("ICT", 7*60*60))

func goldenAt(hours int) time.Time { return goldenNow.Add(time.Duration(hours) * time.Hour) }

// goldenDossier is a dossier with every member the response shows set, built field by field so
// that a new member of the domain's state changes nothing here until the API chooses to show it.
func goldenDossier() domain.Dossier {
	specialist := domain.Handler{Unit: "000.00.10.H56", OfficialID: "chuyen-vien-2", OfficialName: "Trần Văn Cường"}
	signature := &domain.AgencySignature{Agency: "000.00.10.H56", Algorithm: "Ed25519", KeyID: "00112233445566778899aabbccddeeff",
		PublicKey: "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", Value: "c2lnbmF0dXJl"}
	return domain.Dossier{
		ID: "0b5e6a3c-1f2d-4e5f-8a9b-0c1d2e3f4a5b", Version: 9, Status: domain.StatusReceived, Code: "000.00.01.H56-260302-0001",
		ExternalCode: "G22.99-260302-0001",
		Procedure: domain.ProcedureRef{Code: "1.013225", Name: "Cấp giấy phép xây dựng nhà ở riêng lẻ", FieldCode: "XD", FieldName: "Xây dựng",
			ResolutionTime: domain.ResolutionTime{Days: 15, Hours: 4, SameDay: true}},
		Applicant: domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn An", IDNumber: "038012345678", Phone: "0912 345 678",
			Email: "an.nguyen@example.vn", Address: "12 Lê Lợi, phường Hạc Thành, Thanh Hoá"},
		Channel: domain.ChannelOnline, Components: []domain.Component{{Name: "Đơn đề nghị", Copies: 1}, {Name: "Bản vẽ thiết kế", Copies: 2}},
		ReceivingUnit: "000.00.01.H56", CompetentAgency: "000.00.10.H56", SubmittedAt: goldenAt(-24), ReceivedAt: goldenNow,
		AppointmentDate: goldenAt(23 * 24), FirstAppointment: goldenAt(21 * 24), CalendarVersion: "vn-2026+a1b2c3",
		DueDate: goldenAt(22 * 24), IndicatorDueDate: goldenAt(24 * 24), ClockStart: goldenAt(1), RulesVersion: "nd118-2025",
		Rules: domain.Rules{Version: "nd118-2025", EffectiveFrom: time.Date(2025, time.July, 1, 0, 0, 0, 0, time.FixedZone("ICT", 7*60*60)),
			Basis: "Nghị định 118/2025/NĐ-CP", OnlineAcceptanceHours: 8, TransferSameWorkingDay: true, SupplementNoticeDays: 3,
			ApologyNoticeDays: 1, MaxApologies: 1, ApologyMaxExtensionPercent: 50, AfterCutoffCountsFrom: "next_working_day",
			IndicatorMaxSupplementRequests: 1, Forms: domain.Forms{Receipt: "01", Supplement: "02", Refusal: "03", Apology: "04",
				StopNotice: "05", ControlSheet: "06", DossierRegister: "07"}},
		AcceptanceWindows: []domain.AcceptanceWindow{{OpenedAt: goldenAt(-24), Deadline: goldenAt(-16), AnsweredAt: goldenNow, Answer: "received"}},
		Holder:            specialist, HolderAgency: "000.00.10.H56", Step: "Thẩm định hồ sơ", LatestWorkflowStep: "Lấy ý kiến",
		StepDeadline: goldenAt(5 * 24), Transfers: 2,
		OpenParts: []domain.OpenPart{{ParallelStep: "Lấy ý kiến", StartedAt: goldenAt(2), ParallelPart: domain.ParallelPart{
			Step: "Ý kiến Công an", Unit: "000.00.30.H56", Agency: "000.00.30.H56", Role: "head", AllottedHours: 16, StepDeadline: goldenAt(3 * 24)}}},
		SupplementRequests: 1,
		PendingSupplement: &domain.SupplementRequested{MissingItems: []string{"Bản vẽ mặt bằng"}, Reason: "Hồ sơ chưa đầy đủ", BeforeReceipt: true,
			RequestNumber: 1, RequestedAt: goldenAt(24), NoticeDeadline: goldenAt(72), CalendarVersion: "vn-2026+a1b2c3", RulesVersion: "nd118-2025"},
		WaitingTime: 16 * time.Hour,
		Appraisal:   &domain.Appraised{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện", Appraiser: specialist, AppraisedAt: goldenAt(5 * 24)},
		Signature: &domain.Signed{Signer: specialist, SignerTitle: "Phó Giám đốc", DocumentNumber: "125/GPXD", DocumentHash: "2c26b46b",
			SignedAt: goldenAt(6 * 24), AgencySignature: signature},
		FeesDue: 125000, FeesPaid: 125000,
		Payments: []domain.Paid{{Amount: 125000, Channel: domain.PaymentBank, ReceiptNumber: "BL-2026-000125", PaidAt: goldenAt(6*24 + 2),
			AgencySignature: signature}},
		Results: []domain.ResultReady{{ResultCode: "000.00.01.H56-260302-0001-KQ1", Index: 1, DocumentNumber: "125/GPXD", DocumentHash: "2c26b46b",
			ReadyAt: goldenAt(6*24 + 3)}},
		Documents: []domain.DocumentAttached{{DocumentID: "0193f0a1-7c2e-7d4b-9a1f-5e6d7c8b9a0f", Component: "Bản vẽ thiết kế",
			ResultCode: "000.00.01.H56-260302-0001-KQ1", File: domain.FileLabel{Type: domain.ApplicantCitizen, IDNumber: "038012345678", Name: "bản vẽ.pdf"},
			MediaType: domain.MediaPDF, Size: 482113, SHA256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
			Blob: "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9", Sealed: true, Origin: domain.OriginDeskScan,
			AttachedAt: goldenAt(3)}},
		ReturnedAt: goldenAt(7 * 24),
		Apology: &domain.ApologyIssued{Reason: "Cần thêm thời gian", OldAppointmentDate: goldenAt(21 * 24), NewAppointmentDate: goldenAt(23 * 24),
			IssuedAt: goldenAt(20 * 24), LatestAllowedDate: goldenAt(28 * 24), CalendarVersion: "vn-2026+a1b2c3", RulesVersion: "nd118-2025"},
		Apologies: 1, SuspendedAt: goldenAt(4 * 24), ClosedAt: goldenAt(7 * 24), CloseReason: "returned",
		Rating: &domain.Rated{Scores: map[domain.Criterion]domain.RatingLevel{domain.CriterionTotalTime: domain.VerySatisfied,
			domain.CriterionStaffAttitude: domain.Satisfied}, Comment: "Cán bộ nhiệt tình", RatedAt: goldenAt(8 * 24)},
		RatingSecretHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", // never shown
		ResumeStatus:     domain.StatusSupplementRequested, StatusAfterPayment: domain.StatusReceived,
	}
}

// checkGoldenAPI compares a response body with its pinned copy in testdata/api.
func checkGoldenAPI(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "api", name)
	if *updateGolden {
		golden.Write(t, path, got)
	}
	want := append(golden.Read(t, path), '\n') // json.Encoder ends each value with a newline
	if !bytes.Equal(got, want) {
		t.Fatalf("the API now answers\n%s\nnot as pinned in %s\n%s", got, path, want)
	}
}
