package inbound_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/motcua/motcua/domain"
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
		"fee":            {workbook(t, [][]any{heading, {"1.1", "Tên", 5, "ngay_lam_viec", "Lệ phí không số"}}), "rows[1].PhiLePhi[0]"},
		"time":           {workbook(t, [][]any{heading, {"1.1", "Tên", "", "", ""}}), "result[0].ThoiHanGiaiQuyet"},
		"garbage":        {[]byte("PK\x03\x04 not a zip"), "body"},
		"not json":       {[]byte("{"), "body"},
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
