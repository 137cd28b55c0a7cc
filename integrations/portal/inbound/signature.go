package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The webhook's signature headers. The portal signs "<timestamp>.<raw body>" with HMAC-SHA256 under
// the secret both sides share; the timestamp is Unix seconds.
const (
	TimestampHeader = "X-Portal-Timestamp"
	SignatureHeader = "X-Portal-Signature" // "sha256=<hex>"
)

// DefaultWindow is how far a webhook's timestamp may be from our clock. A request replayed within it
// does no harm: the portal's dossier id makes the second arrival answer the first one's dossier.
const DefaultWindow = 5 * time.Minute

// Why a webhook request is refused. ErrUnsigned, ErrForged and ErrStale are unauthenticated (401);
// a malformed header is a client error (400) naming the header (HeaderError).
var (
	ErrUnsigned = errors.New("the request carries no portal signature")
	ErrForged   = errors.New("the signature does not match the body")
	ErrStale    = errors.New("the timestamp is outside the accepted window")
)

// HeaderError is a signature header that cannot be read.
type HeaderError struct {
	Header, Reason string
}

func (e *HeaderError) Error() string { return e.Header + ": " + e.Reason }

// Verifier checks the webhook's signature.
type Verifier struct {
	Secret []byte
	Window time.Duration    // DefaultWindow when 0
	Now    func() time.Time // time.Now when nil
}

// Verify checks that body was signed with the shared secret at a time within the window. The
// comparison takes the same time whatever the signature holds.
func (v Verifier) Verify(h http.Header, body []byte) error {
	tsText, sigText := h.Get(TimestampHeader), h.Get(SignatureHeader)
	if tsText == "" || sigText == "" {
		return ErrUnsigned
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || ts <= 0 {
		return &HeaderError{Header: TimestampHeader, Reason: "must be Unix seconds"}
	}
	hexSig, ok := strings.CutPrefix(sigText, "sha256=")
	if !ok {
		return &HeaderError{Header: SignatureHeader, Reason: `must be "sha256=" and the hexadecimal HMAC`}
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return &HeaderError{Header: SignatureHeader, Reason: `must be "sha256=" and the hexadecimal HMAC`}
	}
	// The signature first: a stale request is only told so if it is authentic.
	if !hmac.Equal(got, mac(v.Secret, tsText, body)) {
		return ErrForged
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	window := v.Window
	if window <= 0 {
		window = DefaultWindow
	}
	if d := now().Sub(time.Unix(ts, 0)); d > window || d < -window {
		return ErrStale
	}
	return nil
}

// Sign sets the signature headers of a request carrying body, as the portal does.
func Sign(h http.Header, secret, body []byte, at time.Time) {
	ts := strconv.FormatInt(at.Unix(), 10)
	h.Set(TimestampHeader, ts)
	h.Set(SignatureHeader, "sha256="+hex.EncodeToString(mac(secret, ts, body)))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
