package http_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/projections"
)

// tokenWithoutAgency signs with the deployment's key a token for an official holding roles and no
// agency claim at all: what `motcua token` issued before it refused to, and what the router may
// still receive from a token minted then.
func (e *env) tokenWithoutAgency(id string, roles ...commands.Role) string {
	e.t.Helper()
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	now := e.clock.Now()
	token, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": "motcua", "sub": id, "name": "Cán bộ " + id,
		"roles": names, "iat": now.Unix(), "exp": now.Add(30 * 24 * time.Hour).Unix()}).SignedString(e.key)
	if err != nil {
		e.t.Fatal(err)
	}
	return token
}

// waitReadModels waits until every read model has applied the whole log.
func (e *env) waitReadModels() {
	e.t.Helper()
	events := logtest.Settled(e.t, e.store)
	if len(events) == 0 {
		e.t.Fatal("the log is empty")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range projections.Names() {
		if err := e.engine.Runner(name).WaitFor(ctx, events[len(events)-1].Position); err != nil {
			e.t.Fatalf("read model %s did not catch up: %v", name, err)
		}
	}
}

// officialOnly reports whether a route serves officials alone: the JSON API but its public part and
// the catalog and the API's contract, and the officials' pages but signing in and out.
func officialOnly(pattern string) bool {
	switch {
	case strings.HasPrefix(pattern, "/api/v1/public/"), pattern == "/api/v1/procedures", pattern == "/api/v1/openapi.json",
		strings.HasPrefix(pattern, "/can-bo/dang-nhap"), strings.HasPrefix(pattern, "/can-bo/dang-xuat"):
		return false
	}
	return strings.HasPrefix(pattern, "/api/v1/") || strings.HasPrefix(pattern, "/can-bo")
}

// showsNoDossier lists the official routes that show no dossier and no figure of any agency, so
// they may answer an official of no agency: the blank reception form shows the procedure catalog.
var showsNoDossier = map[string]bool{"GET /can-bo/tiep-nhan": true}

// An official whose token holds agency roles and names no agency reads nothing: every page and
// every API route that shows dossiers or figures — found by walking the router, so routes added
// later are covered — refuses them with 403, the pages exactly as the API, whatever agency or
// queue they ask for; none shows a dossier's code, its applicant or its agencies' figures, and
// nothing they post is written. An inspector without an agency reads every agency, as asked for
// explicitly, and the agencies' own officials read their own: the walk had data to leak.
func TestAnOfficialOfNoAgencyReadsNothing(t *testing.T) {
	e := newSecureEnv(t, nil)
	returned, resultCode, _ := e.processedDossier()
	// An open dossier, handed to the official of no agency by id, running late.
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	open := e.expect(e.do("POST", "/api/v1/dossiers", reception, privateReceipt()), http.StatusCreated).body["code"].(string)
	e.expect(e.do("POST", "/api/v1/dossiers/"+open+"/transfer", reception,
		map[string]any{"to_unit": "PQLXD", "to_official_id": "tudo", "to_official_name": "Cán bộ tudo", "step": "Thẩm định hồ sơ"}), http.StatusOK)
	e.clock.Advance(10 * 24 * time.Hour)
	e.waitReadModels()
	events := e.eventCount()

	nobody := e.tokenWithoutAgency("tudo", commands.RoleReception, commands.RoleSpecialist, commands.RoleHead, commands.RoleSigner, commands.RoleCashier)
	who := visitor{"an official of no agency", []string{"Authorization", "Bearer " + nobody, "Cookie", pageSession(t, e.url, nobody)}}
	codes := []string{returned, open}
	queries := []string{"", "?pham-vi=mine", "?co-quan=" + building + "&agency=" + building, "?co-quan=" + centre + "&agency=" + centre + "&pham-vi=mine"}
	walked := 0
	for _, r := range routesOf(t, e.server) {
		if !officialOnly(r.pattern) {
			continue
		}
		base := fill(strings.ReplaceAll(r.pattern, "{form}", "01"), returned, resultCode)
		for _, query := range queries {
			status, data := e.fetch(r.method, base+query, who)
			walked++
			switch {
			case r.method == http.MethodGet && showsNoDossier[r.method+" "+r.pattern]:
				if status != http.StatusOK {
					t.Errorf("GET %s answers %d", base+query, status)
				}
			case r.method == http.MethodGet && status != http.StatusForbidden:
				t.Errorf("GET %s answers %d, want 403: %.300s", base+query, status, data)
			case r.method != http.MethodGet && (status < 400 || status == http.StatusInternalServerError):
				t.Errorf("%s %s answers %d, want a refusal", r.method, base+query, status)
			}
			if found := leaked(data); len(found) > 0 {
				t.Errorf("%s %s shows %v", r.method, base+query, found)
			}
			for _, code := range codes {
				if !strings.Contains(base, code) && bytes.Contains(data, []byte(code)) {
					t.Errorf("%s %s shows dossier %s", r.method, base+query, code)
				}
			}
		}
	}
	if walked < 40 {
		t.Fatalf("walked only %d requests: the router's official routes were not found", walked)
	}
	if n := e.eventCount(); n != events {
		t.Fatalf("the official of no agency wrote %d events", n-events)
	}

	// The data was there to leak: the agencies' own officials, and an inspector of no agency asking
	// for every agency, see it.
	for _, c := range []struct {
		name, token, path, want string
	}{
		{"the deciding agency's queue", e.token("truongphong1", building, commands.RoleHead), "/can-bo", open},
		{"an inspector of no agency, every agency's queue in figures", e.token("thanhtra", "", commands.RoleInspector), "/can-bo", `data-agency="` + building + `"`},
		{"an inspector of no agency, one agency's queue", e.token("thanhtra", "", commands.RoleInspector), "/can-bo?co-quan=" + url.QueryEscape(building), open},
		{"an inspector of no agency, the queue's API", e.token("thanhtra", "", commands.RoleInspector), "/api/v1/work-queue", open},
		{"an inspector of no agency, the report", e.token("thanhtra", "", commands.RoleInspector), "/can-bo/thong-ke/bao-cao.csv?tu=2026-03-01&den=2026-03-31", "Tổng cộng"},
		{"the centre's report", reception, "/can-bo/thong-ke/bao-cao.csv?tu=2026-03-01&den=2026-03-31", "Tổng cộng"},
		{"an inspector of no agency, the late dashboard", e.token("thanhtra", "", commands.RoleInspector), "/api/v1/dashboards/late", open},
	} {
		status, data := e.fetch("GET", c.path, visitor{c.name, []string{"Authorization", "Bearer " + c.token, "Cookie", pageSession(t, e.url, c.token)}})
		if status != http.StatusOK || !bytes.Contains(data, []byte(c.want)) {
			t.Errorf("%s: GET %s answers %d without %q", c.name, c.path, status, c.want)
		}
	}
}

// An official of one agency asking a page or the API for another agency's figures or queue is
// refused alike by both, rather than silently shown their own.
func TestAnotherAgencysFiguresAreRefusedAlikeByPagesAndAPI(t *testing.T) {
	e := newSecureEnv(t, nil)
	head := e.token("truongphong1", building, commands.RoleHead)
	who := visitor{"head of the building department", []string{"Authorization", "Bearer " + head, "Cookie", pageSession(t, e.url, head)}}
	for _, path := range []string{
		"/api/v1/reports/resolution?agency=" + land, "/can-bo/thong-ke/bao-cao.csv?co-quan=" + land,
		"/api/v1/dashboards/late?agency=" + land, "/can-bo/thong-ke/tre-han?co-quan=" + land,
		"/api/v1/dashboards/late/open_overdue?agency=" + land,
		"/api/v1/statistics/satisfaction?agency=" + land, "/can-bo/thong-ke/hai-long.csv?co-quan=" + land,
		"/api/v1/registers/" + land + "/2026", "/can-bo?co-quan=" + url.QueryEscape(land),
	} {
		if status, data := e.fetch("GET", path, who); status != http.StatusForbidden {
			t.Errorf("GET %s answers %d, want 403: %.200s", path, status, data)
		}
	}
	for _, path := range []string{"/can-bo", "/can-bo/thong-ke/bao-cao", "/api/v1/reports/resolution?agency=" + building} {
		if status, _ := e.fetch("GET", path, who); status != http.StatusOK {
			t.Errorf("GET %s of the official's own agency answers %d", path, status)
		}
	}
	// A malformed agency is a bad request on both faces.
	for _, path := range []string{"/api/v1/reports/resolution?agency=So-Xay-dung", "/can-bo/thong-ke/bao-cao?co-quan=So-Xay-dung"} {
		if status, _ := e.fetch("GET", path, who); status != http.StatusBadRequest {
			t.Errorf("GET %s answers %d, want 400", path, status)
		}
	}
}
