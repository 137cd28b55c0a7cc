package commands_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/sqlite"
)

const centre = "000.00.00.H56"

func newApp(t *testing.T, now time.Time) (*commands.App, *sqlite.Store) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cal := calendar.Default()
	catalog := domaintest.Catalog(t, cal)
	app := commands.New(store, catalog, cal)
	app.Now = func() time.Time { return now }
	app.Logger = slog.New(slog.DiscardHandler)
	return app, store
}

var reception = commands.Caller{ID: "tn1", Name: "Lê Thị Tiếp", Roles: []commands.Role{commands.RoleReception}, Agency: centre}

func receiptInput(name string) commands.ReceiveInput {
	return commands.ReceiveInput{
		ProcedureCode: "1.009972", Channel: domain.ChannelDirect,
		Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: name, IDNumber: "038012345678"},
		Components: []domain.Component{{Name: "Đơn đề nghị", Copies: 1}},
	}
}

// Many desks receiving at the same moment never get the same code, and the day's sequence has no
// holes when every receipt succeeds.
func TestConcurrentReceiptsGetDistinctSequentialCodes(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, domain.VietnamTime)
	app, _ := newApp(t, now)
	const desks = 40
	codes := make([]string, desks)
	errs := make([]error, desks)
	var wg sync.WaitGroup
	for i := range desks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := app.Receive(context.Background(), reception, receiptInput("Nguyễn Văn An"))
			codes[i], errs[i] = r.Code, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(codes)
	for i, code := range codes {
		want, _ := domain.NewDossierCode(centre, now, i+1)
		if code != string(want) {
			t.Fatalf("code %d is %s, want %s (all: %v)", i, code, want, codes)
		}
	}
	// Every code resolves to its own dossier.
	seen := map[string]bool{}
	for _, code := range codes {
		d, _, err := app.Load(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		if string(d.Code) != code || seen[d.ID] {
			t.Fatalf("code %s loads dossier %s with code %s", code, d.ID, d.Code)
		}
		seen[d.ID] = true
	}
}

// Two App instances (two nodes) over the same store share the sequence: the allocator's cache
// is only a hint, the store's expected version decides.
func TestCodesAcrossNodesNeverCollide(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, domain.VietnamTime)
	app1, store := newApp(t, now)
	app2 := commands.New(store, app1.Catalog(), app1.Calendar)
	app2.Now, app2.Logger = app1.Now, app1.Logger
	got := map[string]bool{}
	for i := range 6 {
		app := app1
		if i%2 == 1 {
			app = app2
		}
		r, err := app.Receive(context.Background(), reception, receiptInput("Trần Thị Bình"))
		if err != nil {
			t.Fatal(err)
		}
		if got[r.Code] {
			t.Fatalf("code %s handed out twice", r.Code)
		}
		got[r.Code] = true
	}
}

// A new day starts the sequence again at 0001, counted in Vietnam time: 23:30 UTC is already the next day.
func TestSequenceRestartsEachVietnamDay(t *testing.T) {
	day1 := time.Date(2026, 3, 2, 16, 0, 0, 0, domain.VietnamTime)
	app, _ := newApp(t, day1)
	r1, err := app.Receive(context.Background(), reception, receiptInput("A"))
	if err != nil {
		t.Fatal(err)
	}
	app.Now = func() time.Time { return time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC) }
	r2, err := app.Receive(context.Background(), reception, receiptInput("B"))
	if err != nil {
		t.Fatal(err)
	}
	if r1.Code != centre+"-260302-0001" || r2.Code != centre+"-260303-0001" {
		t.Fatalf("codes %s, %s", r1.Code, r2.Code)
	}
}

// Invalid input spends no code: the next good receipt still gets 0001.
func TestRefusedReceiptSpendsNoCode(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, domain.VietnamTime)
	app, store := newApp(t, now)
	bad := receiptInput("")
	if _, err := app.Receive(context.Background(), reception, bad); domain.ErrorCodeOf(err) != domain.EINVALID {
		t.Fatalf("err %v, want invalid", err)
	}
	events, _ := store.ReadAll(context.Background(), eventstore.Start, 10)
	if len(events) != 0 {
		t.Fatalf("refused receipt wrote %d events", len(events))
	}
	r, err := app.Receive(context.Background(), reception, receiptInput("Phạm Văn Cường"))
	if err != nil || r.Code != centre+"-260302-0001" {
		t.Fatalf("code %s, err %v", r.Code, err)
	}
}

// A command that loses a race reloads and decides again: two different actions on one dossier
// both succeed when both are still valid after the other.
func TestConflictingAppendIsRetriedWhileValid(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, domain.VietnamTime)
	app, _ := newApp(t, now)
	r, err := app.Receive(context.Background(), reception, receiptInput("Hoàng Văn Dũng"))
	if err != nil {
		t.Fatal(err)
	}
	head := commands.Caller{ID: "tp1", Name: "Trưởng phòng", Roles: []commands.Role{commands.RoleHead}, Agency: "000.00.06.H56"}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = app.Execute(context.Background(), head, r.Code, nil, &commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ"})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	d, _, err := app.Load(context.Background(), r.Code)
	if err != nil {
		t.Fatal(err)
	}
	if d.Transfers != 8 || d.Version != 9 {
		t.Fatalf("transfers %d version %d, want 8 and 9", d.Transfers, d.Version)
	}
	// With If-Match, a stale version is refused rather than retried.
	stale := uint64(1)
	_, err = app.Execute(context.Background(), head, r.Code, &stale, &commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ"})
	if domain.ErrorCodeOf(err) != domain.EPRECONDITION {
		t.Fatalf("err %v, want precondition", err)
	}
	var te *domain.TransitionError
	_, err = app.Execute(context.Background(), head, r.Code, nil, &commands.ResumeInput{})
	if !errors.As(err, &te) || te.Action != domain.ActionResume || te.Status != domain.StatusProcessing {
		t.Fatalf("err %v, want transition error resume/processing", err)
	}
}
