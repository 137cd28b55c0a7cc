package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/motcua/motcua/domain/calendar"
)

// Procedure is an administrative procedure (thủ tục hành chính) of the national catalog, as this
// province resolves it.
type Procedure struct {
	Code            string              `json:"code"` // national procedure database code, e.g. "1.001612"
	Name            string              `json:"name"`
	Field           Field               `json:"field"`
	CompetentAgency string              `json:"competent_agency"` // agency identifier of who decides
	ResolutionTime                      // statutory time: resolution_days, resolution_hours or resolution_same_day
	Fees            []Fee               `json:"fees,omitempty"`
	Components      []RequiredComponent `json:"components"`
	OnlineLevel     string              `json:"online_level"` // "full" or "partial"
	Workflow        []WorkflowStep      `json:"workflow"`     // the internal process, in order (docs/catalog.md)
	ResultType      string              `json:"result_type,omitempty"`
	// BoundaryFree lists the centres that may receive it outside the territory (boundary_free.go).
	BoundaryFree *BoundaryFree `json:"boundary_free,omitempty"`
}

// Field is a procedure's field (lĩnh vực), e.g. land, business registration.
type Field struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Fee is one fee or charge (phí, lệ phí) of a procedure, in đồng.
type Fee struct {
	Name   string `json:"name"`
	Amount int64  `json:"amount"`
}

// RequiredComponent is a document the dossier must contain (thành phần hồ sơ).
type RequiredComponent struct {
	Name     string `json:"name"`
	Copies   int    `json:"copies"`
	Original bool   `json:"original,omitempty"`
}

// Agency is an authority or unit with an identifier under QCVN 102:2016/BTTTT.
type Agency struct {
	Code        string       `json:"code"`
	Name        string       `json:"name"`
	Departments []Department `json:"departments,omitempty"`
	// SucceededBy re-maps the agency to its successor from a date of effect (catalog_succession.go).
	SucceededBy *AgencySuccession `json:"succeeded_by,omitempty"`
	// Territory, on a one-stop centre, lists the agencies whose procedures it receives within the
	// administrative boundary; any other only if boundary-free there. Absent: it receives for all.
	Territory []string `json:"territory,omitempty"`
}

// Department is a unit inside an agency (phòng, ban chuyên môn).
type Department struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Catalog holds the procedures and agencies a deployment serves.
type Catalog struct {
	Agencies   []Agency    `json:"agencies"`
	Procedures []Procedure `json:"procedures"`

	procedures map[string]*Procedure
	agencies   map[string]*Agency
}

// ParseCatalog reads a catalog file (JSON, docs/catalog.md) and checks it: no unknown (misspelt)
// keys, unique codes, known agencies, one resolution time in range and a workflow whose critical path
// fits it under cal (no time check when cal is nil).
func ParseCatalog(data []byte, cal *calendar.Calendar) (*Catalog, error) {
	var c Catalog
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&c); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if decoder.More() {
		return nil, fmt.Errorf("catalog: %w", Errorf(EINVALID, "the catalog file has data after its JSON object"))
	}
	if err := c.check(cal); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return &c, nil
}

// check indexes the catalog and checks it as ParseCatalog does: the field errors name the agencies
// and procedures by their place in the lists (procedures[3].workflow[0].unit).
func (c *Catalog) check(cal *calendar.Calendar) error {
	c.index()
	var v Validation
	for i, a := range c.Agencies {
		v.Check(ValidUnitCode(a.Code), fmt.Sprintf("agencies[%d].code", i), "%q is not a QCVN 102 identifier", a.Code)
	}
	if len(c.agencies) != len(c.Agencies) {
		v.Add("agencies", "agency codes must be unique")
	}
	c.checkSuccessions(&v)
	c.checkBoundaryFree(&v)
	if len(c.procedures) != len(c.Procedures) {
		v.Add("procedures", "procedure codes must be unique")
	}
	for i, p := range c.Procedures {
		at := fmt.Sprintf("procedures[%d]", i)
		v.Check(p.Code != "", at+".code", "is required")
		v.Check(p.Name != "", at+".name", "is required")
		v.Check(c.agencies[p.CompetentAgency] != nil, at+".competent_agency", "%q is not a catalog agency", p.CompetentAgency)
		p.ResolutionTime.check(&v, at)
		c.checkWorkflow(&v, at, p, cal)
	}
	return v.Err()
}

func (c *Catalog) index() {
	c.procedures = make(map[string]*Procedure, len(c.Procedures))
	for i := range c.Procedures {
		c.procedures[c.Procedures[i].Code] = &c.Procedures[i]
	}
	c.agencies = make(map[string]*Agency, len(c.Agencies))
	for i := range c.Agencies {
		c.agencies[c.Agencies[i].Code] = &c.Agencies[i]
	}
}

// Procedure returns the procedure with the given code.
func (c *Catalog) Procedure(code string) (Procedure, bool) {
	p, ok := c.procedures[code]
	if !ok {
		return Procedure{}, false
	}
	return *p, true
}

// Agency returns the agency with the given identifier.
func (c *Catalog) Agency(code string) (Agency, bool) {
	a, ok := c.agencies[code]
	if !ok {
		return Agency{}, false
	}
	return *a, true
}

// AgencyName is the name of the agency with the given identifier, or the identifier itself when
// the catalog does not know it (an agency since removed from the catalog).
func (c *Catalog) AgencyName(code string) string {
	if a, ok := c.agencies[code]; ok {
		return a.Name
	}
	return code
}

// ProcedureCodes lists the catalog's procedure codes, sorted.
func (c *Catalog) ProcedureCodes() []string {
	codes := make([]string, 0, len(c.procedures))
	for code := range c.procedures {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	return codes
}

// TotalFees is the sum of the procedure's fees.
func (p Procedure) TotalFees() int64 {
	var total int64
	for _, f := range p.Fees {
		total += f.Amount
	}
	return total
}
