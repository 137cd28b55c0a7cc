package inbound_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/integrations/portal/inbound"
)

func workbook(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The workbook export, under Vietnamese headings, reads as the same list as its JSON: fees and
// documents one per line in their cells.
func TestProcedureWorkbookReadsAsTheJSONList(t *testing.T) {
	data := workbook(t, [][]any{
		{"Mã thủ tục", "Tên thủ tục", "Mã lĩnh vực", "Tên lĩnh vực", "Thời hạn giải quyết", "Đơn vị tính", "Phí, lệ phí", "Thành phần hồ sơ", "Mức độ", "Kết quả thực hiện"},
		{"1.013225", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "H56-HDXD", "Hoạt động xây dựng", 15, "ngay_lam_viec",
			"Lệ phí cấp giấy phép xây dựng: 75.000\nPhí thẩm định: 1.000", "Đơn đề nghị | 1 | bản chính\nBản vẽ thiết kế | 2 | bản sao", "mot_phan", "Giấy phép xây dựng"},
	})
	got, err := inbound.ParseProcedureExport(data, "")
	if err != nil {
		t.Fatal(err)
	}
	want := inbound.ProcedureList{Result: []inbound.PortalProcedure{{MaTTHC: "1.013225", TenTTHC: "Cấp giấy phép xây dựng nhà ở riêng lẻ",
		MaLinhVuc: "H56-HDXD", TenLinhVuc: "Hoạt động xây dựng", ThoiHanGiaiQuyet: inbound.ResolutionLimit{SoLuong: 15, DonViTinh: "ngay_lam_viec"},
		PhiLePhi:      []inbound.PortalFee{{TenPhiLePhi: "Lệ phí cấp giấy phép xây dựng", MucPhi: 75000}, {TenPhiLePhi: "Phí thẩm định", MucPhi: 1000}},
		ThanhPhanHoSo: []inbound.PortalPaper{{TenGiayTo: "Đơn đề nghị", SoBan: 1, BanChinh: true}, {TenGiayTo: "Bản vẽ thiết kế", SoBan: 2}},
		MucDo:         "mot_phan", KetQuaThucHien: "Giấy phép xây dựng"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("workbook read as\n%+v\nwant\n%+v", got, want)
	}
}

// A workbook with a column the reader does not know, a fee without an amount or a row without a
// time is refused naming the cell; a file that is neither JSON nor a workbook names the body.
func TestProcedureExportRefusesWhatItCannotRead(t *testing.T) {
	heading := []any{"MaTTHC", "TenTTHC", "SoLuong", "DonViTinh", "PhiLePhi"}
	for name, c := range map[string]struct {
		data  []byte
		field string
	}{
		"unknown column": {workbook(t, [][]any{{"MaTTHC", "Ghi chú"}, {"1.1", "x"}}), "header[1]"},
		"time with conditions": {workbook(t, [][]any{{"Mã thủ tục", "Tên thủ tục", "Thời hạn giải quyết"},
			{"1.1", "Tên", "15 ngày kể từ ngày nhận đủ hồ sơ hợp lệ"}}), "rows[1].SoLuong"},
		"online level": {workbook(t, [][]any{{"Mã thủ tục", "Tên thủ tục", "Thời hạn giải quyết", "Mức độ"},
			{"1.1", "Tên", "5 ngày làm việc", "Mức độ 5"}}), "rows[1].MucDo"},
		"fee":      {workbook(t, [][]any{heading, {"1.1", "Tên", 5, "ngay_lam_viec", "Lệ phí không số"}}), "rows[1].PhiLePhi[0]"},
		"time":     {workbook(t, [][]any{heading, {"1.1", "Tên", "", "", ""}}), "result[0].ThoiHanGiaiQuyet"},
		"garbage":  {[]byte("PK\x03\x04 not a zip"), "body"},
		"not json": {[]byte("{"), "body"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := inbound.ParseProcedureExport(c.data, "")
			var e *domain.Error
			if !errors.As(err, &e) || e.Code != domain.EINVALID {
				t.Fatalf("err = %v, want invalid input", err)
			}
			for _, f := range e.Fields {
				if f.Field == c.field {
					return
				}
			}
			t.Fatalf("fields %+v do not name %s", e.Fields, c.field)
		})
	}
}

// A sheet laid out as the national database's record of a procedure is labelled — "Mã thủ tục",
// "Cấp thực hiện", "Lĩnh vực" by name only, the time written out ("15 Ngày làm việc", "Trong
// ngày"), "Cơ quan thực hiện" — is read: the agency and level columns are left (the competent
// agency is the province's), and the parts the sheet has no column for (here the documents, the
// online level, the result, the field's code) keep the catalog's rather than being emptied.
func TestProcedureWorkbookLabelledAsTheNationalRecord(t *testing.T) {
	data := workbook(t, [][]any{
		{"STT", "Mã thủ tục", "Tên thủ tục", "Cấp thực hiện", "Lĩnh vực", "Thời hạn giải quyết", "Phí, lệ phí", "Cơ quan thực hiện"},
		{1, "1.009972", "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II", "Cấp Tỉnh", "Hoạt động xây dựng",
			"7 Ngày làm việc", "Lệ phí cấp giấy phép xây dựng: 150.000", "Sở Xây dựng"},
		{2, "2.000635", "Cấp bản sao trích lục hộ tịch", "Cấp Xã", "Hộ tịch", "Trong ngày", "", "Ủy ban nhân dân cấp xã"},
		{3, "1.001193", "Đăng ký khai sinh", "Cấp Xã", "Hộ tịch", "04 giờ làm việc", "", "Ủy ban nhân dân cấp xã"},
	})
	list, err := inbound.ParseProcedureExport(data, "")
	if err != nil {
		t.Fatal(err)
	}
	times := []inbound.ResolutionLimit{list.Result[0].ThoiHanGiaiQuyet, list.Result[1].ThoiHanGiaiQuyet, list.Result[2].ThoiHanGiaiQuyet}
	if want := []inbound.ResolutionLimit{{SoLuong: 7, DonViTinh: "ngay_lam_viec"}, {DonViTinh: "trong_ngay"}, {SoLuong: 4, DonViTinh: "gio_lam_viec"}}; !reflect.DeepEqual(times, want) {
		t.Fatalf("times read as %+v, want %+v", times, want)
	}
	diff := inbound.DiffCatalog(domaintest.Catalog(t, nil), list)
	if len(diff.Changed) != 1 {
		t.Fatalf("changed %+v, want the permit only", diff.Changed)
	}
	var fields []string
	for _, c := range diff.Changed[0].Changes {
		fields = append(fields, c.Field)
	}
	if !reflect.DeepEqual(fields, []string{"resolution_time"}) {
		t.Fatalf("the permit's changes %+v, want its time only: the sheet gives no documents, online level, result or field code", diff.Changed[0].Changes)
	}
	updated := diff.Updated()[0]
	if updated.Field.Code != "XD" || len(updated.Components) != 2 || updated.OnlineLevel != "partial" || updated.CompetentAgency != "000.00.06.H56" {
		t.Fatalf("the permit as it will stand lost what the sheet does not give: %+v", updated)
	}
}

// A sheet without a fees column, or without a documents column, says nothing of them: the import
// keeps the catalog's fees and documents instead of recording that none are due or required.
func TestProcedureWorkbookWithoutAColumnKeepsTheCatalogs(t *testing.T) {
	data := workbook(t, [][]any{
		{"MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "SoLuong", "DonViTinh", "MucDo", "KetQuaThucHien"},
		{"1.009972", "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II", "XD", "Hoạt động xây dựng", 5, "ngay_lam_viec", "toan_trinh", ""},
	})
	list, err := inbound.ParseProcedureExport(data, "")
	if err != nil {
		t.Fatal(err)
	}
	diff := inbound.DiffCatalog(domaintest.Catalog(t, nil), list)
	if len(diff.Changed) != 1 || len(diff.Changed[0].Changes) != 1 || diff.Changed[0].Changes[0].Field != "online_level" {
		t.Fatalf("changes %+v, want the online level only", diff.Changed)
	}
	if updated := diff.Updated()[0]; len(updated.Fees) != 1 || updated.Fees[0].Amount != 150000 || len(updated.Components) != 2 {
		t.Fatalf("the permit lost its fees or documents: %+v", updated)
	}
}
