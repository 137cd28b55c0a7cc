package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// MarkResultReadyInput records that a result is ready to hand over; the first result defaults to the
// signed document.
type MarkResultReadyInput struct {
	DocumentNumber string `json:"document_number,omitempty"`
	DocumentHash   string `json:"document_hash,omitempty"`
	// file is the result's stored file, set by MarkResultReadyWithFile only.
	file       *domain.StoredFile
	documentID string
}

func (MarkResultReadyInput) Action() domain.Action { return domain.ActionMarkResultReady }

func (in MarkResultReadyInput) command(_ context.Context, _ *App, _ Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.MarkResultReady{DocumentNumber: in.DocumentNumber, DocumentHash: in.DocumentHash, File: in.file, DocumentID: in.documentID, At: now}, nil
}
