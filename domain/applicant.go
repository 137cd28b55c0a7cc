package domain

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ApplicantType is a citizen (cá nhân) or an organisation (tổ chức).
type ApplicantType string

const (
	ApplicantCitizen      ApplicantType = "citizen"
	ApplicantOrganization ApplicantType = "organization"
)

// Applicant is who files the dossier (tổ chức, cá nhân). Identity data never leaves the officials' side.
type Applicant struct {
	Type     ApplicantType `json:"type"`
	Name     string        `json:"name"`
	IDNumber string        `json:"id_number"` // citizen ID (CCCD, 12 digits) or enterprise/tax code
	Phone    string        `json:"phone,omitempty"`
	Email    string        `json:"email,omitempty"`
	Address  string        `json:"address,omitempty"`
	// Notify is how the applicant wants to be told of the dossier's progress (notify.go).
	Notify NotifyChannels `json:"notify,omitzero"`
}

var (
	idNumberPattern = regexp.MustCompile(`^[0-9]{9,13}(-[0-9]{3})?$`)
	phonePattern    = regexp.MustCompile(`^\+?[0-9 .]{8,15}$`)
	emailPattern    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// Normalize returns the applicant with every text NFC-normalised and trimmed.
func (a Applicant) Normalize() Applicant {
	a.Name = NormalizeText(a.Name)
	a.IDNumber = strings.TrimSpace(a.IDNumber)
	a.Phone = strings.TrimSpace(a.Phone)
	a.Email = strings.TrimSpace(a.Email)
	a.Address = NormalizeText(a.Address)
	return a
}

// Validate records the applicant's field errors under prefix.
func (a Applicant) Validate(v *Validation, prefix string) {
	v.Check(a.Type == ApplicantCitizen || a.Type == ApplicantOrganization, prefix+".type", "must be citizen or organization")
	v.Check(a.Name != "", prefix+".name", "is required")
	v.Check(utf8.RuneCountInString(a.Name) <= 200, prefix+".name", "is longer than 200 characters")
	v.Check(idNumberPattern.MatchString(a.IDNumber), prefix+".id_number", "must be a citizen ID or tax code (9–13 digits)")
	v.Check(a.Phone == "" || phonePattern.MatchString(a.Phone), prefix+".phone", "is not a phone number")
	v.Check(a.Email == "" || emailPattern.MatchString(a.Email), prefix+".email", "is not an e-mail address")
	v.Check(utf8.RuneCountInString(a.Address) <= 500, prefix+".address", "is longer than 500 characters")
	a.Notify.validate(v, prefix+".notify", a.Email != "", a.Phone != "")
}

// ErasedName is what an applicant's name and identity number read as once their personal data was
// erased on a legal request (crypto-shredding, eventstore/shred).
const ErasedName = "[đã xoá]"

// ApplicantFields names, per event type, the top-level JSON member holding an Applicant — or, on
// a document, the file's name with the applicant's identity number choosing the key (FileLabel):
// the identity data eventstore/shred seals, given to it by the wiring.
func ApplicantFields() map[string]string {
	// Corrections carry the applicant's corrected fields in a member of the same name (correction.go).
	// A complaint's sender is personal data as much as an applicant (ND 13/2023): sealed alike.
	return map[string]string{TypeReceived: "applicant", TypeSubmitted: "applicant",
		TypeCorrectionRequested: "applicant", TypeCorrectionApproved: "applicant", TypeDocumentAttached: "file",
		TypeFeedbackReceived: "submitter"}
}

// PersonalSubjectMembers names, per event type, the member whose value keys the personal data
// when it carries no identity number: a complaint's sender gives none, and is erased by the
// complaint's lookup code.
func PersonalSubjectMembers() map[string]string {
	return map[string]string{TypeFeedbackReceived: "lookup_code"}
}

// MaskedName hides a person's name on the public face: each word keeps its first letter
// ("Nguyễn Văn An" → "N***** V** A*"). Organisations are public bodies of record and keep their name.
func (a Applicant) MaskedName() string {
	if a.Type == ApplicantOrganization || a.Name == ErasedName {
		return a.Name
	}
	words := strings.Fields(a.Name)
	for i, w := range words {
		r := []rune(w)
		words[i] = string(r[0]) + strings.Repeat("*", len(r)-1)
	}
	return strings.Join(words, " ")
}

// NormalizeText trims s and normalises it to NFC, so that the same Vietnamese word typed with
// combining or precomposed diacritics compares and indexes equal.
func NormalizeText(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }
