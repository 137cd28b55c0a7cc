package projections_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/motcua/motcua/projections"
)

// The prepared public lookup answers exactly what LookupPublicStatus answers, and a lookup made
// before the view's table exists (a server started before its first migration) fails without
// keeping the failure: once the table is there, lookups work.
func TestPublicLookupAnswersAsTheView(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := runScenario(t, sqliteBackend(t), 20, 5)
	lookup := projections.NewPublicLookup(s.db)
	if _, err := lookup.Status(ctx, "000.00.00.H56-260302-0001", s.End); err == nil || errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("a lookup before the table exists: %v, want the database's error", err)
	}
	s.feed(t, projections.PublicStatusView{})
	found := 0
	for _, b := range s.Books {
		if b.Code == "" {
			continue
		}
		want, err := projections.LookupPublicStatus(ctx, s.db, b.Code, s.End)
		if err != nil {
			t.Fatal(err)
		}
		got, err := lookup.Status(ctx, b.Code, s.End)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: prepared lookup %+v, the view %+v", b.Code, got, want)
		}
		found++
	}
	if found == 0 {
		t.Fatal("no dossier with a code: nothing was compared")
	}
	if _, err := lookup.Status(ctx, "000.00.00.H56-260302-9999", s.End); !errors.Is(err, projections.ErrNotFound) {
		t.Errorf("an unknown code: %v, want ErrNotFound", err)
	}
}

// BenchmarkPublicLookup times a lookup through the view's query and through PublicLookup, on the
// same rows.
func BenchmarkPublicLookup(b *testing.B) {
	ctx := context.Background()
	s := runScenario(b, sqliteBackend(b), 40, 5)
	s.feed(b, projections.PublicStatusView{})
	var codes []string
	for _, book := range s.Books {
		if book.Code != "" {
			codes = append(codes, book.Code)
		}
	}
	lookup := projections.NewPublicLookup(s.db)
	b.Run("view", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := projections.LookupPublicStatus(ctx, s.db, codes[i%len(codes)], s.End); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("prepared", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := lookup.Status(ctx, codes[i%len(codes)], s.End); err != nil {
				b.Fatal(err)
			}
		}
	})
}
