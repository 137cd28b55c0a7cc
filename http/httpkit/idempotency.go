package httpkit

import (
	"crypto/rand"
	"encoding/base64"
)

// IdempotencyFormField is the hidden input every page form that writes carries: a key generated
// when the form was rendered, so a double click or a resent form is applied once.
const IdempotencyFormField = "idempotency_key"

// NewIdempotencyKey returns a fresh random key (128 bits), as the pages put one in every form they
// render and the API's key table marks its owner.
func NewIdempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
