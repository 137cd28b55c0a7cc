package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

func resultTransitions() []transitionCase {
	processing := []domain.Event{received(), transferred()}
	signedDossier := extend(processing, appraised(domain.ConclusionApprove), signed())
	resultIsReady := extend(signedDossier, resultReady())
	copyFees := []domain.Fee{
		{Name: "Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ", Amount: 75_000},
		{Name: "Phí cung cấp bản sao bản vẽ được duyệt", Amount: 20_000},
	}
	return []transitionCase{
		{
			name:  "fees assessed at the desk",
			given: []domain.Event{received()},
			when:  domain.AssessFee{Items: procedure().Fees, At: now},
			then:  []domain.Event{domain.FeeAssessed{Items: procedure().Fees, Total: 75_000, AssessedAt: now}},
		},
		{
			name:  "fees assessed during processing",
			given: processing,
			when:  domain.AssessFee{Items: procedure().Fees, At: feeAssessed().AssessedAt},
			then:  []domain.Event{feeAssessed()},
		},
		{
			name:  "fees assessed when the result is ready",
			given: resultIsReady,
			when:  domain.AssessFee{Items: copyFees, At: now},
			then:  []domain.Event{domain.FeeAssessed{Items: copyFees, Total: 95_000, AssessedAt: now}},
		},
		{
			name:  "the applicant pays",
			given: extend(processing, feeAssessed()),
			when:  domain.Pay{Amount: 75_000, Channel: domain.PaymentOnline, ReceiptNumber: "BL-2025-000318", At: paid().PaidAt},
			then:  []domain.Event{paid()},
		},
		{
			name:  "the signed document is the first result",
			given: signedDossier,
			when:  domain.MarkResultReady{At: resultReady().ReadyAt},
			then:  []domain.Event{resultReady()},
		},
		{
			name:  "a second result",
			given: resultIsReady,
			when:  domain.MarkResultReady{DocumentNumber: "45/GPXD-BV", DocumentHash: secondResultHash, At: now},
			then: []domain.Event{domain.ResultReady{
				ResultCode: "000.00.01.H56-250310-0007-KQ2", Index: 2, DocumentNumber: "45/GPXD-BV",
				DocumentHash: secondResultHash, ReadyAt: now,
			}},
		},
		{
			name:  "the result is handed over",
			given: resultIsReady,
			when:  domain.ReturnResult{Channel: domain.ChannelDirect, At: resultReturned().ReturnedAt},
			then:  []domain.Event{resultReturned()},
		},
		{
			name:  "the applicant rates the service",
			given: extend(resultIsReady, resultReturned()),
			when:  domain.Rate{Secret: ratingSecret, Scores: ratingScores(), Comment: "Cán bộ hướng dẫn tận tình", At: now},
			then:  []domain.Event{domain.Rated{Scores: ratingScores(), Comment: "Cán bộ hướng dẫn tận tình", RatedAt: now}},
		},
	}
}

func TestDecideResultTransitions(t *testing.T) {
	runTransitions(t, resultTransitions())
}

func TestResultCodes(t *testing.T) {
	given := extend(historyIn(domain.StatusResultReady))
	for n := 2; n <= 3; n++ {
		events, err := domain.Decide(domain.Fold(given...), domain.MarkResultReady{At: now})
		if err != nil {
			t.Fatal(err)
		}
		e := events[0].(domain.ResultReady)
		if want := domain.ResultCode(dossierCode, n); e.ResultCode != want || e.Index != n {
			t.Errorf("result %d has code %q (index %d), want %q", n, e.ResultCode, e.Index, want)
		}
		// Later results carry only the document they are given, never the first one's.
		if e.DocumentNumber != "" || e.DocumentHash != "" {
			t.Errorf("result %d took document %q %q", n, e.DocumentNumber, e.DocumentHash)
		}
		given = extend(given, e)
	}
	if d := domain.Fold(given...); len(d.Results) != 3 || d.Results[0].ResultCode != string(dossierCode)+"-KQ1" {
		t.Errorf("results %+v", d.Results)
	}
}

func TestResultBeforeSignatureIsRefused(t *testing.T) {
	given := []domain.Event{received(), transferred(), appraised(domain.ConclusionApprove)}
	te := thenRefused(t, given, domain.MarkResultReady{At: now})
	if !strings.Contains(te.Reason, "not been signed") {
		t.Errorf("reason %q", te.Reason)
	}
}

func TestReturnWithUnpaidFeesIsRefused(t *testing.T) {
	readyAt := resultReady().ReadyAt
	lateFee := domain.FeeAssessed{Items: procedure().Fees, Total: 75_000, AssessedAt: readyAt.Add(30 * time.Minute)}
	given := extend(historyIn(domain.StatusResultReady), lateFee)
	returnIt := domain.ReturnResult{Channel: domain.ChannelDirect, At: now}

	// Assessing fees puts the dossier in awaiting payment, where a return is not allowed.
	thenRefused(t, given, returnIt)
	// Half of the fees is not enough.
	half := domain.Paid{Amount: 40_000, Channel: domain.PaymentCash, ReceiptNumber: "BL-1", PaidAt: readyAt.Add(time.Hour)}
	given = extend(given, half)
	if d := domain.Fold(given...); d.Status != domain.StatusAwaitingPayment {
		t.Fatalf("after a partial payment the dossier is %s", d.Status)
	}
	thenRefused(t, given, returnIt)
	// The rest of it brings the result back to the desk, ready to hand over.
	rest := domain.Paid{Amount: 35_000, Channel: domain.PaymentCash, ReceiptNumber: "BL-2", PaidAt: readyAt.Add(2 * time.Hour)}
	thenEvents(t, given, domain.Pay{Amount: 35_000, Channel: domain.PaymentCash, ReceiptNumber: "BL-2", At: rest.PaidAt}, rest)
	given = extend(given, rest)
	if d := domain.Fold(given...); d.Status != domain.StatusResultReady || d.FeesPaid != d.FeesDue {
		t.Fatalf("after paying in full the dossier is %s with %d of %d paid", d.Status, d.FeesPaid, d.FeesDue)
	}
	thenEvents(t, given, returnIt, domain.ResultReturned{Channel: domain.ChannelDirect, ReturnedAt: now, AppointmentDate: appointment})
}

func TestReturnChecksFeesEvenIfTheHistoryLetAResultThroughUnpaid(t *testing.T) {
	// Decide never produces this history (no result while awaiting payment); Return still guards the fees.
	given := []domain.Event{received(), transferred(), appraised(domain.ConclusionApprove), signed(), feeAssessed(), resultReady()}
	te := thenRefused(t, given, domain.ReturnResult{Channel: domain.ChannelDirect, At: now})
	if te.Status != domain.StatusResultReady || !strings.Contains(te.Reason, "75000 đồng") {
		t.Errorf("refused in %s because %q", te.Status, te.Reason)
	}
}

func TestPaymentAboveTheOutstandingAmountIsInvalid(t *testing.T) {
	given := extend(historyIn(domain.StatusAwaitingPayment))
	thenInvalid(t, given, domain.Pay{Amount: 75_001, Channel: domain.PaymentCash, ReceiptNumber: "BL-3", At: now}, "amount")

	part := domain.Paid{Amount: 50_000, Channel: domain.PaymentBank, ReceiptNumber: "UNC-77", PaidAt: now}
	given = extend(given, part)
	thenInvalid(t, given, domain.Pay{Amount: 30_000, Channel: domain.PaymentCash, ReceiptNumber: "BL-4", At: now}, "amount")
	thenEvents(t, given, domain.Pay{Amount: 25_000, Channel: domain.PaymentCash, ReceiptNumber: "BL-4", At: now},
		domain.Paid{Amount: 25_000, Channel: domain.PaymentCash, ReceiptNumber: "BL-4", PaidAt: now})
}

// TestPaymentAfterASuspensionResumesProcessing: a dossier suspended while it awaited payment comes
// back to awaiting payment, and paying then returns it to where it was before the fees — processing.
func TestPaymentAfterASuspensionResumesProcessing(t *testing.T) {
	given := extend(historyIn(domain.StatusAwaitingPayment), suspended())
	events, err := domain.Decide(domain.Fold(given...), domain.Resume{At: now, Calendar: cal})
	if err != nil {
		t.Fatal(err)
	}
	given = extend(given, events...)
	if d := domain.Fold(given...); d.Status != domain.StatusAwaitingPayment {
		t.Fatalf("resumed to %s, want awaiting payment", d.Status)
	}
	pay := commandFor(t, domain.ActionPay).(domain.Pay)
	thenEvents(t, given, pay, domain.Paid{Amount: pay.Amount, Channel: pay.Channel, ReceiptNumber: pay.ReceiptNumber, PaidAt: pay.At})
	d := domain.Fold(extend(given, domain.Paid{Amount: pay.Amount, Channel: pay.Channel, ReceiptNumber: pay.ReceiptNumber, PaidAt: pay.At})...)
	if d.Status != domain.StatusProcessing {
		t.Errorf("paid in full after a suspension: dossier is %s, want processing", d.Status)
	}
}

func TestRatingNeedsTheReceiptSecret(t *testing.T) {
	returned := historyIn(domain.StatusResultReturned)
	for _, secret := range []string{"", "WRONG12345", strings.ToLower(ratingSecret)} {
		events, err := domain.Decide(domain.Fold(returned...), domain.Rate{Secret: secret, Scores: ratingScores(), At: now})
		var e *domain.Error
		if !errors.As(err, &e) || e.Code != domain.EFORBIDDEN || events != nil {
			t.Errorf("rating with secret %q: %v, %v; want EFORBIDDEN", secret, events, err)
		}
	}
}

func TestRatingTwiceIsRefused(t *testing.T) {
	given := extend(historyIn(domain.StatusResultReturned), domain.Rated{Scores: ratingScores(), RatedAt: now})
	te := thenRefused(t, given, commandFor(t, domain.ActionRate))
	if !strings.Contains(te.Reason, "already been rated") {
		t.Errorf("reason %q", te.Reason)
	}
	// Without the secret one cannot even learn that the dossier was rated.
	_, err := domain.Decide(domain.Fold(given...), domain.Rate{Secret: "WRONG12345", Scores: ratingScores(), At: now})
	if domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
		t.Errorf("second rating with a wrong secret: %v, want EFORBIDDEN", err)
	}
	if d := domain.Fold(given...); d.Rating == nil || d.Rating.Scores[domain.CriterionTotalTime] != domain.VerySatisfied {
		t.Errorf("rating not kept: %+v", d.Rating)
	}
}

func TestResultInvalidInput(t *testing.T) {
	processing := []domain.Event{received(), transferred()}
	awaiting := historyIn(domain.StatusAwaitingPayment)
	signedDossier := extend(processing, appraised(domain.ConclusionApprove), signed())
	returned := historyIn(domain.StatusResultReturned)
	rate := func(scores map[domain.Criterion]domain.RatingLevel, comment string) domain.Rate {
		return domain.Rate{Secret: ratingSecret, Scores: scores, Comment: comment, At: now}
	}

	runInvalid(t, []invalidCase{
		{"assess no fee", processing, domain.AssessFee{At: now}, []string{"items"}},
		{"assess a nameless free fee at no time", processing, domain.AssessFee{Items: []domain.Fee{{}}},
			[]string{"items[0].name", "items[0].amount", "at"}},
		{"assess a fee above a billion đồng", processing,
			domain.AssessFee{Items: []domain.Fee{{Name: "Lệ phí", Amount: 75_000}, {Name: "Phí", Amount: 1_000_000_001}}, At: now},
			[]string{"items[1].amount"}},
		{"pay nothing", awaiting, domain.Pay{}, []string{"amount", "channel", "receipt_number", "at"}},
		{"pay by cheque", awaiting, domain.Pay{Amount: 75_000, Channel: "cheque", ReceiptNumber: "1", At: now}, []string{"channel"}},
		{"a result with a bad hash", signedDossier, domain.MarkResultReady{DocumentHash: "xyz", At: now}, []string{"document_hash"}},
		{"return by fax", historyIn(domain.StatusResultReady), domain.ReturnResult{Channel: "fax", At: now}, []string{"channel"}},
		{"rate nothing", returned, rate(nil, ""), []string{"scores"}},
		{"rate an unknown criterion", returned, rate(map[domain.Criterion]domain.RatingLevel{"speed": domain.Satisfied}, ""),
			[]string{"scores.speed"}},
		{"rate with an unknown level", returned, rate(map[domain.Criterion]domain.RatingLevel{domain.CriterionStaffAttitude: "meh"}, ""),
			[]string{"scores.staff_attitude"}},
		{"rate with an essay", returned, rate(ratingScores(), strings.Repeat("a", 2001)), []string{"comment"}},
	})
}

func TestAReceiptNumberPaysOnce(t *testing.T) {
	part := domain.Paid{Amount: 50_000, Channel: domain.PaymentBank, ReceiptNumber: "UNC-77", PaidAt: now}
	given := extend(historyIn(domain.StatusAwaitingPayment), part)
	// The same receipt entered again — by a retry, or typed in another case — would count its money twice.
	thenInvalid(t, given, domain.Pay{Amount: 25_000, Channel: domain.PaymentBank, ReceiptNumber: "UNC-77", At: now}, "receipt_number")
	thenInvalid(t, given, domain.Pay{Amount: 25_000, Channel: domain.PaymentBank, ReceiptNumber: "unc-77", At: now}, "receipt_number")
	thenEvents(t, given, domain.Pay{Amount: 25_000, Channel: domain.PaymentBank, ReceiptNumber: "UNC-78", At: now},
		domain.Paid{Amount: 25_000, Channel: domain.PaymentBank, ReceiptNumber: "UNC-78", PaidAt: now})
}
