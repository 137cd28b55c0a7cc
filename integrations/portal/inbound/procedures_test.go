package inbound_test

import (
	"strings"
	"testing"

	"github.com/motcua/motcua/integrations/portal/inbound"
)

func TestProcedureListRefusesWhatItCannotReadWhole(t *testing.T) {
	good := `{"MaTTHC": "1.013225", "TenTTHC": "Cấp giấy phép xây dựng", "ThoiHanGiaiQuyet": {"SoLuong": 15, "DonViTinh": "ngay_lam_viec"}}`
	for _, c := range []struct{ name, body, want string }{
		{"the portal's error", `{"error_code": 401, "message": "Sai mã ứng dụng", "result": []}`, "error 401"},
		{"an unknown key", `{"error_code": 0, "result": [{"MaTTHC": "1", "TenTTHC": "x", "ThoiHanGiaiQuyet": {"DonViTinh": "trong_ngay"}, "Khac": 1}]}`, "Khac"},
		{"listed twice", `{"error_code": 0, "result": [` + good + `,` + good + `]}`, "listed twice"},
		{"no name", `{"error_code": 0, "result": [{"MaTTHC": "1.0", "ThoiHanGiaiQuyet": {"DonViTinh": "trong_ngay"}}]}`, "TenTTHC"},
		{"an unknown unit of time", `{"error_code": 0, "result": [{"MaTTHC": "1.0", "TenTTHC": "x", "ThoiHanGiaiQuyet": {"SoLuong": 3, "DonViTinh": "tuan"}}]}`, "ThoiHanGiaiQuyet"},
		{"half a working day", `{"error_code": 0, "result": [{"MaTTHC": "1.0", "TenTTHC": "x", "ThoiHanGiaiQuyet": {"SoLuong": 2.5, "DonViTinh": "ngay_lam_viec"}}]}`, "whole number"},
		{"a negative fee", `{"error_code": 0, "result": [{"MaTTHC": "1.0", "TenTTHC": "x", "ThoiHanGiaiQuyet": {"DonViTinh": "trong_ngay"}, "PhiLePhi": [{"TenPhiLePhi": "y", "MucPhi": -1}]}]}`, "MucPhi"},
	} {
		_, err := inbound.ParseProcedureList([]byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", c.name, err, c.want)
		}
	}
	list, err := inbound.ParseProcedureList([]byte(`{"error_code": 0, "result": [` + good + `]}`))
	if err != nil || len(list.Result) != 1 {
		t.Fatalf("a good list: %v", err)
	}
}
