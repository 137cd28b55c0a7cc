package portal_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/internal/outboxtest"
)

var quiet = slog.New(slog.DiscardHandler)

// churn receives dossiers in person and suspends and resumes each rounds times, from workers
// goroutines: many status changes of many dossiers at once.
func churn(t testing.TB, store eventstore.Store, dossiers, rounds int) {
	t.Helper()
	ctx := context.Background()
	cal := calendar.Default()
	app := commands.New(store, domaintest.Catalog(t, cal), cal)
	app.Logger = quiet
	reception := commands.Caller{ID: "tn1", Name: "Lê Thị Tiếp", Roles: []commands.Role{commands.RoleReception}, Agency: "000.00.00.H56"}
	head := commands.Caller{ID: "tp01", Name: "Phạm Văn Trưởng", Roles: []commands.Role{commands.RoleHead}, Agency: "000.00.00.H56"}
	var wg sync.WaitGroup
	for i := range dossiers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			receipt, err := app.Receive(ctx, reception, commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect,
				Components: []domain.Component{{Name: "Đơn", Copies: 1}},
				Applicant: domain.Applicant{Type: domain.ApplicantCitizen, Name: fmt.Sprintf("Nguyễn Văn Bền %d", i),
					IDNumber: fmt.Sprintf("0382%08d", i), Phone: fmt.Sprintf("0913%06d", i)}})
			if err != nil {
				t.Error(err)
				return
			}
			for r := range 2 * rounds {
				var in commands.Input = commands.SuspendInput{Reason: "Chờ ý kiến cơ quan liên quan"}
				if r%2 == 1 {
					in = commands.ResumeInput{}
				}
				if _, err := app.Execute(ctx, head, receipt.DossierID, nil, in); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// fastRetries retries within the tests' patience.
var fastRetries = delivery.Policy{MaxAttempts: 1000, Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond}

// start runs dest's delivery consumer over the sealed store, and its dispatcher, as serve does.
func start(t testing.TB, events *wiring.Events, db *sql.DB, d engine.Dialect, logger *slog.Logger, dest delivery.Destination) *outboxtest.System {
	return startWith(t, events, db, d, logger, dest, fastRetries)
}

func startWith(t testing.TB, events *wiring.Events, db *sql.DB, d engine.Dialect, logger *slog.Logger, dest delivery.Destination, policy delivery.Policy) *outboxtest.System {
	t.Helper()
	return outboxtest.Start(t, events.Sealed, db, d, outboxtest.Dispatching{Logger: logger, Policy: policy}, dest)
}
