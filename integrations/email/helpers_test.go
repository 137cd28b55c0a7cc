package email_test

import (
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/internal/outboxtest"
)

var quiet = slog.New(slog.DiscardHandler)

// fastRetries retries within the tests' patience.
var fastRetries = delivery.Policy{MaxAttempts: 1000, Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond}

// start runs dest's delivery consumer over the sealed store, and its dispatcher, as serve does.
func start(t testing.TB, events *wiring.Events, db *sql.DB, d engine.Dialect, logger *slog.Logger, dest delivery.Destination) *outboxtest.System {
	t.Helper()
	return outboxtest.Start(t, events.Sealed, db, d, outboxtest.Dispatching{Logger: logger, Policy: fastRetries}, dest)
}
