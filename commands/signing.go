package commands

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/motcua/motcua/domain"
)

// AgencySigners finds the key an agency signs results and payment receipts with. Any crypto.Signer
// fits: a key file (development), a PKCS#11 HSM, or a remote-signing service of the national CA
// wrapped as a crypto.Signer — see docs/security.md, "Signed results".
type AgencySigners interface {
	SignerFor(ctx context.Context, agency string) (crypto.Signer, error)
}

// StaticSigners is an AgencySigners over keys already loaded, by agency code.
type StaticSigners map[string]crypto.Signer

// SignerFor implements AgencySigners.
func (s StaticSigners) SignerFor(_ context.Context, agency string) (crypto.Signer, error) {
	if signer, ok := s[agency]; ok {
		return signer, nil
	}
	return nil, fmt.Errorf("no signing key for agency %q", agency)
}

// Signature algorithms, named as recorded in domain.AgencySignature.
const (
	AlgorithmEd25519   = "Ed25519"
	AlgorithmECDSAP256 = "ECDSA-P256-SHA256"
	AlgorithmRSA       = "RSA-PKCS1v15-SHA256"
)

// resultStatement is what an agency's signature on a result attests. Its JSON encoding (fields in
// this order, times in UTC RFC 3339 with nanoseconds) is the signed message, so anyone can rebuild
// it from the public record.
type resultStatement struct {
	Statement      string `json:"statement"`
	DossierCode    string `json:"dossier_code"`
	DocumentNumber string `json:"document_number"`
	DocumentHash   string `json:"document_hash"`
	SignerID       string `json:"signer_id"`
	SignerName     string `json:"signer_name"`
	SignerTitle    string `json:"signer_title"`
	Agency         string `json:"agency"`
	SignedAt       string `json:"signed_at"`
}

// receiptStatement is what an agency's signature on a payment receipt attests.
type receiptStatement struct {
	Statement     string `json:"statement"`
	DossierCode   string `json:"dossier_code"`
	ReceiptNumber string `json:"receipt_number"`
	Amount        int64  `json:"amount"`
	Channel       string `json:"channel"`
	Agency        string `json:"agency"`
	PaidAt        string `json:"paid_at"`
}

// ResultStatement returns the message an agency signs for the result s of dossier code.
func ResultStatement(code domain.DossierCode, agency string, s domain.Signed) []byte {
	return mustJSON(resultStatement{
		Statement: "motcua.result.v1", DossierCode: string(code), DocumentNumber: s.DocumentNumber,
		DocumentHash: s.DocumentHash, SignerID: s.Signer.OfficialID, SignerName: s.Signer.OfficialName,
		SignerTitle: s.SignerTitle, Agency: agency, SignedAt: statementTime(s.SignedAt),
	})
}

// ReceiptStatement returns the message an agency signs for the payment p of dossier code.
func ReceiptStatement(code domain.DossierCode, agency string, p domain.Paid) []byte {
	return mustJSON(receiptStatement{
		Statement: "motcua.receipt.v1", DossierCode: string(code), ReceiptNumber: p.ReceiptNumber,
		Amount: p.Amount, Channel: string(p.Channel), Agency: agency, PaidAt: statementTime(p.PaidAt),
	})
}

func statementTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // structs of strings and integers always marshal
	}
	return data
}

// signEvents adds the agency's signature to the results and receipts among events, which were
// decided on d for caller. Nothing is signed when the App has no Signers.
func (a *App) signEvents(ctx context.Context, caller Caller, d domain.Dossier, events []domain.Event) ([]domain.Event, error) {
	if a.Signers == nil {
		return events, nil
	}
	signed := make([]domain.Event, len(events))
	for i, e := range events {
		switch e := e.(type) {
		case domain.Signed:
			agency := signingAgency(caller, d.CompetentAgency)
			sig, err := a.signStatement(ctx, agency, ResultStatement(d.Code, agency, e))
			if err != nil {
				return nil, err
			}
			e.AgencySignature = sig
			signed[i] = e
		case domain.Paid:
			agency := signingAgency(caller, d.ReceivingUnit)
			sig, err := a.signStatement(ctx, agency, ReceiptStatement(d.Code, agency, e))
			if err != nil {
				return nil, err
			}
			e.AgencySignature = sig
			signed[i] = e
		default:
			signed[i] = e
		}
	}
	return signed, nil
}

// signingAgency is the agency whose key signs: the official's own, or for an official without one
// (a system administrator) the dossier's agency.
func signingAgency(caller Caller, dossierAgency string) string {
	if caller.Agency != "" {
		return caller.Agency
	}
	return dossierAgency
}

func (a *App) signStatement(ctx context.Context, agency string, statement []byte) (*domain.AgencySignature, error) {
	signer, err := a.Signers.SignerFor(ctx, agency)
	if err != nil {
		return nil, fmt.Errorf("signing key of agency %s: %w", agency, err)
	}
	sig, err := SignStatement(agency, signer, statement)
	if err != nil {
		return nil, fmt.Errorf("sign for agency %s: %w", agency, err)
	}
	return sig, nil
}

// SignStatement signs statement with signer: Ed25519 signs the statement itself, ECDSA P-256 and
// RSA sign its SHA-256 digest.
func SignStatement(agency string, signer crypto.Signer, statement []byte) (*domain.AgencySignature, error) {
	der, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(statement)
	var (
		algorithm string
		value     []byte
	)
	switch pub := signer.Public().(type) {
	case ed25519.PublicKey:
		algorithm = AlgorithmEd25519
		value, err = signer.Sign(rand.Reader, statement, crypto.Hash(0))
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("ECDSA keys must be on P-256, not %s", pub.Curve.Params().Name)
		}
		algorithm = AlgorithmECDSAP256
		value, err = signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	case *rsa.PublicKey:
		algorithm = AlgorithmRSA
		value, err = signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	default:
		return nil, fmt.Errorf("unsupported key type %T", pub)
	}
	if err != nil {
		return nil, err
	}
	return &domain.AgencySignature{
		Agency: agency, Algorithm: algorithm, KeyID: keyID(der),
		PublicKey: base64.StdEncoding.EncodeToString(der), Value: base64.StdEncoding.EncodeToString(value),
	}, nil
}

// KeyID names a public key: hex of the first 16 bytes of SHA-256 over its PKIX DER encoding.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return keyID(der), nil
}

func keyID(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:16])
}

// ErrBadSignature: a recorded signature does not verify.
var ErrBadSignature = errors.New("signature does not verify")

// VerifyStatement checks that sig is a valid signature of statement by the public key it records,
// and that its key id names that key.
func VerifyStatement(sig *domain.AgencySignature, statement []byte) error {
	if sig == nil {
		return fmt.Errorf("%w: no signature recorded", ErrBadSignature)
	}
	der, err := base64.StdEncoding.DecodeString(sig.PublicKey)
	if err != nil {
		return fmt.Errorf("%w: public key is not base64", ErrBadSignature)
	}
	value, err := base64.StdEncoding.DecodeString(sig.Value)
	if err != nil {
		return fmt.Errorf("%w: value is not base64", ErrBadSignature)
	}
	if keyID(der) != sig.KeyID {
		return fmt.Errorf("%w: key id %s does not name the recorded public key", ErrBadSignature, sig.KeyID)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return fmt.Errorf("%w: public key: %v", ErrBadSignature, err)
	}
	digest := sha256.Sum256(statement)
	var ok bool
	switch pub := pub.(type) {
	case ed25519.PublicKey:
		ok = sig.Algorithm == AlgorithmEd25519 && ed25519.Verify(pub, statement, value)
	case *ecdsa.PublicKey:
		ok = sig.Algorithm == AlgorithmECDSAP256 && pub.Curve == elliptic.P256() && ecdsa.VerifyASN1(pub, digest[:], value)
	case *rsa.PublicKey:
		ok = sig.Algorithm == AlgorithmRSA && rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], value) == nil
	}
	if !ok {
		return ErrBadSignature
	}
	return nil
}
