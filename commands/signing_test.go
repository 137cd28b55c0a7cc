package commands_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

func TestStatementSignaturesVerify(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048) // the national CA issues RSA-2048 keys
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	statement := []byte(`{"statement":"motcua.result.v1","document_hash":"ab"}`)
	keys := []struct {
		name      string
		signer    crypto.Signer
		algorithm string
	}{
		{"Ed25519", edKey, commands.AlgorithmEd25519},
		{"ECDSA P-256", ecKey, commands.AlgorithmECDSAP256},
		{"RSA", rsaKey, commands.AlgorithmRSA},
	}
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			sig, err := commands.SignStatement(authzBuilding, k.signer, statement)
			if err != nil {
				t.Fatal(err)
			}
			keyID, _ := commands.KeyID(k.signer.Public())
			if sig.Algorithm != k.algorithm || sig.KeyID != keyID || sig.Agency != authzBuilding {
				t.Fatalf("signature %+v, want %s by key %s", sig, k.algorithm, keyID)
			}
			if err := commands.VerifyStatement(sig, statement); err != nil {
				t.Fatalf("a fresh signature does not verify: %v", err)
			}
			other, _ := commands.SignStatement(authzBuilding, otherKey, statement)
			forgeries := []struct {
				name      string
				sig       domain.AgencySignature
				statement []byte
			}{
				{"another statement", *sig, []byte(strings.Replace(string(statement), "ab", "cd", 1))},
				{"another key claimed", withPublicKey(*sig, other.PublicKey, other.KeyID), statement},
				{"the key id of another key", withPublicKey(*sig, sig.PublicKey, other.KeyID), statement},
				{"another algorithm claimed", withAlgorithm(*sig, commands.AlgorithmEd25519, commands.AlgorithmRSA), statement},
			}
			for _, f := range forgeries {
				if err := commands.VerifyStatement(&f.sig, f.statement); !errors.Is(err, commands.ErrBadSignature) {
					t.Errorf("%s: VerifyStatement = %v, want ErrBadSignature", f.name, err)
				}
			}
		})
	}

	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := commands.SignStatement(authzBuilding, p384, statement); err == nil {
		t.Fatal("a P-384 key signed; only P-256 is verifiable by the documented algorithms")
	}
}

func withPublicKey(sig domain.AgencySignature, publicKey, keyID string) domain.AgencySignature {
	sig.PublicKey, sig.KeyID = publicKey, keyID
	return sig
}

// withAlgorithm names another algorithm than the one used.
func withAlgorithm(sig domain.AgencySignature, ifNot, otherwise string) domain.AgencySignature {
	if sig.Algorithm == ifNot {
		sig.Algorithm = otherwise
	} else {
		sig.Algorithm = ifNot
	}
	return sig
}

func TestSignAndPayRecordTheAgencysSignature(t *testing.T) {
	r := newAuthzRig(t)
	_, departmentKey, _ := ed25519.GenerateKey(rand.Reader)
	centreKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	r.app.Signers = commands.StaticSigners{authzBuilding: departmentKey, authzCentre: centreKey}

	id := r.then(stageAppraised(r), official(commands.RoleSigner, authzBuilding),
		commands.SignInput{DocumentNumber: "12/GPXD", DocumentHash: strings.Repeat("ab", 32), SignerTitle: "Phó Giám đốc"})
	r.then(id, official(commands.RoleSigner, authzBuilding), commands.MarkResultReadyInput{})
	r.then(id, official(commands.RoleCashier, authzCentre), commands.AssessFeeInput{})
	r.then(id, official(commands.RoleCashier, authzCentre), commands.PayInput{Amount: 150000, Channel: domain.PaymentCash, ReceiptNumber: "BL-0001"})

	d, _, err := r.app.Load(r.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	signed := d.Signature
	if signed == nil || signed.AgencySignature == nil || signed.AgencySignature.Agency != authzBuilding {
		t.Fatalf("the signed result records no signature of the department: %+v", signed)
	}
	if err := commands.VerifyStatement(signed.AgencySignature, commands.ResultStatement(d.Code, authzBuilding, *signed)); err != nil {
		t.Fatalf("the result's signature: %v", err)
	}
	if len(d.Payments) != 1 || d.Payments[0].AgencySignature == nil || d.Payments[0].AgencySignature.Algorithm != commands.AlgorithmECDSAP256 {
		t.Fatalf("the payment records no signature of the centre: %+v", d.Payments)
	}
	paid := d.Payments[0]
	if err := commands.VerifyStatement(paid.AgencySignature, commands.ReceiptStatement(d.Code, authzCentre, paid)); err != nil {
		t.Fatalf("the receipt's signature: %v", err)
	}
	// The statement binds the dossier: the same receipt claimed for another dossier does not verify.
	if err := commands.VerifyStatement(paid.AgencySignature, commands.ReceiptStatement("000.00.00.H56-260302-0099", authzCentre, paid)); err == nil {
		t.Fatal("the receipt's signature verifies for another dossier")
	}
}

func TestSigningWithoutTheAgencysKeyWritesNothing(t *testing.T) {
	r := newAuthzRig(t)
	_, centreKey, _ := ed25519.GenerateKey(rand.Reader)
	r.app.Signers = commands.StaticSigners{authzCentre: centreKey}
	id := stageAppraised(r)
	before := r.eventCount()
	_, err := r.app.Execute(r.ctx, official(commands.RoleSigner, authzBuilding), id, nil,
		commands.SignInput{DocumentNumber: "12/GPXD", DocumentHash: strings.Repeat("ab", 32)})
	if err == nil || !strings.Contains(err.Error(), authzBuilding) {
		t.Fatalf("signing without the department's key: %v, want an error naming it", err)
	}
	if r.eventCount() != before {
		t.Fatal("a result was recorded unsigned")
	}
}
