package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

// The succession fixtures: on 1/7/2025 the district level is abolished; on Friday 4/7/2025 the
// province hands the open dossiers of the abolished bodies to their successors.
const (
	successor       = "000.00.51.H56" // the new ward (or centre) that takes over
	successionBasis = "Nghị quyết 1686/NQ-UBTVQH15 về sắp xếp các đơn vị hành chính cấp xã của tỉnh Thanh Hóa năm 2025"
)

var (
	successionEffective = vn(2025, time.July, 1, 0, 0)
	succeededAt         = vn(2025, time.July, 4, 9, 0)
)

func succeed(from string, units map[string]string) domain.SucceedAgency {
	return domain.SucceedAgency{From: from, To: successor, Basis: successionBasis, EffectiveDate: successionEffective, Units: units, At: succeededAt}
}

func succeeded(from string, receiving, competent bool, before, after domain.Handler, parts ...string) domain.AgencySucceeded {
	return domain.AgencySucceeded{FromAgency: from, ToAgency: successor, Basis: successionBasis, EffectiveDate: successionEffective,
		SucceededAt: succeededAt, Receiving: receiving, Competent: competent, FromHolder: before, ToHolder: after, Parts: parts}
}

func successionTransitions() []transitionCase {
	processing := []domain.Event{received(), transferred()}
	desk := domain.Handler{Unit: receivingUnit}
	successorDesk := domain.Handler{Unit: successor}
	specialistThere := domain.Handler{Unit: "P.KT", OfficialID: specialist.OfficialID, OfficialName: specialist.OfficialName}
	specialistAtSuccessor := domain.Handler{Unit: successor, OfficialID: specialist.OfficialID, OfficialName: specialist.OfficialName}
	return []transitionCase{
		{
			name:  "the abolished centre's online submission passes to the successor before it is accepted",
			given: []domain.Event{submitted()},
			when:  succeed(receivingUnit, nil),
			then:  []domain.Event{succeeded(receivingUnit, true, false, desk, successorDesk)},
		},
		{
			name:  "a received dossier of an abolished ward passes, the centre's desk keeps holding it",
			given: []domain.Event{received()},
			when:  succeed(competentAgency, nil),
			then:  []domain.Event{succeeded(competentAgency, false, true, desk, desk)},
		},
		{
			name:  "the abolished ward's department passes to the successor's department the command names",
			given: processing,
			when:  succeed(competentAgency, map[string]string{"KTHTDT": "P.KT"}),
			then:  []domain.Event{succeeded(competentAgency, false, true, specialist, specialistThere)},
		},
		{
			name:  "a dossier waiting for the applicant's supplement passes",
			given: []domain.Event{received(), supplementRequested()},
			when:  succeed(competentAgency, nil),
			then:  []domain.Event{succeeded(competentAgency, false, true, desk, desk)},
		},
		{
			name:  "a dossier awaiting payment passes, a department not mapped goes to the successor itself",
			given: extend(processing, feeAssessed()),
			when:  succeed(competentAgency, nil),
			then:  []domain.Event{succeeded(competentAgency, false, true, specialist, specialistAtSuccessor)},
		},
		{
			name:  "a suspended dossier passes",
			given: extend(processing, suspended()),
			when:  succeed(competentAgency, nil),
			then:  []domain.Event{succeeded(competentAgency, false, true, specialist, specialistAtSuccessor)},
		},
		{
			name:  "a result waiting at the abolished centre's desk passes to the successor's desk",
			given: extend(processing, appraised(domain.ConclusionApprove), signed(), resultReady()),
			when:  succeed(receivingUnit, nil),
			then:  []domain.Event{succeeded(receivingUnit, true, false, desk, successorDesk)},
		},
		{
			name:  "a consulted department that merged away hands its open part to the successor",
			given: extend(processing, parallelStarted()),
			when:  succeed(consultedAgency, nil),
			then:  []domain.Event{succeeded(consultedAgency, false, false, specialist, specialist, "Ý kiến Sở Xây dựng")},
		},
	}
}

func TestAgencySuccessionTransitions(t *testing.T) { runTransitions(t, successionTransitions()) }

func TestSuccessionMovesEveryPlaceTheAbolishedAgencyHeld(t *testing.T) {
	given := extend([]domain.Event{received(), transferred()}, parallelStarted())
	d := domain.Fold(given...)
	if !d.AgencyInvolved(competentAgency) {
		t.Fatal("fixture: the ward is not involved before the succession")
	}
	events, err := domain.Decide(d, succeed(competentAgency, map[string]string{"KTHTDT": "P.KT"}))
	if err != nil {
		t.Fatal(err)
	}
	after := domain.Fold(append(given, events...)...)
	if after.AgencyInvolved(competentAgency) {
		t.Error("the abolished ward's officials still act on the dossier")
	}
	if !after.AgencyInvolved(successor) || after.CompetentAgency != successor || after.ResponsibleAgency() != successor {
		t.Errorf("the successor does not decide the dossier: competent %s, responsible %s", after.CompetentAgency, after.ResponsibleAgency())
	}
	if after.Holder.Unit != "P.KT" || after.Holder.OfficialID != specialist.OfficialID {
		t.Errorf("holder = %+v, want the successor's P.KT with the same official", after.Holder)
	}
	if after.Code != d.Code || after.ReceivingUnit != receivingUnit || after.Status != d.Status || after.AppointmentDate != d.AppointmentDate {
		t.Errorf("the succession changed what it must not: %+v", after)
	}
	// The ward's own part of the parallel step passes with it; the departments' parts stay theirs.
	for _, p := range after.OpenParts {
		if p.Agency == competentAgency {
			t.Errorf("open part %q still at the abolished ward", p.Step)
		}
	}
}

func TestSuccessionRefusals(t *testing.T) {
	t.Run("an agency with no part in the dossier has nothing to hand over", func(t *testing.T) {
		te := thenRefused(t, []domain.Event{received()}, succeed(consultedAgency, nil))
		if te.Reason == "" {
			t.Error("the refusal does not say why")
		}
	})
	t.Run("a second run finds the dossier already handed over", func(t *testing.T) {
		first := succeeded(competentAgency, false, true, domain.Handler{Unit: receivingUnit}, domain.Handler{Unit: receivingUnit})
		thenRefused(t, []domain.Event{received(), first}, succeed(competentAgency, nil))
	})
	for _, status := range []domain.Status{domain.StatusResultReturned, domain.StatusWithdrawn, domain.StatusRejected, domain.StatusReceptionRefused} {
		t.Run("a closed dossier stays with the agency that closed it: "+string(status), func(t *testing.T) {
			thenRefused(t, historyIn(status), succeed(receivingUnit, nil))
		})
	}
	future := succeed(competentAgency, nil)
	future.EffectiveDate = succeededAt.Add(24 * time.Hour)
	same := succeed(competentAgency, nil)
	same.To = competentAgency
	runInvalid(t, []invalidCase{
		{name: "no basis", given: []domain.Event{received()}, when: func() domain.Command { c := succeed(competentAgency, nil); c.Basis = ""; return c }(), fields: []string{"basis"}},
		{name: "codes that are not QCVN 102", given: []domain.Event{received()},
			when:   domain.SucceedAgency{From: "huyện cũ", To: "xã mới", Basis: successionBasis, EffectiveDate: successionEffective, At: succeededAt},
			fields: []string{"from", "to"}},
		{name: "an agency succeeding itself", given: []domain.Event{received()}, when: same, fields: []string{"to"}},
		{name: "a decision not yet in force", given: []domain.Event{received()}, when: future, fields: []string{"effective_date"}},
		{name: "a unit mapped to nothing", given: []domain.Event{received()}, when: succeed(competentAgency, map[string]string{"KTHTDT": ""}),
			fields: []string{"units[KTHTDT]"}},
	})
	var e *domain.Error
	if err := domain.CheckSuccession(domain.SucceedAgency{}); !errors.As(err, &e) || len(e.Fields) < 4 {
		t.Errorf("CheckSuccession of nothing = %v, want every field at fault", err)
	}
}
