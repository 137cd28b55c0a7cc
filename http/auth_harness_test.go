package http_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/shred"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/projections"
)

// secureEnv is the real router over a real SQLite file with personal data crypto-shredded as in
// production, every read model running, and the server configuration open to each test.
type secureEnv struct {
	*env
	shredded *shred.Store
	server   *mhttp.Server
}

// newSecureEnv builds the environment; configure may change the server's configuration.
func newSecureEnv(t *testing.T, configure func(*mhttp.Config)) *secureEnv {
	t.Helper()
	var shredded *shred.Store
	e := buildEnv(t, envOptions{
		wrap: func(t *testing.T, store *sqlite.Store) eventstore.Store {
			events, err := wiring.Decorate(context.Background(), store, store.DB())
			if err != nil {
				t.Fatal(err)
			}
			shredded = events.Sealed
			return shredded
		},
		projections: projections.All(),
		configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
			cfg.PublicRequestsPerMinute = 100000
			// As cmd/motcua wires it: delete the key, then rebuild the read models from the shredded log.
			cfg.Eraser = mhttp.EraserFunc(func(ctx context.Context, idNumber string) (bool, error) {
				erased, err := shredded.Erase(ctx, idNumber)
				if err != nil || !erased {
					return erased, err
				}
				_, err = (&engine.Rebuilder{Store: shredded, DB: cfg.ReadDB, Dialect: engine.SQLite, Consumers: projections.All(), Logger: cfg.Logger}).Run(ctx)
				return true, err
			})
			if configure != nil {
				configure(cfg)
			}
		},
	})
	return &secureEnv{env: e, shredded: shredded, server: e.server}
}

// noRedirects is a client that reports redirects instead of following them, so each route is
// judged by its own answer.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
