package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

func successionCatalog(successions string) string {
	return `{"agencies": [
		{"code": "000.00.41.H56", "name": "UBND huyện Đông Sơn (cũ)"` + successions + `},
		{"code": "000.00.51.H56", "name": "UBND xã Đông Sơn"},
		{"code": "000.00.52.H56", "name": "UBND xã Đông Tiến"}],
	 "procedures": []}`
}

func TestCatalogRemapsAnAbolishedAgencyFromItsDate(t *testing.T) {
	c, err := domain.ParseCatalog([]byte(successionCatalog(`, "succeeded_by": {"agency": "000.00.51.H56", "from": "2025-07-01",
		"basis": "Nghị quyết 1686/NQ-UBTVQH15"}`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	before, at := vn(2025, time.June, 30, 23, 59), vn(2025, time.July, 1, 0, 0)
	if got := c.SuccessorAt("000.00.41.H56", before); got != "000.00.41.H56" || c.Ceased("000.00.41.H56", before) {
		t.Errorf("before the date: successor %s", got)
	}
	if got := c.SuccessorAt("000.00.41.H56", at); got != "000.00.51.H56" || !c.Ceased("000.00.41.H56", at) {
		t.Errorf("from the date: successor %s", got)
	}
	if got := c.SuccessorAt("000.00.52.H56", at); got != "000.00.52.H56" {
		t.Errorf("an agency without a succession maps to %s", got)
	}
	s, ok := c.SuccessionOf("000.00.41.H56")
	if !ok || !s.EffectiveDate().Equal(at) || s.Basis == "" {
		t.Errorf("SuccessionOf = %+v, %v", s, ok)
	}
}

func TestCatalogRefusesABadSuccession(t *testing.T) {
	for _, tc := range []struct{ name, succession, field string }{
		{"unknown successor", `, "succeeded_by": {"agency": "000.00.99.H56", "from": "2025-07-01", "basis": "NQ"}`, "agencies[0].succeeded_by.agency"},
		{"itself", `, "succeeded_by": {"agency": "000.00.41.H56", "from": "2025-07-01", "basis": "NQ"}`, "agencies[0].succeeded_by.agency"},
		{"no date", `, "succeeded_by": {"agency": "000.00.51.H56", "from": "1/7/2025", "basis": "NQ"}`, "agencies[0].succeeded_by.from"},
		{"no basis", `, "succeeded_by": {"agency": "000.00.51.H56", "from": "2025-07-01", "basis": ""}`, "agencies[0].succeeded_by.basis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := domain.ParseCatalog([]byte(successionCatalog(tc.succession)), nil)
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("ParseCatalog = %v, want an error naming %s", err, tc.field)
			}
		})
	}
	circle := `{"agencies": [
		{"code": "000.00.41.H56", "name": "A", "succeeded_by": {"agency": "000.00.51.H56", "from": "2025-07-01", "basis": "NQ"}},
		{"code": "000.00.51.H56", "name": "B", "succeeded_by": {"agency": "000.00.41.H56", "from": "2025-07-01", "basis": "NQ"}}],
	 "procedures": []}`
	if _, err := domain.ParseCatalog([]byte(circle), nil); err == nil || !strings.Contains(err.Error(), "circle") {
		t.Errorf("a circle of successions: %v", err)
	}
}
