package httpkit

import (
	"time"

	"github.com/motcua/motcua/eventstore/chain"
)

// The verification API's answers, which the inspectors' and the public verification pages show.

// SignatureCheck is the verification of one agency signature recorded in a dossier's history.
type SignatureCheck struct {
	Version   uint64 `json:"version"`   // the event that records it
	Statement string `json:"statement"` // "result" or "receipt"
	Agency    string `json:"agency"`
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"key_id"`
	Valid     bool   `json:"valid"`
}

// DossierVerification is the answer of GET /api/v1/dossiers/{ref}/verification.
type DossierVerification struct {
	Code       string             `json:"code"`
	ID         string             `json:"id"`
	Version    uint64             `json:"version"`
	Intact     bool               `json:"intact"` // history and every signature verify
	History    chain.StreamReport `json:"history"`
	Signatures []SignatureCheck   `json:"signatures"`
}

// ResultSigner is who signed a result, as the public may see it.
type ResultSigner struct {
	Name       string    `json:"name"`
	Title      string    `json:"title,omitempty"`
	Agency     string    `json:"agency,omitempty"`
	AgencyName string    `json:"agency_name,omitempty"`
	SignedAt   time.Time `json:"signed_at"`
	// Signature is the agency's digital signature of the result; absent when none was recorded.
	Signature *PublicSignature `json:"signature,omitempty"`
}

type PublicSignature struct {
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"key_id"`
	Valid     bool   `json:"valid"`
}

// ResultVerification is the answer of GET /api/v1/public/results/{resultCode}.
type ResultVerification struct {
	ResultCode     string    `json:"result_code"`
	DossierCode    string    `json:"dossier_code"`
	Procedure      string    `json:"procedure"`
	DocumentNumber string    `json:"document_number,omitempty"`
	DocumentHash   string    `json:"document_hash,omitempty"`
	ReadyAt        time.Time `json:"ready_at"`
	// PresentedHash and Matches answer ?hash=: is the presented document this result's document?
	PresentedHash string        `json:"presented_hash,omitempty"`
	Matches       *bool         `json:"matches,omitempty"`
	Signed        *ResultSigner `json:"signed,omitempty"` // present when this result's document is the signed one
	// HistoryIntact: the dossier's recorded history verifies (hash chain and signed checkpoints).
	HistoryIntact bool `json:"history_intact"`
	// Genuine sums it up: the presented document is the one signed, by a signature that verifies, in
	// an intact history.
	Genuine bool `json:"genuine"`
}
