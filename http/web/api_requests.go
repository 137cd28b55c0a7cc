package web

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
)

// The bodies the pages send the API, built from the posted forms. Field names are the API's, so its
// field errors land next to the right inputs.

// ReceiveRequest is the reception desk's form as POST /api/v1/dossiers takes it.
type ReceiveRequest struct {
	ProcedureCode string          `json:"procedure_code"`
	Channel       string          `json:"channel"`
	Applicant     ApplicantForm   `json:"applicant"`
	Components    []ComponentForm `json:"components"`
}

// ApplicantForm is the applicant as typed at the desk.
type ApplicantForm struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone"`
	Email    string `json:"email"`
	Address  string `json:"address"`
	// Notify is the channels ticked: nil when none was (the default applies), empty for "no
	// notifications".
	Notify []string `json:"notify"`
}

// ComponentForm is one document of a dossier, typed as "name" or "name | copies".
type ComponentForm struct {
	Name   string    `json:"name"`
	Copies FormValue `json:"copies"`
}

// Receipt is what the pages need of the API's answer to a receipt: where the dossier is, and the
// rating secret printed once on form 01.
type Receipt struct {
	DossierID    string `json:"id"`
	Code         string `json:"code"`
	RatingSecret string `json:"rating_secret"`
}

// RatingRequest is the applicant's evaluation form as POST /api/v1/public/dossiers/{code}/rating
// takes it.
type RatingRequest struct {
	Secret  string                                  `json:"secret"`
	Scores  map[domain.Criterion]domain.RatingLevel `json:"scores"`
	Comment string                                  `json:"comment,omitempty"`
}

// ActionRequest is an action form as POST /api/v1/dossiers/{ref}/{action} takes it: each action
// sets its own fields, the others stay empty and are not sent.
type ActionRequest struct {
	Reason             string          `json:"reason,omitempty"`
	MissingItems       []string        `json:"missing_items,omitempty"`
	Components         []ComponentForm `json:"components,omitempty"`
	ToUnit             string          `json:"to_unit,omitempty"`
	Step               string          `json:"step,omitempty"`
	ToOfficialID       string          `json:"to_official_id,omitempty"`
	ToOfficialName     string          `json:"to_official_name,omitempty"`
	Note               string          `json:"note,omitempty"`
	AllottedHours      FormValue       `json:"allotted_hours,omitempty"`
	ToAgency           string          `json:"to_agency,omitempty"`
	Purpose            string          `json:"purpose,omitempty"`
	Conclusion         string          `json:"conclusion,omitempty"`
	Opinion            string          `json:"opinion,omitempty"`
	DocumentNumber     string          `json:"document_number,omitempty"`
	SignerTitle        string          `json:"signer_title,omitempty"`
	DocumentHash       string          `json:"document_hash,omitempty"`
	Amount             FormValue       `json:"amount,omitempty"`
	Channel            string          `json:"channel,omitempty"`
	ReceiptNumber      string          `json:"receipt_number,omitempty"`
	ExtraWorkingDays   FormValue       `json:"extra_working_days,omitempty"`
	NewAppointmentDate FormValue       `json:"new_appointment_date,omitempty"`
}

// ActionDone is the API's answer to an action: the dossier's code, or its id before it has one.
type ActionDone struct {
	Code string `json:"code"`
	ID   string `json:"id"`
}

// FormValue is a number or a moment typed into a form, held as the JSON the API receives: the
// value when it parses, else the text typed, so that the API names the field and says what it must
// be. Empty means nothing was typed.
type FormValue string

// MarshalJSON sends the JSON held.
func (v FormValue) MarshalJSON() ([]byte, error) { return []byte(v), nil }

func formText(text string) FormValue {
	quoted, _ := json.Marshal(text)
	return FormValue(quoted)
}

// formInteger reads a whole number, written with or without thousands separators ("150.000").
func formInteger(text string) FormValue {
	v := strings.TrimSpace(strings.ReplaceAll(text, ",", "."))
	if v == "" {
		return ""
	}
	if n, err := strconv.ParseInt(strings.ReplaceAll(v, ".", ""), 10, 64); err == nil {
		return FormValue(strconv.FormatInt(n, 10))
	}
	return formText(v)
}

// formDecimal reads a number with a decimal comma or point.
func formDecimal(text string) FormValue {
	v := strings.TrimSpace(strings.ReplaceAll(text, ",", "."))
	if v == "" {
		return ""
	}
	// "NaN" and "Inf" parse but are not JSON: they go on as text, for the API to refuse.
	if n, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(n) && !math.IsInf(n, 0) {
		data, _ := json.Marshal(n)
		return FormValue(data)
	}
	return formText(v)
}

// formCopies reads a number of copies, "1" when left out.
func formCopies(text string) FormValue {
	if n, err := strconv.Atoi(text); err == nil {
		return FormValue(strconv.Itoa(n))
	}
	return formText(text)
}

// formMoment reads a datetime-local input, in Vietnam time.
func formMoment(text string) FormValue {
	if text == "" {
		return ""
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", text, domain.VietnamTime)
	if err != nil {
		return formText(text)
	}
	data, _ := json.Marshal(t)
	return FormValue(data)
}
