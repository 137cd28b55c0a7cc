package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// TypePaymentOrdered is the wire name of the event that records an online payment order.
const TypePaymentOrdered = "paymentorder.created.v1"

// PaymentOrder asks a payment gateway to collect a dossier's outstanding fees. Orders live in the
// event log, in one stream per day (Vietnam date): the n-th event of paymentorders-20260302 is order
// 20260302000n (padded to six digits), the gateway's order reference (VNPAY's vnp_TxnRef). The
// store's optimistic concurrency makes each reference unique on every backend and across nodes,
// like dossier codes (codes.go); the amount is fixed when the order is made and kept in the event,
// so the gateway's callback is checked against what was asked, years later too.
type PaymentOrder struct {
	Ref         string             `json:"ref"`
	Gateway     string             `json:"gateway"`
	DossierID   string             `json:"dossier_id"`
	DossierCode domain.DossierCode `json:"dossier_code"`
	// Amount is what the dossier owed when the order was made: the fees assessed (fee_assessed
	// events) less the payments recorded, in đồng.
	Amount    int64     `json:"amount"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// PaymentOrderTTL is how long the gateway's pay page accepts an order (VNPAY's vnp_ExpireDate).
const PaymentOrderTTL = 15 * time.Minute

func paymentOrderStream(day string) string { return "paymentorders-" + day }

// paymentOrderRef is the reference of the n-th order of day (yyyymmdd).
func paymentOrderRef(day string, n uint64) string { return fmt.Sprintf("%s%06d", day, n) }

// parsePaymentOrderRef splits a reference into its day stream and sequence.
func parsePaymentOrderRef(ref string) (stream string, n uint64, ok bool) {
	if len(ref) < 14 || len(ref) > 20 {
		return "", 0, false
	}
	if _, err := time.Parse("20060102", ref[:8]); err != nil {
		return "", 0, false
	}
	n, err := strconv.ParseUint(ref[8:], 10, 64)
	if err != nil || n == 0 {
		return "", 0, false
	}
	return paymentOrderStream(ref[:8]), n, true
}

// gatewayActor records what a gateway's signed callback caused.
func gatewayActor(gateway string) eventstore.Actor {
	return eventstore.Actor{ID: "gateway:" + gateway, Name: "Cổng thanh toán " + gateway, Role: "payment_gateway"}
}

// OrderPayment makes a payment order for what dossier ref owes, to be paid through gateway. Anyone
// who knows the dossier's code may ask (the citizen on the public lookup page: paying someone's
// fees harms no one); with a signed-in caller, it is an official acting for the applicant and must
// be allowed to take payments on the dossier.
func (a *App) OrderPayment(ctx context.Context, caller *Caller, ref, gateway string) (PaymentOrder, error) {
	d, _, err := a.Load(ctx, ref)
	if err != nil {
		return PaymentOrder{}, err
	}
	actor := eventstore.Actor{ID: "applicant", Name: "Người nộp hồ sơ", Role: "applicant"}
	if caller != nil {
		role, err := authorize(*caller, domain.ActionPay, d)
		if err != nil {
			return PaymentOrder{}, err
		}
		actor = caller.actor(role)
	}
	owed := d.FeesDue - d.FeesPaid
	if d.Status != domain.StatusAwaitingPayment || owed <= 0 {
		return PaymentOrder{}, domain.Errorf(domain.ECONFLICT, "dossier %s has no fees to pay", d.Code)
	}
	now := a.now()
	day := now.In(domain.VietnamTime).Format("20060102")
	stream := paymentOrderStream(day)
	order := PaymentOrder{Gateway: gateway, DossierID: d.ID, DossierCode: d.Code, Amount: owed, CreatedAt: now, ExpiresAt: now.Add(PaymentOrderTTL)}
	// Start from the last version seen rather than reading the day's orders: a wrong guess costs
	// one refused append, which tells the actual version.
	version := a.orderVersions.get(stream)
	for range maxCodeRetries {
		order.Ref = paymentOrderRef(day, version+1)
		data, err := json.Marshal(order)
		if err != nil {
			return PaymentOrder{}, err
		}
		event := eventstore.EventData{ID: eventstore.NewEventID(), Type: TypePaymentOrdered, Data: data,
			Metadata: eventstore.Metadata{Actor: actor, CorrelationID: CorrelationID(ctx), OccurredAt: now}}
		_, err = a.Store.Append(ctx, stream, eventstore.Exact(version), event)
		var wrong *eventstore.WrongExpectedVersionError
		if errors.As(err, &wrong) {
			version = wrong.Actual
			continue
		}
		if err != nil {
			return PaymentOrder{}, err
		}
		a.orderVersions.set(stream, version+1)
		a.logger().InfoContext(ctx, "payment order created", "order", order.Ref, "dossier", d.ID, "amount", owed, "gateway", gateway)
		return order, nil
	}
	return PaymentOrder{}, domain.Errorf(domain.ECONFLICT, "could not create a payment order: too many at once, try again")
}

// lastVersions is the last version seen of some streams, safe for concurrent use; its zero value
// knows none.
type lastVersions struct {
	mu sync.Mutex
	m  map[string]uint64
}

func (l *lastVersions) get(stream string) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[stream]
}

func (l *lastVersions) set(stream string, version uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]uint64{}
	}
	// Only the current day's stream is written: forget the days before.
	if len(l.m) > 2 {
		clear(l.m)
	}
	l.m[stream] = max(l.m[stream], version)
}

// FindPaymentOrder returns the order with reference ref; ENOTFOUND when there is none.
func (a *App) FindPaymentOrder(ctx context.Context, ref string) (PaymentOrder, error) {
	stream, n, ok := parsePaymentOrderRef(ref)
	if !ok {
		return PaymentOrder{}, domain.Errorf(domain.ENOTFOUND, "no payment order %q", ref)
	}
	events, err := a.Store.ReadStream(ctx, stream, n)
	if err != nil {
		return PaymentOrder{}, err
	}
	if len(events) == 0 || events[0].Version != n {
		return PaymentOrder{}, domain.Errorf(domain.ENOTFOUND, "no payment order %q", ref)
	}
	return decodePaymentOrder(events[0])
}

func decodePaymentOrder(e eventstore.RecordedEvent) (PaymentOrder, error) {
	var o PaymentOrder
	if e.Type != TypePaymentOrdered {
		return o, fmt.Errorf("%s v%d: not a payment order but %s", e.Stream, e.Version, e.Type)
	}
	if err := json.Unmarshal(e.Data, &o); err != nil {
		return o, fmt.Errorf("%s v%d: %w", e.Stream, e.Version, err)
	}
	return o, nil
}

// PaymentOrdersOf lists up to limit orders made on day (Vietnam date), after the order whose
// sequence is after (0: from the first), in order; a reconciliation pages through a day with it.
func (a *App) PaymentOrdersOf(ctx context.Context, day time.Time, after uint64, limit int) ([]PaymentOrder, error) {
	events, err := a.Store.ReadStream(ctx, paymentOrderStream(day.In(domain.VietnamTime).Format("20060102")), after+1)
	if err != nil {
		return nil, err
	}
	events = events[:min(len(events), limit)]
	orders := make([]PaymentOrder, 0, len(events))
	for _, e := range events {
		o, err := decodePaymentOrder(e)
		if err != nil {
			return nil, err
		}
		orders = append(orders, o)
	}
	return orders, nil
}

// GatewayPayment is what a gateway's verified callback (or its statement) says of an order.
type GatewayPayment struct {
	Gateway       string
	OrderRef      string
	Amount        int64 // đồng
	Succeeded     bool
	TransactionNo string
	BankCode      string
	PaidAt        time.Time
}

// PaymentOutcome is what RecordGatewayPayment made of a gateway's word.
type PaymentOutcome int

const (
	// PaymentRecorded: the paid event is recorded now.
	PaymentRecorded PaymentOutcome = iota
	// PaymentFailureNoted: the gateway reports a payment that did not go through; nothing recorded.
	PaymentFailureNoted
	// PaymentOrderUnknown: no such order (or one of another gateway).
	PaymentOrderUnknown
	// PaymentAmountMismatch: the amount is not the order's.
	PaymentAmountMismatch
	// PaymentAlreadyRecorded: this order's payment is recorded already (a replay).
	PaymentAlreadyRecorded
	// PaymentNotOwed: the dossier no longer owes the order's amount (paid otherwise meanwhile, or
	// withdrawn): the money must be refunded.
	PaymentNotOwed
)

var errOrderPaid = errors.New("order already paid")
var errNotOwed = errors.New("dossier owes nothing")

// RecordGatewayPayment records the payment of an order a gateway confirmed — once, however often
// the confirmation comes and however many copies race: each copy loads the dossier, and a payment
// already recorded for the order (its OrderRef) makes it PaymentAlreadyRecorded; copies racing to
// append lose on the dossier's version, reload and find it. The callback's signature is the
// caller's to check (the gateway adapter); the amount and the order are checked here.
func (a *App) RecordGatewayPayment(ctx context.Context, p GatewayPayment) (PaymentOutcome, Result, error) {
	order, err := a.FindPaymentOrder(ctx, p.OrderRef)
	if domain.ErrorCodeOf(err) == domain.ENOTFOUND || (err == nil && order.Gateway != p.Gateway) {
		return PaymentOrderUnknown, Result{}, nil
	}
	if err != nil {
		return 0, Result{}, err
	}
	if p.Amount != order.Amount {
		return PaymentAmountMismatch, Result{}, nil
	}
	if !p.Succeeded {
		return PaymentFailureNoted, Result{}, nil
	}
	actor := gatewayActor(p.Gateway)
	res, err := a.decideOnDossier(ctx, order.DossierID, actor.ID, nil, func(d domain.Dossier, now time.Time) (eventstore.Actor, []domain.Event, error) {
		for _, paid := range d.Payments {
			if paid.Gateway == p.Gateway && paid.OrderRef == p.OrderRef {
				return actor, nil, errOrderPaid
			}
		}
		if d.Status != domain.StatusAwaitingPayment || d.FeesDue-d.FeesPaid < p.Amount {
			return actor, nil, errNotOwed
		}
		at := p.PaidAt
		if at.IsZero() {
			at = now
		}
		events, err := domain.Decide(d, domain.Pay{Amount: p.Amount, Channel: domain.PaymentOnline, ReceiptNumber: p.TransactionNo,
			At: at.UTC(), Gateway: p.Gateway, OrderRef: p.OrderRef, BankCode: p.BankCode})
		if err != nil {
			return actor, nil, err
		}
		events, err = a.signEvents(ctx, Caller{ID: actor.ID}, d, events)
		return actor, events, err
	})
	switch {
	case errors.Is(err, errOrderPaid):
		return PaymentAlreadyRecorded, Result{}, nil
	case errors.Is(err, errNotOwed):
		a.logger().WarnContext(ctx, "payment confirmed by the gateway for a dossier that owes nothing: refund it",
			"order", p.OrderRef, "dossier", order.DossierID, "amount", p.Amount, "gateway", p.Gateway, "transaction", p.TransactionNo)
		return PaymentNotOwed, Result{}, nil
	case err != nil:
		return 0, Result{}, err
	}
	return PaymentRecorded, res, nil
}

// PaymentOfOrder returns the payment recorded for order, if there is one.
func (a *App) PaymentOfOrder(ctx context.Context, order PaymentOrder) (domain.Paid, bool, error) {
	d, _, err := a.loadRecorded(ctx, order.DossierID)
	if err != nil {
		return domain.Paid{}, false, err
	}
	for _, p := range d.Payments {
		if p.Gateway == order.Gateway && p.OrderRef == order.Ref {
			return p, true, nil
		}
	}
	return domain.Paid{}, false, nil
}
