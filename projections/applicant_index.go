package projections

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// ApplicantIndexKey keys the blind index of applicants' identity numbers: HMAC-SHA256 under a
// secret the deployment keeps outside its databases (the wiring loads it from the data directory's
// access-log-index-key.pem). The access log finds a person's reads by it, and the citizens' read
// model (citizen_dossiers.go) finds a signed-in citizen's dossiers by it: one key, one index, so
// both answer for the same person without either table holding an identity number. With the
// tables and the key, a number can be tried against the index; without the key, nobody can.
type ApplicantIndexKey []byte

// ErrApplicantIndexKey is a key too short to key the index.
var ErrApplicantIndexKey = errors.New("the blind index key of applicants must have at least 32 bytes")

// NewApplicantIndexKey checks and copies key.
func NewApplicantIndexKey(key []byte) (ApplicantIndexKey, error) {
	if len(key) < 32 {
		return nil, ErrApplicantIndexKey
	}
	return append(ApplicantIndexKey(nil), key...), nil
}

// applicantIndexLabel separates this index from any other use of the key. It names the access log,
// where the index was first kept: entries recorded since then hold values under it, so it stays.
const applicantIndexLabel = "motcua.accesslog.applicant.v1\n"

// Of returns the blind index of an identity number, hex: the number as typed at the desk or given by
// the identity provider, trimmed and upper-cased (a tax code's branch suffix is digits, so case only
// matters for numbers of other forms). An erased applicant's placeholder ("[đã xoá]"), or no
// number, has no index: "".
func (k ApplicantIndexKey) Of(idNumber string) string {
	idNumber = strings.ToUpper(strings.TrimSpace(idNumber))
	if idNumber == "" || len(k) == 0 || !isIdentityNumber(idNumber) {
		return ""
	}
	mac := hmac.New(sha256.New, k)
	mac.Write([]byte(applicantIndexLabel + idNumber))
	return hex.EncodeToString(mac.Sum(nil))
}

// isIdentityNumber keeps placeholders out of the index: identity and tax numbers are digits and a
// dash (letters allowed for numbers of other forms).
func isIdentityNumber(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && c != '-' && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
