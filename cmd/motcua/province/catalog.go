// Package province generates a province's history of dossiers through the real use cases, for
// `motcua bench generate`: a deterministic catalog shaped like a province's (a Public Service
// Centre, departments, wards), its officials, and months of dossiers whose events interleave as in
// a real province, each at its own simulated time (docs/benchmarks.md, "Generated province").
package province

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"unicode"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
)

// CentreCode is the province's Public Service Centre, which receives for every department (NĐ 118
// art. 14): the receiving unit of every department's procedure.
const CentreCode = "000.00.00.H56"

// department is a provincial department (Sở) of the generated catalog: its units and the fields it
// decides, each with the objects its procedures are about.
type department struct {
	name   string
	units  [][2]string // code, name; the last is the board that signs
	fields []field
}

type field struct {
	code, name string
	objects    []string
}

var departments = []department{
	{"Sở Tài chính", [][2]string{{"P.ĐKKD", "Phòng Đăng ký kinh doanh"}, {"P.QLNS", "Phòng Quản lý ngân sách"}, {"BGĐ", "Ban Giám đốc Sở"}}, []field{
		{"H56-TLDN", "Thành lập và hoạt động doanh nghiệp", []string{"đăng ký thành lập doanh nghiệp tư nhân", "đăng ký thành lập công ty trách nhiệm hữu hạn", "đăng ký hoạt động chi nhánh", "đăng ký thay đổi nội dung đăng ký doanh nghiệp"}},
		{"H56-DTTN", "Đầu tư tại Việt Nam", []string{"giấy chứng nhận đăng ký đầu tư", "quyết định chủ trương đầu tư"}}}},
	{"Sở Xây dựng", [][2]string{{"P.QLXD", "Phòng Quản lý hoạt động xây dựng"}, {"P.GT", "Phòng Quản lý giao thông"}, {"BGĐ", "Ban Giám đốc Sở"}}, []field{
		{"H56-HĐXD", "Hoạt động xây dựng", []string{"giấy phép xây dựng công trình", "chứng chỉ hành nghề hoạt động xây dựng", "giấy phép di dời công trình", "giấy phép sửa chữa, cải tạo công trình"}},
		{"H56-ĐB", "Đường bộ", []string{"giấy phép lái xe", "giấy phép liên vận", "phù hiệu xe kinh doanh vận tải"}}}},
	{"Sở Nông nghiệp và Môi trường", [][2]string{{"P.QLĐĐ", "Phòng Quản lý đất đai"}, {"P.MT", "Phòng Môi trường"}, {"BGĐ", "Ban Giám đốc Sở"}}, []field{
		{"H56-ĐĐ", "Đất đai", []string{"giấy chứng nhận quyền sử dụng đất", "quyết định giao đất", "quyết định chuyển mục đích sử dụng đất", "đăng ký biến động đất đai"}},
		{"H56-MT", "Môi trường", []string{"giấy phép môi trường", "giấy phép khai thác nước dưới đất"}}}},
	{"Sở Tư pháp", [][2]string{{"P.HCTP", "Phòng Hành chính tư pháp"}, {"P.BTTP", "Phòng Bổ trợ tư pháp"}, {"BGĐ", "Ban Giám đốc Sở"}}, []field{
		{"H56-LLTP", "Lý lịch tư pháp", []string{"phiếu lý lịch tư pháp", "chứng chỉ hành nghề luật sư"}},
		{"H56-CC", "Công chứng", []string{"giấy đăng ký hoạt động văn phòng công chứng", "thẻ công chứng viên"}}}},
	{"Sở Công Thương", [][2]string{{"P.QLTM", "Phòng Quản lý thương mại"}, {"P.KTAT", "Phòng Kỹ thuật an toàn"}, {"BGĐ", "Ban Giám đốc Sở"}}, []field{
		{"H56-LTHH", "Lưu thông hàng hóa", []string{"giấy phép bán buôn rượu", "giấy phép bán lẻ sản phẩm thuốc lá", "giấy chứng nhận cửa hàng đủ điều kiện bán lẻ xăng dầu", "giấy phép sản xuất rượu thủ công"}},
		{"H56-ATTP", "An toàn thực phẩm", []string{"giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm"}}}},
	{"Sở Y tế", [][2]string{{"P.NVY", "Phòng Nghiệp vụ Y"}, {"P.NVD", "Phòng Nghiệp vụ Dược"}, {"BGĐ", "Ban Giám đốc Sở"}}, []field{
		{"H56-KCB", "Khám bệnh, chữa bệnh", []string{"giấy phép hành nghề khám bệnh, chữa bệnh", "giấy phép hoạt động phòng khám", "giấy chứng nhận đủ điều kiện xét nghiệm"}},
		{"H56-DUOC", "Dược phẩm", []string{"chứng chỉ hành nghề dược", "giấy chứng nhận đủ điều kiện kinh doanh dược"}}}},
	{"Sở Giáo dục và Đào tạo", [][2]string{{"P.GDPT", "Phòng Giáo dục phổ thông"}, {"P.KTKĐ", "Phòng Khảo thí và Kiểm định"}, {"BGĐ", "Ban Giám đốc Sở"}}, []field{
		{"H56-VBCC", "Văn bằng, chứng chỉ", []string{"bản sao văn bằng tốt nghiệp", "giấy chứng nhận tốt nghiệp tạm thời", "công nhận văn bằng do nước ngoài cấp"}},
		{"H56-CSGD", "Cơ sở giáo dục", []string{"quyết định cho phép hoạt động giáo dục", "giấy phép dạy thêm"}}}},
	{"Sở Văn hóa, Thể thao và Du lịch", [][2]string{{"P.QLVH", "Phòng Quản lý văn hóa"}, {"P.QLDL", "Phòng Quản lý du lịch"}, {"BGĐ", "Ban Giám đốc Sở"}}, []field{
		{"H56-VHCS", "Văn hóa cơ sở", []string{"giấy phép tổ chức lễ hội", "giấy phép quảng cáo", "giấy phép biểu diễn nghệ thuật"}},
		{"H56-LH", "Lữ hành", []string{"giấy phép kinh doanh dịch vụ lữ hành nội địa", "thẻ hướng dẫn viên du lịch"}}}},
	{"Sở Nội vụ", [][2]string{{"P.LĐVL", "Phòng Lao động - Việc làm"}, {"P.TĐKT", "Phòng Thi đua - Khen thưởng"}, {"BGĐ", "Ban Giám đốc Sở"}}, []field{
		{"H56-VL", "Việc làm", []string{"giấy phép lao động cho người nước ngoài", "giấy phép dịch vụ việc làm", "đăng ký nội quy lao động"}},
		{"H56-NCC", "Người có công", []string{"trợ cấp ưu đãi người có công", "giấy chứng nhận thương binh"}}}},
	{"Sở Khoa học và Công nghệ", [][2]string{{"P.QLCN", "Phòng Quản lý công nghệ"}, {"P.BCVT", "Phòng Bưu chính, Viễn thông"}, {"BGĐ", "Ban Giám đốc Sở"}}, []field{
		{"H56-TCĐL", "Tiêu chuẩn đo lường chất lượng", []string{"giấy chứng nhận đăng ký công bố hợp quy", "giấy chứng nhận đủ điều kiện kiểm định", "giấy chứng nhận doanh nghiệp khoa học và công nghệ"}},
		{"H56-BC", "Bưu chính", []string{"giấy phép bưu chính", "giấy phép hoạt động báo chí"}}}},
	{"Sở Dân tộc và Tôn giáo", [][2]string{{"P.TG", "Phòng Tôn giáo"}, {"P.CSDT", "Phòng Chính sách dân tộc"}, {"BGĐ", "Ban Giám đốc Sở"}}, []field{
		{"H56-TG", "Tín ngưỡng, tôn giáo", []string{"chấp thuận tổ chức cuộc lễ ngoài cơ sở tôn giáo", "đăng ký người được bổ nhiệm chức việc", "đăng ký sinh hoạt tôn giáo tập trung"}}}},
	{"Công an tỉnh", [][2]string{{"PC06", "Phòng Cảnh sát quản lý hành chính về trật tự xã hội"}, {"PC08", "Phòng Cảnh sát giao thông"}, {"BGĐ", "Ban Giám đốc Công an tỉnh"}}, []field{
		{"H56-ANTT", "Quản lý ngành nghề kinh doanh có điều kiện về an ninh, trật tự", []string{"giấy chứng nhận đủ điều kiện về an ninh, trật tự", "giấy phép sử dụng vũ khí thể thao"}},
		{"H56-XNC", "Quản lý xuất nhập cảnh", []string{"hộ chiếu phổ thông", "giấy thông hành"}},
		{"H56-ĐKX", "Đăng ký, quản lý phương tiện giao thông", []string{"giấy chứng nhận đăng ký xe", "biển số xe"}}}},
}

// wards are the communes and wards of the generated province: each receives and decides its own
// procedures at its one-stop desk.
var wards = []string{
	"Ủy ban nhân dân phường Hạc Thành", "Ủy ban nhân dân phường Quảng Phú", "Ủy ban nhân dân phường Đông Quang",
	"Ủy ban nhân dân phường Sầm Sơn", "Ủy ban nhân dân xã Hoằng Hóa", "Ủy ban nhân dân xã Thọ Xuân", "Ủy ban nhân dân xã Ngọc Lặc",
}

var wardUnits = [][2]string{{"BPMC", "Bộ phận Một cửa"}, {"P.KT", "Phòng Kinh tế"}, {"P.VHXH", "Phòng Văn hóa - Xã hội"}, {"LĐ", "Lãnh đạo Ủy ban nhân dân"}}

var wardFields = []field{
	{"H56-HT", "Hộ tịch", []string{"đăng ký khai sinh", "đăng ký kết hôn", "đăng ký khai tử", "xác nhận tình trạng hôn nhân", "đăng ký nhận cha, mẹ, con"}},
	{"H56-CT", "Chứng thực", []string{"chứng thực bản sao từ bản chính", "chứng thực chữ ký", "chứng thực hợp đồng, giao dịch", "chứng thực di chúc"}},
	{"H56-HKD", "Hộ kinh doanh", []string{"đăng ký thành lập hộ kinh doanh", "đăng ký thay đổi nội dung hộ kinh doanh"}},
	{"H56-BTXH", "Bảo trợ xã hội", []string{"trợ cấp xã hội hằng tháng", "hỗ trợ chi phí mai táng", "xác nhận hộ nghèo, hộ cận nghèo"}},
	{"H56-ĐĐX", "Đất đai cấp xã", []string{"xác nhận nguồn gốc đất", "hòa giải tranh chấp đất đai"}},
}

// verbs make a department's procedures from each object: a first grant, a re-issue, a change.
var verbs = []struct {
	prefix string
	days   []int
}{
	{"Cấp", []int{5, 7, 10, 15, 20, 30}},
	{"Cấp lại", []int{3, 5, 7}},
	{"Điều chỉnh", []int{3, 5, 10}},
}

var fees = []int64{50_000, 100_000, 150_000, 200_000, 300_000, 500_000, 1_000_000}

// Catalog is the generated catalog and how often citizens file each procedure.
type Catalog struct {
	*domain.Catalog
	// Weights[i] is procedure i's share of the dossiers (a Zipf-like law: a few procedures, birth
	// registration and land above all, make most of a province's dossiers).
	Weights []float64
	// JSON is the catalog file (docs/catalog.md) that `motcua serve --catalog` reads.
	JSON []byte
}

// NewCatalog generates the province's catalog from seed: 20 agencies (the Centre, 12
// departments, 7 wards) and about 300 procedures, each workflow fitting its statutory time.
func NewCatalog(seed uint64, cal *calendar.Calendar) (*Catalog, error) {
	rng := rand.New(rand.NewPCG(seed, 0x70c))
	var c domain.Catalog
	c.Agencies = append(c.Agencies, domain.Agency{Code: CentreCode, Name: "Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa",
		Departments: []domain.Department{{Code: "QTN", Name: "Quầy tiếp nhận và trả kết quả"}}})
	number := 1000
	nextCode := func() string { number += 1 + rng.IntN(7); return fmt.Sprintf("%d.%06d", 1+rng.IntN(2), number) }
	for i, dep := range departments {
		code := fmt.Sprintf("000.00.%02d.H56", i+1)
		agency := domain.Agency{Code: code, Name: dep.name + " tỉnh Thanh Hóa"}
		for _, u := range dep.units {
			agency.Departments = append(agency.Departments, domain.Department{Code: u[0], Name: u[1]})
		}
		c.Agencies = append(c.Agencies, agency)
		for f, fl := range dep.fields {
			unit := dep.units[f%(len(dep.units)-1)][0]
			board := dep.units[len(dep.units)-1][0]
			for _, object := range fl.objects {
				for _, verb := range verbs {
					days := verb.days[rng.IntN(len(verb.days))]
					p := procedure(rng, nextCode(), verb.prefix+" "+object, fl, code, days)
					p.Workflow = departmentWorkflow(rng, p, unit, board, i)
					c.Procedures = append(c.Procedures, p)
				}
			}
		}
	}
	for i, name := range wards {
		code := fmt.Sprintf("000.00.%02d.H56", 41+i)
		agency := domain.Agency{Code: code, Name: name}
		for _, u := range wardUnits {
			agency.Departments = append(agency.Departments, domain.Department{Code: u[0], Name: u[1]})
		}
		c.Agencies = append(c.Agencies, agency)
		for f, fl := range wardFields {
			for _, object := range fl.objects {
				days := []int{1, 2, 3, 5, 7}[rng.IntN(5)]
				p := procedure(rng, nextCode(), capitalize(object), fl, code, days)
				unit := []string{"P.VHXH", "P.VHXH", "P.KT", "P.VHXH", "P.KT"}[f]
				p.Workflow = wardWorkflow(p, code, unit)
				c.Procedures = append(c.Procedures, p)
			}
		}
	}
	data, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	parsed, err := domain.ParseCatalog(data, cal)
	if err != nil {
		return nil, fmt.Errorf("generated %w", err)
	}
	weights := make([]float64, len(parsed.Procedures))
	for i, rank := range rng.Perm(len(weights)) {
		weights[i] = 1 / math.Pow(float64(rank+1), 0.9)
	}
	return &Catalog{Catalog: parsed, Weights: weights, JSON: data}, nil
}

func procedure(rng *rand.Rand, code, name string, fl field, agency string, days int) domain.Procedure {
	p := domain.Procedure{
		Code: code, Name: name, Field: domain.Field{Code: fl.code, Name: fl.name}, CompetentAgency: agency,
		ResolutionTime: domain.ResolutionTime{Days: days},
		Components: []domain.RequiredComponent{
			{Name: "Đơn đề nghị " + lower(name), Copies: 1, Original: true},
			{Name: "Bản sao giấy tờ tùy thân của người đề nghị", Copies: 1},
		},
		OnlineLevel: "full", ResultType: "Kết quả giải quyết: " + lower(name),
	}
	if rng.IntN(4) == 0 {
		p.OnlineLevel = "partial"
	}
	if rng.IntN(3) == 0 {
		p.Components = append(p.Components, domain.RequiredComponent{Name: "Tài liệu chứng minh đủ điều kiện theo quy định", Copies: 1})
	}
	if rng.IntN(5) < 2 {
		p.Fees = []domain.Fee{{Name: "Lệ phí giải quyết thủ tục", Amount: fees[rng.IntN(len(fees))]}}
	}
	return p
}

// departmentWorkflow: the Centre receives, the department's unit appraises (sometimes consulting
// another department and checking on site at once), its head reviews, the board signs, the Centre
// returns. The shares leave a tenth of the statutory time spare.
func departmentWorkflow(rng *rand.Rand, p domain.Procedure, unit, board string, self int) []domain.WorkflowStep {
	total := float64(p.ResolutionTime.Days) * 8
	edge := clamp(half(total*0.05), 1, 4)
	appraise := domain.WorkflowStep{Name: "Thẩm định hồ sơ", Unit: unit, Role: "specialist", AllottedHours: half(total * 0.5)}
	if p.ResolutionTime.Days >= 10 && rng.IntN(5) == 0 {
		other := fmt.Sprintf("000.00.%02d.H56", 1+(self+1+rng.IntN(len(departments)-1))%len(departments))
		appraise = domain.WorkflowStep{Name: "Thẩm định, lấy ý kiến", Unit: unit, Parallel: []domain.WorkflowStep{
			{Name: "Thẩm định hồ sơ", Unit: unit, Role: "specialist", AllottedHours: half(total * 0.5)},
			{Name: "Lấy ý kiến cơ quan liên quan", Unit: other, Role: "specialist", AllottedHours: half(total * 0.4)},
		}}
	}
	return []domain.WorkflowStep{
		{Name: "Tiếp nhận hồ sơ", Unit: CentreCode, Role: "reception", AllottedHours: edge},
		appraise,
		{Name: "Xem xét, trình ký", Unit: unit, Role: "head", AllottedHours: half(total * 0.15)},
		{Name: "Phê duyệt, ký kết quả", Unit: board, Role: "signer", AllottedHours: half(total * 0.15)},
		{Name: "Trả kết quả", Unit: CentreCode, Role: "reception", AllottedHours: edge},
	}
}

// wardWorkflow: the ward's desk receives and returns, an officer appraises, a leader signs.
func wardWorkflow(p domain.Procedure, ward, unit string) []domain.WorkflowStep {
	total := float64(p.ResolutionTime.Days) * 8
	return []domain.WorkflowStep{
		{Name: "Tiếp nhận hồ sơ", Unit: ward, Role: "reception", AllottedHours: 1},
		{Name: "Thẩm định hồ sơ", Unit: unit, Role: "specialist", AllottedHours: half((total - 2) * 0.6)},
		{Name: "Xem xét, trình ký", Unit: unit, Role: "head", AllottedHours: half((total - 2) * 0.2)},
		{Name: "Phê duyệt, ký kết quả", Unit: "LĐ", Role: "signer", AllottedHours: half((total - 2) * 0.2)},
		{Name: "Trả kết quả", Unit: ward, Role: "reception", AllottedHours: 1},
	}
}

// half rounds hours down to a half hour, at least half an hour.
func half(h float64) float64 { return max(0.5, math.Floor(h*2)/2) }

func clamp(x, lo, hi float64) float64 { return min(max(x, lo), hi) }

func lower(s string) string {
	r := []rune(s)
	if len(r) > 0 {
		r[0] = unicode.ToLower(r[0])
	}
	return string(r)
}

func capitalize(s string) string {
	r := []rune(s)
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}
