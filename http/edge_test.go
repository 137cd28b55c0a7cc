package http_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	mhttp "github.com/motcua/motcua/http"
)

// One address has one public budget, whichever public surface it spends it on: the lookup API, the
// lookup and verification pages, the QR images. A page that answers through the API in-process
// costs one request, not two.
func TestOnePublicBudgetAcrossTheAPIAndThePages(t *testing.T) {
	e := newSecureEnv(t, func(cfg *mhttp.Config) { cfg.PublicRequestsPerMinute = 6 })
	code := e.expect(e.do("POST", "/api/v1/dossiers", e.token("tiepnhan1", centre, commands.RoleReception), validReceipt()), http.StatusCreated).body["code"].(string)
	e.waitProjected()
	api, page := "/api/v1/public/dossiers/"+code, "/tra-cuu/"+code
	for i, path := range []string{api, page, api, page, "/xac-thuc/" + code + "-KQ1", api + "/qr.png"} {
		if r := e.do("GET", path, "", nil); r.status == http.StatusTooManyRequests {
			t.Fatalf("request %d of 6 (%s) refused", i+1, path)
		}
	}
	e.expect(e.do("GET", api, "", nil), http.StatusTooManyRequests)
	if r := e.do("GET", page, "", nil); r.status != http.StatusTooManyRequests {
		t.Fatalf("the page still answers %d once the API budget is spent: one address had two budgets", r.status)
	}
}

// Checks of a receipt's rating secret have a budget of their own, stricter than the lookups', and
// wrong secrets lock the address out of every secret check for a while — the right secret included —
// while its plain lookups go on. Another address is not affected.
func TestRatingSecretChecksAreLimitedAndWrongOnesLockOut(t *testing.T) {
	e := newSecureEnv(t, func(cfg *mhttp.Config) {
		cfg.PublicRequestsPerMinute = 1000
		cfg.Limits = mhttp.Limits{SecretChecksPerMinute: 100, SecretFailures: 3, SecretLockout: time.Minute}
		cfg.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	})
	created := e.expect(e.do("POST", "/api/v1/dossiers", e.token("tiepnhan1", centre, commands.RoleReception), validReceipt()), http.StatusCreated)
	code, secret := created.body["code"].(string), created.body["rating_secret"].(string)
	e.waitProjected()
	guesser, applicant := "198.51.100.7", "198.51.100.8"
	wrongs := []string{
		"/api/v1/public/dossiers/" + code + "?secret=GUESS1",
		"/api/v1/public/dossiers/" + code + "/qr.png?secret=GUESS2",
	}
	for _, path := range wrongs {
		e.expect(e.do("GET", path, "", nil, "X-Forwarded-For", guesser), http.StatusForbidden)
	}
	if r := e.do("GET", "/tra-cuu/"+code+"?secret=GUESS3", "", nil, "X-Forwarded-For", guesser); r.status != http.StatusForbidden {
		t.Fatalf("lookup page with a wrong secret: %d", r.status)
	}

	locked := e.expect(e.do("GET", "/api/v1/public/dossiers/"+code+"?secret="+secret, "", nil, "X-Forwarded-For", guesser), http.StatusTooManyRequests)
	if after := locked.header.Get("Retry-After"); after == "" || after == "0" {
		t.Fatalf("lock-out without Retry-After: %v", locked.header)
	}
	if r := e.do("GET", "/tra-cuu/"+code+"?secret="+url.QueryEscape(secret), "", nil, "X-Forwarded-For", guesser); r.status != http.StatusTooManyRequests {
		t.Fatalf("lookup page with the secret during the lock-out: %d", r.status)
	}
	plain := e.expect(e.do("GET", "/api/v1/public/dossiers/"+code, "", nil, "X-Forwarded-For", guesser), http.StatusOK)
	if _, named := plain.body["applicant"]; named {
		t.Fatalf("plain lookup shows the applicant: %s", plain.raw)
	}
	own := e.expect(e.do("GET", "/api/v1/public/dossiers/"+code+"?secret="+secret, "", nil, "X-Forwarded-For", applicant), http.StatusOK)
	if own.body["applicant"] != "N***** V** A*" {
		t.Fatalf("the applicant's own lookup: %s", own.raw)
	}
	// The lock-out ends with its window, on the server's clock.
	e.clock.Advance(time.Minute + time.Second)
	e.expect(e.do("GET", "/api/v1/public/dossiers/"+code+"?secret="+secret, "", nil, "X-Forwarded-For", guesser), http.StatusOK)
}

// Even right secrets are checked at a stricter pace than lookups.
func TestRatingSecretChecksHaveAStricterBudget(t *testing.T) {
	e := newSecureEnv(t, func(cfg *mhttp.Config) {
		cfg.PublicRequestsPerMinute = 1000
		cfg.Limits = mhttp.Limits{SecretChecksPerMinute: 3}
	})
	created := e.expect(e.do("POST", "/api/v1/dossiers", e.token("tiepnhan1", centre, commands.RoleReception), validReceipt()), http.StatusCreated)
	code, secret := created.body["code"].(string), created.body["rating_secret"].(string)
	e.waitProjected()
	withSecret := "/api/v1/public/dossiers/" + code + "?secret=" + secret
	for range 3 {
		e.expect(e.do("GET", withSecret, "", nil), http.StatusOK)
	}
	e.expect(e.do("GET", withSecret, "", nil), http.StatusTooManyRequests)
	e.expect(e.do("GET", "/api/v1/public/dossiers/"+code, "", nil), http.StatusOK)
}

// Without the receipt's secret the public lookup answers the dossier's progress only: status, dates
// and steps. An enumerator walking the sequential codes learns nothing of whose dossiers they are or
// what they are about.
func TestPublicLookupWithoutTheSecretTellsProgressOnly(t *testing.T) {
	e := newSecureEnv(t, nil)
	created := e.expect(e.do("POST", "/api/v1/dossiers", e.token("tiepnhan1", centre, commands.RoleReception), validReceipt()), http.StatusCreated)
	code, secret := created.body["code"].(string), created.body["rating_secret"].(string)
	public := e.waitPublic(code, domain.StatusReceived)
	allowed := map[string]bool{"code": true, "version": true, "status": true, "status_vi": true, "status_en": true, "portal_status": true,
		"current_step": true, "submitted_at": true, "received_at": true, "appointment_date": true, "finished_at": true, "returned_at": true,
		"apology_issued": true, "late": true, "steps": true}
	for field := range public.body {
		if !allowed[field] {
			t.Errorf("the anonymous lookup answers %q: %s", field, public.raw)
		}
	}
	for _, text := range []string{"N***", "1.009972", "Cấp giấy phép", building, "PQLXD"} {
		if strings.Contains(public.raw, text) {
			t.Errorf("the anonymous lookup shows %q: %s", text, public.raw)
		}
	}
	e.expect(e.do("GET", "/api/v1/public/dossiers/"+code+"?secret=NOTTHEONE", "", nil), http.StatusForbidden)
	own := e.expect(e.do("GET", "/api/v1/public/dossiers/"+code+"?secret="+secret, "", nil), http.StatusOK)
	if own.body["applicant"] != "N***** V** A*" || own.body["procedure_code"] != "1.009972" || own.body["receiving_unit"] != centre {
		t.Fatalf("lookup with the receipt's secret: %s", own.raw)
	}
}

// The receipt's QR code points at the host the request came to; X-Forwarded-Host is believed from a
// trusted proxy only, or anyone could have the server print a link to their own site.
func TestQRLinkBelievesForwardedHostFromTrustedProxiesOnly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		want    string
	}{
		{"direct client", nil, "http://127.0.0.1:"},
		{"trusted proxy", []string{"127.0.0.1/32", "::1/128"}, "https://motcua.thanhhoa.gov.vn/tra-cuu/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSecureEnv(t, func(cfg *mhttp.Config) { cfg.TrustedProxies = tc.trusted })
			code := e.expect(e.do("POST", "/api/v1/dossiers", e.token("tiepnhan1", centre, commands.RoleReception), validReceipt()), http.StatusCreated).body["code"].(string)
			link := e.scanQR("/api/v1/public/dossiers/"+code+"/qr.png",
				"X-Forwarded-Host", "motcua.thanhhoa.gov.vn", "X-Forwarded-Proto", "https")
			if !strings.HasPrefix(link, tc.want) {
				t.Fatalf("QR link %q, want it to start with %q", link, tc.want)
			}
		})
	}
}

// logRecorder keeps the records of a slog logger.
type logRecorder struct {
	records chan slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	select {
	case l.records <- r:
	default:
	}
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// A client that hangs up before its answer is logged as that, not as a server error.
func TestAClientThatDisconnectsIsNotAServerError(t *testing.T) {
	logs := &logRecorder{records: make(chan slog.Record, 100)}
	e := newSecureEnv(t, func(cfg *mhttp.Config) { cfg.Logger = slog.New(logs) })
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)

	ctx, hangUp := context.WithCancel(context.Background())
	hangUp() // net/http cancels a request's context when its client disconnects
	req := httptest.NewRequestWithContext(ctx, "GET", "/api/v1/dossiers/"+code, nil)
	req.Header.Set("Authorization", "Bearer "+reception)
	rec := httptest.NewRecorder()
	e.server.ServeHTTP(rec, req)
	if rec.Code == http.StatusInternalServerError {
		t.Fatalf("answered 500 to a client that left")
	}
	close(logs.records)
	for r := range logs.records {
		if r.Level >= slog.LevelError {
			t.Errorf("logged at %s: %s", r.Level, r.Message)
		}
	}
}

// A stream holds an address's and the node's connections: both are capped. Closing a stream frees
// its place.
func TestLiveFeedStreamsAreCappedPerAddressAndInTotal(t *testing.T) {
	e := buildEnv(t, envOptions{configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
		cfg.PublicRequestsPerMinute = 1000
		cfg.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
		cfg.Limits = mhttp.Limits{FeedStreamsPerClient: 2, FeedStreams: 3}
	}})
	code := e.expect(e.do("POST", "/api/v1/dossiers", e.token("tiepnhan1", centre, commands.RoleReception), validReceipt()), http.StatusCreated).body["code"].(string)
	e.waitProjected()
	events := "/api/v1/public/dossiers/" + code + "/events"
	first := e.openFeed(code, "X-Forwarded-For", "198.51.100.1")
	e.openFeed(code, "X-Forwarded-For", "198.51.100.1")
	refused := e.expect(e.do("GET", events, "", nil, "X-Forwarded-For", "198.51.100.1"), http.StatusTooManyRequests)
	if refused.header.Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After: %v", refused.header)
	}
	e.openFeed(code, "X-Forwarded-For", "198.51.100.2")
	full := e.expect(e.do("GET", events, "", nil, "X-Forwarded-For", "198.51.100.3"), http.StatusServiceUnavailable)
	if full.header.Get("Retry-After") == "" {
		t.Fatalf("503 without Retry-After: %v", full.header)
	}
	first.resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, _ := http.NewRequest("GET", e.url+events, nil)
		req.Header.Set("X-Forwarded-For", "198.51.100.3")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close() // a stream answers 200 at once and never ends: do not read it
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed stream's place was never freed: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The server cuts off a client that trickles its request body, and closes keep-alive connections
// left idle, so slow clients cannot hold its descriptors; the live feed, which must outlive both
// timeouts, still delivers.
func TestSlowAndIdleConnectionsAreCutOffButLiveFeedsLast(t *testing.T) {
	// The write timeout leaves the test's own requests (a receipt, a transfer) room on a loaded
	// machine, where one took more than 500 ms and was cut off; the feed must outlive it all the same.
	limits := mhttp.ConnectionLimits{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond,
		WriteTimeout: 2 * time.Second, IdleTimeout: 500 * time.Millisecond, MaxHeaderBytes: 8 << 10}
	e := buildEnv(t, envOptions{connections: &limits, configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
		cfg.PublicRequestsPerMinute = 1000
	}})
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	e.waitProjected()
	host := strings.TrimPrefix(e.url, "http://")

	t.Run("slow body", func(t *testing.T) {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		body := `{"secret":"ABCDEFGHJK","scores":{"staff_attitude":"satisfied"}}`
		fmt.Fprintf(conn, "POST /api/v1/public/dossiers/%s/rating HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", code, len(body))
		start := time.Now()
		for i := range len(body) {
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				break // cut off
			}
			time.Sleep(100 * time.Millisecond)
			if time.Since(start) > 3*time.Second {
				break
			}
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		answer, _ := io.ReadAll(conn)
		if took := time.Since(start); took > 3*time.Second || bytes.Contains(answer, []byte("200 OK")) {
			t.Fatalf("a body trickled a byte every 100 ms was still being read after %v: %q", took, answer)
		}
	})

	t.Run("idle keep-alive", func(t *testing.T) {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		reader := bufio.NewReader(conn)
		resp, err := http.ReadResponse(reader, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz: %v %v", resp, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		start := time.Now()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := reader.ReadByte(); !errors.Is(err, io.EOF) {
			t.Fatalf("idle connection not closed by the server: %v", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("idle connection closed after %v", took)
		}
	})

	t.Run("huge headers", func(t *testing.T) {
		e.expect(e.do("GET", "/healthz", "", nil), http.StatusOK)
		req, _ := http.NewRequest("GET", e.url+"/healthz", nil)
		req.Header.Set("X-Padding", strings.Repeat("a", 64<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("64 KiB of headers: %d", resp.StatusCode)
		}
	})

	t.Run("live feed outlives the timeouts", func(t *testing.T) {
		f := e.openFeed(code)
		f.next()
		time.Sleep(limits.WriteTimeout + limits.ReadTimeout)
		e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/transfer", reception,
			map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ", "to_official_id": "chuyenvien1"}), http.StatusOK)
		if got := f.next(); got.data["status"] != string(domain.StatusProcessing) {
			t.Fatalf("after the timeouts: %v", got.data)
		}
	})
}
