package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// PayInput records a payment of the assessed fees with its receipt number.
type PayInput struct {
	Amount        int64                 `json:"amount"`
	Channel       domain.PaymentChannel `json:"channel"`
	ReceiptNumber string                `json:"receipt_number"`
}

func (PayInput) Action() domain.Action { return domain.ActionPay }

func (in PayInput) command(_ context.Context, _ *App, _ Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.Pay{Amount: in.Amount, Channel: in.Channel, ReceiptNumber: in.ReceiptNumber, At: now}, nil
}
