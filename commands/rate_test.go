package commands_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

// Several ratings of one dossier at the same moment (two browser tabs, a double tap): the store's
// optimistic concurrency lets one in; the others lose the race, reload, find the dossier rated and
// are refused as a conflict. One Rated event is written.
func TestConcurrentRatingsOfOneDossierRecordOne(t *testing.T) {
	r := newAuthzRig(t)
	receipt, err := r.app.Receive(r.ctx, official(commands.RoleReception, authzCentre), authzReceipt(domain.ChannelDirect))
	if err != nil {
		t.Fatal(err)
	}
	id := receipt.DossierID
	r.then(id, official(commands.RoleReception, authzCentre), commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ"})
	r.then(id, official(commands.RoleSpecialist, authzBuilding), commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện"})
	r.then(id, official(commands.RoleSigner, authzBuilding), commands.SignInput{DocumentNumber: "12/GPXD", DocumentHash: strings.Repeat("ab", 32)})
	r.then(id, official(commands.RoleSigner, authzBuilding), commands.MarkResultReadyInput{})
	r.then(id, official(commands.RoleReception, authzCentre), commands.ReturnResultInput{Channel: domain.ChannelDirect})
	before := r.eventCount()

	const raters = 6
	errs := make([]error, raters)
	var wg sync.WaitGroup
	for i := range raters {
		wg.Go(func() {
			_, errs[i] = r.app.Rate(r.ctx, id, commands.RateInput{Secret: receipt.RatingSecret,
				Scores: map[domain.Criterion]domain.RatingLevel{domain.CriterionStaffAttitude: domain.Satisfied}})
		})
	}
	wg.Wait()
	var recorded int
	for _, err := range errs {
		switch {
		case err == nil:
			recorded++
		case domain.ErrorCodeOf(err) != domain.ECONFLICT:
			t.Errorf("a losing rating failed with %v, want a conflict", err)
		}
	}
	if recorded != 1 {
		t.Errorf("%d ratings succeeded, want exactly 1", recorded)
	}
	if wrote := r.eventCount() - before; wrote != 1 {
		t.Errorf("%d events written, want the one Rated", wrote)
	}
}
