package inbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/motcua/motcua/domain"
)

// ProcedureList is the national procedure database's list of the province's procedures, in the
// shape of the portal's LayDanhSachTTHC answer.
type ProcedureList struct {
	ErrorCode int               `json:"error_code"`
	Message   string            `json:"message,omitempty"`
	Result    []PortalProcedure `json:"result"`
	// unlisted are the parts a workbook has no column for (partFees, …): the catalog's are kept.
	unlisted map[string]bool
}

// The parts of a procedure a workbook may leave out.
const (
	partFieldCode  = "field_code"
	partFieldName  = "field_name"
	partFees       = "fees"
	partComponents = "components"
	partOnline     = "online_level"
	partResult     = "result_type"
)

// PortalProcedure is one procedure of the list (thủ tục hành chính).
type PortalProcedure struct {
	MaTTHC           string          `json:"MaTTHC"`
	TenTTHC          string          `json:"TenTTHC"`
	MaLinhVuc        string          `json:"MaLinhVuc"`
	TenLinhVuc       string          `json:"TenLinhVuc"`
	ThoiHanGiaiQuyet ResolutionLimit `json:"ThoiHanGiaiQuyet"`
	PhiLePhi         []PortalFee     `json:"PhiLePhi,omitempty"`
	ThanhPhanHoSo    []PortalPaper   `json:"ThanhPhanHoSo,omitempty"`
	MucDo            string          `json:"MucDo"` // "toan_trinh" (fully online), "mot_phan" (partly), "" (not online)
	KetQuaThucHien   string          `json:"KetQuaThucHien,omitempty"`
}

// ResolutionLimit is a procedure's statutory time: SoLuong in DonViTinh, which is "ngay_lam_viec"
// (working days), "gio_lam_viec" (working hours) or "trong_ngay" (within the day, no SoLuong).
type ResolutionLimit struct {
	SoLuong   float64 `json:"SoLuong,omitempty"`
	DonViTinh string  `json:"DonViTinh"`
}

// PortalFee is a fee or charge (phí, lệ phí) in đồng.
type PortalFee struct {
	TenPhiLePhi string `json:"TenPhiLePhi"`
	MucPhi      int64  `json:"MucPhi"`
}

// PortalPaper is a required document (thành phần hồ sơ).
type PortalPaper struct {
	TenGiayTo string `json:"TenGiayTo"`
	SoBan     int    `json:"SoBan"`
	BanChinh  bool   `json:"BanChinh,omitempty"`
}

// ParseProcedureList decodes the portal's list; an answer with an error code, an unknown key or a
// procedure without code, name or a readable time is refused, naming it.
func ParseProcedureList(data []byte) (ProcedureList, error) {
	var list ProcedureList
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&list); err != nil {
		return ProcedureList{}, fmt.Errorf("the portal's procedure list: %w", err)
	}
	if list.ErrorCode != 0 {
		return ProcedureList{}, fmt.Errorf("the portal answered error %d: %s", list.ErrorCode, list.Message)
	}
	list, err := checkList(list)
	if err != nil {
		return ProcedureList{}, fmt.Errorf("the portal's procedure list: %w", err)
	}
	return list, nil
}

// checkList checks what every procedure of a list needs: a code listed once, a name, a readable
// resolution time, fees that are not negative.
func checkList(list ProcedureList) (ProcedureList, error) {
	var v domain.Validation
	seen := map[string]bool{}
	for i, p := range list.Result {
		at := fmt.Sprintf("result[%d]", i)
		v.Check(strings.TrimSpace(p.MaTTHC) != "", at+".MaTTHC", "is required")
		v.Check(!seen[p.MaTTHC], at+".MaTTHC", "%s is listed twice", p.MaTTHC)
		seen[p.MaTTHC] = true
		v.Check(strings.TrimSpace(p.TenTTHC) != "", at+".TenTTHC", "is required")
		if _, err := p.ThoiHanGiaiQuyet.resolutionTime(); err != nil {
			v.Add(at+".ThoiHanGiaiQuyet", "%v", err)
		}
		for j, f := range p.PhiLePhi {
			v.Check(f.MucPhi >= 0, fmt.Sprintf("%s.PhiLePhi[%d].MucPhi", at, j), "must not be negative")
		}
	}
	if err := v.Err(); err != nil {
		return ProcedureList{}, err
	}
	return list, nil
}

func (l ResolutionLimit) resolutionTime() (domain.ResolutionTime, error) {
	switch l.DonViTinh {
	case "ngay_lam_viec":
		if l.SoLuong != float64(int(l.SoLuong)) || l.SoLuong <= 0 {
			return domain.ResolutionTime{}, fmt.Errorf("working days must be a positive whole number")
		}
		return domain.ResolutionTime{Days: int(l.SoLuong)}, nil
	case "gio_lam_viec":
		if l.SoLuong <= 0 {
			return domain.ResolutionTime{}, fmt.Errorf("working hours must be positive")
		}
		return domain.ResolutionTime{Hours: l.SoLuong}, nil
	case "trong_ngay":
		return domain.ResolutionTime{SameDay: true}, nil
	}
	return domain.ResolutionTime{}, fmt.Errorf("DonViTinh must be ngay_lam_viec, gio_lam_viec or trong_ngay")
}

// national returns what the national database says of a procedure, in the catalog's terms: name,
// field, time, fees, documents, online level, result. The competent agency and the internal
// workflow are the province's and come from the catalog.
func (p PortalProcedure) national() domain.Procedure {
	rt, _ := p.ThoiHanGiaiQuyet.resolutionTime()
	out := domain.Procedure{
		Code: strings.TrimSpace(p.MaTTHC), Name: domain.NormalizeText(p.TenTTHC),
		Field:          domain.Field{Code: domain.NormalizeText(p.MaLinhVuc), Name: domain.NormalizeText(p.TenLinhVuc)},
		ResolutionTime: rt, ResultType: domain.NormalizeText(p.KetQuaThucHien),
	}
	switch p.MucDo {
	case "toan_trinh":
		out.OnlineLevel = "full"
	case "mot_phan":
		out.OnlineLevel = "partial"
	}
	for _, f := range p.PhiLePhi {
		out.Fees = append(out.Fees, domain.Fee{Name: domain.NormalizeText(f.TenPhiLePhi), Amount: f.MucPhi})
	}
	for _, c := range p.ThanhPhanHoSo {
		out.Components = append(out.Components, domain.RequiredComponent{Name: domain.NormalizeText(c.TenGiayTo), Copies: c.SoBan, Original: c.BanChinh})
	}
	return out
}

// CatalogDiff is what the portal's list would change in the catalog.
type CatalogDiff struct {
	Added   []domain.Procedure // on the portal, not in the catalog: need a competent agency and a workflow
	Removed []domain.Procedure // in the catalog, no longer on the portal
	Changed []ProcedureChange
}

// ProcedureChange is a procedure both have, and what differs.
type ProcedureChange struct {
	Code    string
	Name    string // as the portal names it now
	Changes []FieldChange
	updated domain.Procedure
}

// FieldChange is one difference: the catalog's value and the portal's.
type FieldChange struct {
	Field, Old, New string
}

// Empty reports whether the list changes nothing.
func (d CatalogDiff) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0
}

// DiffCatalog compares the catalog with the portal's list, in code order.
func DiffCatalog(current *domain.Catalog, list ProcedureList) CatalogDiff {
	var diff CatalogDiff
	onPortal := map[string]bool{}
	for _, pp := range list.Result {
		national := pp.national()
		onPortal[national.Code] = true
		local, ok := current.Procedure(national.Code)
		if !ok {
			diff.Added = append(diff.Added, national)
			continue
		}
		updated := local
		updated.Name, updated.Field, updated.ResolutionTime = national.Name, national.Field, national.ResolutionTime
		updated.Fees, updated.Components, updated.OnlineLevel, updated.ResultType = national.Fees, national.Components, national.OnlineLevel, national.ResultType
		keep := list.unlisted
		if keep[partFieldCode] {
			updated.Field.Code = local.Field.Code
		}
		if keep[partFieldName] {
			updated.Field.Name = local.Field.Name
		}
		if keep[partFees] {
			updated.Fees = local.Fees
		}
		if keep[partComponents] {
			updated.Components = local.Components
		}
		if keep[partOnline] {
			updated.OnlineLevel = local.OnlineLevel
		}
		if keep[partResult] {
			updated.ResultType = local.ResultType
		}
		if changes := compare(local, updated); len(changes) > 0 {
			diff.Changed = append(diff.Changed, ProcedureChange{Code: local.Code, Name: updated.Name, Changes: changes, updated: updated})
		}
	}
	for _, p := range current.Procedures {
		if !onPortal[p.Code] {
			diff.Removed = append(diff.Removed, p)
		}
	}
	byCode := func(a, b domain.Procedure) int { return strings.Compare(a.Code, b.Code) }
	slices.SortFunc(diff.Added, byCode)
	slices.SortFunc(diff.Removed, byCode)
	slices.SortFunc(diff.Changed, func(a, b ProcedureChange) int { return strings.Compare(a.Code, b.Code) })
	return diff
}

func compare(old, updated domain.Procedure) []FieldChange {
	var changes []FieldChange
	add := func(field, o, n string) {
		if o != n {
			changes = append(changes, FieldChange{Field: field, Old: o, New: n})
		}
	}
	add("name", old.Name, updated.Name)
	add("field", old.Field.Code+" "+old.Field.Name, updated.Field.Code+" "+updated.Field.Name)
	add("resolution_time", describeTime(old.ResolutionTime), describeTime(updated.ResolutionTime))
	add("fees", describeFees(old.Fees), describeFees(updated.Fees))
	add("components", describeComponents(old.Components), describeComponents(updated.Components))
	add("online_level", describeOnline(old.OnlineLevel), describeOnline(updated.OnlineLevel))
	add("result_type", old.ResultType, updated.ResultType)
	return changes
}

func describeTime(rt domain.ResolutionTime) string {
	switch {
	case rt.SameDay:
		return "trong ngày"
	case rt.Hours > 0:
		return fmt.Sprintf("%g giờ làm việc", rt.Hours)
	}
	return fmt.Sprintf("%d ngày làm việc", rt.Days)
}

func describeFees(fees []domain.Fee) string {
	if len(fees) == 0 {
		return "không thu"
	}
	parts := make([]string, len(fees))
	for i, f := range fees {
		parts[i] = fmt.Sprintf("%s: %d đ", f.Name, f.Amount)
	}
	return strings.Join(parts, "; ")
}

func describeComponents(cs []domain.RequiredComponent) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s ×%d", c.Name, c.Copies)
		if c.Original {
			parts[i] += " (bản chính)"
		}
	}
	return strings.Join(parts, "; ")
}

func describeOnline(level string) string {
	if level == "" {
		return "không trực tuyến"
	}
	return level
}

// Apply returns the catalog with the changes and removals made. Added procedures are not added:
// their competent agency and internal workflow are the province's to decide (docs/catalog.md).
// The result is not checked; domain.ParseCatalog does that on its JSON.
func (d CatalogDiff) Apply(current *domain.Catalog) domain.Catalog {
	removed := map[string]bool{}
	for _, p := range d.Removed {
		removed[p.Code] = true
	}
	changed := map[string]domain.Procedure{}
	for _, c := range d.Changed {
		changed[c.Code] = c.updated
	}
	next := domain.Catalog{Agencies: current.Agencies}
	for _, p := range current.Procedures {
		if removed[p.Code] {
			continue
		}
		if u, ok := changed[p.Code]; ok {
			p = u
		}
		next.Procedures = append(next.Procedures, p)
	}
	return next
}

// Updated lists the procedures the list changes, as they will stand: the portal's part taken from
// the list, the province's (competent agency, workflow) kept.
func (d CatalogDiff) Updated() []domain.Procedure {
	updated := make([]domain.Procedure, len(d.Changed))
	for i, c := range d.Changed {
		updated[i] = c.updated
	}
	return updated
}

// RemovedCodes lists the codes of the procedures the list no longer holds.
func (d CatalogDiff) RemovedCodes() []string {
	codes := make([]string, len(d.Removed))
	for i, p := range d.Removed {
		codes[i] = p.Code
	}
	return codes
}

// ParseProcedureExport reads an export of the national procedure database: the JSON list as
// LayDanhSachTTHC answers it, or an .xlsx workbook with the same columns (procedures_xlsx.go),
// told apart by their content. Errors are invalid input naming the field at fault ("body" when
// the file is unreadable as a whole).
func ParseProcedureExport(data []byte, contentType string) (ProcedureList, error) {
	var list ProcedureList
	var err error
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) || strings.Contains(contentType, "spreadsheetml") {
		list, err = ParseProcedureWorkbook(data)
	} else {
		list, err = ParseProcedureList(data)
	}
	if err == nil {
		return list, nil
	}
	var invalid *domain.Error
	if errors.As(err, &invalid) {
		return ProcedureList{}, invalid
	}
	return ProcedureList{}, &domain.Error{Code: domain.EINVALID, Message: "invalid input",
		Fields: []domain.FieldError{{Field: "body", Message: err.Error()}}}
}
