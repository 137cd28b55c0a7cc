package domain_test

import (
	"testing"

	"github.com/motcua/motcua/domain"
)

// BenchmarkSanitizeTextClean sanitises the clean values a read model's flush binds, in the mix
// they come in: instants, ids and codes (ASCII) beside Vietnamese names, addresses and steps.
func BenchmarkSanitizeTextClean(b *testing.B) {
	values := []string{
		"2026-03-02T01:00:00.000000Z", "0b9f2c1e-5d4a-4c3b-9e8f-7a6b5c4d3e2f", "000.00.00.H56-260302-0001",
		"000.00.06.H56", "received", "Nguyễn Văn An", "12 Lê Lợi, phường Điện Biên, Thanh Hóa",
		"Thẩm định hồ sơ", "Cấp giấy phép xây dựng đối với công trình cấp III, cấp IV", "PQLXD",
	}
	bytes := 0
	for _, v := range values {
		bytes += len(v)
	}
	b.SetBytes(int64(bytes))
	for b.Loop() {
		for _, v := range values {
			if domain.SanitizeText(v) != v {
				b.Fatal("a clean value changed")
			}
		}
	}
}
