package http_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/projections"
)

// The work queue answers one page at a time through the API and the page alike: never more than
// the page size (50 by default), pages that chain to the whole queue exactly once, and a bad limit
// or cursor is a 400 naming the field. An inspector's queue of every agency starts with one line
// per agency, each linking to that agency's queue.
func TestWorkQueueAnswersOnePageAtATime(t *testing.T) {
	e := newPagesEnv(t)
	reception := e.token("tn", centre, commands.RoleReception)
	const dossiers = projections.DefaultPageSize + 3
	var codes []string
	for range dossiers {
		codes = append(codes, e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string))
	}
	e.waitProjected()

	first := e.expect(e.do("GET", "/api/v1/work-queue", reception, nil), http.StatusOK)
	if items := first.body["items"].([]any); len(items) != projections.DefaultPageSize || first.body["next"] == nil ||
		first.body["total"].(float64) != dossiers {
		t.Fatalf("the first page without a limit holds %d items (total %v, next %v), want %d of %d and a next page",
			len(items), first.body["total"], first.body["next"], projections.DefaultPageSize, dossiers)
	}

	// Pages of 7 chain to every dossier, each once.
	var listed []string
	for after, pages := "", 0; ; pages++ {
		if pages > dossiers {
			t.Fatal("the pages do not end")
		}
		page := e.expect(e.do("GET", "/api/v1/work-queue?limit=7&after="+url.QueryEscape(after), reception, nil), http.StatusOK)
		items := page.body["items"].([]any)
		if len(items) > 7 {
			t.Fatalf("a page of limit 7 holds %d items", len(items))
		}
		for _, it := range items {
			listed = append(listed, it.(map[string]any)["code"].(string))
		}
		next, _ := page.body["next"].(string)
		if next == "" {
			break
		}
		after = next
	}
	slices.Sort(listed)
	slices.Sort(codes)
	if !slices.Equal(listed, codes) {
		t.Fatalf("the pages list %d codes %v, the desk received %d %v", len(listed), listed, len(codes), codes)
	}

	for query, field := range map[string]string{
		"limit=0": "limit", "limit=501": "limit", "limit=many": "limit", "after=%25%25": "after",
		"after=" + projections.Cursor{"x"}.Encode(): "after", "status=returned": "status", "due_within_days=0": "due_within_days",
		"responsible=So-Xay-dung": "responsible",
	} {
		r := e.expect(e.do("GET", "/api/v1/work-queue?"+query, reception, nil), http.StatusBadRequest)
		if fields := fieldsOf(r); !slices.Contains(fields, field) {
			t.Errorf("GET /api/v1/work-queue?%s: fields at fault %v, want %s", query, fields, field)
		}
	}

	// The page: one page, and a "Trang sau" link to the next that carries the cursor.
	e.signIn(reception)
	page := e.get("/can-bo?pham-vi=involved&limit=20").expect(t, http.StatusOK, "Trang sau", `rel="next"`)
	if n := strings.Count(page.body, `data-code="`); n != 20 {
		t.Fatalf("a page of limit 20 shows %d dossiers", n)
	}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(page.body)
	if next == nil || !strings.Contains(next[1], "after=") {
		t.Fatalf("no next page link carrying the cursor in:\n%s", page.body)
	}
	second := e.get(html.UnescapeString(next[1])).expect(t, http.StatusOK, "Trang đầu")
	for _, code := range regexp.MustCompile(`data-code="([^"]+)"`).FindAllStringSubmatch(second.body, -1) {
		if strings.Contains(page.body, `data-code="`+code[1]+`"`) {
			t.Errorf("%s is on the first and the second page", code[1])
		}
	}
	e.get("/can-bo?limit=0").expect(t, http.StatusBadRequest)
	e.get("/can-bo?after=not-a-cursor").expect(t, http.StatusBadRequest)

	// An inspector sees every agency's queue in figures first, each agency linking to its queue.
	inspector := e.token("tt", "", commands.RoleInspector)
	summary := e.expect(e.do("GET", "/api/v1/work-queue/summary", inspector, nil), http.StatusOK)
	open := 0.0
	for _, row := range summary.body["agencies"].([]any) {
		open += row.(map[string]any)["open"].(float64)
	}
	if open != dossiers {
		t.Errorf("the summary counts %v open dossiers, want %d", open, dossiers)
	}
	e.signIn(inspector)
	overview := e.get("/can-bo").expect(t, http.StatusOK, `data-agency="`, `href="/can-bo?co-quan=`)
	if strings.Contains(overview.body, `data-code="`) {
		t.Error("the inspector's overview lists dossiers")
	}
	// and lists every agency's dossiers, a page at a time, when asked to.
	if n := strings.Count(e.get("/can-bo?pham-vi=involved").expect(t, http.StatusOK, "Trang sau").body, `data-code="`); n != projections.DefaultPageSize {
		t.Errorf("the inspector's list of every agency's dossiers shows %d, want a page of %d", n, projections.DefaultPageSize)
	}
}
