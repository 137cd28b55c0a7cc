package demo

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
)

func TestDemoCatalogParses(t *testing.T) {
	cal := calendar.Default()
	c, err := Catalog(cal)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Procedures); n < 5 || n > 6 {
		t.Errorf("%d procedures, want 5 or 6", n)
	}
	// The seeder receives every demo dossier at the province's Public Service Centre, found by name,
	// and gives the inspector and administrator the first agency.
	if psc := c.Agencies[0]; !strings.Contains(psc.Name, "Phục vụ hành chính công") || !domain.ValidUnitCode(psc.Code) {
		t.Errorf("first agency %+v is not the Public Service Centre", psc)
	}
	nationalCode := regexp.MustCompile(`^[1-3]\.[0-9]{6}$`)
	roles := []string{"reception", "specialist", "head", "signer"}
	interAgency, parallel := 0, 0
	for _, p := range c.Procedures {
		t.Run(p.Code, func(t *testing.T) {
			if !nationalCode.MatchString(p.Code) {
				t.Errorf("code %q is not a national procedure database code", p.Code)
			}
			if p.Field.Code == "" || p.Field.Name == "" || p.ResultType == "" || len(p.Components) == 0 {
				t.Errorf("incomplete procedure %+v", p)
			}
			if p.OnlineLevel != "full" && p.OnlineLevel != "partial" {
				t.Errorf("online level %q", p.OnlineLevel)
			}
			for _, f := range p.Fees {
				if f.Name == "" || f.Amount <= 0 || f.Amount%1000 != 0 {
					t.Errorf("fee %+v is not a whole number of thousands of đồng", f)
				}
			}
			competent, ok := c.Agency(p.CompetentAgency)
			if !ok {
				t.Fatalf("competent agency %s is not in the catalog", p.CompetentAgency)
			}
			// Every step and every part of a parallel step is done by a department of the competent
			// agency or by another agency of the catalog; reception and return, and only they, at the desk.
			checkUnit := func(step domain.WorkflowStep) {
				if !slices.Contains(roles, step.Role) {
					t.Errorf("step %q has role %q", step.Name, step.Role)
				}
				if other, isAgency := c.Agency(step.Unit); isAgency && other.Code != competent.Code {
					interAgency++
					return
				}
				if !slices.ContainsFunc(competent.Departments, func(d domain.Department) bool { return d.Code == step.Unit }) {
					t.Errorf("step %q is done by %q, neither a department of %s nor another agency", step.Name, step.Unit, competent.Name)
				}
			}
			for i, step := range p.Workflow {
				first, last := i == 0, i == len(p.Workflow)-1
				if (first || last) != (step.Unit == c.Agencies[0].Code && step.Role == "reception") {
					t.Errorf("step %d %q (%s, %s): reception and return belong to the centre's desk, and only they", i, step.Name, step.Unit, step.Role)
				}
				if first || last {
					continue
				}
				if !step.IsParallel() {
					checkUnit(step)
					continue
				}
				parallel++
				for _, part := range step.Parallel {
					checkUnit(part)
				}
			}
			if got := p.Workflow[1].Role; got != "specialist" {
				t.Errorf("the second step is done by a %s; the seeder appraises there", got)
			}
			// The demo's internal processes use exactly the statutory time on their critical path; a
			// same-day one fits the two hours between the 15:00 cut-off and the close of the day, so a
			// dossier received at the cut-off is still done the same day.
			limit := p.ResolutionTime.WorkingTime(cal).Hours()
			if p.ResolutionTime.SameDay {
				limit = cal.WorkingTimeBetween(vn(t, "2026-03-10 15:00"), vn(t, "2026-03-10 17:00")).Hours()
			}
			if p.CriticalPathHours() != limit {
				t.Errorf("the critical path allots %.2f h of %.2f h", p.CriticalPathHours(), limit)
			}
		})
	}
	if interAgency < 2 || parallel == 0 {
		t.Errorf("%d inter-agency steps and %d parallel steps; the demo shows a consultation of two agencies at once", interAgency, parallel)
	}
	if !slices.ContainsFunc(c.Procedures, func(p domain.Procedure) bool { return len(p.Fees) == 0 }) {
		t.Error("every procedure has fees; the demo should show a free one too")
	}
}

// TestDemoCatalogFileIsClean checks what ParseCatalog lets through: unknown (misspelt) keys and
// text that is not NFC would silently give wrong data.
func TestDemoCatalogFileIsClean(t *testing.T) {
	if !norm.NFC.IsNormal(catalogJSON) {
		t.Error("catalog.json is not NFC-normalised")
	}
	dec := json.NewDecoder(bytes.NewReader(catalogJSON))
	dec.DisallowUnknownFields()
	var c domain.Catalog
	if err := dec.Decode(&c); err != nil {
		t.Errorf("catalog.json: %v", err)
	}
}

func TestDemoCatalogRefusesAWorkflowLongerThanTheLaw(t *testing.T) {
	// A calendar whose working day is one hour long makes every workflow too long: the check runs.
	short, err := calendar.ParseConfig([]byte(`{"sessions": [{"start": "08:00", "end": "09:00"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Catalog(short); err == nil || !strings.HasPrefix(err.Error(), "demo catalog: ") {
		t.Errorf("Catalog(one-hour days) = %v, want a demo catalog error", err)
	}
}
