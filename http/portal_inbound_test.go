package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/eventstore"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/integrations/portal/inbound"
	"github.com/motcua/motcua/projections"
)

var portalSecret = []byte("bí-mật-chung-với-cổng-dvcqg-0123456789")

// syncBuffer collects log lines written from the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// forEachPortalBackend runs test on SQLite and PostgreSQL with the portal's webhook on, and
// returns the server's log.
func forEachPortalBackend(t *testing.T, test func(t *testing.T, e *backendEnv, log *syncBuffer)) {
	var log *syncBuffer
	forEachBackendWith(t, func(cfg *mhttp.Config) {
		log = &syncBuffer{}
		cfg.Logger = slog.New(slog.NewTextHandler(log, nil))
		cfg.PortalWebhook = &inbound.Verifier{Secret: portalSecret, Now: cfg.App.Now}
	}, func(t *testing.T, e *backendEnv) { test(t, e, log) })
}

// portalDocument is a dossier as the portal sends it; change edits it before it is encoded.
func portalDocument(portalID string, change func(doc map[string]any)) string {
	doc := map[string]any{
		"MaHoSoQG":        portalID,
		"MaTTHC":          "1.009972",
		"MaDonViTiepNhan": centre,
		"NgayNopHoSo":     "20260302074500",
		"ChuHoSo": map[string]any{
			"LoaiDoiTuong": 1, "HoVaTen": "Trần Thị Bích", "SoGiayTo": "038198765432",
			"SoDienThoai": "0987654321", "Email": "bich@example.vn", "DiaChi": "5 Trần Phú, Thanh Hóa",
		},
		"DanhSachGiayTo": []map[string]any{
			{"TenGiayTo": "Đơn đề nghị cấp giấy phép xây dựng", "SoBan": 1, "DuongDanTep": "https://dichvucong.gov.vn/tep/1.pdf"},
			{"TenGiayTo": "Bản vẽ thiết kế", "SoBan": 2},
		},
	}
	if change != nil {
		change(doc)
	}
	data, _ := json.Marshal(doc)
	return string(data)
}

// sendPortal posts body to the webhook signed with secret at the given moment.
func (e *env) sendPortal(body string, secret []byte, at time.Time) response {
	e.t.Helper()
	h := http.Header{}
	inbound.Sign(h, secret, []byte(body), at)
	return e.do("POST", "/api/v1/portal/dossiers", "", body, inbound.TimestampHeader, h.Get(inbound.TimestampHeader),
		inbound.SignatureHeader, h.Get(inbound.SignatureHeader), "Content-Type", "application/json")
}

func TestPortalWebhookRecordsASubmittedDossierOnceWithThePortalsID(t *testing.T) {
	forEachPortalBackend(t, func(t *testing.T, e *backendEnv, log *syncBuffer) {
		body := portalDocument("G22.99-260302-000101", nil)
		first := e.expect(e.sendPortal(body, portalSecret, e.clock.Now()), http.StatusCreated)
		if first.body["status"] != "submitted" || first.body["external_code"] != "G22.99-260302-000101" || first.body["created"] != true {
			t.Fatalf("first arrival = %s", first.raw)
		}
		id := first.body["id"].(string)
		afterFirst := e.count()

		// The same dossier again — the portal retrying, or replaying within the window — is the same dossier.
		e.clock.Advance(time.Minute)
		again := e.expect(e.sendPortal(body, portalSecret, e.clock.Now()), http.StatusOK)
		if again.body["id"] != id || again.body["created"] != false {
			t.Fatalf("second arrival = %s, want dossier %s again", again.raw, id)
		}
		if e.count() != afterFirst {
			t.Fatalf("the second arrival wrote %d events", e.count()-afterFirst)
		}

		// Officials see it as an online submission awaiting acceptance, with the portal's id beside ours.
		reception := e.token("tiepnhan1", centre, commands.RoleReception)
		got := e.expect(e.do("GET", "/api/v1/dossiers/"+id, reception, nil), http.StatusOK)
		if got.body["status"] != "submitted" || got.body["channel"] != "online" || got.body["external_code"] != "G22.99-260302-000101" {
			t.Fatalf("dossier = %s", got.raw)
		}
		if components := got.body["components"].([]any); len(components) != 2 {
			t.Fatalf("components = %v, want the portal's two documents", components)
		}
		// The acceptance window opened when the citizen filed on the portal, not when it reached us.
		if !strings.HasPrefix(got.body["submitted_at"].(string), "2026-03-02T00:45:00") {
			t.Fatalf("submitted_at = %v, want the portal's 07:45 Vietnam time", got.body["submitted_at"])
		}

		// Accepting it keeps the portal's id beside the new code.
		accepted := e.expect(e.do("POST", "/api/v1/dossiers/"+id+"/receive", reception, map[string]any{}), http.StatusOK)
		if accepted.body["code"] == nil {
			t.Fatalf("accepted = %s", accepted.raw)
		}
		got = e.expect(e.do("GET", "/api/v1/dossiers/"+id, reception, nil), http.StatusOK)
		if got.body["status"] != "received" || got.body["external_code"] != "G22.99-260302-000101" {
			t.Fatalf("accepted dossier = %s", got.raw)
		}
		// And a late arrival of the same portal dossier still answers with it, now received.
		late := e.expect(e.sendPortal(body, portalSecret, e.clock.Now()), http.StatusOK)
		if late.body["id"] != id || late.body["status"] != "received" {
			t.Fatalf("late arrival = %s", late.raw)
		}
		if strings.Contains(log.String(), "Trần Thị Bích") || strings.Contains(log.String(), "038198765432") {
			t.Fatalf("the log holds the applicant's personal data:\n%s", log)
		}
	})
}

func TestPortalWebhookRefusesForgedStaleAndMalformedRequestsWritingNothing(t *testing.T) {
	forEachPortalBackend(t, func(t *testing.T, e *backendEnv, log *syncBuffer) {
		body := portalDocument("G22.99-260302-000202", nil)
		now := e.clock.Now()
		post := func(headers ...string) response {
			return e.do("POST", "/api/v1/portal/dossiers", "", body, headers...)
		}
		signed := http.Header{}
		inbound.Sign(signed, portalSecret, []byte(body), now)
		ts, sig := signed.Get(inbound.TimestampHeader), signed.Get(inbound.SignatureHeader)

		cases := []struct {
			name   string
			resp   func() response
			status int
			field  string
		}{
			{"unsigned", func() response { return post() }, http.StatusUnauthorized, ""},
			{"wrong secret", func() response { return e.sendPortal(body, []byte("not-the-secret"), now) }, http.StatusUnauthorized, ""},
			{"body changed after signing", func() response {
				return e.do("POST", "/api/v1/portal/dossiers", "", strings.Replace(body, "Bích", "Bich", 1),
					inbound.TimestampHeader, ts, inbound.SignatureHeader, sig)
			}, http.StatusUnauthorized, ""},
			{"timestamp moved", func() response {
				return post(inbound.TimestampHeader, "1772412000", inbound.SignatureHeader, sig)
			}, http.StatusUnauthorized, ""},
			{"stale", func() response { return e.sendPortal(body, portalSecret, now.Add(-6*time.Minute)) }, http.StatusUnauthorized, ""},
			{"from the future", func() response { return e.sendPortal(body, portalSecret, now.Add(6*time.Minute)) }, http.StatusUnauthorized, ""},
			{"timestamp not a number", func() response {
				return post(inbound.TimestampHeader, "hôm qua", inbound.SignatureHeader, sig)
			}, http.StatusBadRequest, inbound.TimestampHeader},
			{"signature not hex", func() response {
				return post(inbound.TimestampHeader, ts, inbound.SignatureHeader, "sha256=zz")
			}, http.StatusBadRequest, inbound.SignatureHeader},
			{"signature without its scheme", func() response {
				return post(inbound.TimestampHeader, ts, inbound.SignatureHeader, strings.TrimPrefix(sig, "sha256="))
			}, http.StatusBadRequest, inbound.SignatureHeader},
			{"not JSON", func() response { return e.sendPortal(`{"MaHoSoQG": `, portalSecret, now) }, http.StatusBadRequest, ""},
			{"unknown procedure", func() response {
				return e.sendPortal(portalDocument("G22.99-260302-000203", func(d map[string]any) { d["MaTTHC"] = "9.999999" }), portalSecret, now)
			}, http.StatusBadRequest, "MaTTHC"},
			{"unknown field", func() response {
				return e.sendPortal(portalDocument("G22.99-260302-000204", func(d map[string]any) { d["MaHoSoKhac"] = "x" }), portalSecret, now)
			}, http.StatusBadRequest, "MaHoSoKhac"},
			{"bad citizen id", func() response {
				return e.sendPortal(portalDocument("G22.99-260302-000205", func(d map[string]any) {
					d["ChuHoSo"].(map[string]any)["SoGiayTo"] = "12ab"
				}), portalSecret, now)
			}, http.StatusBadRequest, "ChuHoSo.SoGiayTo"},
			{"no documents", func() response {
				return e.sendPortal(portalDocument("G22.99-260302-000206", func(d map[string]any) { d["DanhSachGiayTo"] = []any{} }), portalSecret, now)
			}, http.StatusBadRequest, "DanhSachGiayTo"},
			{"invisible character", func() response {
				return e.sendPortal(portalDocument("G22.99-260302-000207", func(d map[string]any) {
					d["ChuHoSo"].(map[string]any)["HoVaTen"] = "Trần\u202eThị Bích"
				}), portalSecret, now)
			}, http.StatusBadRequest, "ChuHoSo.HoVaTen"},
			{"unknown receiving unit", func() response {
				return e.sendPortal(portalDocument("G22.99-260302-000208", func(d map[string]any) { d["MaDonViTiepNhan"] = "000.00.99.H99" }), portalSecret, now)
			}, http.StatusBadRequest, "MaDonViTiepNhan"},
			{"no portal id", func() response {
				return e.sendPortal(portalDocument("", nil), portalSecret, now)
			}, http.StatusBadRequest, "MaHoSoQG"},
			{"submitted in the future", func() response {
				return e.sendPortal(portalDocument("G22.99-260302-000209", func(d map[string]any) { d["NgayNopHoSo"] = "20260303080000" }), portalSecret, now)
			}, http.StatusBadRequest, "NgayNopHoSo"},
		}
		for _, c := range cases {
			r := e.expect(c.resp(), c.status)
			if c.field != "" && !strings.Contains(r.raw, `"field":"`+c.field+`"`) {
				t.Errorf("%s: %s, want the field %s named", c.name, r.raw, c.field)
			}
			if n := e.count(); n != 0 {
				t.Fatalf("%s: %d events written", c.name, n)
			}
		}
		logged := log.String()
		if strings.Count(logged, "portal webhook refused") != len(cases) {
			t.Errorf("want one log line per refusal, log:\n%s", logged)
		}
		for _, personal := range []string{"Trần", "038198765432", "bich@example.vn", "0987654321"} {
			if strings.Contains(logged, personal) {
				t.Fatalf("the log holds %q:\n%s", personal, logged)
			}
		}
	})
}

func TestPortalWebhookNormalisesTextToNFC(t *testing.T) {
	forEachPortalBackend(t, func(t *testing.T, e *backendEnv, _ *syncBuffer) {
		decomposed := norm.NFD.String("Trần Thị Bích")
		body := portalDocument("G22.99-260302-000301", func(d map[string]any) { d["ChuHoSo"].(map[string]any)["HoVaTen"] = decomposed })
		created := e.expect(e.sendPortal(body, portalSecret, e.clock.Now()), http.StatusCreated)
		got := e.expect(e.do("GET", "/api/v1/dossiers/"+created.body["id"].(string), e.token("tiepnhan1", centre, commands.RoleReception), nil), http.StatusOK)
		if name := got.body["applicant"].(map[string]any)["name"].(string); name != "Trần Thị Bích" || !norm.NFC.IsNormalString(name) {
			t.Fatalf("name = %q, want it in NFC", name)
		}
	})
}

func TestPortalWebhookConcurrentArrivalsOfOneDossierOpenOne(t *testing.T) {
	forEachPortalBackend(t, func(t *testing.T, e *backendEnv, _ *syncBuffer) {
		body := portalDocument("G22.99-260302-000401", nil)
		const senders = 12
		var wg sync.WaitGroup
		statuses := make([]int, senders)
		ids := make([]string, senders)
		start := make(chan struct{})
		for i := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", e.url+"/api/v1/portal/dossiers", strings.NewReader(body))
				inbound.Sign(req.Header, portalSecret, []byte(body), e.clock.Now())
				<-start
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				var answer struct {
					ID string `json:"id"`
				}
				_ = json.Unmarshal(raw, &answer)
				statuses[i], ids[i] = resp.StatusCode, answer.ID
			}()
		}
		close(start)
		wg.Wait()
		created := 0
		for i, status := range statuses {
			switch {
			case status == http.StatusCreated:
				created++
			case status != http.StatusOK:
				t.Fatalf("sender %d: status %d", i, status)
			}
			if ids[i] != ids[0] {
				t.Fatalf("sender %d got dossier %s, sender 0 got %s", i, ids[i], ids[0])
			}
		}
		if created != 1 || e.count() != 1 {
			t.Fatalf("%d answers created a dossier and %d events were written, want exactly one", created, e.count())
		}
	})
}

func TestPortalWebhookNamesAFieldOfTheWrongTypeWithoutItsValue(t *testing.T) {
	forEachPortalBackend(t, func(t *testing.T, e *backendEnv, log *syncBuffer) {
		body := portalDocument("G22.99-260302-000501", func(d map[string]any) { d["ChuHoSo"].(map[string]any)["SoGiayTo"] = 38198765432 })
		r := e.expect(e.sendPortal(body, portalSecret, e.clock.Now()), http.StatusBadRequest)
		if !strings.Contains(r.raw, `"field":"ChuHoSo.SoGiayTo"`) || strings.Contains(r.raw, "38198765432") || strings.Contains(log.String(), "38198765432") {
			t.Fatalf("answer %s; log %s", r.raw, log)
		}
		if e.count() != 0 {
			t.Fatal("a refused dossier was written")
		}
	})
}

func TestOfficialsSeeThePortalsIDOnTheDossierPage(t *testing.T) {
	e := buildEnv(t, envOptions{projections: projections.All(), configure: func(cfg *mhttp.Config, app *commands.App, _ eventstore.Store) {
		cfg.PortalWebhook = &inbound.Verifier{Secret: portalSecret, Now: app.Now}
	}})
	jar, _ := cookiejar.New(nil)
	pages := &pagesEnv{env: e, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	created := e.expect(e.sendPortal(portalDocument("G22.99-260302-000601", nil), portalSecret, e.clock.Now()), http.StatusCreated)
	e.waitProjected()
	pages.signIn(e.token("tiepnhan1", centre, commands.RoleReception))
	pages.get("/can-bo/ho-so/"+created.body["id"].(string)).expect(t, http.StatusOK, "Mã hồ sơ trên Cổng DVCQG", "G22.99-260302-000601")
}
