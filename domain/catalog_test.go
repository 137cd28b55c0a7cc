package domain_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/motcua/motcua/domain"
)

// catalogFixture returns a small valid catalog: the ward issuing construction permits and a
// province-level procedure, each with a workflow that fits its statutory time.
func catalogFixture() domain.Catalog {
	permit := procedure()
	permit.Components = []domain.RequiredComponent{{Name: "Đơn đề nghị cấp giấy phép xây dựng", Copies: 1, Original: true}}
	permit.ResultType = "Giấy phép xây dựng"
	permit.Workflow = []domain.WorkflowStep{
		{Name: "Tiếp nhận hồ sơ", Unit: receivingUnit, Role: "reception", AllottedHours: 4},
		{Name: "Thẩm định hồ sơ", Unit: "KTHTDT", Role: "specialist", AllottedHours: 56},
		{Name: "Lấy ý kiến Sở Xây dựng", Unit: consultedAgency, Role: "specialist", AllottedHours: 40},
		{Name: "Ký giấy phép", Unit: "LD", Role: "signer", AllottedHours: 16},
		{Name: "Trả kết quả", Unit: receivingUnit, Role: "reception", AllottedHours: 4},
	}
	business := domain.Procedure{
		Code: "2.001610", Name: "Đăng ký thành lập doanh nghiệp tư nhân",
		Field:           domain.Field{Code: "H56-DN", Name: "Thành lập và hoạt động doanh nghiệp"},
		CompetentAgency: "000.00.10.H56", ResolutionTime: domain.ResolutionTime{Days: 3},
		Fees:     []domain.Fee{{Name: "Lệ phí đăng ký doanh nghiệp", Amount: 50_000}, {Name: "Phí công bố nội dung đăng ký doanh nghiệp", Amount: 100_000}},
		Workflow: []domain.WorkflowStep{{Name: "Thẩm định hồ sơ", Unit: "DKKD", Role: "specialist", AllottedHours: 24}},
	}
	return domain.Catalog{
		Agencies: []domain.Agency{
			{Code: competentAgency, Name: "Ủy ban nhân dân phường Hạc Thành", Departments: []domain.Department{
				{Code: "KTHTDT", Name: "Phòng Kinh tế, Hạ tầng và Đô thị"}, {Code: "LD", Name: "Lãnh đạo Ủy ban nhân dân phường"}}},
			{Code: "000.00.10.H56", Name: "Sở Tài chính tỉnh Thanh Hóa", Departments: []domain.Department{{Code: "DKKD", Name: "Phòng Đăng ký kinh doanh"}}},
			{Code: receivingUnit, Name: "Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa"},
			{Code: consultedAgency, Name: "Sở Xây dựng tỉnh Thanh Hóa"},
			{Code: landAgency, Name: "Sở Nông nghiệp và Môi trường tỉnh Thanh Hóa"},
		},
		Procedures: []domain.Procedure{permit, business},
	}
}

func encodeCatalog(t *testing.T, c domain.Catalog) []byte {
	t.Helper()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseCatalog(t *testing.T) {
	c, err := domain.ParseCatalog(encodeCatalog(t, catalogFixture()), cal)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ProcedureCodes(); !slices.Equal(got, []string{"1.013225", "2.001610"}) {
		t.Errorf("ProcedureCodes = %v", got)
	}
	p, ok := c.Procedure("1.013225")
	if !ok || p.Name != procedure().Name || p.ResolutionTime.Days != 15 || len(p.Workflow) != 5 || p.ResultType != "Giấy phép xây dựng" {
		t.Errorf("Procedure(1.013225) = %+v, %v", p, ok)
	}
	if step, ok := p.Step("Lấy ý kiến Sở Xây dựng"); !ok || step.Unit != consultedAgency || step.AllottedHours != 40 {
		t.Errorf("Step = %+v, %v", step, ok)
	}
	if _, ok := p.Step("Không có"); ok {
		t.Error("Step found a step that does not exist")
	}
	if b, _ := c.Procedure("2.001610"); b.TotalFees() != 150_000 {
		t.Errorf("TotalFees = %d, want 150000", b.TotalFees())
	}
	if a, ok := c.Agency(competentAgency); !ok || a.Name != "Ủy ban nhân dân phường Hạc Thành" || len(a.Departments) != 2 {
		t.Errorf("Agency = %+v, %v", a, ok)
	}
	if _, ok := c.Procedure("9.999999"); ok {
		t.Error("found an unknown procedure")
	}
	if _, ok := c.Agency("000.00.99.H56"); ok {
		t.Error("found an unknown agency")
	}
	if ref := domain.RefOf(p); ref != (domain.ProcedureRef{Code: "1.013225", Name: p.Name, FieldCode: "H56-XD", FieldName: "Hoạt động xây dựng", ResolutionTime: domain.ResolutionTime{Days: 15}}) {
		t.Errorf("RefOf = %+v", ref)
	}
}

func TestParseCatalogRefuses(t *testing.T) {
	cases := []struct {
		name   string
		change func(c *domain.Catalog)
		fields []string
	}{
		{"an agency code that is not QCVN 102", func(c *domain.Catalog) { c.Agencies[1].Code = "SoTaiChinh" },
			[]string{"agencies[1].code", "procedures[1].competent_agency"}},
		{"two agencies with one code", func(c *domain.Catalog) { c.Agencies[1].Code = competentAgency },
			[]string{"agencies", "procedures[1].competent_agency"}},
		{"two procedures with one code", func(c *domain.Catalog) { c.Procedures[1].Code = "1.013225" }, []string{"procedures"}},
		{"a procedure without code or name", func(c *domain.Catalog) { c.Procedures[1].Code, c.Procedures[1].Name = "", "" },
			[]string{"procedures[1].code", "procedures[1].name"}},
		{"an unknown competent agency", func(c *domain.Catalog) { c.Procedures[0].CompetentAgency = "000.00.99.H56" },
			[]string{"procedures[0].competent_agency"}},
		{"no resolution time", func(c *domain.Catalog) { c.Procedures[1].ResolutionTime = domain.ResolutionTime{} },
			[]string{"procedures[1].resolution_days", "procedures[1].workflow"}},
		{"no workflow", func(c *domain.Catalog) { c.Procedures[1].Workflow = nil }, []string{"procedures[1].workflow"}},
		{"a step without hours", func(c *domain.Catalog) { c.Procedures[0].Workflow[2].AllottedHours = 0 },
			[]string{"procedures[0].workflow[2]"}},
		{"a nameless step", func(c *domain.Catalog) { c.Procedures[0].Workflow[0].Name = "" }, []string{"procedures[0].workflow[0]"}},
		// 15 working days are 120 h; one more hour does not fit.
		{"a workflow longer than the statutory time", func(c *domain.Catalog) { c.Procedures[0].Workflow[1].AllottedHours = 57 },
			[]string{"procedures[0].workflow"}},
		{"a step at an unknown unit", func(c *domain.Catalog) { c.Procedures[0].Workflow[1].Unit = "KTHT" },
			[]string{"procedures[0].workflow[1].unit"}},
		{"a department of another agency", func(c *domain.Catalog) { c.Procedures[0].Workflow[1].Unit = "DKKD" },
			[]string{"procedures[0].workflow[1].unit"}},
		{"a step without a role", func(c *domain.Catalog) { c.Procedures[1].Workflow[0].Role = "" },
			[]string{"procedures[1].workflow[0].role"}},
		{"two steps with one name", func(c *domain.Catalog) { c.Procedures[0].Workflow[3].Name = "Thẩm định hồ sơ" },
			[]string{"procedures[0].workflow[3].name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := catalogFixture()
			tc.change(&c)
			got, err := domain.ParseCatalog(encodeCatalog(t, c), cal)
			var e *domain.Error
			if !errors.As(err, &e) || e.Code != domain.EINVALID || got != nil {
				t.Fatalf("ParseCatalog = %v, %v; want an EINVALID error", got, err)
			}
			var fields []string
			for _, f := range e.Fields {
				fields = append(fields, f.Field)
			}
			if !slices.Equal(fields, tc.fields) {
				t.Errorf("fields at fault %q, want %q (%v)", fields, tc.fields, err)
			}
			if !strings.HasPrefix(err.Error(), "catalog: ") {
				t.Errorf("error %q does not say it is about the catalog", err)
			}
		})
	}
}

func TestParseCatalogWithoutACalendarSkipsTheTimeCheck(t *testing.T) {
	c := catalogFixture()
	c.Procedures[0].Workflow[1].AllottedHours = 500
	if _, err := domain.ParseCatalog(encodeCatalog(t, c), nil); err != nil {
		t.Errorf("ParseCatalog(nil calendar) = %v", err)
	}
	if _, err := domain.ParseCatalog(encodeCatalog(t, c), cal); err == nil {
		t.Error("ParseCatalog with the calendar accepted 500 h in 15 working days")
	}
}

func TestParseCatalogRefusesMalformedJSON(t *testing.T) {
	for _, data := range []string{"", "{", `{"procedures": {}}`, `{"agencies": [{"code": 1}]}`} {
		if c, err := domain.ParseCatalog([]byte(data), cal); err == nil || c != nil {
			t.Errorf("ParseCatalog(%q) = %v, %v; want an error", data, c, err)
		}
	}
}
