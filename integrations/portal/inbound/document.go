// Package inbound receives the dossiers citizens file on the National Public Service Portal
// (DVCQG): the portal's document, its signature on the webhook, and the poller that pulls the
// portal's feed. What to do with a verified dossier is injected (Recorder): integrations do not
// know the use cases, the caller (the HTTP route, the wiring of motcua serve) does.
package inbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
)

// Document is a dossier as the portal sends it (HoSoDVCQG). Field names follow the portal's
// synchronisation documents (DongBoHoSoMC): Vietnamese, PascalCase, dates yyyyMMddHHmmss in
// Vietnam time.
type Document struct {
	MaHoSoQG        string    `json:"MaHoSoQG"`        // the portal's own dossier id
	MaTTHC          string    `json:"MaTTHC"`          // procedure code of the national database
	MaDonViTiepNhan string    `json:"MaDonViTiepNhan"` // the receiving unit (QCVN 102)
	NgayNopHoSo     string    `json:"NgayNopHoSo"`     // when the citizen filed it on the portal
	ChuHoSo         Applicant `json:"ChuHoSo"`
	DanhSachGiayTo  []Paper   `json:"DanhSachGiayTo"`
}

// Applicant is the dossier's owner (ChuHoSo). LoaiDoiTuong: 1 a citizen, 2 an organisation.
type Applicant struct {
	LoaiDoiTuong int    `json:"LoaiDoiTuong"`
	HoVaTen      string `json:"HoVaTen"`
	SoGiayTo     string `json:"SoGiayTo"` // citizen ID (CCCD) or tax code
	SoDienThoai  string `json:"SoDienThoai,omitempty"`
	Email        string `json:"Email,omitempty"`
	DiaChi       string `json:"DiaChi,omitempty"`
}

// Paper is one component of the dossier (giấy tờ) and the link to its file on the portal.
type Paper struct {
	TenGiayTo   string `json:"TenGiayTo"`
	SoBan       int    `json:"SoBan"`
	DuongDanTep string `json:"DuongDanTep,omitempty"`
}

// Submission is a verified, validated dossier from the portal, in motcua's terms.
type Submission struct {
	PortalID      string
	ProcedureCode string
	ReceivingUnit string
	SubmittedAt   time.Time // on the portal
	Applicant     domain.Applicant
	Components    []domain.Component
}

// PortalTimeLayout is the portal's date format (yyyyMMddHHmmss, Vietnam time).
const PortalTimeLayout = "20060102150405"

// maxClockSkew is how far in the future a portal submission time may lie (the two clocks differ a
// little); later than that, the document is wrong.
const maxClockSkew = 5 * time.Minute

// Parse decodes and validates one portal document: JSON without unknown keys, every text valid UTF-8
// without control or invisible characters and normalised to NFC, the required fields present, the
// procedure and the receiving unit known to catalog. A refusal is a domain EINVALID error naming each
// field at fault by its path in the portal's document (e.g. "ChuHoSo.SoGiayTo"). now bounds the
// submission time.
func Parse(data []byte, catalog *domain.Catalog, now time.Time) (Submission, error) {
	var doc Document
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&doc); err != nil {
		return Submission{}, malformed(err)
	}
	if decoder.More() {
		return Submission{}, domain.Errorf(domain.EINVALID, "the body holds data after its JSON object")
	}
	return Validate(doc, catalog, now)
}

// PortalIDOf returns the portal's dossier id a document names, best effort, for a document that
// failed to parse: parked documents are known by it. Empty when it cannot be read.
func PortalIDOf(data []byte) string {
	var id struct {
		MaHoSoQG string `json:"MaHoSoQG"`
	}
	if json.Unmarshal(data, &id) != nil || !validPortalID(id.MaHoSoQG) {
		return ""
	}
	return id.MaHoSoQG
}

// malformed turns a JSON decoding failure into a field error without echoing the body: the
// decoder's messages quote values, and values are personal data.
func malformed(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return &domain.Error{Code: domain.EINVALID, Message: "invalid input",
			Fields: []domain.FieldError{{Field: typeErr.Field, Message: "must be " + jsonKind(typeErr.Type)}}}
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return &domain.Error{Code: domain.EINVALID, Message: "invalid input",
			Fields: []domain.FieldError{{Field: strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`), Message: "is not a field of the portal's dossier"}}}
	}
	return domain.Errorf(domain.EINVALID, "the body is not a JSON dossier of the portal")
}

// jsonKind names the JSON value a Go type is read from (the decoder's own message quotes the value).
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another JSON type"
}

// Validate checks a decoded document (see Parse) and returns it in motcua's terms.
func Validate(doc Document, catalog *domain.Catalog, now time.Time) (Submission, error) {
	var v domain.Validation
	text := func(field, s string, required bool, max int) string {
		domain.CheckText(&v, field, s, false)
		s = domain.NormalizeText(s)
		switch {
		case required && s == "":
			v.Add(field, "is required")
		case len([]rune(s)) > max:
			v.Add(field, "is longer than %d characters", max)
		}
		return s
	}
	s := Submission{
		PortalID:      text("MaHoSoQG", doc.MaHoSoQG, true, 100),
		ProcedureCode: text("MaTTHC", doc.MaTTHC, true, 50),
		ReceivingUnit: text("MaDonViTiepNhan", doc.MaDonViTiepNhan, true, 20),
	}
	v.Check(s.PortalID == "" || validPortalID(s.PortalID), "MaHoSoQG", "may hold letters, digits, '.', '-' and '_' only")
	if s.ProcedureCode != "" {
		if p, ok := catalog.Procedure(s.ProcedureCode); !ok {
			v.Add("MaTTHC", "is not a procedure of the catalog")
		} else {
			v.Check(p.OnlineLevel == "full" || p.OnlineLevel == "partial", "MaTTHC", "this procedure cannot be filed online")
		}
	}
	if s.ReceivingUnit != "" {
		_, known := catalog.Agency(s.ReceivingUnit)
		v.Check(known, "MaDonViTiepNhan", "is not an agency of the catalog")
	}
	if doc.NgayNopHoSo == "" {
		v.Add("NgayNopHoSo", "is required")
	} else if at, err := time.ParseInLocation(PortalTimeLayout, doc.NgayNopHoSo, domain.VietnamTime); err != nil {
		v.Add("NgayNopHoSo", "must be yyyyMMddHHmmss")
	} else if at.After(now.Add(maxClockSkew)) {
		v.Add("NgayNopHoSo", "is in the future")
	} else {
		s.SubmittedAt = at.UTC()
	}

	a := doc.ChuHoSo
	s.Applicant = domain.Applicant{
		Name:     text("ChuHoSo.HoVaTen", a.HoVaTen, true, 200),
		IDNumber: text("ChuHoSo.SoGiayTo", a.SoGiayTo, true, 20),
		Phone:    text("ChuHoSo.SoDienThoai", a.SoDienThoai, false, 20),
		Email:    text("ChuHoSo.Email", a.Email, false, 254),
		Address:  text("ChuHoSo.DiaChi", a.DiaChi, false, 500),
	}
	switch a.LoaiDoiTuong {
	case 1:
		s.Applicant.Type = domain.ApplicantCitizen
	case 2:
		s.Applicant.Type = domain.ApplicantOrganization
	default:
		v.Add("ChuHoSo.LoaiDoiTuong", "must be 1 (a citizen) or 2 (an organisation)")
	}
	// The domain's own checks of an applicant, reported under the portal's names.
	var applicantErrors domain.Validation
	s.Applicant.Validate(&applicantErrors, "applicant")
	already := fieldsOf(v.Err())
	for _, f := range fieldsOf(applicantErrors.Err()) {
		if name, ok := portalApplicantField[f.Field]; ok && !slices.ContainsFunc(already, func(e domain.FieldError) bool { return e.Field == name }) {
			v.Add(name, "%s", f.Message)
		}
	}

	if len(doc.DanhSachGiayTo) == 0 {
		v.Add("DanhSachGiayTo", "at least one document is required")
	}
	if len(doc.DanhSachGiayTo) > 100 {
		v.Add("DanhSachGiayTo", "holds more than 100 documents")
	}
	for i, p := range doc.DanhSachGiayTo {
		at := fmt.Sprintf("DanhSachGiayTo[%d]", i)
		name := text(at+".TenGiayTo", p.TenGiayTo, true, 300)
		text(at+".DuongDanTep", p.DuongDanTep, false, 2000)
		v.Check(p.SoBan >= 1 && p.SoBan <= 100, at+".SoBan", "must be between 1 and 100")
		s.Components = append(s.Components, domain.Component{Name: name, Copies: p.SoBan})
	}
	if err := v.Err(); err != nil {
		return Submission{}, err
	}
	return s, nil
}

// portalApplicantField maps the domain's applicant fields to the portal's names.
var portalApplicantField = map[string]string{
	"applicant.type":      "ChuHoSo.LoaiDoiTuong",
	"applicant.name":      "ChuHoSo.HoVaTen",
	"applicant.id_number": "ChuHoSo.SoGiayTo",
	"applicant.phone":     "ChuHoSo.SoDienThoai",
	"applicant.email":     "ChuHoSo.Email",
	"applicant.address":   "ChuHoSo.DiaChi",
}

func fieldsOf(err error) []domain.FieldError {
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Fields
	}
	return nil
}

func validPortalID(id string) bool {
	if id == "" || len(id) > 100 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
