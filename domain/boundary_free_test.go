package domain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

// The boundary-free fixtures: the ward's construction permit is received on Monday 10/3 08:00 at a
// commune centre outside the ward's territory; the applicant collects the result there, and the
// paper originals travel to the ward within one working day.
const farCentre = "000.00.61.H56" // a commune's one-stop centre in another part of the province

func boundaryFreeReceived() domain.BoundaryFreeReceived {
	return domain.BoundaryFreeReceived{ReceivingCentre: farCentre, CompetentAgency: competentAgency, CollectAt: farCentre,
		ForwardOriginals: true, ForwardingHours: 8,
		// 8 working hours from Monday 08:00: 3.5 h in the morning, 4 h in the afternoon, 0.5 h on Tuesday.
		ForwardingDeadline: vn(2025, time.March, 11, 8, 0), ReceivedAt: receivedAt, CalendarVersion: cal.Version()}
}

func receivedFar() domain.Received {
	e := received()
	e.ReceivingUnit = farCentre
	return e
}

func originalsArrived() domain.OriginalsArrived {
	return domain.OriginalsArrived{By: domain.Handler{Unit: competentAgency, OfficialID: "kt-11", OfficialName: "Trần Văn Bình"},
		ArrivedAt: now, ForwardingDeadline: boundaryFreeReceived().ForwardingDeadline, Note: "Đã nhận bản gốc qua bưu điện"}
}

func arrive() domain.RecordOriginalsArrived {
	return domain.RecordOriginalsArrived{By: originalsArrived().By, Note: originalsArrived().Note, At: now}
}

func boundaryFreeTransitions() []transitionCase {
	far := []domain.Event{receivedFar(), boundaryFreeReceived()}
	processing := extend(far, transferred())
	receive := domain.Receive{DossierID: dossierID, Code: dossierCode, Procedure: procedure(), Applicant: applicant(),
		Channel: domain.ChannelDirect, Components: components(), ReceivingUnit: farCentre, RatingSecretHash: domain.HashRatingSecret(ratingSecret),
		At: receivedAt, Calendar: cal, BoundaryFree: &domain.BoundaryFreeTerms{CollectAt: farCentre, ForwardOriginals: true}}
	noForwarding := receive
	noForwarding.BoundaryFree = &domain.BoundaryFreeTerms{CollectAt: receivingUnit}
	return []transitionCase{
		{name: "a boundary-free receipt records the centre, the competent agency, where to collect and the forwarding step",
			given: nil, when: receive, then: []domain.Event{receivedFar(), boundaryFreeReceived()}},
		{name: "a boundary-free receipt whose originals stay at the centre has no forwarding step",
			given: nil, when: noForwarding, then: []domain.Event{receivedFar(), domain.BoundaryFreeReceived{ReceivingCentre: farCentre,
				CompetentAgency: competentAgency, CollectAt: receivingUnit, ReceivedAt: receivedAt}}},
		{name: "the originals arrive before the dossier moves", given: far, when: arrive(), then: []domain.Event{originalsArrived()}},
		{name: "the originals arrive while the department appraises", given: processing, when: arrive(), then: []domain.Event{originalsArrived()}},
		{name: "the originals arrive while the applicant supplements", given: extend(far, supplementRequested()), when: arrive(),
			then: []domain.Event{originalsArrived()}},
		{name: "the originals arrive while fees are due", given: extend(processing, feeAssessed()), when: arrive(), then: []domain.Event{originalsArrived()}},
		{name: "the originals arrive while processing is suspended", given: extend(processing, suspended()), when: arrive(),
			then: []domain.Event{originalsArrived()}},
	}
}

func TestBoundaryFreeTransitions(t *testing.T) { runTransitions(t, boundaryFreeTransitions()) }

func TestBoundaryFreeRefusals(t *testing.T) {
	t.Run("an ordinary receipt has no originals on their way", func(t *testing.T) {
		thenRefused(t, []domain.Event{received()}, arrive())
	})
	t.Run("the originals arrive once", func(t *testing.T) {
		thenRefused(t, []domain.Event{receivedFar(), boundaryFreeReceived(), originalsArrived()}, arrive())
	})
	t.Run("originals that stayed at the centre do not arrive", func(t *testing.T) {
		b := boundaryFreeReceived()
		b.ForwardOriginals, b.ForwardingHours, b.ForwardingDeadline, b.CalendarVersion = false, 0, time.Time{}, ""
		thenRefused(t, []domain.Event{receivedFar(), b}, arrive())
	})
	bad := domain.Receive{DossierID: dossierID, Code: dossierCode, Procedure: procedure(), Applicant: applicant(),
		Channel: domain.ChannelDirect, Components: components(), ReceivingUnit: farCentre, RatingSecretHash: domain.HashRatingSecret(ratingSecret),
		At: receivedAt, Calendar: cal, BoundaryFree: &domain.BoundaryFreeTerms{CollectAt: "nhà văn hoá", ForwardingHours: 100}}
	runInvalid(t, []invalidCase{{name: "collect somewhere that is no centre, in too long", when: bad, fields: []string{"collect_at", "forwarding_hours"}}})
}

func TestBoundaryFreeResultGoesWhereTheApplicantCollects(t *testing.T) {
	b := boundaryFreeReceived()
	b.CollectAt = receivingUnit // the provincial centre, chosen by the applicant
	d := domain.Fold(receivedFar(), b, transferred(), appraised(domain.ConclusionApprove), signed(), resultReady())
	if d.Holder.Unit != receivingUnit || d.ReturnUnit() != receivingUnit || !d.AgencyInvolved(receivingUnit) {
		t.Errorf("the result waits at %s (return unit %s), want the centre the applicant chose", d.Holder.Unit, d.ReturnUnit())
	}
}

// boundaryCatalog: the ward's permit is boundary-free at the far centre; the far centre's territory
// is its own commune; the provincial centre declares no territory and receives as before.
func boundaryCatalog(t *testing.T, boundaryFree string) *domain.Catalog {
	t.Helper()
	text := `{"agencies": [
		{"code": "` + competentAgency + `", "name": "UBND phường Hạc Thành"},
		{"code": "` + farCentre + `", "name": "Trung tâm phục vụ hành chính công xã Nga Sơn", "territory": ["000.00.62.H56"]},
		{"code": "000.00.62.H56", "name": "UBND xã Nga Sơn"},
		{"code": "` + receivingUnit + `", "name": "Trung tâm Phục vụ hành chính công tỉnh"}],
	 "procedures": [
		{"code": "1.013225", "name": "Cấp giấy phép xây dựng", "competent_agency": "` + competentAgency + `", "resolution_days": 15,
		 "components": [], "online_level": "full", "workflow": [{"name": "Thẩm định", "unit": "` + competentAgency + `", "role": "specialist", "allotted_hours": 8}]` +
		boundaryFree + `},
		{"code": "1.000001", "name": "Thủ tục của xã", "competent_agency": "000.00.62.H56", "resolution_days": 3,
		 "components": [], "online_level": "full", "workflow": [{"name": "Thẩm định", "unit": "000.00.62.H56", "role": "specialist", "allotted_hours": 8}]}]}`
	c, err := domain.ParseCatalog([]byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReceiptRule(t *testing.T) {
	c := boundaryCatalog(t, `, "boundary_free": {"centres": ["`+farCentre+`"], "forwarding_hours": 16}`)
	permit, _ := c.Procedure("1.013225")
	commune, _ := c.Procedure("1.000001")
	for _, tc := range []struct {
		unit         string
		p            domain.Procedure
		boundaryFree bool
	}{
		{farCentre, commune, false},       // within its territory
		{farCentre, permit, true},         // listed boundary-free there
		{competentAgency, permit, false},  // the competent agency's own desk
		{receivingUnit, commune, false},   // a centre with no territory receives as before
		{"000.00.62.H56", commune, false}, // the commune's own desk
	} {
		got, err := c.ReceiptRule(tc.unit, tc.p)
		if err != nil || got != tc.boundaryFree {
			t.Errorf("ReceiptRule(%s, %s) = %v, %v; want %v", tc.unit, tc.p.Code, got, err, tc.boundaryFree)
		}
	}
	notListed := boundaryCatalog(t, "")
	permit, _ = notListed.Procedure("1.013225")
	_, err := notListed.ReceiptRule(farCentre, permit)
	if domain.ErrorCodeOf(err) != domain.ECONFLICT || !strings.Contains(err.Error(), domain.RuleBoundaryFree) || !strings.Contains(err.Error(), "NĐ 118/2025") {
		t.Errorf("a procedure not listed at the centre: %v; want a conflict naming the rule", err)
	}
	everywhere := boundaryCatalog(t, `, "boundary_free": {"centres": ["*"]}`)
	permit, _ = everywhere.Procedure("1.013225")
	if ok, err := everywhere.ReceiptRule(farCentre, permit); !ok || err != nil {
		t.Errorf("boundary-free at every centre: %v, %v", ok, err)
	}
}

func TestCatalogChecksBoundaryFreeListings(t *testing.T) {
	for _, tc := range []struct{ name, listing, field string }{
		{"no centre", `, "boundary_free": {"centres": []}`, "procedures[0].boundary_free.centres"},
		{"unknown centre", `, "boundary_free": {"centres": ["000.00.99.H56"]}`, "procedures[0].boundary_free.centres[0]"},
		{"too long a way", `, "boundary_free": {"centres": ["*"], "forwarding_hours": 200}`, "procedures[0].boundary_free.forwarding_hours"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := domain.ParseCatalog([]byte(strings.Replace(`{"agencies": [{"code": "`+competentAgency+`", "name": "P"}],
				"procedures": [{"code": "1", "name": "T", "competent_agency": "`+competentAgency+`", "resolution_days": 1, "components": [],
				"online_level": "full", "workflow": [{"name": "A", "unit": "`+competentAgency+`", "role": "specialist", "allotted_hours": 8}]LISTING}]}`, "LISTING", tc.listing, 1)), nil)
			var e *domain.Error
			if err == nil || !errors.As(err, &e) || !slices.ContainsFunc(e.Fields, func(f domain.FieldError) bool { return f.Field == tc.field }) {
				t.Errorf("ParseCatalog = %v, want a field error on %s", err, tc.field)
			}
		})
	}
}

func TestOriginalsArrivalIsListedWhileTheyTravel(t *testing.T) {
	travelling := domain.Fold(receivedFar(), boundaryFreeReceived())
	if !slices.Contains(domain.AllowedActions(travelling), domain.ActionOriginalsArrived) {
		t.Errorf("originals on their way: allowed %v", domain.AllowedActions(travelling))
	}
	arrived := domain.Fold(receivedFar(), boundaryFreeReceived(), originalsArrived())
	if slices.Contains(domain.AllowedActions(arrived), domain.ActionOriginalsArrived) || slices.Contains(domain.AllowedActions(arrived), domain.ActionSucceedAgency) {
		t.Errorf("after the arrival: allowed %v", domain.AllowedActions(arrived))
	}
}
