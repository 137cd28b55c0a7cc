package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// SignInput records the leader's approval and digital signature of the result document.
type SignInput struct {
	DocumentNumber string `json:"document_number"`
	DocumentHash   string `json:"document_hash"` // hex SHA-256
	SignerTitle    string `json:"signer_title,omitempty"`
}

func (SignInput) Action() domain.Action { return domain.ActionSign }

func (in SignInput) command(_ context.Context, _ *App, caller Caller, d domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.Sign{
		Signer:      domain.Handler{Unit: d.Holder.Unit, OfficialID: caller.ID, OfficialName: caller.Name},
		SignerTitle: in.SignerTitle, DocumentNumber: in.DocumentNumber, DocumentHash: in.DocumentHash, At: now,
	}, nil
}
