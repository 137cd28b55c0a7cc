package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/projections"
)

// Every GET route of the router is classified here, so that a new one must say how its answer
// stays bounded: a paged list (checked below against its page size), a list bounded by
// construction (with the reason, and a check where the bound is a figure), or a single resource.

// pagedLists answer the keyset Page envelope {items, next, total}: the route, and the path it is
// asked at (filled with the seeded dossiers' unit and year).
var pagedLists = map[string][]string{
	"/api/v1/work-queue":              {"/api/v1/work-queue"},
	"/api/v1/registers/{unit}/{year}": {"/api/v1/registers/" + centre + "/2026"},
	"/api/v1/dashboards/late/{list}":  lateListPaths(),
	"/api/v1/admin/deliveries":        {"/api/v1/admin/deliveries", "/api/v1/admin/deliveries?state=pending&destination=email"},
	"/api/v1/access-log":              {"/api/v1/access-log", "/api/v1/access-log?applicant=038012345678"},
	"/api/v1/corrections":             {"/api/v1/corrections", "/api/v1/corrections?state=all"},
	"/api/v1/feedback":                {"/api/v1/feedback"},
}

func lateListPaths() []string {
	var paths []string
	for _, list := range projections.LateLists {
		paths = append(paths, "/api/v1/dashboards/late/"+list)
	}
	return paths
}

// boundedLists answer lists without paging: why they cannot grow past a bound. Those with a
// figure for a bound are checked in TestNoListAnswersMoreThanItsPageSize.
var boundedLists = map[string]string{
	"/api/v1/dashboards/late": "each list's first page is at most its limit and LateDashboardFirstPageMax; by agency, procedure " +
		"and field are bounded by the catalog; by unit and by official capped at LateGroupLimit plus one line of the others",
	"/api/v1/procedures":                 "the catalog, which the province edits and the server holds in memory",
	"/api/v1/work-queue/summary":         "one line per agency: at most the catalog's agencies",
	"/api/v1/statistics/satisfaction":    "groups capped at SatisfactionGroupLimit plus one line of the others; months by the period (at most ten years)",
	"/api/v1/reports/resolution":         "one line per field of the catalog",
	"/api/v1/feedback/dashboard":         "one line per stage of handling a feedback (five)",
	"/can-bo":                            "the work queue page: a page at a time (TestWorkQueueAnswersOnePageAtATime), or the inspector's one line per agency",
	"/can-bo/thong-ke/tre-han":           "the late dashboard's first pages, or one page of one list with a link to the next",
	"/can-bo/thong-ke/tre-han.csv":       "an export: the late lists streamed page by page, never held whole",
	"/can-bo/thong-ke/dung-han":          "one line per month of the period (at most ten years)",
	"/can-bo/thong-ke/dung-han.csv":      "one line per month of the period (at most ten years)",
	"/can-bo/thong-ke/hai-long":          "the satisfaction report: groups capped at SatisfactionGroupLimit",
	"/can-bo/thong-ke/hai-long.csv":      "the satisfaction report: groups capped at SatisfactionGroupLimit",
	"/can-bo/thong-ke/bao-cao":           "the resolution report: one line per field of the catalog",
	"/can-bo/thong-ke/bao-cao.csv":       "the resolution report: one line per field of the catalog",
	"/can-bo/thong-ke/tre-han.xlsx":      "the late dashboard's workbook: each list's first page of at most LateDashboardFirstPageMax, the groups as the JSON's",
	"/can-bo/thong-ke/hai-long.xlsx":     "the satisfaction workbook: groups capped at SatisfactionGroupLimit",
	"/can-bo/thong-ke/bao-cao.xlsx":      "the resolution report's workbook: one line per field and procedure of the catalog",
	"/api/v1/admin/deliveries/status":    "one line per destination: the configured ones and those holding deliveries",
	"/can-bo/quan-tri/gui-thong-bao":     "the deliveries page: one line per destination, and one page of the paged list of deliveries",
	"/can-bo/thanh-tra/nhat-ky-truy-cap": "the access log page: one page of the paged access log",
	// The citizens' lists need a citizen's session: citizens_test.go walks them (TestCitizenRoutesAreClassified).
	"/api/v1/me/dossiers":      "paged (limit, after; the keyset Page envelope): walked page by page and refused bad parameters in TestACitizenSignsInAndSeesTheirOwnDossiers",
	"/ho-so-cua-toi":           "the citizen's page: one page of the paged /api/v1/me/dossiers",
	"/api/v1/me/procedures":    "the catalog's procedures that can be filed online: bounded by the catalog",
	"/ho-so-cua-toi/nop-ho-so": "the procedures a citizen can file online: bounded by the catalog",
	"/can-bo/phan-anh":         "the feedback queue page: one page of the paged queue, and one line per stage (five)",
	// The test catalog holds one procedure: catalog_test.go walks these over a catalog of several.
	"/api/v1/catalog/procedures":                "paged (limit, after; the keyset Page envelope): walked page by page in TestCatalogHistoryThroughTheAPI",
	"/api/v1/catalog/procedures/{code}/history": "paged (limit, after; the keyset Page envelope): walked page by page in TestCatalogHistoryThroughTheAPI",
	"/api/v1/catalog/agencies/{code}/history":   "paged (limit, after; the keyset Page envelope), as the procedures' history",
	"/api/v1/catalog/agencies":                  "paged (limit, after; the keyset Page envelope): walked page by page in TestCatalogHistoryThroughTheAPI",
	"/api/v1/catalog/history":                   "paged (limit, after; the keyset Page envelope): walked page by page in TestCatalogHistoryThroughTheAPI",
	"/can-bo/danh-muc":                          "the catalog page: one page of the paged procedures in force at a date",
	"/can-bo/danh-muc/{code}/lich-su":           "one procedure's history page: one page of its paged versions",
	"/can-bo/danh-muc/co-quan":                  "the agencies page: one page of the paged agencies in force at a date",
	"/can-bo/danh-muc/co-quan/{code}/lich-su":   "one agency's history page: one page of its paged versions",
}

// singleResources answer one thing (its own parts at most: a dossier's steps and history).
var singleResources = []string{
	"/healthz", "/readyz", "/", "/tra-cuu", "/tra-cuu/{code}", "/xac-thuc/{resultCode}", "/can-bo/dang-nhap",
	"/static/*", "/can-bo/tiep-nhan", "/can-bo/ho-so/{code}", "/can-bo/ho-so/{code}/in/{form}", "/can-bo/ho-so/{code}/lich-su",
	"/api/v1/public/dossiers/{code}", "/api/v1/public/dossiers/{code}/events", "/api/v1/public/dossiers/{code}/qr.png",
	"/api/v1/public/results/{resultCode}", "/api/v1/public/results/{resultCode}/qr.png",
	"/api/v1/dossiers/{ref}", "/api/v1/dossiers/{ref}/events", "/api/v1/dossiers/{ref}/verification",
	"/api/v1/dossiers/{ref}/control-sheet",
	"/api/v1/dossiers/{ref}/documents/{id}", "/can-bo/ho-so/{code}/tep/{id}", // one file, streamed (documents_test.go)
	"/api/v1/public/feedback/{code}", "/api/v1/feedback/{ref}", // one feedback, its information rounds at most
	"/phan-anh", "/phan-anh/{code}", "/can-bo/phan-anh/{code}",
	"/api/v1/payments/vnpay/ipn", "/thanh-toan/ket-qua", // online payment (payments_test.go walks them)
	"/api/v1/me", "/cong-dan/dang-nhap", "/cong-dan/dang-nhap/callback", // citizens (citizens_test.go walks them)
	// the citizen's own dossier (its files and results at most, MaxDocuments), one file streamed, the
	// form of one procedure (citizen_journey_test.go)
	"/api/v1/me/dossiers/{ref}", "/api/v1/me/dossiers/{ref}/documents/{id}",
	"/ho-so-cua-toi/ho-so/{id}", "/ho-so-cua-toi/ho-so/{id}/tep/{doc}", "/ho-so-cua-toi/nop-ho-so/{procedure}",
	"/api/v1/catalog/procedures/{code}",                   // one procedure's version in force at a date
	"/api/v1/openapi.json",                                // the API's contract (docs/openapi.yaml), the same document whatever the data
	"/can-bo/dang-nhap/idp", "/can-bo/dang-nhap/callback", // officials at their provider (officials_test.go)
}

// TestNoListAnswersMoreThanItsPageSize (issue 12): no list endpoint answers more than its page
// size. Ten dossiers, five overdue and apologised for and five due soon, are listed two at a time through every
// paged list, whose pages chain through the whole list with no item twice; a limit out of range
// or a cursor no list handed out is a 400 naming the field; the unpaged lists stay within their
// bounds.
func TestNoListAnswersMoreThanItsPageSize(t *testing.T) {
	// With the outbox shown, its deliveries recorded by a consumer as motcua serve wires it.
	outbox, err := delivery.NewConsumer(&mailbox{refused: map[string]bool{}})
	if err != nil {
		t.Fatal(err)
	}
	e := buildEnv(t, envOptions{projections: append(projections.All(), outbox), configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
		// Migrated now, so that its origin precedes every event of the test.
		if err := outbox.Migrate(context.Background(), cfg.ReadDB, engine.SQLite); err != nil {
			t.Fatal(err)
		}
		cfg.Deliveries = &mhttp.DeliveriesConfig{Dialect: engine.SQLite, Destinations: []string{"email"}}
		cfg.Documents = documentsConfig(t, cfg.ReadDB)
	}})
	for _, r := range routesOf(t, e.server) {
		_, paged := pagedLists[r.pattern]
		_, bounded := boundedLists[r.pattern]
		if r.method == http.MethodGet && !paged && !bounded && !slices.Contains(singleResources, r.pattern) {
			t.Errorf("GET %s is neither a list (paged or bounded) nor a single resource: classify it here", r.pattern)
		}
	}

	// Monday 2 March 08:00: five dossiers due Monday 9 March; Thursday 5 March: five due Thursday
	// 12 March. On Tuesday 10 March the first five are overdue and the others due within 3 days.
	// The head of the deciding agency apologises for the first five at once (form 04).
	desk := e.token("tiepnhan1", centre, commands.RoleReception)
	head := e.token("truongphong1", building, commands.RoleHead)
	admin := e.token("quantri", "", commands.RoleAdmin)
	for batch, wait := range []time.Duration{3 * 24 * time.Hour, 5 * 24 * time.Hour} {
		for range 5 {
			code := e.expect(e.do("POST", "/api/v1/dossiers", desk, validReceipt()), http.StatusCreated).body["code"].(string)
			if batch == 0 {
				e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/apology", head, map[string]any{"reason": "Chờ xác minh", "extra_working_days": 3}), http.StatusOK)
				e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/corrections", desk, map[string]any{"reason": "Nhập sai",
					"changes": []any{map[string]any{"field": "applicant.email", "old": "an@example.vn", "new": "an.nguyen@example.vn"}}}), http.StatusOK)
			}
		}
		e.clock.Advance(wait)
	}
	// Five petitions wait at the desk to be routed.
	for i := range 5 {
		e.expect(e.do("POST", "/api/v1/public/feedback", "", map[string]any{"kind": "petition", "agency": centre,
			"subject": fmt.Sprintf("Kiến nghị %d", i), "content": "Nội dung", "submitter": map[string]any{"name": "Người dân"}}), http.StatusCreated)
	}
	e.waitProjected()
	// Five reads of a dossier fill the access log over three pages of 2.
	lastCode := e.expect(e.do("GET", "/api/v1/work-queue?limit=1", desk, nil), http.StatusOK).body["items"].([]any)[0].(map[string]any)["code"].(string)
	for range 5 {
		e.expect(e.do("GET", "/api/v1/dossiers/"+lastCode, desk, nil), http.StatusOK)
	}
	inspector := e.token("thanhtra1", "", commands.RoleInspector)

	for pattern, paths := range pagedLists {
		reader := desk
		if strings.HasPrefix(pattern, "/api/v1/admin/") {
			reader = admin
		}
		if pattern == "/api/v1/access-log" {
			reader = inspector
		}
		for _, path := range paths {
			seen := map[string]bool{}
			after, pages := "", 0
			for ; ; pages++ {
				if pages > 10 {
					t.Fatalf("%s: the pages do not end", path)
				}
				page := e.expect(e.do("GET", withQuery(path, "limit=2&after="+url.QueryEscape(after)), reader, nil), http.StatusOK).body
				items := page["items"].([]any)
				if len(items) > 2 {
					t.Errorf("%s: a page of limit 2 holds %d items", path, len(items))
				}
				for _, item := range items {
					key, _ := json.Marshal(item)
					if seen[string(key)] {
						t.Errorf("%s: %s is listed twice", path, key)
					}
					seen[string(key)] = true
				}
				if after, _ = page["next"].(string); after == "" {
					if total, ok := page["total"].(float64); ok && int(total) != len(seen) {
						t.Errorf("%s: the pages list %d items, the total says %v", path, len(seen), total)
					}
					break
				}
			}
			// The lists the seeding fills must come over several pages, or the paging went untested.
			if !strings.HasSuffix(path, "resolved_late") && !strings.HasSuffix(path, "late_acceptances") && pages < 2 {
				t.Errorf("%s (%s): %d items came on one page of 2", path, pattern, len(seen))
			}
			for query, field := range map[string]string{"limit=0": "limit", "limit=501": "limit",
				"after=" + projections.Cursor{"forged"}.Encode(): "after", "after=%25%25": "after"} {
				r := e.expect(e.do("GET", withQuery(path, query), reader, nil), http.StatusBadRequest)
				if fields := fieldsOf(r); !slices.Contains(fields, field) {
					t.Errorf("GET %s?%s: fields at fault %v, want %s", path, query, fields, field)
				}
			}
		}
	}

	catalog := e.app.Catalog()
	var fields []string
	for _, p := range catalog.Procedures {
		if !slices.Contains(fields, p.Field.Code) {
			fields = append(fields, p.Field.Code)
		}
	}
	atMost := func(what string, list any, bound int) {
		t.Helper()
		if n := len(list.([]any)); n > bound {
			t.Errorf("%s holds %d lines, more than its bound %d", what, n, bound)
		}
	}

	// The late dashboard: each list's first page is at most the limit asked for, and at most
	// LateDashboardFirstPageMax however large a limit.
	for _, limit := range []int{2, projections.MaxPageSize} {
		dash := e.expect(e.do("GET", "/api/v1/dashboards/late?limit="+strconv.Itoa(limit), desk, nil), http.StatusOK).body
		for _, list := range projections.LateLists {
			atMost("the late dashboard's "+list, dash[list].(map[string]any)["items"], min(limit, projections.LateDashboardFirstPageMax))
		}
		if limit == 2 && len(items(dash["open_overdue"])) != 2 {
			t.Errorf("the late dashboard lists %d open overdue dossiers on a first page of 2 of 5", len(items(dash["open_overdue"])))
		}
		atMost("the late dashboard by agency", dash["by_agency"], len(catalog.Agencies))
		atMost("the late dashboard by procedure", dash["by_procedure"], len(catalog.Procedures))
		atMost("the late dashboard by field", dash["by_field"], len(fields))
		atMost("the late dashboard by unit", dash["by_unit"], projections.LateGroupLimit+1)
		atMost("the late dashboard by official", dash["by_official"], projections.LateGroupLimit+1)
	}
	for _, query := range []string{"limit=0", "limit=501"} {
		r := e.expect(e.do("GET", "/api/v1/dashboards/late?"+query, desk, nil), http.StatusBadRequest)
		if !slices.Contains(fieldsOf(r), "limit") {
			t.Errorf("GET /api/v1/dashboards/late?%s: fields at fault %v, want limit", query, fieldsOf(r))
		}
	}

	procedures := e.expect(e.do("GET", "/api/v1/procedures", "", nil), http.StatusOK).body
	atMost("the procedures", procedures["procedures"], len(catalog.Procedures))
	atMost("the agencies", procedures["agencies"], len(catalog.Agencies))
	summary := e.expect(e.do("GET", "/api/v1/work-queue/summary", desk, nil), http.StatusOK).body
	atMost("the work-queue summary", summary["agencies"], len(catalog.Agencies))
	decade := "?from=2020-01-01&to=2029-12-31"
	satisfaction := e.expect(e.do("GET", "/api/v1/statistics/satisfaction"+decade, desk, nil), http.StatusOK).body
	for _, group := range []string{"by_agency", "by_department", "by_procedure", "by_official"} {
		atMost("satisfaction "+group, satisfaction[group], projections.SatisfactionGroupLimit+1)
	}
	atMost("satisfaction by_month", satisfaction["by_month"], 10*12)
	resolution := e.expect(e.do("GET", "/api/v1/reports/resolution"+decade, desk, nil), http.StatusOK).body
	atMost("the resolution report's fields", resolution["fields"], len(fields))
}

// withQuery adds query to path, which may hold one already.
func withQuery(path, query string) string {
	if strings.Contains(path, "?") {
		return path + "&" + query
	}
	return path + "?" + query
}
