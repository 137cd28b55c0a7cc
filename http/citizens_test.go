package http_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/shred"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/http/session"
	"github.com/motcua/motcua/integrations/demoidp"
	"github.com/motcua/motcua/projections"
)

// The citizens' sign-in runs against a real OpenID provider (integrations/demoidp, zitadel's OP)
// on its own listener, through the real router, with the sessions in SQLite or PostgreSQL.

var citizenIndexKey = projections.ApplicantIndexKey(accessLogKey)

var (
	citizenAn    = demoidp.Person{Subject: "vneid-an", Name: "Nguyễn Văn An", IDNumber: "038012345678", Phone: "0912345678", Email: "an@example.vn"}
	citizenBinh  = demoidp.Person{Subject: "vneid-binh", Name: "Trần Thị Bình", IDNumber: "001190000002"}
	citizenNoPID = demoidp.Person{Subject: "vneid-nopid", Name: "Không Có Số", IDNumber: "12345"}
)

type citizenEnv struct {
	*secureEnv
	idpURL   string
	sessions *session.Store
	sessDB   *sql.DB
	clock    *testClock // the sessions' clock
	docs     *mhttp.DocumentsConfig
	blobDir  string
	// officials sign in at the same provider, with their own client (officials_test.go), or with
	// a local account.
	accounts *session.Accounts
	log      *lockedLog // what the server logs
}

// newCitizenEnv is the secure environment (crypto-shredding, every read model and the citizens'
// index, erasure) with citizens signing in; sessionsDB opens the sessions' database.
func newCitizenEnv(t *testing.T, sessionsDB func(t *testing.T, readDB *sql.DB) (*sql.DB, engine.Dialect)) *citizenEnv {
	t.Helper()
	ce := &citizenEnv{clock: &testClock{t: time.Now()}}
	idpServer := httptest.NewUnstartedServer(nil)
	ce.idpURL = "http://" + idpServer.Listener.Addr().String()
	readModels := append(projections.All(), projections.CitizenDossiersView{Key: citizenIndexKey})
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
		projections: readModels,
		configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
			cfg.PublicRequestsPerMinute = 100000
			ce.blobDir = filepath.Join(t.TempDir(), "blobs")
			ce.docs = documentsConfigAt(t, cfg.ReadDB, ce.blobDir)
			cfg.Documents = ce.docs
			cfg.Eraser = mhttp.EraserFunc(func(ctx context.Context, idNumber string) (bool, error) {
				erased, err := shredded.Erase(ctx, idNumber)
				if err != nil || !erased {
					return erased, err
				}
				_, err = (&engine.Rebuilder{Store: shredded, DB: cfg.ReadDB, Dialect: engine.SQLite, Consumers: readModels, Logger: cfg.Logger}).Run(ctx)
				return true, err
			})
		},
		configureAt: func(cfg *mhttp.Config, baseURL string) {
			provider, err := demoidp.New(demoidp.Config{Issuer: ce.idpURL,
				Clients: []demoidp.Client{{ID: "motcua", Secret: "s3cret", RedirectURIs: []string{baseURL + mhttp.CitizenCallbackPath}}, officialsClient(baseURL)},
				People:  append([]demoidp.Person{citizenAn, citizenBinh, citizenNoPID}, ssoOfficials...)})
			if err != nil {
				t.Fatal(err)
			}
			idpServer.Config.Handler = provider
			idpServer.Start()
			t.Cleanup(idpServer.Close)
			db, dialect := sessionsDB(t, cfg.ReadDB)
			store, err := session.New(db, dialect, session.Timeouts{Idle: 30 * time.Minute, Absolute: 8 * time.Hour, Attempt: 10 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			ce.sessions, ce.sessDB = store.WithClock(ce.clock.Now), db
			cfg.Citizens, err = mhttp.NewCitizenSignIn(context.Background(), mhttp.CitizenSignInConfig{Issuer: ce.idpURL, ClientID: "motcua",
				ClientSecret: "s3cret", RedirectURL: baseURL + mhttp.CitizenCallbackPath, Sessions: ce.sessions, IndexKey: citizenIndexKey})
			if err != nil {
				t.Fatal(err)
			}
			ce.configureOfficials(t, cfg, db, dialect, baseURL)
		},
	})
	ce.secureEnv = &secureEnv{env: e, shredded: shredded, server: e.server}
	return ce
}

func sessionsInTheStore(_ *testing.T, readDB *sql.DB) (*sql.DB, engine.Dialect) {
	return readDB, engine.SQLite
}

func sessionsInPostgres(t *testing.T, _ *sql.DB) (*sql.DB, engine.Dialect) {
	db, err := sql.Open("pgx", pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, engine.PostgreSQL
}

// browser is a citizen's browser: it keeps cookies, and stops at motcua's callback when asked to.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Jar: jar}}
}

func (b *browser) send(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(u string) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.send(req)
}

func (b *browser) post(u string, form url.Values) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(req)
}

// toCallback begins a sign-in at motcua, chooses the person at the provider's page, and returns
// the address the provider sends the browser back to — without following it.
func (ce *citizenEnv) toCallback(b *browser, who demoidp.Person) string {
	ce.t.Helper()
	return ce.toCallbackFrom(b, who, "/ho-so-cua-toi")
}

// toCallbackFrom is toCallback for a sign-in asked to land at next.
func (ce *citizenEnv) toCallbackFrom(b *browser, who demoidp.Person, next string) string {
	ce.t.Helper()
	resp, page := b.get(ce.url + mhttp.CitizenSignInPath + "?next=" + url.QueryEscape(next))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), ce.idpURL+"/dang-nhap") || !strings.Contains(page, who.Name) {
		ce.t.Fatalf("sign-in did not reach the provider's page: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	b.client.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == mhttp.CitizenCallbackPath {
			return http.ErrUseLastResponse
		}
		return nil
	}
	defer func() { b.client.CheckRedirect = nil }()
	resp, _ = b.post(ce.idpURL+"/dang-nhap", url.Values{"id": {resp.Request.URL.Query().Get("id")}, "subject": {who.Subject}})
	callback := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(callback, ce.url+mhttp.CitizenCallbackPath) {
		ce.t.Fatalf("the provider answered %d, Location %q", resp.StatusCode, callback)
	}
	return callback
}

// signIn signs who in with browser b and returns the session cookie.
func (ce *citizenEnv) signIn(b *browser, who demoidp.Person) *http.Cookie {
	ce.t.Helper()
	callback := ce.toCallback(b, who)
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer func() { b.client.CheckRedirect = nil }()
	resp, body := b.get(callback)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ho-so-cua-toi" {
		ce.t.Fatalf("callback: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "motcua_citizen" && c.Value != "" {
			return c
		}
	}
	ce.t.Fatalf("no session cookie set: %v", resp.Header.Values("Set-Cookie"))
	return nil
}

// call sends an API request with the given cookie and bearer token (either may be empty).
func (ce *citizenEnv) call(method, path string, cookie *http.Cookie, token string) response {
	ce.t.Helper()
	req, _ := http.NewRequest(method, ce.url+path, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		ce.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (ce *citizenEnv) receiveFor(who demoidp.Person) string {
	ce.t.Helper()
	receipt := validReceipt()
	receipt["applicant"] = map[string]any{"type": "citizen", "name": who.Name, "id_number": who.IDNumber}
	created := ce.expect(ce.do("POST", "/api/v1/dossiers", ce.token("tiepnhan1", centre, commands.RoleReception), receipt), http.StatusCreated)
	return created.body["code"].(string)
}

func (ce *citizenEnv) sessionCount() int {
	ce.t.Helper()
	var n int
	if err := ce.sessDB.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&n); err != nil {
		ce.t.Fatal(err)
	}
	return n
}

func myCodes(t *testing.T, r response) []string {
	t.Helper()
	items, _ := r.body["items"].([]any)
	codes := []string{}
	for _, item := range items {
		codes = append(codes, item.(map[string]any)["code"].(string))
	}
	return codes
}

func forEachSessionDatabase(t *testing.T, test func(t *testing.T, ce *citizenEnv)) {
	t.Run("sqlite", func(t *testing.T) { test(t, newCitizenEnv(t, sessionsInTheStore)) })
	t.Run("postgres", func(t *testing.T) { test(t, newCitizenEnv(t, sessionsInPostgres)) })
}

func TestACitizenSignsInAndSeesTheirOwnDossiers(t *testing.T) {
	forEachSessionDatabase(t, func(t *testing.T, ce *citizenEnv) {
		first, second, other := ce.receiveFor(citizenAn), ce.receiveFor(citizenAn), ce.receiveFor(citizenBinh)
		ce.waitPublic(second, "received")
		ce.waitProjected()

		b := newBrowser(t)
		cookie := ce.signIn(b, citizenAn)
		if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Secure {
			t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure on plain-http loopback", cookie)
		}
		if strings.Contains(cookie.Value, citizenAn.IDNumber) {
			t.Error("the cookie carries the identification number")
		}

		me := ce.call("GET", "/api/v1/me", cookie, "")
		if me.status != http.StatusOK || me.body["id_number"] != citizenAn.IDNumber || me.body["name"] != citizenAn.Name || me.body["subject"] != citizenAn.Subject {
			t.Fatalf("GET /api/v1/me: %d %s", me.status, me.raw)
		}
		if me.header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET /api/v1/me Cache-Control %q, want no-store", me.header.Get("Cache-Control"))
		}
		mine := ce.call("GET", "/api/v1/me/dossiers", cookie, "")
		if got := myCodes(t, mine); mine.status != http.StatusOK || len(got) != 2 || got[0] != second || got[1] != first || mine.body["total"] != float64(2) {
			t.Fatalf("my dossiers: want [%s %s] (newest first), not %s: %s", second, first, other, mine.raw)
		}
		item := mine.body["items"].([]any)[0].(map[string]any)
		if item["status"] != "received" || item["status_vi"] == "" || item["status_url"] != "/tra-cuu/"+second ||
			item["events_url"] != "/api/v1/public/dossiers/"+second+"/events" || item["procedure_code"] != "1.009972" {
			t.Errorf("my dossier: %v", item)
		}
		// Keyset pages of one, then the second page; bad page parameters are 400s naming the field.
		page1 := ce.call("GET", "/api/v1/me/dossiers?limit=1", cookie, "")
		next, _ := page1.body["next"].(string)
		page2 := ce.call("GET", "/api/v1/me/dossiers?limit=1&after="+url.QueryEscape(next), cookie, "")
		if got1, got2 := myCodes(t, page1), myCodes(t, page2); len(got1) != 1 || got1[0] != second || len(got2) != 1 || got2[0] != first || page2.body["next"] != nil {
			t.Errorf("pages of one: %v then %v (next %v)", got1, got2, page2.body["next"])
		}
		for query, field := range map[string]string{"limit=0": "limit", "limit=501": "limit", "after=zzz": "after"} {
			r := ce.expect(ce.call("GET", "/api/v1/me/dossiers?"+query, cookie, ""), http.StatusBadRequest)
			if got := fieldsOf(r); len(got) != 1 || got[0] != field {
				t.Errorf("?%s: fields %v, want [%s]", query, got, field)
			}
		}

		// The page "Hồ sơ của tôi", in Vietnamese first, links each dossier to its live lookup page.
		resp, page := b.get(ce.url + "/ho-so-cua-toi")
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Hồ sơ của tôi") || !strings.Contains(page, citizenAn.Name) ||
			!strings.Contains(page, `href="/tra-cuu/`+first+`"`) || !strings.Contains(page, `href="/tra-cuu/`+second+`"`) || strings.Contains(page, other) {
			t.Fatalf("page Hồ sơ của tôi: %d\n%s", resp.StatusCode, page)
		}

		// Binh sees only Binh's.
		binh := ce.signIn(newBrowser(t), citizenBinh)
		if got := myCodes(t, ce.call("GET", "/api/v1/me/dossiers", binh, "")); len(got) != 1 || got[0] != other {
			t.Errorf("Binh's dossiers: %v, want [%s]", got, other)
		}

		// Signing out ends the session in the database: the same cookie, replayed, opens nothing.
		resp, _ = b.post(ce.url+mhttp.CitizenSignOutPath, nil)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/tra-cuu" {
			t.Errorf("sign-out: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		ce.expect(ce.call("GET", "/api/v1/me", cookie, ""), http.StatusUnauthorized)
		if _, page := b.get(ce.url + "/ho-so-cua-toi"); !strings.Contains(page, "Đăng nhập bằng VNeID") {
			t.Error("after sign-out the page does not invite to sign in")
		}
	})
}

func TestForgedOrReplayedSignInAnswersAreRefused(t *testing.T) {
	forEachSessionDatabase(t, func(t *testing.T, ce *citizenEnv) {
		stopAtRedirect := func(b *browser) {
			b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		}
		tamper := func(column, value string) func(string) {
			return func(string) {
				if _, err := ce.sessDB.Exec(`UPDATE signin_attempts SET `+column+` = $1`, value); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, c := range []struct {
			name   string
			before func(callback string)
			edit   func(callback string) string
			other  bool // answered in another browser than the one that began
			status int
		}{
			{name: "state changed", edit: func(cb string) string { return strings.Replace(cb, "state=", "state=x", 1) }, status: http.StatusBadRequest},
			{name: "answer taken to another browser", other: true, status: http.StatusBadRequest},
			{name: "nonce not this sign-in's", before: tamper("nonce", "another-nonce"), status: http.StatusUnauthorized},
			{name: "PKCE verifier not the challenge's", before: tamper("verifier", session.RandomToken()), status: http.StatusUnauthorized},
			{name: "code changed", edit: func(cb string) string { return strings.Replace(cb, "code=", "code=x", 1) }, status: http.StatusUnauthorized},
		} {
			t.Run(c.name, func(t *testing.T) {
				b := newBrowser(t)
				callback := ce.toCallback(b, citizenAn)
				if c.before != nil {
					c.before(callback)
				}
				if c.edit != nil {
					callback = c.edit(callback)
				}
				answerer := b
				if c.other {
					answerer = newBrowser(t)
				}
				stopAtRedirect(answerer)
				resp, body := answerer.get(callback)
				if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/problem+json" {
					t.Fatalf("status %d (%s), want a %d problem", resp.StatusCode, body, c.status)
				}
				if n := ce.sessionCount(); n != 0 {
					t.Fatalf("%d sessions after a refused answer", n)
				}
			})
		}

		// A good answer is good once: replayed, its state is spent.
		b := newBrowser(t)
		callback := ce.toCallback(b, citizenAn)
		stopAtRedirect(b)
		if resp, body := b.get(callback); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first answer: %d %s", resp.StatusCode, body)
		}
		// The browser dropped the attempt's cookie; a replay with it still set is refused too.
		req, _ := http.NewRequest(http.MethodGet, callback, nil)
		req.AddCookie(&http.Cookie{Name: "motcua_signin", Value: mustQuery(t, callback, "state")})
		if resp, _ := b.send(req); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed answer: %d, want 400", resp.StatusCode)
		}
		if n := ce.sessionCount(); n != 1 {
			t.Errorf("%d sessions, want the one", n)
		}

		// A browser (asking for HTML) is sent back to the page, which says the sign-in failed.
		b = newBrowser(t)
		callback = ce.toCallback(b, citizenAn)
		req, _ = http.NewRequest(http.MethodGet, strings.Replace(callback, "state=", "state=x", 1), nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		if resp, page := b.send(req); resp.Request.URL.RequestURI() != "/ho-so-cua-toi?dang-nhap=that-bai" ||
			!strings.Contains(page, "Đăng nhập không thành công") || !strings.Contains(page, "Đăng nhập bằng VNeID") {
			t.Errorf("a browser's refused sign-in lands at %s:\n%s", resp.Request.URL, page)
		}

		// A provider whose token lacks a 12-digit identification number signs nobody in.
		b = newBrowser(t)
		callback = ce.toCallback(b, citizenNoPID)
		stopAtRedirect(b)
		if resp, _ := b.get(callback); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("no identification number: %d, want 401", resp.StatusCode)
		}
	})
}

func mustQuery(t *testing.T, u, name string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Query().Get(name)
}

func TestCitizenSessionsExpire(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	idle := ce.signIn(newBrowser(t), citizenAn)
	ce.clock.Advance(31 * time.Minute)
	ce.expect(ce.call("GET", "/api/v1/me", idle, ""), http.StatusUnauthorized)

	busy := ce.signIn(newBrowser(t), citizenAn)
	for range 16 { // a request every 29 minutes: never idle, and 7 h 44 pass
		ce.clock.Advance(29 * time.Minute)
		ce.expect(ce.call("GET", "/api/v1/me", busy, ""), http.StatusOK)
	}
	ce.clock.Advance(29 * time.Minute) // past the 8 hours
	ce.expect(ce.call("GET", "/api/v1/me", busy, ""), http.StatusUnauthorized)
}

func TestCitizensAndOfficialsNeverMix(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	code := ce.receiveFor(citizenAn)
	cookie := ce.signIn(newBrowser(t), citizenAn)
	reception := ce.token("tiepnhan1", centre, commands.RoleReception)

	// A citizen's session never acts on an official's endpoint or page...
	for _, path := range []string{"/api/v1/dossiers/" + code, "/api/v1/dossiers/" + code + "/events", "/api/v1/reports/resolution", "/api/v1/access-log"} {
		r := ce.expect(ce.call("GET", path, cookie, ""), http.StatusUnauthorized)
		if strings.Contains(r.raw, citizenAn.IDNumber) {
			t.Errorf("GET %s with a citizen's cookie shows the number", path)
		}
	}
	ce.expect(ce.call("POST", "/api/v1/dossiers/"+code+"/transfer", cookie, ""), http.StatusUnauthorized)
	// ...nor when its token is presented as an official's page cookie or bearer token.
	asOfficialCookie := &http.Cookie{Name: "motcua_session", Value: cookie.Value}
	if r := ce.call("GET", "/can-bo", asOfficialCookie, ""); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/can-bo/dang-nhap") {
		t.Errorf("officials' page with a citizen's session: %d %s, want sent to sign in", r.status, r.header.Get("Location"))
	}
	if r := ce.call("GET", "/can-bo", cookie, ""); r.status != http.StatusSeeOther {
		t.Errorf("officials' page with a citizen's cookie: %d, want sent to sign in", r.status)
	}
	ce.expect(ce.call("GET", "/api/v1/dossiers/"+code, nil, cookie.Value), http.StatusUnauthorized)

	// An official's token never reads a citizen's space, even beside a citizen's cookie.
	ce.expect(ce.call("GET", "/api/v1/me", nil, reception), http.StatusForbidden)
	ce.expect(ce.call("GET", "/api/v1/me/dossiers", cookie, reception), http.StatusForbidden)
	ce.expect(ce.call("GET", "/api/v1/me", &http.Cookie{Name: "motcua_session", Value: reception}, ""), http.StatusUnauthorized)
	ce.expect(ce.call("GET", "/api/v1/me", &http.Cookie{Name: "motcua_citizen", Value: reception}, ""), http.StatusUnauthorized)
}

func TestAnErasedApplicantsListIsEmpty(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	code := ce.receiveFor(citizenAn)
	ce.receiveFor(citizenBinh)
	ce.waitPublic(code, "received")
	ce.waitProjected()
	cookie := ce.signIn(newBrowser(t), citizenAn)
	binh := ce.signIn(newBrowser(t), citizenBinh)
	if got := myCodes(t, ce.call("GET", "/api/v1/me/dossiers", cookie, "")); len(got) != 1 || got[0] != code {
		t.Fatalf("before erasure: %v, want [%s] — found although the store keeps the number sealed", got, code)
	}
	ce.expect(ce.do("POST", "/api/v1/admin/erasures", ce.token("quantri", "", commands.RoleAdmin), map[string]any{"id_number": citizenAn.IDNumber, "basis": "Đơn số 15/2026"}), http.StatusOK)
	ce.waitProjected()
	// The erasure ended the erased person's session (it held the provider's claims): signed in
	// again, their list is empty.
	ce.expect(ce.call("GET", "/api/v1/me", cookie, ""), http.StatusUnauthorized)
	cookie = ce.signIn(newBrowser(t), citizenAn)
	mine := ce.call("GET", "/api/v1/me/dossiers", cookie, "")
	if got := myCodes(t, mine); mine.status != http.StatusOK || len(got) != 0 || mine.body["total"] != float64(0) {
		t.Fatalf("after erasure: %d %s, want an empty list", mine.status, mine.raw)
	}
	if got := myCodes(t, ce.call("GET", "/api/v1/me/dossiers", binh, "")); len(got) != 1 {
		t.Errorf("another applicant's session or list after the erasure: %v", got)
	}
}

// Every GET route the citizens add is classified in lists_test.go.
func TestCitizenRoutesAreClassified(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	found := 0
	for _, r := range routesOf(t, ce.server) {
		_, paged := pagedLists[r.pattern]
		_, bounded := boundedLists[r.pattern]
		if r.method == http.MethodGet && !paged && !bounded && !slices.Contains(singleResources, r.pattern) {
			t.Errorf("GET %s is neither a list (paged or bounded) nor a single resource: classify it in lists_test.go", r.pattern)
		}
		if strings.HasPrefix(r.pattern, "/api/v1/me") || strings.HasPrefix(r.pattern, "/cong-dan/") || strings.HasPrefix(r.pattern, "/ho-so-cua-toi") {
			found++
		}
	}
	if found != 17 {
		t.Errorf("%d citizens' routes mounted, want 17 (sign-in, callback, sign-out, me, my dossiers, the procedures, one dossier, "+
			"submit, answer, download; the pages: my dossiers, the procedures, a procedure's form and its post, one dossier, its answer, its file)", found)
	}
}

// After sign-in a citizen lands on motcua's own citizen pages only: another site, the officials'
// pages or the API are replaced by "Hồ sơ của tôi".
func TestSignInLandsOnlyOnCitizenPages(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	for next, want := range map[string]string{
		"/tra-cuu/000.00.00.H56-260302-0001": "/tra-cuu/000.00.00.H56-260302-0001",
		"//evil.example/x":                   "/ho-so-cua-toi",
		"/\\evil.example":                    "/ho-so-cua-toi",
		"https://evil.example/":              "/ho-so-cua-toi",
		"/can-bo":                            "/ho-so-cua-toi",
		"/api/v1/me":                         "/ho-so-cua-toi",
	} {
		b := newBrowser(t)
		callback := ce.toCallbackFrom(b, citizenAn, next)
		b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		if resp, _ := b.get(callback); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("next=%s: %d to %q, want %q", next, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}

// An approved correction of the identification number moves the dossier to the person it now names.
func TestACorrectedNumberMovesTheDossier(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	code := ce.receiveFor(citizenAn) // recorded under An's number by mistake: it is Binh's
	ce.waitPublic(code, "received")
	an, binh := ce.signIn(newBrowser(t), citizenAn), ce.signIn(newBrowser(t), citizenBinh)
	ce.waitProjected()
	if got := myCodes(t, ce.call("GET", "/api/v1/me/dossiers", an, "")); len(got) != 1 {
		t.Fatalf("before the correction An's list is %v", got)
	}
	requested := ce.expect(ce.do("POST", "/api/v1/dossiers/"+code+"/corrections", ce.token("tiepnhan1", centre, commands.RoleReception),
		map[string]any{"changes": []map[string]any{{"field": "applicant.id_number", "old": citizenAn.IDNumber, "new": citizenBinh.IDNumber}},
			"reason": "Nhập nhầm số định danh"}), http.StatusOK)
	number := requested.body["corrections"].(map[string]any)["pending"].(map[string]any)["number"].(float64)
	ce.expect(ce.do("POST", "/api/v1/dossiers/"+code+"/corrections/"+strconv.Itoa(int(number))+"/approve", ce.token("truongphong", centre, commands.RoleHead), nil), http.StatusOK)
	ce.waitProjected()
	if got := myCodes(t, ce.call("GET", "/api/v1/me/dossiers", an, "")); len(got) != 0 {
		t.Errorf("after the correction An's list is %v, want empty", got)
	}
	if got := myCodes(t, ce.call("GET", "/api/v1/me/dossiers", binh, "")); len(got) != 1 || got[0] != code {
		t.Errorf("after the correction Binh's list is %v, want [%s]", got, code)
	}
}
