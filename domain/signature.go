package domain

// AgencySignature is an agency's digital signature over a statement of what it attests — a signed
// result document or a payment receipt — so that anyone holding the document can check it is the
// one the agency signed. The statement's exact bytes are rebuilt from the event (package commands
// defines them); the public key travels with the signature, and the key id lets a verifier compare
// it with the keys the agency publishes.
type AgencySignature struct {
	Agency    string `json:"agency"`     // QCVN 102 code of the signing agency
	Algorithm string `json:"algorithm"`  // "Ed25519", "ECDSA-P256-SHA256" or "RSA-PKCS1v15-SHA256"
	KeyID     string `json:"key_id"`     // hex of the first 16 bytes of SHA-256 over the public key (PKIX DER)
	PublicKey string `json:"public_key"` // base64 PKIX DER
	Value     string `json:"value"`      // base64 signature
}
