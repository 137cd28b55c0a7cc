package domain

import (
	"fmt"
	"time"
)

// AgencySuccession re-maps an agency code of the catalog to its successor from a date of effect
// (docs/catalog.md, "Agencies that cease to exist"): from that day the old agency receives nothing,
// a procedure it decided is decided by the successor, and `motcua agency succeed` hands over its
// open dossiers.
type AgencySuccession struct {
	Agency string `json:"agency"` // the successor, a catalog agency
	From   string `json:"from"`   // the date of effect, YYYY-MM-DD (Vietnam time)
	Basis  string `json:"basis"`  // the decision that abolished or merged the agency

	effective time.Time
}

// EffectiveDate is the first moment (Vietnam midnight) the succession is in force.
func (s AgencySuccession) EffectiveDate() time.Time { return s.effective }

// checkSuccessions checks every agency's succession and fixes its date; a chain of successions
// must end at an agency that still exists.
func (c *Catalog) checkSuccessions(v *Validation) {
	for i := range c.Agencies {
		s := c.Agencies[i].SucceededBy
		if s == nil {
			continue
		}
		at := fmt.Sprintf("agencies[%d].succeeded_by", i)
		v.Check(c.agencies[s.Agency] != nil && s.Agency != c.Agencies[i].Code, at+".agency", "%q is not another catalog agency", s.Agency)
		day, err := time.ParseInLocation(time.DateOnly, s.From, VietnamTime)
		v.Check(err == nil, at+".from", "%q is not a date YYYY-MM-DD", s.From)
		s.effective = day
		checkText(v, at+".basis", s.Basis, true, 2000)
		if c.agencies[c.Agencies[i].Code] == &c.Agencies[i] {
			seen := map[string]bool{c.Agencies[i].Code: true}
			for next := s.Agency; next != ""; {
				if seen[next] {
					v.Add(at+".agency", "the successions from %s go round in a circle", c.Agencies[i].Code)
					break
				}
				seen[next] = true
				a := c.agencies[next]
				if a == nil || a.SucceededBy == nil {
					break
				}
				next = a.SucceededBy.Agency
			}
		}
	}
}

// SuccessionOf returns the succession the catalog records for agency, if any.
func (c *Catalog) SuccessionOf(agency string) (AgencySuccession, bool) {
	a := c.agencies[agency]
	if a == nil || a.SucceededBy == nil {
		return AgencySuccession{}, false
	}
	return *a.SucceededBy, true
}

// SuccessorAt is the agency that stands for agency at the moment at: agency itself while it
// exists, else its successor's successor at that moment, and so on.
func (c *Catalog) SuccessorAt(agency string, at time.Time) string {
	for range len(c.agencies) + 1 {
		s, ok := c.SuccessionOf(agency)
		if !ok || at.Before(s.effective) {
			return agency
		}
		agency = s.Agency
	}
	return agency
}

// Ceased reports whether agency no longer exists at the moment at.
func (c *Catalog) Ceased(agency string, at time.Time) bool {
	return c.SuccessorAt(agency, at) != agency
}
