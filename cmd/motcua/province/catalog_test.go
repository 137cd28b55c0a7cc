package province

import (
	"bytes"
	"testing"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain/calendar"
)

// The same seed gives the same catalog, about 300 procedures over 20 agencies whose workflows fit
// their statutory times (NewCatalog parses what it wrote), and every agency has the officials its
// procedures need.
func TestCatalogIsAProvinceAndDeterministic(t *testing.T) {
	cal := calendar.Default()
	a, err := NewCatalog(3, cal)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCatalog(3, cal)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.JSON, b.JSON) {
		t.Fatal("the same seed made two catalogs")
	}
	if other, _ := NewCatalog(4, cal); bytes.Equal(a.JSON, other.JSON) {
		t.Fatal("another seed made the same catalog")
	}
	if len(a.Agencies) != 20 || len(a.Procedures) < 280 || len(a.Procedures) > 320 {
		t.Fatalf("%d agencies, %d procedures", len(a.Agencies), len(a.Procedures))
	}
	officials := NewOfficials(a.Catalog)
	for _, p := range a.Procedures {
		unit := ReceivingUnit(a.Catalog, p)
		for _, role := range []commands.Role{commands.RoleReception, commands.RoleCashier} {
			if _, ok := officials.Pick(unit, role, 0); !ok {
				t.Errorf("%s: its desk %s has no %s", p.Code, unit, role)
			}
		}
		for _, role := range []commands.Role{commands.RoleSpecialist, commands.RoleHead, commands.RoleSigner} {
			if _, ok := officials.Pick(p.CompetentAgency, role, 0); !ok {
				t.Errorf("%s: %s has no %s", p.Code, p.CompetentAgency, role)
			}
		}
	}
}
