package commands_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/eventstore/sqlite"
)

var catalogAdmin = commands.Caller{ID: "qt1", Name: "Quản trị", Roles: []commands.Role{commands.RoleAdmin}, Agency: centre}

const permit = "1.009972"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.at }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.at = t }

// startedApp is serve starting on store: the test catalog as the seed, the stream folded.
func startedApp(t *testing.T, store *sqlite.Store, c *clock) *commands.App {
	t.Helper()
	cal := calendar.Default()
	app := commands.New(store, domaintest.Catalog(t, cal), cal)
	app.Now, app.Logger = c.now, slog.New(slog.DiscardHandler)
	if _, err := app.SeedCatalog(context.Background(), domaintest.Catalog(t, cal)); err != nil {
		t.Fatal(err)
	}
	return app
}

// catalogStore is a fresh SQLite store and a clock at Monday 9 March 2026, 09:00, for the
// catalog's tests to start Apps on.
func catalogStore(t *testing.T) (*sqlite.Store, *clock) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), t.TempDir()+"/motcua.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store, &clock{at: time.Date(2026, time.March, 9, 9, 0, 0, 0, domain.VietnamTime)}
}

func amendPermitFee(t *testing.T, app *commands.App, caller commands.Caller, replaces uint64, amount int64, from string) (commands.CatalogResult, error) {
	t.Helper()
	p, ok := app.Catalog().Procedure(permit)
	if !ok {
		t.Fatal("the permit is not in the catalog")
	}
	p.Fees = []domain.Fee{{Name: "Lệ phí cấp giấy phép xây dựng", Amount: amount}}
	return app.PublishProcedure(context.Background(), caller, commands.PublishProcedureInput{
		CatalogTermsInput: commands.CatalogTermsInput{Basis: "Quyết định 812/QĐ-UBND ngày 10/3/2026", EffectiveFrom: from, Revision: replaces},
		Procedure:         p})
}

func assessCatalogFee(t *testing.T, app *commands.App, code string) int64 {
	t.Helper()
	res, err := app.Execute(context.Background(), reception, code, nil, commands.AssessFeeInput{})
	if err != nil {
		t.Fatalf("assess the fees of %s: %v", code, err)
	}
	return res.Dossier.FeesDue
}

// Amending a procedure's fee applies to the dossiers received once it is in force only: a dossier
// received before — even one whose fees are assessed after the change — keeps the fee of the
// version it was received under, which its receipt records; and so after a restart, which folds
// the catalog again from its stream (the seed file is not read again).
func TestAmendedFeeAppliesToDossiersReceivedAfterItOnly(t *testing.T) {
	ctx := context.Background()
	store, c := catalogStore(t)
	app := startedApp(t, store, c)

	before, err := app.Receive(ctx, reception, receiptInput("Nguyễn Văn An"))
	if err != nil {
		t.Fatal(err)
	}
	if before.Dossier.CatalogRevision != 1 {
		t.Fatalf("the receipt records catalog revision %d, want 1 (the seed)", before.Dossier.CatalogRevision)
	}
	c.set(c.now().Add(time.Hour))
	amended, err := amendPermitFee(t, app, catalogAdmin, 1, 300000, "2026-03-12")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, time.March, 12, 0, 0, 0, 0, domain.VietnamTime); amended.Revision != 2 || !amended.InForceFrom.Equal(want) {
		t.Fatalf("amendment = %+v, want revision 2 in force from %v", amended, want)
	}
	// Recorded, not yet in force: a dossier received now takes the fee of the day.
	between, err := app.Receive(ctx, reception, receiptInput("Trần Thị Bình"))
	if err != nil {
		t.Fatal(err)
	}
	c.set(time.Date(2026, time.March, 12, 9, 0, 0, 0, domain.VietnamTime))
	after, err := app.Receive(ctx, reception, receiptInput("Lê Văn Cường"))
	if err != nil {
		t.Fatal(err)
	}
	if after.Dossier.CatalogRevision != 2 {
		t.Fatalf("a receipt after the amendment records revision %d, want 2", after.Dossier.CatalogRevision)
	}
	if got := assessCatalogFee(t, app, before.Code); got != 150000 {
		t.Errorf("the dossier received before the amendment, assessed after it, owes %d, want the old 150000", got)
	}
	if got := assessCatalogFee(t, app, between.Code); got != 150000 {
		t.Errorf("the dossier received before the date of effect owes %d, want the old 150000", got)
	}
	if got := assessCatalogFee(t, app, after.Code); got != 300000 {
		t.Errorf("the dossier received after the amendment owes %d, want 300000", got)
	}

	// A restart: another App folds the stream again; its seed file is not applied again.
	restarted := startedApp(t, store, c)
	if p, _ := restarted.Catalog().Procedure(permit); p.TotalFees() != 300000 {
		t.Fatalf("after a restart the catalog's fee is %d, want the amended 300000", p.TotalFees())
	}
	for code, want := range map[string]int64{before.Code: 150000, between.Code: 150000, after.Code: 300000} {
		d, _, err := restarted.Load(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		p, ok, err := restarted.ProcedureOf(ctx, d)
		if err != nil || !ok || p.TotalFees() != want {
			t.Errorf("after a restart %s's procedure has fees %d (%v, %v), want %d", code, p.TotalFees(), ok, err, want)
		}
		if d.FeesDue != want {
			t.Errorf("after a restart %s owes %d, want %d", code, d.FeesDue, want)
		}
	}
}

// Two admins amend the same version at once: one wins, the other is refused with a conflict and
// writes nothing. Amendments of different procedures at once both pass (the loser of the append
// decides again on the newer catalog).
func TestConcurrentAmendmentsOfOneVersionConflict(t *testing.T) {
	ctx := context.Background()
	store, c := catalogStore(t)
	app := startedApp(t, store, c)
	other := startedApp(t, store, c) // a second node
	const racers = 6
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := app
			if i%2 == 1 {
				node = other
			}
			_, errs[i] = amendPermitFee(t, node, catalogAdmin, 1, int64(200000+i), "2026-03-09")
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case domain.ErrorCodeOf(err) != domain.ECONFLICT:
			t.Errorf("a losing amendment failed with %v, want a conflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d amendments of revision 1 won, want exactly 1 (%v)", won, errs)
	}
	if err := other.RefreshCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if got := other.CatalogHistory().Revision; got != 2 {
		t.Fatalf("the catalog is at revision %d, want 2: the losers wrote nothing", got)
	}

	// Different records at once: both pass.
	agency, _ := app.Catalog().Agency(centre)
	agency.Name += " (trụ sở mới)"
	errs = make([]error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, errs[0] = amendPermitFee(t, app, catalogAdmin, 2, 250000, "2026-03-09")
	}()
	go func() {
		defer wg.Done()
		_, errs[1] = other.PublishAgency(ctx, catalogAdmin, commands.PublishAgencyInput{
			CatalogTermsInput: commands.CatalogTermsInput{Basis: "Quyết định 900/QĐ-UBND", EffectiveFrom: "2026-03-09", Revision: 1}, Agency: agency})
	}()
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("changes of a procedure and of an agency at once: %v", errs)
	}
}

// Bad input is refused naming the field, and nothing is written; only admins change the catalog.
func TestCatalogChangeRefusesBadInputAndNonAdmins(t *testing.T) {
	ctx := context.Background()
	store, c := catalogStore(t)
	app := startedApp(t, store, c)
	if _, err := amendPermitFee(t, app, reception, 1, 1, "2026-03-09"); domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
		t.Errorf("a desk official amending the catalog: %v, want forbidden", err)
	}
	for _, from := range []string{"", "12/03/2026"} {
		_, err := amendPermitFee(t, app, catalogAdmin, 1, 1, from)
		if !namesField(err, "effective_from") {
			t.Errorf("effective_from %q: %v, want a field error on effective_from", from, err)
		}
	}
	p, _ := app.Catalog().Procedure(permit)
	p.Workflow[0].Unit = "P.KHÔNG-CÓ"
	_, err := app.PublishProcedure(ctx, catalogAdmin, commands.PublishProcedureInput{
		CatalogTermsInput: commands.CatalogTermsInput{Basis: "QĐ 1", EffectiveFrom: "2026-03-09", Revision: 1}, Procedure: p})
	if !namesField(err, "procedure.workflow[0].unit") {
		t.Errorf("a workflow step at an unknown unit: %v, want a field error on procedure.workflow[0].unit", err)
	}
	if err := app.RefreshCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if got := app.CatalogHistory().Revision; got != 1 {
		t.Fatalf("the catalog is at revision %d after refused changes, want 1", got)
	}
}

func namesField(err error, field string) bool {
	e, ok := err.(*domain.Error)
	if !ok || e.Code != domain.EINVALID {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
