// Package payment is the protocol side of online payment of assessed fees: a Gateway builds the
// signed address the citizen is sent to, verifies and parses the gateway's signed callbacks, words
// the answer the gateway expects, and fetches its daily statement. VNPAY (vnpay.go) is built; the
// national payment platform PayGov follows the same create → redirect → signed callback shape and
// fits the same interface. What to do with a verified callback (record the payment) is not decided
// here: integrations must not import commands, so the HTTP route in http/ calls the use case
// (docs/integrations.md, "Online payment").
package payment

import (
	"context"
	"errors"
	"time"
)

// Gateway is one payment gateway's protocol.
type Gateway interface {
	// Name identifies the gateway in the paid events and the logs ("vnpay"); never rename it.
	Name() string
	// PaymentURL is the signed address of the gateway's pay page for order.
	PaymentURL(order Order) (string, error)
	// ParseCallback verifies the signature of a callback (the server-to-server notification or the
	// browser's return) and parses it. A callback whose signature does not verify, or that names
	// another merchant, is ErrInvalidSignature; one that verifies but is malformed, ErrMalformed.
	ParseCallback(query map[string][]string) (Callback, error)
	// Answer is the body and content type the gateway expects in reply to a server-to-server
	// callback with outcome.
	Answer(outcome Outcome) (contentType string, body []byte)
	// Statement fetches the gateway's statement of the transactions of one day (Vietnam time).
	Statement(ctx context.Context, day time.Time) ([]StatementLine, error)
}

// Order is what the gateway is asked to collect.
type Order struct {
	// Ref is the merchant's order reference (VNPAY's vnp_TxnRef): unique, it is how the callback
	// names the order.
	Ref string
	// Amount in đồng.
	Amount int64
	// Description is shown to the payer (no accents: gateways require ASCII).
	Description string
	// ClientIP is the payer's address, which gateways record against fraud.
	ClientIP string
	// Locale is the pay page's language: "vn" or "en".
	Locale    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Callback is a verified callback: what the gateway says happened to an order.
type Callback struct {
	Ref    string
	Amount int64 // in đồng
	// Succeeded: the gateway took the money (VNPAY: vnp_ResponseCode and vnp_TransactionStatus 00).
	Succeeded bool
	// ResponseCode is the gateway's code for the outcome, kept for the logs and the return page.
	ResponseCode string
	// TransactionNo is the gateway's own number of the transaction: the receipt number.
	TransactionNo string
	BankCode      string
	PaidAt        time.Time
}

// Outcome is what motcua made of a verified callback, answered to the gateway.
type Outcome int

const (
	// Confirmed: the payment is recorded now, or the callback reported a failed payment that was
	// taken note of (nothing to record).
	Confirmed Outcome = iota
	// OrderNotFound: no order has this reference.
	OrderNotFound
	// AlreadyConfirmed: the order was already paid (a replay), or the dossier owes nothing any more.
	AlreadyConfirmed
	// InvalidAmount: the amount is not the order's.
	InvalidAmount
	// InvalidSignature: the callback is forged or altered.
	InvalidSignature
	// Unknown: motcua could not record it now (the gateway will try again).
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Confirmed:
		return "confirmed"
	case OrderNotFound:
		return "order_not_found"
	case AlreadyConfirmed:
		return "already_confirmed"
	case InvalidAmount:
		return "invalid_amount"
	case InvalidSignature:
		return "invalid_signature"
	}
	return "unknown"
}

// StatementLine is one transaction of a gateway's daily statement.
type StatementLine struct {
	Ref           string    `json:"ref"`
	TransactionNo string    `json:"transaction_no"`
	Amount        int64     `json:"amount"`
	At            time.Time `json:"at"`
	BankCode      string    `json:"bank_code,omitempty"`
	Succeeded     bool      `json:"succeeded"`
}

var (
	// ErrInvalidSignature: a callback's signature does not verify.
	ErrInvalidSignature = errors.New("payment: invalid signature")
	// ErrMalformed: a signed callback lacks a field or holds one that does not parse.
	ErrMalformed = errors.New("payment: malformed callback")
)
