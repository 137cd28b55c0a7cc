package projections

import (
	"database/sql"
	"testing"
)

// TestPlainSanitizesTextAndLeavesCleanTextUnboxed checks what a flush binds: text with a character
// no field may hold comes out replaced, NULL wrappers unwrapped, and clean text — nearly every value
// a catch-up writes — as the interface it came in, without an allocation per value.
func TestPlainSanitizesTextAndLeavesCleanTextUnboxed(t *testing.T) {
	cases := []struct {
		in   any
		want any
	}{
		{"Nguyễn Văn A", "Nguyễn Văn A"},
		{"a\x00b", "a\uFFFDb"},
		{"bad \xff byte", "bad \uFFFD byte"},
		{sql.NullString{String: "x\x01", Valid: true}, "x\uFFFD"},
		{sql.NullString{}, nil},
		{sql.NullInt64{Int64: 7, Valid: true}, int64(7)},
		{sql.NullFloat64{}, nil},
		{int64(1 << 40), int64(1 << 40)},
	}
	for _, c := range cases {
		if got := plain(c.in); got != c.want {
			t.Errorf("plain(%#v) = %#v, want %#v", c.in, got, c.want)
		}
	}
	var clean any = "000.00.00.H56 — Trung tâm Phục vụ hành chính công"
	var out any
	if allocs := testing.AllocsPerRun(100, func() { out = plain(clean) }); allocs != 0 {
		t.Errorf("plain of clean text: %.0f allocations per value, want 0", allocs)
	}
	_ = out
}
