package http_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/motcua/motcua/accesslog"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
)

// BenchmarkDossierReadAccessLog measures what recording a read costs: an official's GET
// /api/v1/dossiers/{code} through the real router on a SQLite file (the access log written
// synchronously in the store's own file, as motcua serve wires it), without and with the log:
//
//	go test ./http -run '^$' -bench DossierReadAccessLog -benchtime 2000x
func BenchmarkDossierReadAccessLog(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "motcua.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	cal := calendar.Default()
	app := commands.New(store, domaintest.Catalog(b, cal), cal)
	app.Logger = slog.New(slog.DiscardHandler)
	desk := commands.Caller{ID: "tn", Name: "Lễ tân", Roles: []commands.Role{commands.RoleReception}, Agency: centre}
	receipt, err := app.Receive(ctx, desk, commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect,
		Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn An", IDNumber: "038012345678"},
		Components: []domain.Component{{Name: "Đơn đề nghị", Copies: 1}}})
	if err != nil {
		b.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	token, err := mhttp.MintToken(key, desk, time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	log, err := accesslog.New(store.DB(), engine.SQLite, accessLogKey)
	if err != nil {
		b.Fatal(err)
	}
	for _, variant := range []struct {
		name string
		log  *accesslog.Log
	}{{"without", nil}, {"with", log}} {
		b.Run(variant.name, func(b *testing.B) {
			server := mhttp.NewServer(mhttp.Config{App: app, ReadDB: store.DB(), Tokens: mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey)},
				Logger: slog.New(slog.DiscardHandler), AccessLog: variant.log})
			ts := httptest.NewServer(server)
			defer ts.Close()
			get := func(b *testing.B) {
				req, _ := http.NewRequest("GET", ts.URL+"/api/v1/dossiers/"+receipt.Code, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := ts.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			b.Run("1-client", func(b *testing.B) {
				for b.Loop() {
					get(b)
				}
			})
			// Eight officials at once: the entries' commits queue on SQLite's one writer.
			b.Run("8-clients", func(b *testing.B) {
				b.SetParallelism(8 / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						get(b)
					}
				})
			})
		})
	}
}
