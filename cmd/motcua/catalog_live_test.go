package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/demo"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// Two nodes over one store, as serve starts them: the first seeds the catalog from its file, the
// second finds it seeded (its own file, another one, is not applied); a fee amended through the
// second reaches the first while it runs, without a restart.
func TestACatalogChangeReachesEveryRunningNode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cal := calendar.Default()
	quiet := slog.New(slog.DiscardHandler)
	node := func(file *domain.Catalog) *commands.App {
		app := commands.New(store, file, cal)
		app.Logger = quiet
		if err := seedCatalog(ctx, app, quiet); err != nil {
			t.Fatal(err)
		}
		return app
	}
	seed, err := demo.Catalog(cal)
	if err != nil {
		t.Fatal(err)
	}
	first := node(seed)
	other, _ := demo.Catalog(cal)
	other.Procedures = other.Procedures[:1] // another file: must not replace the stream
	second := node(other)
	if got, want := len(second.Catalog().Procedures), len(seed.Procedures); got != want {
		t.Fatalf("the second node serves %d procedures, want the seeded %d", got, want)
	}
	go func() { _ = followCatalog(ctx, first, quiet) }()

	code := seed.Procedures[0].Code
	p, _ := second.Catalog().Procedure(code)
	p.Fees = []domain.Fee{{Name: "Lệ phí", Amount: 424242}}
	admin := commands.Caller{ID: "qt", Name: "Quản trị", Roles: []commands.Role{commands.RoleAdmin}}
	if _, err := second.PublishProcedure(ctx, admin, commands.PublishProcedureInput{Procedure: p,
		CatalogTermsInput: commands.CatalogTermsInput{Basis: "QĐ 1/QĐ-UBND", EffectiveFrom: time.Now().In(domain.VietnamTime).Format(time.DateOnly), Revision: 1}}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if p, _ := first.Catalog().Procedure(code); p.TotalFees() == 424242 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first node never saw the amendment recorded through the second")
		}
	}
}
