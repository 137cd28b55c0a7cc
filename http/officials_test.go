package http_test

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/engine"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/http/session"
	"github.com/motcua/motcua/integrations/demoidp"
)

// The officials at the test's identity provider, signing in to motcua's officials' client (the
// citizens of citizens_test.go may try it too).
var (
	officialHoa = demoidp.Person{Subject: "sso-hoa", Name: "Lê Thị Hoa", Clients: []string{"motcua-officials"},
		Claims: map[string]any{"roles": []string{"reception", "cashier"}, "agency": centre}}
	officialOtherApp = demoidp.Person{Subject: "sso-ke-toan", Name: "Kế toán", Clients: []string{"motcua-officials"},
		Claims: map[string]any{"roles": []string{"accounting"}, "agency": centre}}
	officialNoAgency = demoidp.Person{Subject: "sso-tudo", Name: "Không Cơ Quan", Clients: []string{"motcua-officials"},
		Claims: map[string]any{"roles": []string{"specialist"}}}
	ssoOfficials = []demoidp.Person{officialHoa, officialOtherApp, officialNoAgency}
)

// localPassword is the password of the test's local account "hoa.le".
const localPassword = "mật khẩu đủ dài 2026"

func officialsClient(baseURL string) demoidp.Client {
	return demoidp.Client{ID: "motcua-officials", Secret: "s3cret-officials", RedirectURIs: []string{baseURL + mhttp.OfficialCallbackPath},
		PostLogoutRedirectURIs: []string{baseURL + "/can-bo/dang-nhap"}}
}

// configureOfficials signs officials in at the citizens' environment's provider (their own client),
// with a local account ("hoa.le") and with API tokens, in sessions kept in db with the test's clock.
func (ce *citizenEnv) configureOfficials(t *testing.T, cfg *mhttp.Config, db *sql.DB, dialect engine.Dialect, baseURL string) {
	sessions, err := session.New(db, dialect, session.Timeouts{Idle: 30 * time.Minute, Absolute: 8 * time.Hour, Attempt: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if ce.accounts, err = session.NewAccounts(db, dialect); err != nil {
		t.Fatal(err)
	}
	if err := ce.accounts.Put(context.Background(), session.Account{Login: "hoa.le", ID: "tn01", Name: "Lê Thị Hoa", Roles: []string{"reception"}, Agency: centre}, localPassword); err != nil {
		t.Fatal(err)
	}
	cfg.Officials, err = mhttp.NewOfficialSignIn(context.Background(), mhttp.OfficialSignInConfig{Sessions: sessions.WithClock(ce.clock.Now),
		Accounts: ce.accounts, Tokens: true, Provider: &mhttp.OfficialProvider{OIDCConfig: mhttp.OIDCConfig{Issuer: ce.idpURL, ClientID: "motcua-officials"},
			ClientSecret: "s3cret-officials", RedirectURL: baseURL + mhttp.OfficialCallbackPath}})
	if err != nil {
		t.Fatal(err)
	}
	ce.log = &lockedLog{}
	cfg.Logger = slog.New(slog.NewTextHandler(ce.log, nil))
}

// officialAtProvider begins an official's sign-in at motcua, chooses who at the provider's page,
// and follows the answer back to motcua, stopping there: motcua's last answer.
func (ce *citizenEnv) officialAtProvider(b *browser, who demoidp.Person) *http.Response {
	ce.t.Helper()
	resp, page := b.get(ce.url + "/can-bo/dang-nhap/idp?next=" + url.QueryEscape("/can-bo?pham-vi=mine"))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), ce.idpURL+"/dang-nhap") || !strings.Contains(page, who.Name) {
		ce.t.Fatalf("sign-in did not reach the provider's page: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	b.client.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), ce.url) && req.URL.Path != mhttp.OfficialCallbackPath {
			return http.ErrUseLastResponse
		}
		return nil
	}
	defer func() { b.client.CheckRedirect = nil }()
	req, _ := http.NewRequest(http.MethodPost, ce.idpURL+"/dang-nhap", strings.NewReader(url.Values{"id": {resp.Request.URL.Query().Get("id")}, "subject": {who.Subject}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html") // a browser: a refusal sends it back to the sign-in page
	resp, _ = b.send(req)
	return resp
}

func sessionCookieOf(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == "motcua_session" && c.Value != "" {
			return c
		}
	}
	return nil
}

var csrfOfPage = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// An official signs in at the province's identity provider: the pages then know them by the claims
// the provider signed (roles, agency), their API calls act as them, and signing out ends the
// session in the database and sends the browser to the provider's end of session. An account the
// provider vouches for without a motcua role, or with an agency role and no agency, gets no
// session. On SQLite and on PostgreSQL.
func TestOfficialsSignInAtTheIdentityProvider(t *testing.T) {
	for name, db := range map[string]func(*testing.T, *sql.DB) (*sql.DB, engine.Dialect){"sqlite": sessionsInTheStore, "postgres": sessionsInPostgres} {
		t.Run(name, func(t *testing.T) {
			ce := newCitizenEnv(t, db)
			b := newBrowser(t)
			resp := ce.officialAtProvider(b, officialHoa)
			cookie := sessionCookieOf(resp)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/can-bo?pham-vi=mine" || cookie == nil ||
				!cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
				t.Fatalf("callback: %d to %q, cookie %+v", resp.StatusCode, resp.Header.Get("Location"), cookie)
			}
			resp, page := b.get(ce.url + "/can-bo")
			if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Lê Thị Hoa · Tiếp nhận, trả kết quả, Thu phí") {
				t.Fatalf("the work queue after signing in at the provider: %d\n%s", resp.StatusCode, page)
			}
			// The session's official acts through the pages: the receipt's event names them.
			csrf := csrfOfPage.FindStringSubmatch(page)[1]
			receipt := url.Values{"csrf": {csrf}, "channel": {"direct"}, "procedure_code": {"1.009972"}, "applicant.type": {"citizen"}, "applicant.name": {"Nguyễn Văn An"},
				"applicant.id_number": {"038012345678"}, "applicant.phone": {"0912345678"}, "applicant.address": {"Số 1, phường Hạc Thành"},
				"components": {"Đơn đề nghị cấp giấy phép xây dựng | 1\nBản vẽ thiết kế | 2"}}
			resp, page = b.post(ce.url+"/can-bo/tiep-nhan", receipt)
			code := regexp.MustCompile(`id="receipt-code"[^>]*>([^<]+)<`).FindStringSubmatch(page)
			if resp.StatusCode != http.StatusOK || code == nil {
				t.Fatalf("receive through the page: %d\n%s", resp.StatusCode, page)
			}
			history := ce.expect(ce.do("GET", "/api/v1/dossiers/"+code[1]+"/events", ce.token("thanhtra", "", commands.RoleInspector), nil), http.StatusOK)
			if actor := history.body["events"].([]any)[0].(map[string]any)["actor"].(map[string]any); actor["id"] != "sso-hoa" || actor["agency"] != centre {
				t.Errorf("the receipt's actor is %v, want the official the provider signed in", actor)
			}
			// The session's cookie is not an API credential.
			if r := ce.call("GET", "/api/v1/dossiers/"+code[1], cookie, ""); r.status != http.StatusUnauthorized {
				t.Errorf("the API with an official's page cookie answered %d", r.status)
			}

			// Signing out ends the session and goes on to the provider's end of session.
			_, page = b.get(ce.url + "/can-bo")
			b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, page = b.post(ce.url+"/can-bo/dang-xuat", url.Values{"csrf": {csrfOfPage.FindStringSubmatch(page)[1]}})
			b.client.CheckRedirect = nil
			refresh := regexp.MustCompile(`<meta http-equiv="refresh" content="0; url=([^"]+)">`).FindStringSubmatch(page)
			if resp.StatusCode != http.StatusOK || refresh == nil {
				t.Fatalf("sign-out: %d\n%s", resp.StatusCode, page)
			}
			logout, _ := url.Parse(strings.ReplaceAll(refresh[1], "&amp;", "&"))
			if !strings.HasPrefix(logout.String(), ce.idpURL) || logout.Query().Get("id_token_hint") == "" ||
				logout.Query().Get("post_logout_redirect_uri") != ce.url+"/can-bo/dang-nhap" {
				t.Errorf("sign-out sends the browser to %s", logout)
			}
			if resp, _ := b.get(logout.String()); resp.Request.URL.String() != ce.url+"/can-bo/dang-nhap" || resp.StatusCode != http.StatusOK {
				t.Errorf("the provider's end of session ends at %s (%d)", resp.Request.URL, resp.StatusCode)
			}
			if r := ce.call("GET", "/can-bo", cookie, ""); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/can-bo/dang-nhap") {
				t.Errorf("the signed-out session's cookie replayed: %d", r.status)
			}

			// Accounts the provider vouches for, but not as motcua's officials.
			for _, who := range []demoidp.Person{officialOtherApp, officialNoAgency} {
				resp := ce.officialAtProvider(newBrowser(t), who)
				if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/can-bo/dang-nhap?dang-nhap=that-bai" || sessionCookieOf(resp) != nil {
					t.Errorf("%s: %d to %q", who.Name, resp.StatusCode, resp.Header.Get("Location"))
				}
			}
			var officials int
			if err := ce.sessDB.QueryRow(`SELECT COUNT(*) FROM sessions WHERE kind = 'official'`).Scan(&officials); err != nil || officials != 0 {
				t.Errorf("%d officials' sessions left (%v), want none", officials, err)
			}
			if !strings.Contains(ce.log.String(), `no motcua role`) || !strings.Contains(ce.log.String(), "is required for the role") {
				t.Errorf("the refusals are not logged with their reason:\n%s", ce.log)
			}
		})
	}
}

// A local account signs in with its password (argon2id); a wrong one is refused without a session
// and logged without the password; five failures lock the address and the login out — the right
// password included — for the lock-out; a disabled account cannot sign in.
func TestOfficialsSignInWithALocalAccount(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	// post sends the sign-in form, with the headers given (name, value, …).
	post := func(form url.Values, headers ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ce.url+"/can-bo/dang-nhap", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	signIn := func(login, password string) *http.Response {
		t.Helper()
		return post(url.Values{"login": {login}, "password": {password}, "next": {"/can-bo/tiep-nhan"}})
	}
	resp := signIn("hoa.le", localPassword)
	cookie := sessionCookieOf(resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/can-bo/tiep-nhan" || cookie == nil {
		t.Fatalf("sign-in with the right password: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if r := ce.call("GET", "/can-bo/tiep-nhan", cookie, ""); r.status != http.StatusOK || !strings.Contains(r.raw, "Lê Thị Hoa") {
		t.Fatalf("the reception page with the account's session: %d", r.status)
	}
	// Another site cannot post its own credentials to sign this browser in (login CSRF); a browser
	// on the site's own no-referrer page sends "Origin: null".
	right := url.Values{"login": {"hoa.le"}, "password": {localPassword}}
	for name, headers := range map[string][]string{
		"another site's origin":                {"Origin", "https://evil.example"},
		"another site, no origin":              {"Origin", "null", "Sec-Fetch-Site", "cross-site"},
		"another site, said by fetch metadata": {"Origin", ce.url, "Sec-Fetch-Site", "same-site"},
	} {
		if resp := post(right, headers...); resp.StatusCode != http.StatusForbidden || sessionCookieOf(resp) != nil {
			t.Errorf("a sign-in posted from %s: %d", name, resp.StatusCode)
		}
	}
	if resp := post(right, "Origin", "null", "Sec-Fetch-Site", "same-origin"); resp.StatusCode != http.StatusSeeOther || sessionCookieOf(resp) == nil {
		t.Errorf("a sign-in posted from the sign-in page: %d", resp.StatusCode)
	}
	// After sign-in the official lands on the officials' pages only.
	for next, want := range map[string]string{"//evil.example/x": "/can-bo", "/tra-cuu": "/can-bo", "/can-bo/dang-xuat": "/can-bo", "/can-bo/ho-so/X": "/can-bo/ho-so/X"} {
		if resp := post(url.Values{"login": {"hoa.le"}, "password": {localPassword}, "next": {next}}); resp.Header.Get("Location") != want {
			t.Errorf("next %q: lands at %q, want %q", next, resp.Header.Get("Location"), want)
		}
	}
	for _, wrong := range []string{"Sai-Mat-Khau-1", "Sai-Mat-Khau-2", "Sai-Mat-Khau-3", "Sai-Mat-Khau-4"} {
		if resp := signIn("hoa.le", wrong); resp.StatusCode != http.StatusUnauthorized || sessionCookieOf(resp) != nil {
			t.Fatalf("a wrong password: %d", resp.StatusCode)
		}
	}
	// A password typed in the login field: refused, and not logged as the login.
	if resp := signIn("Sai-Mat-Khau-5 trong ô tên", localPassword); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unknown login: %d", resp.StatusCode)
	}
	if resp := signIn("hoa.le", localPassword); resp.StatusCode != http.StatusTooManyRequests || sessionCookieOf(resp) != nil {
		t.Fatalf("the right password after five failures from the address: %d, want 429", resp.StatusCode)
	}
	logged := ce.log.String()
	if strings.Contains(logged, "Sai-Mat-Khau") || strings.Contains(logged, localPassword) || !strings.Contains(logged, "login=hoa.le") {
		t.Errorf("the failures are logged with a password, or without the login:\n%s", logged)
	}
	// The lock-out ends; a disabled account still cannot sign in, whatever its password.
	ce.clock.Advance(16 * time.Minute)
	ce.env.clock.Advance(16 * time.Minute)
	if err := ce.accounts.Disable(context.Background(), "hoa.le"); err != nil {
		t.Fatal(err)
	}
	if resp := signIn("hoa.le", localPassword); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a disabled account: %d", resp.StatusCode)
	}
}

// A citizen's session never opens the officials' pages, nor an official's session a citizen's
// space: each is looked up as its own kind only, whichever cookie carries it.
func TestOfficialsAndCitizensSessionsNeverMix(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	citizen := ce.signIn(newBrowser(t), citizenAn)
	official := sessionCookieOf(ce.officialAtProvider(newBrowser(t), officialHoa))
	if official == nil {
		t.Fatal("the official got no session")
	}
	// A citizen at the officials' client: no motcua role, no session.
	if resp := ce.officialAtProvider(newBrowser(t), citizenAn); sessionCookieOf(resp) != nil {
		t.Error("a citizen signed in at the officials' client got an official's session")
	}
	asOfficial := &http.Cookie{Name: "motcua_session", Value: citizen.Value}
	if r := ce.call("GET", "/can-bo", asOfficial, ""); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/can-bo/dang-nhap") {
		t.Errorf("the officials' pages with a citizen's session: %d", r.status)
	}
	asCitizen := &http.Cookie{Name: "motcua_citizen", Value: official.Value}
	for _, path := range []string{"/api/v1/me", "/api/v1/me/dossiers"} {
		ce.expect(ce.call("GET", path, asCitizen, ""), http.StatusUnauthorized)
	}
	if r := ce.call("GET", "/ho-so-cua-toi", asCitizen, ""); strings.Contains(r.raw, officialHoa.Name) {
		t.Error("the citizen's page with an official's session shows the official")
	}
	// Each still works as its own kind.
	ce.expect(ce.call("GET", "/api/v1/me", citizen, ""), http.StatusOK)
	if r := ce.call("GET", "/can-bo", official, ""); r.status != http.StatusOK {
		t.Errorf("the official's own session: %d", r.status)
	}
}

// An official's page session ends after the idle timeout and after the absolute one, and one opened
// with an API token never outlives the token.
func TestOfficialsSessionsExpire(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	open := func(c *http.Cookie) int { return ce.call("GET", "/can-bo", c, "").status }
	idle := sessionCookieOf(ce.officialAtProvider(newBrowser(t), officialHoa))
	busy := sessionCookieOf(ce.officialAtProvider(newBrowser(t), officialHoa))
	ce.clock.Advance(20 * time.Minute)
	if open(busy) != http.StatusOK {
		t.Fatal("a session 20 minutes old")
	}
	ce.clock.Advance(15 * time.Minute)
	if open(idle) != http.StatusSeeOther || open(busy) != http.StatusOK {
		t.Fatal("idle 35 minutes: still signed in, or the busy session ended")
	}
	for range 16 {
		ce.clock.Advance(29 * time.Minute)
		if open(busy) != http.StatusOK {
			break
		}
	}
	if open(busy) != http.StatusSeeOther {
		t.Error("a busy session lived past the 8-hour absolute timeout")
	}

	// A token minted for one hour opens a session that ends with it, though used every few minutes.
	token, err := mhttp.MintToken(ce.key, commands.Caller{ID: "tn02", Name: "Cán bộ", Roles: []commands.Role{commands.RoleReception}, Agency: centre},
		time.Hour, ce.env.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	withToken := &http.Cookie{Name: "motcua_session", Value: strings.TrimPrefix(pageSession(t, ce.url, token), "motcua_session=")}
	for _, minutes := range []int{25, 50} {
		ce.clock.Advance(25 * time.Minute)
		ce.env.clock.Advance(25 * time.Minute)
		if status := open(withToken); status != http.StatusOK {
			t.Fatalf("the token's session %d minutes on: %d", minutes, status)
		}
	}
	ce.clock.Advance(25 * time.Minute)
	ce.env.clock.Advance(25 * time.Minute)
	if open(withToken) != http.StatusSeeOther {
		t.Error("a session opened with a one-hour token lived 75 minutes")
	}
}
