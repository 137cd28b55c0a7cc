package http

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

// A client's requests that arrive while a statement for it is on its way are charged together by
// the next statement, which counts as many as the budget holds, in order of arrival: the first
// request waits behind a row lock held by another transaction while seven more gather; the
// second statement asks for their seven hits and counts the four the budget of five has left.
func TestSharedBudgetChargesAClientsWaitingRequestsTogether(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("pgx", pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	at := time.Date(2026, 12, 5, 10, 0, 30, 0, time.UTC)
	limit := &sharedRateLimit{tables: &sharedTables{db: db}, budget: "public", limit: 5, window: time.Minute,
		now: func() time.Time { return at }, logger: slog.New(slog.DiscardHandler)}
	if err := limit.tables.ensure(ctx); err != nil {
		t.Fatal(err)
	}
	window := at.Truncate(time.Minute).UnixMilli()
	if _, err := db.ExecContext(ctx, `INSERT INTO public_rate_windows (budget, client, window_start, hits) VALUES ('public', 'c', $1, 0)`, window); err != nil {
		t.Fatal(err)
	}
	blocker, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blocker.ExecContext(ctx, `SELECT hits FROM public_rate_windows WHERE client = 'c' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}

	verdicts := make(chan rateVerdict, 8)
	charge := func() { verdicts <- limit.charge(ctx, "c") }
	go charge()
	waitFor(t, "the first statement on its way", func() bool { limit.mu.Lock(); defer limit.mu.Unlock(); _, ok := limit.charging["c"]; return ok })
	for range 7 {
		go charge()
	}
	waitFor(t, "seven requests gathered behind it", func() bool {
		limit.mu.Lock()
		defer limit.mu.Unlock()
		q := limit.charging["c"]
		return q != nil && q.next != nil && q.next.asked == 7
	})
	if err := blocker.Commit(); err != nil {
		t.Fatal(err)
	}

	var admitted []int
	refused := 0
	for range 8 {
		v := <-verdicts
		if !v.checked {
			t.Fatalf("a request went unchecked: %+v", v)
		}
		if v.limited {
			refused++
			continue
		}
		admitted = append(admitted, v.hits)
	}
	sort.Ints(admitted)
	if len(admitted) != 5 || refused != 3 || admitted[0] != 1 || admitted[4] != 5 {
		t.Fatalf("admitted with hits %v, refused %d; want hits 1 to 5 and 3 refused", admitted, refused)
	}
	for i := 1; i < len(admitted); i++ {
		if admitted[i] == admitted[i-1] {
			t.Fatalf("two admitted requests were told the same count: %v", admitted)
		}
	}
	var hits, added int
	if err := db.QueryRowContext(ctx, `SELECT hits, added FROM public_rate_windows WHERE client = 'c'`).Scan(&hits, &added); err != nil {
		t.Fatal(err)
	}
	if hits != 5 || added != 4 {
		t.Fatalf("the window holds %d hits, its last statement added %d; want 5 and 4 (one statement for the seven)", hits, added)
	}
	limit.mu.Lock()
	_, left := limit.charging["c"]
	limit.mu.Unlock()
	if left {
		t.Fatal("the client is still marked as being charged")
	}
}

// A public read is charged while its handler runs, and a refused one's answer never leaves: the
// client gets the refusal with the budget's headers, not the handler's body or headers.
func TestBudgetGateDropsARefusedAnswer(t *testing.T) {
	handler := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v7"`)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"code":"secret-ish"}`))
	}
	for _, refuse := range []bool{false, true} {
		rec := httptest.NewRecorder()
		rec.Header().Set("X-Correlation-ID", "abc")
		req := httptest.NewRequest(http.MethodGet, "/api/v1/public/dossiers/X", nil)
		gate := &budgetGate{ResponseWriter: rec, request: req, limited: rateLimited, before: rec.Header().Clone(),
			verdict: func() (bool, func(http.Header)) {
				return refuse, func(h http.Header) {
					if refuse {
						h.Set("Retry-After", "60")
					}
					h.Set("X-RateLimit-Limit", "5")
				}
			}}
		handler(gate, req)
		gate.pass()
		res := rec.Result()
		body := rec.Body.String()
		switch {
		case res.Header.Get("X-RateLimit-Limit") != "5" || res.Header.Get("X-Correlation-ID") != "abc":
			t.Fatalf("refused %v: headers %v", refuse, res.Header)
		case !refuse && (res.StatusCode != http.StatusOK || body != `{"code":"secret-ish"}` || res.Header.Get("ETag") == ""):
			t.Fatalf("admitted answer changed: %d %v %s", res.StatusCode, res.Header, body)
		case refuse && (res.StatusCode != http.StatusTooManyRequests || res.Header.Get("ETag") != "" || res.Header.Get("Retry-After") != "60" ||
			res.Header.Get("Content-Type") != "application/problem+json" || body == "" || strings.Contains(body, "secret-ish")):
			t.Fatalf("refused answer: %d %v %s", res.StatusCode, res.Header, body)
		}
	}
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
