package httpkit

import "testing"

func TestNeutraliseCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2": "'=1+2", "+1+2": "'+1+2", "-1+2": "'-1+2", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"-2.50": "-2.50", "+3": "+3", "": "", "Nguyễn Văn An": "Nguyễn Văn An", "a=b": "a=b", "'quoted": "'quoted",
	} {
		if got := neutraliseCSVCell(in); got != want {
			t.Errorf("neutraliseCSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}
