package http_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/internal/logtest"
)

// successor is the agency the Department of Construction merges into.
const successor = "000.00.16.H56"

// An admin hands the Department of Construction's open dossiers to its successor through the API,
// a page per call, on SQLite and PostgreSQL: bad requests are 400 naming the field and write
// nothing; the department's officials lose the dossiers, the successor's see them in their work
// queue; calling again from the first page hands nothing over twice.
func TestAgencySuccessionThroughTheAPI(t *testing.T) {
	for _, d := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		t.Run(string(d), func(t *testing.T) {
			x := newExportEnv(t, d)
			desk := x.token("tiepnhan1", centre, commands.RoleReception)
			head := x.token("truongphong1", building, commands.RoleHead)
			heir := x.token("truongphong9", successor, commands.RoleHead)
			admin := x.token("quantri", "", commands.RoleAdmin)
			var codes []string
			for range 3 {
				codes = append(codes, x.expect(x.do("POST", "/api/v1/dossiers", desk, validReceipt()), http.StatusCreated).body["code"].(string))
			}
			x.expect(x.do("GET", "/api/v1/dossiers/"+codes[0], head, nil), http.StatusOK)
			x.sync()
			events := len(logtest.Settled(t, x.events))

			body := func(extra map[string]any) map[string]any {
				b := map[string]any{"from": building, "to": successor, "effective_date": "2026-03-01T00:00:00+07:00",
					"basis": "Quyết định 1234/QĐ-UBND hợp nhất Sở Xây dựng và Sở Giao thông vận tải", "limit": 2}
				for k, v := range extra {
					if v == nil {
						delete(b, k)
					} else {
						b[k] = v
					}
				}
				return b
			}
			const path = "/api/v1/admin/agency-successions"
			for _, bad := range []struct {
				extra map[string]any
				field string
			}{
				{map[string]any{"basis": nil}, "basis"},
				{map[string]any{"to": "xã mới"}, "to"},
				{map[string]any{"limit": 900}, "limit"},
				{map[string]any{"after": "không phải con trỏ"}, "after"},
				{map[string]any{"effective_date": "2027-01-01T00:00:00+07:00"}, "effective_date"},
			} {
				r := x.expect(x.do("POST", path, admin, body(bad.extra)), http.StatusBadRequest)
				if !slices.Contains(fieldsOf(r), bad.field) {
					t.Errorf("%v: fields %v, want %s", bad.extra, fieldsOf(r), bad.field)
				}
			}
			x.expect(x.do("POST", path, head, body(nil)), http.StatusForbidden)
			if got := len(logtest.Settled(t, x.events)); got != events {
				t.Fatalf("refused requests wrote %d events", got-events)
			}

			first := x.expect(x.do("POST", path, admin, body(nil)), http.StatusOK).body
			if first["handed_over"] != 2.0 || first["next"] == nil {
				t.Fatalf("first page: %v", first)
			}
			x.sync()
			second := x.expect(x.do("POST", path, admin, body(map[string]any{"after": first["next"]})), http.StatusOK).body
			if second["handed_over"] != 1.0 || second["next"] != nil {
				t.Fatalf("second page: %v", second)
			}
			x.sync()
			again := x.expect(x.do("POST", path, admin, body(nil)), http.StatusOK).body
			if again["handed_over"] != 0.0 {
				t.Fatalf("a run again from the start handed over %v", again)
			}

			for _, code := range codes {
				x.expect(x.do("GET", "/api/v1/dossiers/"+code, head, nil), http.StatusForbidden)
				got := x.expect(x.do("GET", "/api/v1/dossiers/"+code, heir, nil), http.StatusOK).body
				if got["competent_agency"] != successor {
					t.Errorf("%s decided by %v after the succession", code, got["competent_agency"])
				}
				history := x.expect(x.do("GET", "/api/v1/dossiers/"+code+"/events", heir, nil), http.StatusOK).body["events"].([]any)
				last := history[len(history)-1].(map[string]any)
				if last["type"] != domain.TypeAgencySucceeded {
					t.Errorf("%s: last event %v", code, last["type"])
				}
			}
			queue := x.expect(x.do("GET", "/api/v1/work-queue?agency="+successor, heir, nil), http.StatusOK).body
			if items := queue["items"].([]any); len(items) != 3 {
				t.Errorf("the successor's work queue lists %d dossiers, want 3", len(items))
			}
			old := x.expect(x.do("GET", "/api/v1/work-queue?agency="+building, admin, nil), http.StatusOK).body
			if items := old["items"].([]any); len(items) != 0 {
				t.Errorf("the abolished department's work queue still lists %d dossiers", len(items))
			}
		})
	}
}
