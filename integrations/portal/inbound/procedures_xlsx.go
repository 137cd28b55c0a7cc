package inbound

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/motcua/motcua/domain"
)

// The national procedure database also exports a province's procedures as a workbook. Its layout
// is not published as a specification (docs/catalog.md, "Importing the national database's list",
// says what is assumed and why): motcua reads the first sheet with one procedure per row under a
// header row naming the columns either by the JSON list's keys or by Vietnamese headings — those
// below, which include the labels of a procedure's record in the national database ("Mã thủ tục",
// "Cấp thực hiện", "Cơ quan thực hiện", …). Several fees, or several documents, sit in one cell,
// one per line:
//
//	PhiLePhi:       "Lệ phí cấp giấy phép xây dựng: 75.000"   (name, colon, amount in đồng)
//	ThanhPhanHoSo:  "Đơn đề nghị | 1 | bản chính"              (name | copies | bản chính or bản sao)
var workbookColumns = map[string]string{
	"matthc": "MaTTHC", "mã thủ tục": "MaTTHC", "mã tthc": "MaTTHC",
	"tentthc": "TenTTHC", "tên thủ tục": "TenTTHC", "tên tthc": "TenTTHC",
	"malinhvuc": "MaLinhVuc", "mã lĩnh vực": "MaLinhVuc",
	"tenlinhvuc": "TenLinhVuc", "tên lĩnh vực": "TenLinhVuc", "lĩnh vực": "TenLinhVuc",
	"soluong": "SoLuong", "thời hạn giải quyết": "SoLuong",
	"donvitinh": "DonViTinh", "đơn vị tính": "DonViTinh",
	"philephi": "PhiLePhi", "phí, lệ phí": "PhiLePhi", "phí lệ phí": "PhiLePhi",
	"thanhphanhoso": "ThanhPhanHoSo", "thành phần hồ sơ": "ThanhPhanHoSo",
	"mucdo": "MucDo", "mức độ": "MucDo",
	"ketquathuchien": "KetQuaThucHien", "kết quả thực hiện": "KetQuaThucHien",
}

// notTaken are the national record's other columns, read and left: who carries out a procedure
// and at which level (cấp thực hiện, cơ quan thực hiện, có thẩm quyền, phối hợp, được ủy quyền) is
// the province's to decide in its catalog — the import keeps the competent agency — and the rest
// (sequence, manner, applicants, conditions, legal basis, keywords) is text motcua does not hold.
// "STT" is a sheet's row number.
var notTaken = []string{
	"stt", "số thứ tự", "cấp thực hiện", "cơ quan thực hiện", "cơ quan có thẩm quyền", "cơ quan phối hợp",
	"cơ quan được ủy quyền", "cơ quan được uỷ quyền", "địa chỉ tiếp nhận hs", "địa chỉ tiếp nhận hồ sơ",
	"số quyết định", "loại thủ tục", "đối tượng thực hiện", "trình tự thực hiện", "cách thức thực hiện",
	"căn cứ pháp lý", "yêu cầu, điều kiện thực hiện", "yêu cầu điều kiện thực hiện", "từ khóa", "từ khoá", "mô tả",
}

// notTakenColumn marks a column read and left.
const notTakenColumn = "-"

func init() {
	for _, heading := range notTaken {
		workbookColumns[heading] = notTakenColumn
	}
}

// timeInWords reads a statutory time written out, as the national record states it: "15 ngày làm
// việc", "04 giờ làm việc", "Trong ngày". A time given with conditions ("15 ngày kể từ …") is
// not guessed at: it is refused, naming the cell.
var timeInWords = regexp.MustCompile(`^(\d+(?:[.,]\d+)?)\s*(ngày làm việc|giờ làm việc)$`)

func readTime(cell string) (ResolutionLimit, bool) {
	text := strings.Join(strings.Fields(strings.ToLower(domain.NormalizeText(cell))), " ")
	if text == "trong ngày" || text == "trong ngày làm việc" {
		return ResolutionLimit{DonViTinh: "trong_ngay"}, true
	}
	m := timeInWords.FindStringSubmatch(text)
	if m == nil {
		return ResolutionLimit{}, false
	}
	n, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", "."), 64)
	if err != nil {
		return ResolutionLimit{}, false
	}
	unit := "ngay_lam_viec"
	if m[2] == "giờ làm việc" {
		unit = "gio_lam_viec"
	}
	return ResolutionLimit{SoLuong: n, DonViTinh: unit}, true
}

// onlineLevels reads "Mức độ" as the JSON's codes or as the words of NĐ 42/2022 Art. 11 (dịch vụ
// công trực tuyến toàn trình, một phần); empty is not online.
var onlineLevels = map[string]string{
	"toan_trinh": "toan_trinh", "toàn trình": "toan_trinh", "trực tuyến toàn trình": "toan_trinh",
	"mot_phan": "mot_phan", "một phần": "mot_phan", "trực tuyến một phần": "mot_phan",
	"": "",
}

// ParseProcedureWorkbook reads the workbook export into the list the JSON export gives, then checks
// it as ParseProcedureList does. Field errors name the row and column (rows[2].PhiLePhi).
func ParseProcedureWorkbook(data []byte) (ProcedureList, error) {
	book, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return ProcedureList{}, fmt.Errorf("the workbook cannot be read: %w", err)
	}
	defer book.Close()
	sheets := book.GetSheetList()
	if len(sheets) == 0 {
		return ProcedureList{}, fmt.Errorf("the workbook has no sheet")
	}
	rows, err := book.GetRows(sheets[0])
	if err != nil {
		return ProcedureList{}, fmt.Errorf("the workbook's first sheet cannot be read: %w", err)
	}
	if len(rows) == 0 {
		return ProcedureList{}, fmt.Errorf("the workbook's first sheet is empty")
	}
	var v domain.Validation
	columns := make([]string, len(rows[0]))
	for i, heading := range rows[0] {
		key := strings.ToLower(strings.TrimSpace(domain.NormalizeText(heading)))
		if key == "" {
			continue
		}
		column, ok := workbookColumns[key]
		v.Check(ok, fmt.Sprintf("header[%d]", i), "%q is not a column of the national database's export", heading)
		columns[i] = column
	}
	list := ProcedureList{Result: []PortalProcedure{}, unlisted: unlistedParts(columns)}
	for r, row := range rows[1:] {
		if strings.TrimSpace(strings.Join(row, "")) == "" {
			continue
		}
		at := fmt.Sprintf("rows[%d]", r+1)
		var p PortalProcedure
		for i, cell := range row {
			if i >= len(columns) {
				break
			}
			cell = strings.TrimSpace(cell)
			switch columns[i] {
			case "MaTTHC":
				p.MaTTHC = cell
			case "TenTTHC":
				p.TenTTHC = cell
			case "MaLinhVuc":
				p.MaLinhVuc = cell
			case "TenLinhVuc":
				p.TenLinhVuc = cell
			case "SoLuong":
				if cell == "" {
					break
				}
				if n, err := strconv.ParseFloat(strings.ReplaceAll(cell, ",", "."), 64); err == nil {
					p.ThoiHanGiaiQuyet.SoLuong = n
					break
				}
				limit, ok := readTime(cell)
				v.Check(ok, at+".SoLuong", `%q is neither a number nor "N ngày làm việc", "N giờ làm việc" or "Trong ngày"`, cell)
				p.ThoiHanGiaiQuyet = limit
			case "DonViTinh":
				if cell != "" {
					p.ThoiHanGiaiQuyet.DonViTinh = cell
				}
			case "PhiLePhi":
				p.PhiLePhi = workbookFees(&v, at+".PhiLePhi", cell)
			case "ThanhPhanHoSo":
				p.ThanhPhanHoSo = workbookPapers(&v, at+".ThanhPhanHoSo", cell)
			case "MucDo":
				level, ok := onlineLevels[strings.ToLower(domain.NormalizeText(cell))]
				v.Check(ok, at+".MucDo", "%q is not toàn trình, một phần or empty", cell)
				p.MucDo = level
			case "KetQuaThucHien":
				p.KetQuaThucHien = cell
			}
		}
		list.Result = append(list.Result, p)
	}
	if err := v.Err(); err != nil {
		return ProcedureList{}, err
	}
	// The same checks as the JSON list's: re-read through them.
	return checkList(list)
}

// unlistedParts are the parts of a procedure no column of the sheet gives: the import keeps the
// catalog's for them rather than emptying them (a sheet without a fees column says nothing of fees).
func unlistedParts(columns []string) map[string]bool {
	given := map[string]bool{}
	for _, c := range columns {
		given[c] = true
	}
	unlisted := map[string]bool{}
	for part, keys := range map[string][]string{
		partFieldCode: {"MaLinhVuc"}, partFieldName: {"TenLinhVuc"}, partFees: {"PhiLePhi"},
		partComponents: {"ThanhPhanHoSo"}, partOnline: {"MucDo"}, partResult: {"KetQuaThucHien"},
	} {
		if !slices.ContainsFunc(keys, func(k string) bool { return given[k] }) {
			unlisted[part] = true
		}
	}
	if len(unlisted) == 0 {
		return nil
	}
	return unlisted
}

func workbookFees(v *domain.Validation, at, cell string) []PortalFee {
	var fees []PortalFee
	for i, line := range nonEmptyLines(cell) {
		cut := strings.LastIndex(line, ":")
		if cut < 0 {
			v.Add(fmt.Sprintf("%s[%d]", at, i), "%q is not \"name: amount\"", line)
			continue
		}
		digits := strings.NewReplacer(".", "", ",", "", " ", "", "đ", "", "đồng", "").Replace(strings.TrimSpace(line[cut+1:]))
		amount, err := strconv.ParseInt(digits, 10, 64)
		v.Check(err == nil, fmt.Sprintf("%s[%d]", at, i), "%q has no amount in đồng", line)
		fees = append(fees, PortalFee{TenPhiLePhi: strings.TrimSpace(line[:cut]), MucPhi: amount})
	}
	return fees
}

func workbookPapers(v *domain.Validation, at, cell string) []PortalPaper {
	var papers []PortalPaper
	for i, line := range nonEmptyLines(cell) {
		parts := strings.Split(line, "|")
		paper := PortalPaper{TenGiayTo: strings.TrimSpace(parts[0]), SoBan: 1}
		if len(parts) > 1 {
			n, err := strconv.Atoi(strings.TrimSpace(parts[1]))
			v.Check(err == nil && n > 0, fmt.Sprintf("%s[%d]", at, i), "%q: the copies must be a positive whole number", line)
			paper.SoBan = n
		}
		if len(parts) > 2 {
			paper.BanChinh = strings.EqualFold(strings.TrimSpace(domain.NormalizeText(parts[2])), "bản chính")
		}
		papers = append(papers, paper)
	}
	return papers
}

func nonEmptyLines(cell string) []string {
	var lines []string
	for line := range strings.SplitSeq(strings.ReplaceAll(cell, "\r\n", "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}
