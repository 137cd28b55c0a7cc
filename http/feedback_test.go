package http_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/internal/logtest"
)

// A petition through the real router on SQLite and PostgreSQL: submitted on the public API without
// signing in, followed by its code, routed by the desk, asked about, answered and published by the
// responsible agency — each act only by the roles and agency allowed — while the queue, the
// dashboard and the QĐ 766 group 5 indicators follow.
func TestFeedbackEndToEnd(t *testing.T) {
	for _, d := range exportBackends {
		t.Run(string(d), func(t *testing.T) {
			x := newExportEnv(t, d)
			desk := x.token("tn1", centre, commands.RoleReception)
			head := x.token("ld1", land, commands.RoleHead)
			specialist := x.token("cv1", land, commands.RoleSpecialist)
			stranger := x.token("ld9", building, commands.RoleHead)
			inspector := x.token("tt1", "", commands.RoleInspector)

			// Bad input: 400 naming each field, nothing written.
			before := len(logtest.Settled(t, x.events))
			bad := x.expect(x.do("POST", "/api/v1/public/feedback", "", map[string]any{"kind": "rumour", "agency": centre, "submitter": map[string]any{}}), 400)
			for _, field := range []string{"kind", "subject", "content", "submitter.name"} {
				if !strings.Contains(bad.raw, `"`+field+`"`) {
					t.Errorf("the problem does not name %s: %s", field, bad.raw)
				}
			}
			x.expect(x.do("POST", "/api/v1/public/feedback", "", `{"kind":"petition","unknown":1}`), 400)
			if len(logtest.Settled(t, x.events)) != before {
				t.Fatal("a refused submission wrote events")
			}

			sent := x.expect(x.do("POST", "/api/v1/public/feedback", "", map[string]any{"kind": "petition", "agency": centre,
				"subject": "Thủ tục rườm rà", "content": "Đề nghị bỏ bản sao chứng thực", "submitter": map[string]any{"name": "Nguyễn Văn An", "phone": "0912345678"}}), 201)
			code, _ := sent.body["lookup_code"].(string)
			if !strings.HasPrefix(code, "PAKN-") || sent.body["status"] != "received" || sent.body["submitter"] != nil {
				t.Fatalf("submitted: %s", sent.raw)
			}
			public := x.expect(x.do("GET", "/api/v1/public/feedback/"+code, "", nil), 200)
			if public.body["subject"] != "Thủ tục rườm rà" || strings.Contains(public.raw, "0912345678") {
				t.Fatalf("public view: %s", public.raw)
			}
			x.expect(x.do("GET", "/api/v1/public/feedback/PAKN-22222-22222", "", nil), 404)

			x.sync()
			queue := x.expect(x.do("GET", "/api/v1/feedback", desk, nil), 200)
			if items, _ := queue.body["items"].([]any); len(items) != 1 || queue.body["total"] != 1.0 {
				t.Fatalf("the desk's queue: %s", queue.raw)
			}
			if q := x.expect(x.do("GET", "/api/v1/feedback", head, nil), 200); q.body["total"] != 0.0 {
				t.Fatalf("the responsible agency's queue before routing: %s", q.raw)
			}
			x.expect(x.do("GET", "/api/v1/feedback?limit=0", desk, nil), 400)
			x.expect(x.do("GET", "/api/v1/feedback/"+code, stranger, nil), 403)
			x.expect(x.do("GET", "/api/v1/feedback/"+code, inspector, nil), 200)
			x.expect(x.do("POST", "/api/v1/feedback/"+code+"/answer", desk, map[string]any{"answer": "x"}), 403) // a desk officer does not answer
			x.expect(x.do("POST", "/api/v1/feedback/"+code+"/route", desk, map[string]any{"agency": "999.99.99.Z99"}), 400)
			x.expect(x.do("POST", "/api/v1/feedback/"+code+"/frobnicate", desk, map[string]any{}), 404)

			x.clock.Advance(3 * time.Hour)
			routed := x.expect(x.do("POST", "/api/v1/feedback/"+code+"/route", desk, map[string]any{"agency": land}), 200)
			if routed.body["agency"] != land || routed.header.Get("ETag") != `"2"` {
				t.Fatalf("routed: %s", routed.raw)
			}
			x.expect(x.do("POST", "/api/v1/feedback/"+code+"/route", desk, map[string]any{"agency": land}), 403) // no longer the desk's
			x.expect(x.do("POST", "/api/v1/feedback/"+code+"/answer", stranger, map[string]any{"answer": "x"}), 403)
			x.expect(x.do("POST", "/api/v1/feedback/"+code+"/publish", head, nil), 409) // nothing answered yet
			x.expect(x.do("POST", "/api/v1/feedback/"+code+"/ask", specialist, map[string]any{"question": "Thủ tục nào?"}, "If-Match", `"1"`), 412)
			x.expect(x.do("POST", "/api/v1/feedback/"+code+"/ask", specialist, map[string]any{"question": ""}), 400)
			x.expect(x.do("POST", "/api/v1/feedback/"+code+"/ask", specialist, map[string]any{"question": "Thủ tục nào?"}, "If-Match", `"2"`), 200)
			asked := x.expect(x.do("GET", "/api/v1/public/feedback/"+code, "", nil), 200)
			if asked.body["question"] != "Thủ tục nào?" || asked.body["status"] != "awaiting_information" {
				t.Fatalf("the submitter is not shown the question: %s", asked.raw)
			}
			x.clock.Advance(time.Hour)
			x.expect(x.do("POST", "/api/v1/public/feedback/"+code+"/information", "", map[string]any{"information": "Cấp giấy phép xây dựng"}), 200)

			// Two officials at once, answering and refusing: one wins, the other gets 409.
			x.clock.Advance(time.Hour)
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			wg.Go(func() {
				statuses[0] = x.do("POST", "/api/v1/feedback/"+code+"/answer", specialist, map[string]any{"answer": "Đã tiếp thu, sẽ sửa đổi"}).status
			})
			wg.Go(func() {
				statuses[1] = x.do("POST", "/api/v1/feedback/"+code+"/refuse", head, map[string]any{"reason": "Không thuộc thẩm quyền"}).status
			})
			wg.Wait()
			if !(statuses[0] == 200 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 200) {
				t.Fatalf("answer %d, refuse %d: want one 200 and one 409", statuses[0], statuses[1])
			}
			answered := statuses[0] == 200
			if answered {
				x.expect(x.do("POST", "/api/v1/feedback/"+code+"/publish", specialist, nil), 403) // specialists do not publish
				x.expect(x.do("POST", "/api/v1/feedback/"+code+"/publish", head, nil), 200)
			}
			final := x.expect(x.do("GET", "/api/v1/public/feedback/"+code, "", nil), 200)
			if answered && (final.body["status"] != "published" || final.body["answer"] != "Đã tiếp thu, sẽ sửa đổi") ||
				!answered && final.body["status"] != "refused" {
				t.Fatalf("final: %s", final.raw)
			}

			// The national system's feedback is imported once however often it is sent.
			imported := map[string]any{"kind": "complaint", "agency": land, "subject": "Trễ hẹn", "content": "Hồ sơ trễ hẹn",
				"submitter": map[string]any{"name": "Trần Thị Bình"}, "external_id": "QG-2026-000123"}
			x.expect(x.do("POST", "/api/v1/public/feedback", "", imported), 400)
			first := x.expect(x.do("POST", "/api/v1/feedback/import", desk, imported), 201)
			again := x.expect(x.do("POST", "/api/v1/feedback/import", desk, imported), 200)
			if first.body["id"] != again.body["id"] || again.body["version"] != 1.0 {
				t.Fatalf("import twice: %s / %s", first.raw, again.raw)
			}
			x.expect(x.do("POST", "/api/v1/feedback/import", head, imported), 403)

			x.sync()
			today := x.clock.Now().Format(time.DateOnly)
			dash := x.expect(x.do("GET", "/api/v1/feedback/dashboard?from="+today+"&to="+today, inspector, nil), 200)
			stages := map[string]map[string]any{}
			for _, s := range dash.body["stages"].([]any) {
				stage := s.(map[string]any)
				stages[stage["stage"].(string)] = stage
			}
			if stages["route"]["on_time"] != 1.0 || stages["ask"]["on_time"] != 1.0 {
				t.Errorf("dashboard: %s", dash.raw)
			}
			if answered && (stages["answer"]["on_time"] != 1.0 || stages["publish"]["on_time"] != 1.0) ||
				!answered && stages["refuse"]["on_time"] != 1.0 {
				t.Errorf("dashboard: %s", dash.raw)
			}
			stats := x.expect(x.do("GET", "/api/v1/statistics/satisfaction?from="+today+"&to="+today, inspector, nil), 200)
			indicators := stats.body["indicators_766"].(map[string]any)
			group5 := fmt.Sprint(indicators["feedback"])
			if !strings.Contains(group5, "code:5.1") || !strings.Contains(group5, "code:5.4") {
				t.Errorf("group 5 indicators: %s", group5)
			}
			for _, n := range indicators["not_computed"].([]any) {
				if strings.Contains(fmt.Sprint(n), "phản ánh") {
					t.Errorf("complaints are still listed as not computable: %v", n)
				}
			}
			if q := x.expect(x.do("GET", "/api/v1/feedback", head, nil), 200); q.body["total"] != 1.0 {
				t.Errorf("the land agency's queue holds the imported complaint only: %s", q.raw)
			}
			x.expect(x.do("GET", "/api/v1/feedback/dashboard?from=2026-13-01", inspector, nil), 400)
		})
	}
}
