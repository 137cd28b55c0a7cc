package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
)

// newFeedEnv is newEnv with the public status view run by a projections engine whose runner wakes
// the live feeds, as motcua serve wires it, and the given public rate limit.
func newFeedEnv(t *testing.T, publicPerMinute int) *env {
	t.Helper()
	return buildEnv(t, envOptions{configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
		cfg.PublicRequestsPerMinute = publicPerMinute
	}})
}

// feed is an open server-sent events stream.
type feed struct {
	t      *testing.T
	resp   *http.Response
	events chan sse
}

type sse struct {
	id, event string
	data      map[string]any
	raw       string
}

func (e *env) openFeed(code string, headers ...string) *feed {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url+"/api/v1/public/dossiers/"+code+"/events", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		resp.Body.Close()
		e.t.Fatalf("feed: status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	f := &feed{t: e.t, resp: resp, events: make(chan sse, 16)}
	go func() {
		defer close(f.events)
		scanner := bufio.NewScanner(resp.Body)
		var ev sse
		for scanner.Scan() {
			line := scanner.Text()
			switch {
			case line == "":
				if ev.event != "" {
					_ = json.Unmarshal([]byte(ev.raw), &ev.data)
					f.events <- ev
				}
				ev = sse{}
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.raw = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	e.t.Cleanup(func() { resp.Body.Close() })
	return f
}

func (f *feed) next() sse {
	f.t.Helper()
	select {
	case ev, ok := <-f.events:
		if !ok {
			f.t.Fatal("the feed ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		f.t.Fatal("no event on the feed within 5s")
	}
	return sse{}
}

func (f *feed) quiet(d time.Duration) {
	f.t.Helper()
	select {
	case ev := <-f.events:
		f.t.Fatalf("unexpected event: %s %s", ev.id, ev.raw)
	case <-time.After(d):
	}
}

func TestLiveFeedOfPublicStatusChanges(t *testing.T) {
	e := newFeedEnv(t, 60)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	e.waitProjected()

	f := e.openFeed(code)
	first := f.next()
	if first.event != "status" || first.id != "1" || first.data["status"] != string(domain.StatusReceived) || first.data["code"] != code {
		t.Fatalf("first event: %+v", first)
	}
	if steps := first.data["steps"].([]any); len(steps) != 1 {
		t.Fatalf("first event carries %d timeline steps, want the whole timeline (1): %s", len(steps), first.raw)
	}

	// A transfer moves the dossier on: the feed says so, with only the new timeline step.
	e.clock.Advance(time.Hour)
	path := "/api/v1/dossiers/" + code
	e.expect(e.do("POST", path+"/transfer", reception, map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ", "to_official_id": "chuyenvien1"}), http.StatusOK)
	moved := f.next()
	if moved.id != "2" || moved.data["status"] != string(domain.StatusProcessing) || moved.data["current_step"] != "Thẩm định hồ sơ" {
		t.Fatalf("after the transfer: %+v", moved)
	}
	if steps := moved.data["steps"].([]any); len(steps) != 1 || steps[0].(map[string]any)["step"] != "Thẩm định hồ sơ" {
		t.Fatalf("after the transfer, steps %v, want just the new one", moved.data["steps"])
	}
	for _, ev := range []sse{first, moved} {
		for _, personal := range []string{"038012345678", "0912345678", "an@example.vn", "Lê Lợi", "Nguyễn", "N***", "applicant"} {
			if strings.Contains(ev.raw, personal) {
				t.Fatalf("the feed leaks %q: %s", personal, ev.raw)
			}
		}
	}

	// A client reconnecting with the last id it saw gets nothing old, then the next change.
	again := e.openFeed(code, "Last-Event-ID", moved.id)
	again.quiet(300 * time.Millisecond)
	e.clock.Advance(time.Hour)
	specialist := e.token("chuyenvien1", building, commands.RoleSpecialist)
	e.expect(e.do("POST", path+"/appraise", specialist, map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện"}), http.StatusOK)
	if ev := again.next(); ev.id != "3" {
		t.Fatalf("after reconnecting: %+v", ev)
	}
	if ev := f.next(); ev.id != "3" {
		t.Fatalf("first stream after the appraisal: %+v", ev)
	}

	e.expect(e.do("GET", "/api/v1/public/dossiers/000.00.00.H56-260302-0999/events", "", nil), http.StatusNotFound)
	e.expect(e.do("GET", "/api/v1/public/dossiers/not-a-code/events", "", nil), http.StatusBadRequest)
}

func TestLiveFeedSharesThePublicRateLimit(t *testing.T) {
	e := newFeedEnv(t, 3)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	e.waitProjected()
	e.expect(e.do("GET", "/api/v1/public/dossiers/"+code, "", nil), http.StatusOK) // a lookup counts too
	e.openFeed(code)
	e.openFeed(code)
	refused := e.expect(e.do("GET", "/api/v1/public/dossiers/"+code+"/events", "", nil), http.StatusTooManyRequests)
	if refused.body["code"] != "rate_limited" {
		t.Fatalf("refusal: %s", refused.raw)
	}
}

func TestMetricsAreServedWhenConfigured(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	app := commands.New(store, nil, calendar.Default())
	registry := prometheus.NewRegistry()
	registry.MustRegister(engine.NewLagCollector(store, store.DB(), "public_status"))
	if err := engine.MigrateCheckpoints(context.Background(), store.DB()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		metrics http.Handler
		status  int
	}{
		{promhttp.HandlerFor(registry, promhttp.HandlerOpts{}), http.StatusOK},
		{nil, http.StatusNotFound},
	} {
		ts := httptest.NewServer(checkContract(t, mhttp.NewServer(mhttp.Config{App: app, ReadDB: store.DB(), Logger: slog.New(slog.DiscardHandler), Metrics: tc.metrics})))
		// A scrape waits only a bounded time for the lag, measured in the background: on a
		// loaded machine the first scrapes may say the lag is stale, a later one has it.
		const lagLine = `motcua_projection_lag_events{projection="public_status"} 0`
		var body []byte
		var status int
		for deadline := time.Now().Add(10 * time.Second); ; {
			resp, err := http.Get(ts.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			status = resp.StatusCode
			if status != http.StatusOK || strings.Contains(string(body), lagLine) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		ts.Close()
		if status != tc.status {
			t.Fatalf("GET /metrics: %d, want %d", status, tc.status)
		}
		if tc.status == http.StatusOK && !strings.Contains(string(body), lagLine) {
			t.Fatalf("GET /metrics:\n%s", body)
		}
	}
}
