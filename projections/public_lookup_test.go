package projections_test

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/eventstore/postgres"
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

// On PostgreSQL a lookup is one round trip: the statement is parsed once per connection (pgx's
// statement cache), not prepared through database/sql, which over pgx's pool keeps no idle
// connection and so prepared the statement again — and deallocated it — at every lookup.
func TestPublicLookupOnPostgreSQLParsesItsStatementOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := postgresBackend(t)
	s := runScenario(t, b, 10, 5)
	s.feed(t, projections.PublicStatusView{})
	config := b.store.(*postgres.Store).Pool().Config()
	prepares := &prepareCounter{}
	config.ConnConfig.Tracer = prepares
	config.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { db.Close() })
	lookup := projections.NewPublicLookup(db)
	lookups := 0
	for range 3 {
		for _, book := range s.Books {
			if book.Code == "" {
				continue
			}
			want, err := projections.LookupPublicStatus(ctx, s.db, book.Code, s.End)
			if err != nil {
				t.Fatal(err)
			}
			got, err := lookup.Status(ctx, book.Code, s.End)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: lookup %+v, the view %+v", book.Code, got, want)
			}
			lookups++
		}
	}
	if lookups < 10 {
		t.Fatalf("%d lookups: too few to tell", lookups)
	}
	if n := prepares.n.Load(); n > int64(config.MaxConns) {
		t.Errorf("%d lookups prepared a statement %d times on a pool of %d connections, want at most once per connection", lookups, n, config.MaxConns)
	}
}

// prepareCounter counts the statements prepared through pgx's Conn.Prepare.
type prepareCounter struct{ n atomic.Int64 }

func (c *prepareCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (c *prepareCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *prepareCounter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *prepareCounter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

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
