package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// PaymentDifference is one line of a reconciliation: an order whose payment the gateway's
// statement and the log do not tell alike.
type PaymentDifference struct {
	OrderRef      string             `json:"order_ref"`
	DossierCode   domain.DossierCode `json:"dossier_code,omitempty"`
	TransactionNo string             `json:"transaction_no,omitempty"`
	// StatementAmount is what the gateway took, RecordedAmount what the order (or the recorded
	// payment) says, in đồng.
	StatementAmount int64 `json:"statement_amount,omitempty"`
	RecordedAmount  int64 `json:"recorded_amount,omitempty"`
	// Applied is, with apply, what recording it gave: recorded, already_recorded, not_owed
	// (refund it), unknown_order, amount_mismatch.
	Applied string `json:"applied,omitempty"`
}

// PaymentReconciliation compares a gateway's statement of one day with the log.
type PaymentReconciliation struct {
	Day string `json:"day"`
	// Counts of each kind, in full; the lists below hold the first Limit of each.
	StatementLines int `json:"statement_lines"`
	NotRecorded    int `json:"not_recorded_count"`
	NotInStatement int `json:"not_in_statement_count"`
	AmountDiffers  int `json:"amount_differs_count"`
	UnknownOrders  int `json:"unknown_orders_count"`
	Limit          int `json:"limit"`
	// NotRecordedList: paid at the gateway, no payment in the log.
	NotRecordedList []PaymentDifference `json:"not_recorded"`
	// NotInStatementList: recorded as paid that day through the gateway, absent from its statement.
	NotInStatementList []PaymentDifference `json:"not_in_statement"`
	// AmountDiffersList: the statement's amount is not the order's.
	AmountDiffersList []PaymentDifference `json:"amount_differs"`
	// UnknownOrdersList: in the statement, but no such order here.
	UnknownOrdersList []PaymentDifference `json:"unknown_orders"`
}

// paymentOrderPage is how many orders a reconciliation reads at once.
const paymentOrderPage = 500

// ReconcilePayments compares statement (the gateway's successful and failed transactions of day)
// with the orders made that day and the day before (a payment just after midnight belongs to an
// order of the evening before) and their recorded payments. With apply, each payment missing from
// the log is recorded through RecordGatewayPayment — the same idempotent path as the gateway's
// callback, so running it twice, or while callbacks arrive, records nothing twice. Each list holds
// at most limit lines; the counts are complete.
func (a *App) ReconcilePayments(ctx context.Context, gateway string, day time.Time, statement []GatewayPayment, apply bool, limit int) (PaymentReconciliation, error) {
	rec := PaymentReconciliation{Day: day.In(domain.VietnamTime).Format("2006-01-02"), Limit: limit}
	add := func(list *[]PaymentDifference, count *int, d PaymentDifference) {
		*count++
		if len(*list) < limit {
			*list = append(*list, d)
		}
	}
	inStatement := map[string]bool{}
	for _, line := range statement {
		if !line.Succeeded {
			continue
		}
		rec.StatementLines++
		inStatement[line.OrderRef] = true
		order, err := a.FindPaymentOrder(ctx, line.OrderRef)
		if domain.ErrorCodeOf(err) == domain.ENOTFOUND || (err == nil && order.Gateway != gateway) {
			add(&rec.UnknownOrdersList, &rec.UnknownOrders, PaymentDifference{OrderRef: line.OrderRef, TransactionNo: line.TransactionNo, StatementAmount: line.Amount})
			continue
		}
		if err != nil {
			return rec, err
		}
		diff := PaymentDifference{OrderRef: order.Ref, DossierCode: order.DossierCode, TransactionNo: line.TransactionNo,
			StatementAmount: line.Amount, RecordedAmount: order.Amount}
		if line.Amount != order.Amount {
			add(&rec.AmountDiffersList, &rec.AmountDiffers, diff)
			continue
		}
		if _, paid, err := a.PaymentOfOrder(ctx, order); err != nil {
			return rec, err
		} else if paid {
			continue
		}
		if apply {
			line.Gateway = gateway
			outcome, _, err := a.RecordGatewayPayment(ctx, line)
			if err != nil {
				return rec, err
			}
			diff.Applied = outcome.String()
		}
		add(&rec.NotRecordedList, &rec.NotRecorded, diff)
	}
	vnDay := day.In(domain.VietnamTime)
	for _, orderDay := range []time.Time{vnDay.AddDate(0, 0, -1), vnDay} {
		var after uint64
		for {
			orders, err := a.PaymentOrdersOf(ctx, orderDay, after, paymentOrderPage)
			if err != nil {
				return rec, err
			}
			for _, order := range orders {
				if order.Gateway != gateway || inStatement[order.Ref] {
					continue
				}
				paid, found, err := a.PaymentOfOrder(ctx, order)
				if err != nil {
					return rec, err
				}
				if found && paid.PaidAt.In(domain.VietnamTime).Format("2006-01-02") == rec.Day {
					add(&rec.NotInStatementList, &rec.NotInStatement, PaymentDifference{OrderRef: order.Ref, DossierCode: order.DossierCode,
						TransactionNo: paid.ReceiptNumber, RecordedAmount: paid.Amount})
				}
			}
			if len(orders) < paymentOrderPage {
				break
			}
			after += uint64(len(orders))
		}
	}
	return rec, nil
}

func (o PaymentOutcome) String() string {
	switch o {
	case PaymentRecorded:
		return "recorded"
	case PaymentFailureNoted:
		return "failure_noted"
	case PaymentOrderUnknown:
		return "unknown_order"
	case PaymentAmountMismatch:
		return "amount_mismatch"
	case PaymentAlreadyRecorded:
		return "already_recorded"
	case PaymentNotOwed:
		return "not_owed"
	}
	return "unknown"
}
