package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/motcua/motcua/domain"
)

// The browser tests drive the real web pages in headless Chromium against `motcua serve --demo`,
// run in-process on a free port with a fresh data directory: a citizen looks a dossier up, officials
// receive a dossier and move it through every step, the citizen follows the receipt's QR link and
// rates, an inspector reads the timeline, a leader opens the dashboards. Every step checks what the
// page shows and saves a screenshot under artifacts/screenshots/ for review.
//
// scripts/ensure-chromium.sh installs Debian's chromium; MOTCUA_CHROMIUM names another binary.
// MOTCUA_DOCS_SCREENSHOTS=1 also refreshes the README's screenshots in docs/screenshots/.

const (
	screenshotDir     = "../../artifacts/screenshots"
	docsScreenshotDir = "../../docs/screenshots"
)

// demoServer is `motcua serve --demo` running in this process.
type demoServer struct {
	url       string
	tokens    map[string]string // demo official id → bearer token
	passwords map[string]string // demo official id (their login) → password
}

// syncBuffer collects the server's output while the test reads it.
type syncBuffer struct {
	mu   sync.Mutex
	text strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.text.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.text.String()
}

var (
	listeningLine = regexp.MustCompile(`motcua listening on (http://\S+)`)
	tokenLine     = regexp.MustCompile(`(?m)^\s+\S.*\s(demo-\S+)\n\s+export TOKEN_\S+=(\S+)$`)
	loginLine     = regexp.MustCompile(`(?m)^\s+\S.*\slogin (demo-\S+)\s+password (\S+)$`)
)

func startDemo(t *testing.T) demoServer {
	t.Helper()
	ctx, cancel := context.WithCancel(contractCheckedBy(context.Background(), t))
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, &stdout, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("motcua serve: %v", err)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := listeningLine.FindStringSubmatch(stdout.String()); m != nil {
			s := demoServer{url: m[1], tokens: map[string]string{}, passwords: map[string]string{}}
			for _, tm := range tokenLine.FindAllStringSubmatch(stdout.String(), -1) {
				s.tokens[tm[1]] = tm[2]
			}
			for _, lm := range loginLine.FindAllStringSubmatch(stdout.String(), -1) {
				s.passwords[lm[1]] = lm[2]
			}
			if len(s.tokens) == 0 || len(s.passwords) == 0 {
				t.Fatalf("the demo printed no log-ins or no tokens:\n%s", stdout.String())
			}
			return s
		}
		select {
		case err := <-done:
			t.Fatalf("motcua serve --demo stopped: %v\n%s", err, stdout.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("motcua serve --demo did not start:\n%s", stdout.String())
		}
	}
}

// chromium finds the browser, or skips the test outside CI when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("MOTCUA_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found: scripts/ensure-chromium.sh installs it")
	}
	t.Skip("no Chromium found; run scripts/ensure-chromium.sh")
	return ""
}

// browser is one headless Chromium shared by the steps of a test; each step opens its own tab.
type browser struct {
	t   *testing.T
	ctx context.Context
	url string
}

func newBrowser(t *testing.T, baseURL string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // Chromium refuses to run as root with its sandbox
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser, for as long as ctx lives: no timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ctx: ctx, url: baseURL}
}

// browserStepTimeout bounds one step in the browser: generous, since a loaded CI machine (the
// whole suite's packages at once on two cores) took over 20 s for a full-page screenshot.
const browserStepTimeout = 60 * time.Second

// run performs actions in the browser, failing the test with what the page showed on error.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// value runs one action that returns a value.
func value[T any](b *browser, what string, action chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.fail(what, err)
	}
	return v
}

func (b *browser) fail(what string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	text, _ := chromedp.Run(ctx, chromedp.Text(css("main")))
	// What the browser showed when the step failed, for whoever reads the failure.
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(screenshotDir, "failed-"+strings.Map(fileSafe, b.t.Name())+".png"), png, 0o644)
	}
	b.t.Fatalf("%s: %v\npage shows:\n%s", what, err, text)
}

func fileSafe(r rune) rune {
	if r == '/' || r == ' ' || r == ',' {
		return '-'
	}
	return r
}

// css selects the first element matching a CSS selector.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func (b *browser) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.url+path), chromedp.WaitReady(css("main")))
}

// text returns the text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return value(b, "read "+sel, chromedp.Text(css(sel)))
}

func (b *browser) expectText(sel string, wants ...string) {
	b.t.Helper()
	text := b.text(sel)
	for _, want := range wants {
		if !strings.Contains(text, want) {
			b.t.Fatalf("%s shows %q, want it to contain %q", sel, text, want)
		}
	}
}

// screenshot saves the whole page as name.png for review (and for the README when asked).
func (b *browser) screenshot(name string, forDocs bool) {
	b.t.Helper()
	png := value(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if forDocs && os.Getenv("MOTCUA_DOCS_SCREENSHOTS") != "" {
		if err := os.WriteFile(filepath.Join(docsScreenshotDir, name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// phone and desk switch the viewport between a 360 px phone and an office screen.
func (b *browser) phone() {
	b.run("phone viewport", chromedp.EmulateViewport(360, 780, chromedp.EmulateMobile))
}
func (b *browser) desk() { b.run("desk viewport", chromedp.EmulateViewport(1280, 900)) }

// openUntil reloads path until sel is on it: read models follow the events a moment later.
func (b *browser) openUntil(path, sel string) {
	b.t.Helper()
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		b.open(path)
		if value(b, "look for "+sel, chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(sel)+`) !== null`)) {
			return
		}
		if time.Now().After(deadline) {
			b.fail("wait for "+sel+" on "+path, context.DeadlineExceeded)
		}
	}
}

// signIn signs an official in with an API token (the sign-in page's administrators' form).
func (b *browser) signIn(token string) {
	b.t.Helper()
	b.open("/can-bo/dang-nhap")
	b.run("sign in",
		chromedp.SetAttributeValue(css("#signin-token"), "open", ""),
		chromedp.SetValue(css("#token"), token),
		chromedp.Click(css(`#signin-token button[type=submit]`)),
		chromedp.WaitVisible(css("#queue-summary")))
}

// signInWithPassword signs an official in with a local account.
func (b *browser) signInWithPassword(login, password string) {
	b.t.Helper()
	b.open("/can-bo/dang-nhap")
	b.run("sign in with a password",
		chromedp.SetValue(css("#login"), login),
		chromedp.SetValue(css("#password"), password),
		chromedp.Click(css(`#signin-password button[type=submit]`)),
		chromedp.WaitVisible(css("#queue-summary")))
}

// signOut signs out and waits for the sign-in page (after the identity provider's end of
// session, when the official signed in there).
func (b *browser) signOut() {
	b.t.Helper()
	b.run("sign out", chromedp.Click(css(".whoami button")), chromedp.WaitVisible(css("#signin-title")))
}

// act opens an action's form on the dossier page, fills it and submits it; fields maps CSS
// selectors (inside the form) to values.
func (b *browser) act(action string, fields [][2]string, waitFor string) {
	b.t.Helper()
	form := "#act-" + action
	// Open the form's <details> without toggling it: after a refused post it is open already.
	actions := []chromedp.Action[chromedp.Void]{chromedp.SetAttributeValue(css(form), "open", "")}
	for _, f := range fields {
		actions = append(actions, chromedp.SetValue(css(form+" "+f[0]), f[1]))
	}
	// The page being left may show waitFor too (the last action's notice): remove it, so the wait
	// is for the next page's.
	actions = append(actions, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll(`+strconv.Quote(waitFor)+`).forEach(e => e.remove())`),
		chromedp.Click(css(form+" button[type=submit]")), chromedp.WaitVisible(css(waitFor)))
	b.run("action "+action, actions...)
}

func TestBrowserCitizensAndOfficialsUseThePages(t *testing.T) {
	demo := startDemo(t)
	b := newBrowser(t, demo.url)

	var code, qrLink string
	if !t.Run("citizen looks a dossier up by code on a phone", func(t *testing.T) {
		b.t = t
		b.phone()
		b.open("/tra-cuu")
		b.run("search a malformed code", chromedp.SetValue(css("#ma"), "12345"), chromedp.Submit(css("#ma")),
			chromedp.WaitVisible(css("#ma-error")))
		b.expectText("#ma-error", "không đúng định dạng")
		b.run("search an unknown code", chromedp.SetValue(css("#ma"), "000.00.00.H56-200101-0999"), chromedp.Submit(css("#ma")),
			chromedp.WaitVisible(css("#ma-error")))
		b.expectText("#ma-error", "Không tìm thấy hồ sơ")
		demoCode := firstDemoCode(t, demo)
		b.run("search a demo dossier", chromedp.SetValue(css("#ma"), demoCode), chromedp.Submit(css("#ma")),
			chromedp.WaitVisible(css(".dossier-status")))
		b.expectText("#status-heading", demoCode)
		// The code alone shows progress, not what the dossier is or whose (docs/security.md, "Public lookup").
		b.expectText(".dossier-status", "Ngày hẹn trả kết quả", "Quá trình xử lý")
		width := value(b, "measure the page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if width > 360 {
			t.Errorf("the lookup page is %d px wide on a 360 px phone", width)
		}
		b.screenshot("lookup", true)
		b.run("switch to English", chromedp.Click(css(`a[hreflang=en]`)), chromedp.WaitVisible(css(`html[lang=en]`)))
		b.expectText(".dossier-status", "Appointment date")
		b.run("back to Vietnamese", chromedp.Click(css(`a[hreflang=vi]`)), chromedp.WaitVisible(css(`html[lang=vi]`)))
		b.desk()
	}) {
		return // later steps build on this one
	}

	if !t.Run("reception receives a dossier and prints the receipt", func(t *testing.T) {
		b.t = t
		b.signIn(demo.tokens["demo-1-reception"])
		b.expectText("h1", "Hồ sơ cần xử lý")
		b.screenshot("work-queue", true)
		b.open("/can-bo/tiep-nhan")
		// A citizen ID of two digits: the API's field error shows next to the input.
		fill := []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(css(`[name=procedure_code]`), "2.001610"),
			chromedp.SetValue(css(`[name="applicant.name"]`), "Lê Thị Hồng Nhung"),
			chromedp.SetValue(css(`[name="applicant.id_number"]`), "12"),
			chromedp.SetValue(css(`[name="applicant.phone"]`), "0912 345 678"),
			chromedp.SetValue(css(`[name="applicant.address"]`), "Số 5, phường Hạc Thành, tỉnh Thanh Hóa"),
			chromedp.SetValue(css(`[name=components]`), "Giấy đề nghị đăng ký doanh nghiệp | 1\nBản sao căn cước của chủ doanh nghiệp | 1"),
			chromedp.Click(css(`form.card button[type=submit]`)),
		}
		b.run("receive with a bad citizen ID", append(fill, chromedp.WaitVisible(css(`[id="receive-applicant.id_number-error"]`)))...)
		b.expectText(`[id="receive-applicant.id_number-error"]`, "citizen ID")
		b.screenshot("receive-field-error", false)
		b.run("receive", chromedp.SetValue(css(`[name="applicant.id_number"]`), "038190012345"),
			chromedp.Click(css(`form.card button[type=submit]`)), chromedp.WaitVisible(css("#receipt-code")))
		code = b.text("#receipt-code")
		qrLink = value(b, "read the QR link", chromedp.AttributeValue(css("img.qr"), "data-qr-url")).Value
		if !strings.Contains(qrLink, "/tra-cuu/"+code+"?secret=") {
			t.Fatalf("the receipt's QR encodes %q, want the lookup page of %s with the rating secret", qrLink, code)
		}
		b.expectText("#rating-secret", strings.TrimPrefix(qrLink[strings.Index(qrLink, "secret=")+len("secret="):], ""))
		b.screenshot("receipt-form-01", false)

		b.open("/can-bo/ho-so/" + code)
		b.act("transfer", nil, "#done")
		b.expectText("#done", "Chuyển xử lý")
		b.expectText(".status-line", "Đang giải quyết")
		b.signOut()
	}) {
		return // later steps build on this one
	}

	if !t.Run("the deciding agency appraises, signs and has the result ready", func(t *testing.T) {
		b.t = t
		b.signIn(demo.tokens["demo-2-specialist"])
		b.openUntil("/can-bo", `tr[data-code="`+code+`"]`)
		b.open("/can-bo/ho-so/" + code)
		b.act("appraise", [][2]string{{"[name=opinion]", "Hồ sơ hợp lệ, đủ điều kiện cấp giấy chứng nhận"}}, "#done")
		b.signOut()

		b.signIn(demo.tokens["demo-2-signer"])
		b.open("/can-bo/ho-so/" + code)
		// Signing without a document number: the API's 400 names the field, shown in the open form.
		b.act("sign", [][2]string{{"[name=document_hash]", strings.Repeat("5e", 32)}}, "#sign-document_number-error")
		b.screenshot("sign-field-error", false)
		b.act("sign", [][2]string{{"[name=document_number]", "1234/GCN-ĐKKD"}, {"[name=signer_title]", "Phó Giám đốc"},
			{"[name=document_hash]", strings.Repeat("5e", 32)}}, "#done")
		b.act("result", nil, "#done")
		b.expectText(".status-line", "Đã có kết quả")
		b.signOut()
	}) {
		return // later steps build on this one
	}

	if !t.Run("the desk collects the fees and returns the result", func(t *testing.T) {
		b.t = t
		// The public page follows the dossier live: the cashier assesses the fees through the API
		// while the page is open, and the page shows it without being reloaded.
		b.openUntil("/tra-cuu/"+code, ".dossier-status")
		b.run("mark the page", chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
		req, _ := http.NewRequest(http.MethodPost, demo.url+"/api/v1/dossiers/"+code+"/fee", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+demo.tokens["demo-1-cashier"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("assess fees through the API: %s", resp.Status)
		}
		b.run("wait for the live update", chromedp.Poll[chromedp.Void](
			`window.notReloaded === true && document.querySelector(".dossier-status").innerText.includes("Chờ nộp phí, lệ phí")`,
			chromedp.WithPollingTimeout(15*time.Second)))
		b.screenshot("lookup-live-update", false)

		b.signIn(demo.tokens["demo-1-cashier"])
		b.open("/can-bo/ho-so/" + code)
		b.act("payment", [][2]string{{"[name=receipt_number]", "BL-2026-0042"}}, "#done")
		b.signOut()
		b.signIn(demo.tokens["demo-1-reception"])
		b.open("/can-bo/ho-so/" + code)
		b.act("return", nil, "#done")
		b.expectText(".status-line", "Đã trả kết quả")
		b.screenshot("dossier-returned", false)
		b.signOut()
	}) {
		return // later steps build on this one
	}

	if !t.Run("the citizen follows the QR link and rates", func(t *testing.T) {
		b.t = t
		b.phone()
		u, err := url.Parse(qrLink)
		if err != nil {
			t.Fatal(err)
		}
		b.open(u.RequestURI())
		b.expectText(".dossier-status", "Đã trả kết quả", "Thủ tục", "L* T** H*** N****")
		var choose []chromedp.Action[chromedp.Void]
		for i := 1; i <= 9; i++ {
			choose = append(choose, chromedp.Click(css(`fieldset.criterion:nth-of-type(`+strconv.Itoa(i)+`) input[value=very_satisfied]`)))
		}
		choose = append(choose, chromedp.SetValue(css("#comment"), "Cán bộ hướng dẫn rất tận tình"),
			chromedp.Click(css(".rating button[type=submit]")), chromedp.WaitVisible(css(".rating .success")))
		b.run("rate", choose...)
		b.expectText(".rating", "Cảm ơn bạn đã đánh giá")
		b.screenshot("rated", false)
		b.open("/xac-thuc/" + code + "-KQ1?hash=" + strings.Repeat("5e", 32))
		b.expectText("#verdict", "chữ ký số của cơ quan hợp lệ", "lịch sử hồ sơ toàn vẹn")
		b.expectText("#signature-verdict", "Hợp lệ")
		b.expectText("main", "1234/GCN-ĐKKD", "Phó Giám đốc")
		b.screenshot("result-verified", false)
		b.desk()
	}) {
		return // later steps build on this one
	}

	if !t.Run("an inspector reads the timeline and the state as of a moment", func(t *testing.T) {
		b.t = t
		b.signIn(demo.tokens["demo-inspector"])
		b.open("/can-bo/ho-so/" + code + "/lich-su")
		b.expectText("main", "dossier.received.v1", "dossier.transferred.v1", "dossier.signed.v1", "dossier.rated.v1", "Phó Giám đốc")
		b.expectText("#integrity-verdict", "Lịch sử toàn vẹn")
		events := value(b, "count events", chromedp.Evaluate[int](`document.querySelectorAll("article.event").length`))
		if events < 9 {
			t.Errorf("the timeline lists %d events, want every one of the dossier's (≥ 9)", events)
		}
		b.run("state as of the first minute", chromedp.SetValue(css("#luc"), "2000-01-01T00:00"),
			chromedp.Submit(css("#luc")), chromedp.WaitVisible(css("#as-of-state")))
		b.expectText("#as-of-state", "trước sự kiện đầu tiên")
		b.screenshot("inspector-timeline", false)
	}) {
		return // later steps build on this one
	}

	if !t.Run("a leader opens the dashboards", func(t *testing.T) {
		b.t = t
		b.open("/can-bo/thong-ke/tre-han?tu=2000-01-01")
		b.expectText("#late-summary", "hồ sơ đang quá hạn")
		charts := value(b, "count charts", chromedp.Evaluate[int](`document.querySelectorAll("figure.chart svg").length`))
		if charts == 0 {
			t.Error("the late dashboard draws no chart")
		}
		b.screenshot("dashboard-late", false)
		b.open("/can-bo/thong-ke/hai-long?tu=2000-01-01")
		b.expectText("#satisfaction-summary", "lượt đánh giá")
		b.screenshot("dashboard-satisfaction", false)
		b.open("/can-bo/thong-ke/bao-cao?tu=2000-01-01")
		b.expectText("#resolution-report", "Tổng số")
		b.screenshot("dashboard-report", false)
	}) {
		return // later steps build on this one
	}

	t.Run("an admin opens the page of deliveries from the navigation", func(t *testing.T) {
		b.t = t
		b.signOut()
		b.signIn(demo.tokens["demo-admin"])
		b.run("follow the link", chromedp.Click(css(`a[href="/can-bo/quan-tri/gui-thong-bao"]`)), chromedp.WaitVisible(css("#deliveries-summary")))
		// The demo sends no notifications: the page says so rather than failing.
		b.expectText("h1", "Gửi thông báo")
		b.expectText("main", "Không có thông báo nào.")
	})

	t.Run("an admin publishes an agency from the catalog's page", func(t *testing.T) {
		b.t = t
		b.open("/can-bo/danh-muc")
		b.run("open the agencies' tab", chromedp.Click(css(`a[href="/can-bo/danh-muc/co-quan"]`)), chromedp.WaitVisible(css("#publish-agency")))
		today := time.Now().In(domain.VietnamTime).Format(time.DateOnly)
		fill := func(departments string) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{
				chromedp.SetValue(css("#publish-basis"), "Quyết định 2100/QĐ-UBND"),
				chromedp.SetValue(css("#publish-effective_from"), today),
				chromedp.SetValue(css("#publish-code"), "000.00.88.H56"),
				chromedp.SetValue(css("#publish-name"), "Ủy ban nhân dân xã Quảng Phú"),
				chromedp.SetValue(css("#publish-departments"), departments),
				chromedp.Click(css("#publish-agency button[type=submit]")),
			}
		}
		// A departments line without "code | name" comes back next to its box, the rest kept.
		b.run("publish with a bad line", append(fill("Văn phòng"), chromedp.WaitVisible(css("#publish-departments-error")))...)
		if got := value(b, "read the name kept", chromedp.Evaluate[string](`document.querySelector("#publish-name").value`)); got != "Ủy ban nhân dân xã Quảng Phú" {
			t.Errorf("the refused form kept the name %q", got)
		}
		b.run("publish", append(fill("VP | Văn phòng HĐND và UBND xã"), chromedp.WaitVisible(css("#amend-agency")))...)
		b.expectText("main", "Đã ghi nhận công bố.", "Quyết định 2100/QĐ-UBND", "Ủy ban nhân dân xã Quảng Phú")
		b.screenshot("catalog-agency-history", false)
	})
}

// publiclyVisible reports whether the public lookup knows the dossier yet (its read model follows
// the work queue's by a moment).
func publiclyVisible(t *testing.T, demo demoServer, code string) bool {
	t.Helper()
	resp, err := http.Get(demo.url + "/tra-cuu/" + code)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// firstDemoCode is the code of a dossier the demo seeded, read from the work queue page of the
// inspector, who sees every agency's queue.
func firstDemoCode(t *testing.T, demo demoServer) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	code := regexp.MustCompile(`data-code="(\d{3}\.\d{2}\.\d{2}\.H56-\d{6}-\d{4})"`)
	// The server answers while its read models still catch up with the seeded events.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		// Every agency's dossiers, listed: the inspector's queue starts with the agencies' figures.
		resp, err := client.PostForm(demo.url+"/can-bo/dang-nhap", url.Values{"token": {demo.tokens["demo-inspector"]}, "next": {"/can-bo?pham-vi=involved"}})
		if err != nil {
			t.Fatal(err)
		}
		page, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if m := code.FindSubmatch(page); m != nil && publiclyVisible(t, demo, string(m[1])) {
			return string(m[1])
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dossier code in the inspector's work queue (status %d)", resp.StatusCode)
		}
	}
}

// A citizen signs in at the demo identity provider (simulating VNeID) on a 360 px phone, sees
// "Hồ sơ của tôi" with the demo dossier carrying their number, follows it to its live lookup page,
// and signs out.
func TestBrowserCitizenSignsInAndSeesTheirDossiers(t *testing.T) {
	demo := startDemo(t)
	b := newBrowser(t, demo.url)
	b.phone()
	b.open("/ho-so-cua-toi")
	b.expectText("main", "Đăng nhập bằng VNeID")
	b.run("sign in with VNeID", chromedp.Click(css(`main a.button`)), chromedp.WaitVisible(css(`form button[type=submit]`)))
	b.expectText(".note", "mô phỏng VNeID")
	b.run("choose the first demo citizen", chromedp.Click(css(`form button[type=submit]`)), chromedp.WaitVisible(css(".my-dossiers li")))
	b.expectText("main h1", "Hồ sơ của tôi")
	b.expectText(".whoami-citizen", "Nguyễn Thị Lan", "038010000000")
	if wider := value(b, "measure the page", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); wider {
		t.Error("Hồ sơ của tôi is wider than a 360 px phone")
	}
	b.screenshot("citizen-my-dossiers", true)
	code := b.text(".my-dossiers .code")
	b.run("open the dossier's live page", chromedp.Click(css(".my-dossiers li a")), chromedp.WaitVisible(css(".dossier-status")))
	b.expectText("#status-heading", code)
	b.open("/ho-so-cua-toi")
	b.run("sign out", chromedp.Click(css(".whoami-citizen button")), chromedp.WaitVisible(css("#ma")))
	b.open("/ho-so-cua-toi")
	b.expectText("main", "Đăng nhập bằng VNeID")
}
