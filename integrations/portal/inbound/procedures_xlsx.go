package inbound

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/motcua/motcua/domain"
)

// The national procedure database also exports a province's procedures as a workbook. Its layout
// is not published as a specification; motcua reads the first sheet with one procedure per row
// under a header row naming the columns either by the JSON list's keys or by the Vietnamese
// headings below (docs/catalog.md, "Importing the national database's list", says what is assumed).
// Several fees, or several documents, sit in one cell, one per line:
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
	list := ProcedureList{Result: []PortalProcedure{}}
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
				if cell != "" {
					n, err := strconv.ParseFloat(strings.ReplaceAll(cell, ",", "."), 64)
					v.Check(err == nil, at+".SoLuong", "%q is not a number", cell)
					p.ThoiHanGiaiQuyet.SoLuong = n
				}
			case "DonViTinh":
				p.ThoiHanGiaiQuyet.DonViTinh = cell
			case "PhiLePhi":
				p.PhiLePhi = workbookFees(&v, at+".PhiLePhi", cell)
			case "ThanhPhanHoSo":
				p.ThanhPhanHoSo = workbookPapers(&v, at+".ThanhPhanHoSo", cell)
			case "MucDo":
				p.MucDo = cell
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
