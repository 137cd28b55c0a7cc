package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/domaintest"
)

// catalogGoldenExamples are one event of each catalog type with every member set.
func catalogGoldenExamples(at func(hours int) time.Time) []domain.Event {
	change := domain.CatalogChange{Basis: "Quyết định 1234/QĐ-UBND ngày 01/3/2026 của Chủ tịch UBND tỉnh Thanh Hóa",
		EffectiveFrom: at(-9), InForceFrom: at(0), RecordedAt: at(0)}
	agency := domain.Agency{Code: "000.00.41.H56", Name: "Ủy ban nhân dân phường Hạc Thành",
		Departments: []domain.Department{{Code: "P.KTHTĐT", Name: "Phòng Kinh tế, Hạ tầng và Đô thị"}},
		SucceededBy: &domain.AgencySuccession{Agency: "000.00.51.H56", From: "2025-07-01", Basis: "Nghị quyết 1686/NQ-UBTVQH15"},
		Territory:   []string{"000.00.62.H56"}}
	procedure := domain.Procedure{Code: "1.013225", Name: "Cấp giấy phép xây dựng nhà ở riêng lẻ",
		Field: domain.Field{Code: "H56-HDXD", Name: "Hoạt động xây dựng"}, CompetentAgency: "000.00.41.H56",
		ResolutionTime: domain.ResolutionTime{Days: 15, Hours: 4, SameDay: true},
		Fees:           []domain.Fee{{Name: "Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ", Amount: 75000}},
		Components:     []domain.RequiredComponent{{Name: "Đơn đề nghị cấp giấy phép xây dựng", Copies: 1, Original: true}},
		OnlineLevel:    "partial",
		Workflow: []domain.WorkflowStep{{Name: "Lấy ý kiến", Unit: "P.KTHTĐT", Role: "specialist", AllottedHours: 4,
			Parallel: []domain.WorkflowStep{{Name: "Ý kiến Sở Xây dựng", Unit: "000.00.17.H56", Role: "specialist", AllottedHours: 56}}}},
		ResultType:   "Giấy phép xây dựng",
		BoundaryFree: &domain.BoundaryFree{Centres: []string{"000.00.61.H56"}, ForwardingHours: 8},
	}
	return []domain.Event{
		domain.CatalogImported{Change: change, Source: domain.CatalogSourceNationalPortal, Agencies: []domain.Agency{agency},
			Procedures: []domain.Procedure{procedure}, WithdrawnProcedures: []string{"2.000635"}},
		domain.CatalogProcedurePublished{Change: change, Procedure: procedure, Replaces: 3},
		domain.CatalogProcedureWithdrawn{Change: change, Code: "2.000635", Replaces: 4},
		domain.CatalogAgencyPublished{Change: change, Agency: agency, Replaces: 5},
		domain.CatalogAgencyWithdrawn{Change: change, Code: "000.00.18.H56", Replaces: 6},
	}
}

var (
	seedAt    = time.Date(2025, time.January, 2, 8, 0, 0, 0, domain.VietnamTime)
	decidedAt = time.Date(2025, time.March, 3, 9, 0, 0, 0, domain.VietnamTime)
	effective = time.Date(2025, time.March, 12, 0, 0, 0, 0, domain.VietnamTime)
)

// seededHistory is the test catalog recorded as the first start records its seed file.
func seededHistory(t *testing.T) *domain.CatalogHistory {
	t.Helper()
	c := domaintest.Catalog(t, nil)
	h := &domain.CatalogHistory{}
	events, err := domain.DecideCatalog(h, domain.ImportCatalog{CatalogTerms: domain.CatalogTerms{At: seedAt},
		Source: domain.CatalogSourceSeed, Agencies: c.Agencies, Procedures: c.Procedures})
	if err != nil {
		t.Fatal(err)
	}
	h.Evolve(1, events[0])
	return h
}

func amendFee(t *testing.T, h *domain.CatalogHistory, replaces uint64, amount int64) ([]domain.Event, error) {
	t.Helper()
	c := h.At(decidedAt, h.Revision)
	code := c.ProcedureCodes()[0]
	p, _ := c.Procedure(code)
	p.Fees = []domain.Fee{{Name: "Lệ phí", Amount: amount}}
	return domain.DecideCatalog(h, domain.PublishProcedure{
		CatalogTerms: domain.CatalogTerms{Basis: "Quyết định 456/QĐ-UBND", EffectiveFrom: effective, At: decidedAt},
		Procedure:    p, Replaces: replaces})
}

// An amendment with a date of effect applies from that date: the catalog before it keeps the old
// fee, a revision recorded before it never sees it, and the version it replaced stays in the history.
func TestCatalogAsOfADateAppliesEachChangeFromItsDateOfEffect(t *testing.T) {
	h := seededHistory(t)
	code := h.At(decidedAt, 1).ProcedureCodes()[0]
	before, _ := h.At(decidedAt, 1).Procedure(code)
	events, err := amendFee(t, h, 1, 999000)
	if err != nil {
		t.Fatal(err)
	}
	h.Evolve(2, events[0])
	on := func(at time.Time, upTo uint64) int64 { p, _ := h.At(at, upTo).Procedure(code); return p.TotalFees() }
	if got := on(effective.Add(-time.Second), 2); got != before.TotalFees() {
		t.Errorf("the day before its effect the fee is %d, want the old %d", got, before.TotalFees())
	}
	if got := on(effective, 2); got != 999000 {
		t.Errorf("from its date of effect the fee is %d, want 999000", got)
	}
	if got := on(effective.AddDate(0, 1, 0), 1); got != before.TotalFees() {
		t.Errorf("revision 1 knows fee %d, want the old %d", got, before.TotalFees())
	}
	if next := h.NextChangeAfter(decidedAt); !next.Equal(effective) {
		t.Errorf("next change after the decision at %v, want %v", next, effective)
	}
	versions := h.VersionsOf(domain.CatalogKindProcedure, code)
	if len(versions) != 2 || versions[1].Replaces != 1 || versions[1].Change.Basis != "Quyết định 456/QĐ-UBND" {
		t.Fatalf("history of %s = %+v", code, versions)
	}
}

// Two admins amend the same version: the second one's change names a replaced version, so it is
// a conflict, not a silent overwrite.
func TestCatalogAmendmentOfAReplacedVersionConflicts(t *testing.T) {
	h := seededHistory(t)
	first, err := amendFee(t, h, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	h.Evolve(2, first[0])
	_, err = amendFee(t, h, 1, 200)
	if domain.ErrorCodeOf(err) != domain.ECONFLICT {
		t.Fatalf("second amendment of revision 1: %v, want a conflict", err)
	}
}

// A change that leaves a bad catalog is refused with the request's field at fault, and a change
// without basis or date of effect is refused too.
func TestCatalogChangeIsCheckedAsACatalogFile(t *testing.T) {
	h := seededHistory(t)
	c := h.At(decidedAt, 1)
	p, _ := c.Procedure(c.ProcedureCodes()[0])
	p.CompetentAgency = "000.00.99.H99"
	terms := domain.CatalogTerms{Basis: "QĐ 1", EffectiveFrom: effective, At: decidedAt}
	_, err := domain.DecideCatalog(h, domain.PublishProcedure{CatalogTerms: terms, Procedure: p, Replaces: 1})
	assertField(t, err, "procedure.competent_agency")
	_, err = domain.DecideCatalog(h, domain.PublishProcedure{CatalogTerms: domain.CatalogTerms{At: decidedAt}, Procedure: p, Replaces: 1})
	assertField(t, err, "basis")
	assertField(t, err, "effective_from")
	// Withdrawing an agency a procedure still names leaves that procedure without its agency.
	named, _ := c.Procedure(c.ProcedureCodes()[0])
	_, err = domain.DecideCatalog(h, domain.WithdrawAgency{CatalogTerms: terms, Code: named.CompetentAgency, Replaces: 1})
	assertField(t, err, "procedures["+named.Code+"].competent_agency")
	// An agency without a name, or whose code is not a QCVN 102 identifier, is refused on the
	// request's own field.
	_, err = domain.DecideCatalog(h, domain.PublishAgency{CatalogTerms: terms, Agency: domain.Agency{Code: "000.00.77.H56", Name: " "}})
	assertField(t, err, "agency.name")
	_, err = domain.DecideCatalog(h, domain.PublishAgency{CatalogTerms: terms, Agency: domain.Agency{Code: "SXD", Name: "Sở Xây dựng"}})
	assertField(t, err, "agency.code")
}

func assertField(t *testing.T, err error, field string) {
	t.Helper()
	var e *domain.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want a field error on %s", err, field)
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("field errors %+v do not name %s", e.Fields, field)
}

// An amendment scheduled for the 12th, then amended again (replacing it) from the 5th: from the 5th
// the second applies, and it still does after the 12th — the version it replaced never comes back.
func TestCatalogAmendmentOfAScheduledVersionSupersedesIt(t *testing.T) {
	h := seededHistory(t)
	code := h.At(decidedAt, 1).ProcedureCodes()[0]
	first, err := amendFee(t, h, 1, 300000) // from the 12th
	if err != nil {
		t.Fatal(err)
	}
	h.Evolve(2, first[0])
	p, _ := h.At(decidedAt, 2).Procedure(code)
	p.Fees = []domain.Fee{{Name: "Lệ phí", Amount: 200000}}
	fifth := time.Date(2025, time.March, 5, 0, 0, 0, 0, domain.VietnamTime)
	second, err := domain.DecideCatalog(h, domain.PublishProcedure{
		CatalogTerms: domain.CatalogTerms{Basis: "Quyết định 500/QĐ-UBND", EffectiveFrom: fifth, At: decidedAt.Add(time.Hour)},
		Procedure:    p, Replaces: 2})
	if err != nil {
		t.Fatal(err)
	}
	h.Evolve(3, second[0])
	for _, at := range []time.Time{fifth, effective, effective.AddDate(1, 0, 0)} {
		if p, _ := h.ProcedureAt(code, at, 3); p.TotalFees() != 200000 {
			t.Errorf("on %v the fee is %d, want the second amendment's 200000", at, p.TotalFees())
		}
		if p, _ := h.At(at, 3).Procedure(code); p.TotalFees() != 200000 {
			t.Errorf("the catalog of %v has fee %d, want 200000", at, p.TotalFees())
		}
	}
	if p, _ := h.ProcedureAt(code, effective, 2); p.TotalFees() != 300000 {
		t.Errorf("revision 2 knew fee %d from the 12th, want 300000", p.TotalFees())
	}
}
