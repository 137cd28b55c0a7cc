package http_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/projections"
	"github.com/motcua/motcua/timers"
)

// The work queue shows each dossier's deadline alarms beside it, through the API and the page: an
// online submission's acceptance alarm armed, then fired once its 8 working hours have passed.
func TestWorkQueueShowsTheDossiersAlarms(t *testing.T) {
	consumer, err := timers.NewConsumer(timers.Config{}, calendar.Default())
	if err != nil {
		t.Fatal(err)
	}
	// The timers were turned on before the test's clock starts (Monday 2 March 2026).
	consumer.Now = func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, domain.VietnamTime) }
	e := &pagesEnv{env: buildEnv(t, envOptions{projections: append(projections.All(), consumer),
		configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
			cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
			cfg.Alarms = true
		}})}
	jar, _ := cookiejar.New(nil)
	e.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	reception := e.token("tn", centre, commands.RoleReception)
	online := validReceipt()
	online["channel"] = "online"
	e.expect(e.do("POST", "/api/v1/dossiers", reception, online), http.StatusCreated)
	e.waitProjected()

	alarmsOf := func() []any {
		t.Helper()
		page := e.expect(e.do("GET", "/api/v1/work-queue", reception, nil), http.StatusOK)
		items := page.body["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("the queue holds %d dossiers, want 1", len(items))
		}
		alarms, _ := items[0].(map[string]any)["alarms"].([]any)
		return alarms
	}
	alarms := alarmsOf()
	if len(alarms) != 1 || alarms[0].(map[string]any)["kind"] != string(timers.KindAcceptance) || alarms[0].(map[string]any)["state"] != timers.StateArmed {
		t.Fatalf("alarms %v, want the acceptance alarm armed", alarms)
	}

	e.clock.Advance(3 * 24 * time.Hour) // Thursday: the 8 working hours have passed
	firer := &timers.Firer{DB: e.store.DB(), Dialect: engine.SQLite, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)}
	if n, err := firer.FireDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("fired %d alarms (%v), want 1", n, err)
	}
	alarms = alarmsOf()
	if len(alarms) != 1 || alarms[0].(map[string]any)["state"] != timers.StateFired || alarms[0].(map[string]any)["fired_at"] == nil {
		t.Fatalf("alarms %v, want the acceptance alarm fired", alarms)
	}

	e.signIn(reception)
	body := e.get("/can-bo?pham-vi=involved").expect(t, http.StatusOK, `data-alarm="acceptance_overdue"`, "Quá hạn tiếp nhận trực tuyến").body
	if !strings.Contains(body, "Đã báo lúc") {
		t.Fatal("the page does not say the alarm fired")
	}
}
