package domain

import (
	"cmp"
	"fmt"
	"strings"
	"time"
)

// AssessFee fixes the fees the applicant must pay; the amounts are recorded as they are now.
type AssessFee struct {
	Items []Fee
	At    time.Time
}

// Pay records a payment of assessed fees with its receipt.
type Pay struct {
	Amount        int64
	Channel       PaymentChannel
	ReceiptNumber string
	At            time.Time
	// Gateway, OrderRef and BankCode describe an online payment through a gateway (Paid).
	Gateway, OrderRef, BankCode string
}

// MarkResultReady records that a (further) result is ready to hand over.
type MarkResultReady struct {
	DocumentNumber string
	DocumentHash   string
	// File, when given, is the result's electronic file, stored already; DocumentID names it.
	// Its digest must be the result's: the one the signer signed for the first result.
	File       *StoredFile
	DocumentID string
	At         time.Time
}

// ReturnResult records that the applicant has the result.
type ReturnResult struct {
	Channel Channel
	At      time.Time
}

// Rate records the applicant's evaluation; the secret printed on the receipt proves who rates.
type Rate struct {
	Secret  string
	Scores  map[Criterion]RatingLevel
	Comment string
	At      time.Time
}

func (AssessFee) Action() Action       { return ActionAssessFee }
func (Pay) Action() Action             { return ActionPay }
func (MarkResultReady) Action() Action { return ActionMarkResultReady }
func (ReturnResult) Action() Action    { return ActionReturnResult }
func (Rate) Action() Action            { return ActionRate }

// maxFee bounds one fee line (1 billion đồng); anything larger is a typo.
const maxFee = 1_000_000_000

func decideAssessFee(d Dossier, c AssessFee) ([]Event, error) {
	var v Validation
	v.Check(len(c.Items) > 0, "items", "at least one fee is required")
	var total int64
	for i, f := range c.Items {
		checkText(&v, fmt.Sprintf("items[%d].name", i), f.Name, true, 300)
		v.Check(f.Amount > 0 && f.Amount <= maxFee, fmt.Sprintf("items[%d].amount", i), "must be a positive amount in đồng, at most %d", maxFee)
		total += f.Amount
	}
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{FeeAssessed{Items: c.Items, Total: total, AssessedAt: c.At}}, nil
}

func decidePay(d Dossier, c Pay) ([]Event, error) {
	outstanding := d.FeesDue - d.FeesPaid
	var v Validation
	v.Check(c.Amount > 0 && c.Amount <= outstanding, "amount", "must be between 1 and the %d đồng outstanding", outstanding)
	v.Check(c.Channel == PaymentCash || c.Channel == PaymentOnline || c.Channel == PaymentBank, "channel", "must be cash, online or bank_transfer")
	checkText(&v, "receipt_number", c.ReceiptNumber, true, 100)
	// One receipt pays once: the same number again is a repeated entry, which would count the
	// money twice. Numbers are compared as the bank prints them, ignoring case.
	for _, p := range d.Payments {
		v.Check(c.ReceiptNumber == "" || !strings.EqualFold(p.ReceiptNumber, c.ReceiptNumber), "receipt_number",
			"receipt %s was already recorded for this dossier on %s", p.ReceiptNumber, p.PaidAt.In(VietnamTime).Format("02/01/2006"))
	}
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{Paid{Amount: c.Amount, Channel: c.Channel, ReceiptNumber: c.ReceiptNumber, PaidAt: c.At,
		Gateway: c.Gateway, OrderRef: c.OrderRef, BankCode: c.BankCode}}, nil
}

func decideMarkResultReady(d Dossier, c MarkResultReady) ([]Event, error) {
	if d.Signature == nil {
		return nil, refuse(d, ActionMarkResultReady, "the result has not been signed")
	}
	var v Validation
	checkText(&v, "document_number", c.DocumentNumber, false, 100)
	v.Check(c.DocumentHash == "" || validDocumentHash(c.DocumentHash), "document_hash", "must be the hex SHA-256 of the document")
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	n := len(d.Results) + 1
	number, hash := c.DocumentNumber, c.DocumentHash
	if n == 1 {
		// The first result is the signed document itself: its digest is the one the signer signed,
		// whatever the request states (a different one would hand out an unsigned document as the
		// signed result, and the QR verification would vouch for it).
		if hash != "" && !strings.EqualFold(hash, d.Signature.DocumentHash) {
			return nil, refuse(d, ActionMarkResultReady, "the first result is the signed document, whose document_hash is %s, not %s",
				d.Signature.DocumentHash, hash)
		}
		number, hash = cmp.Or(number, d.Signature.DocumentNumber), d.Signature.DocumentHash
	}
	ready := ResultReady{ResultCode: ResultCode(d.Code, n), Index: n, DocumentNumber: number, DocumentHash: hash, ReadyAt: c.At}
	if c.File == nil {
		return []Event{ready}, nil
	}
	checkStoredFile(&v, *c.File)
	v.Check(c.DocumentID != "", "document_id", "is required")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if hash == "" {
		ready.DocumentHash = c.File.SHA256 // a further result without a stated digest is its file
	} else if !strings.EqualFold(hash, c.File.SHA256) {
		// Not the document that was signed: handing it out as the result would be a forgery.
		return nil, refuse(d, ActionMarkResultReady, "the file's SHA-256 %s is not the result's document_hash %s", c.File.SHA256, hash)
	}
	// The file first: whoever reads the result ready finds its file already attached.
	return []Event{documentAttached(d, c.DocumentID, *c.File, OriginResult, c.At, "", ready.ResultCode), ready}, nil
}

func decideReturnResult(d Dossier, c ReturnResult) ([]Event, error) {
	if d.FeesPaid < d.FeesDue {
		return nil, refuse(d, ActionReturnResult, "%d đồng of fees are unpaid", d.FeesDue-d.FeesPaid)
	}
	var v Validation
	v.Check(c.Channel.Valid(), "channel", "must be direct, online or postal")
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{ResultReturned{Channel: c.Channel, ReturnedAt: c.At, AppointmentDate: d.AppointmentDate}}, nil
}

func decideRate(d Dossier, c Rate) ([]Event, error) {
	// Decide checked the status first: it is public anyway, and a dossier that was never received has
	// no secret to match. Whether it was already rated is told only to whoever holds the secret.
	if !secretMatches(d.RatingSecretHash, c.Secret) {
		return nil, Errorf(EFORBIDDEN, "the rating secret does not match this dossier's receipt")
	}
	if d.Rating != nil {
		return nil, refuse(d, ActionRate, "the dossier has already been rated")
	}
	var v Validation
	v.Check(len(c.Scores) > 0, "scores", "rate at least one criterion")
	for k, level := range c.Scores {
		v.Check(ValidCriterion(k), "scores."+string(k), "is not one of the nine criteria")
		v.Check(level.Score() >= 0, "scores."+string(k), "must be very_satisfied, satisfied or dissatisfied")
	}
	checkText(&v, "comment", c.Comment, false, 2000)
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{Rated{Scores: c.Scores, Comment: c.Comment, RatedAt: c.At}}, nil
}
