package http_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/projections"
)

// runReadModels feeds the statistics read models from e's store until the test ends, and returns a
// function that waits until they have applied everything appended so far.
func runReadModels(e *env) (sync func()) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	views := []engine.Consumer{projections.ProcessControlView{}, projections.ResolutionReportView{}, projections.SatisfactionView{}, projections.FeedbackView{}}
	runners := make([]*engine.Runner, len(views))
	done := make(chan error, len(views))
	for i, v := range views {
		if err := v.Migrate(ctx, e.store.DB(), engine.SQLite); err != nil {
			e.t.Fatal(err)
		}
		runners[i] = engine.NewRunner(e.store, e.store.DB(), engine.SQLite, v)
		runners[i].Logger = slog.New(slog.DiscardHandler)
		go func() { done <- runners[i].Run(ctx) }()
	}
	e.t.Cleanup(func() {
		cancel()
		for range views {
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				e.t.Errorf("read model runner: %v", err)
			}
		}
	})
	return func() {
		e.t.Helper()
		events := logtest.Settled(e.t, e.store)
		if len(events) == 0 {
			e.t.Fatal("the log is empty")
		}
		wait, stop := context.WithTimeout(ctx, 10*time.Second)
		defer stop()
		for _, r := range runners {
			if err := r.WaitFor(wait, events[len(events)-1].Position); err != nil {
				e.t.Fatalf("read models did not catch up: %v", err)
			}
		}
	}
}

// TestReadModelEndpoints plays three dossiers through the API — one resolved late after two steps
// that overran, two left open past their appointment date, one of them received by another agency
// — and reads every statistics endpoint as officials of different agencies and as an inspector.
func TestReadModelEndpoints(t *testing.T) {
	e := newEnv(t)
	sync := runReadModels(e)
	centreDesk := e.token("tiepnhan1", centre, commands.RoleReception)
	landDesk := e.token("tiepnhan-tn", land, commands.RoleReception)
	cashier := e.token("thungan1", centre, commands.RoleCashier)
	specialist := e.token("chuyenvien1", building, commands.RoleSpecialist)
	signer := e.token("giamdoc1", building, commands.RoleSigner)
	head := e.token("truongphong1", building, commands.RoleHead)
	inspector := e.token("thanhtra1", land, commands.RoleInspector)
	noAgency := e.tokenWithoutAgency("khach", commands.RoleSpecialist)

	// Monday 2 March 2026, 08:00: three receipts, all due Monday 9 March 08:00.
	late := e.expect(e.do("POST", "/api/v1/dossiers", centreDesk, validReceipt()), http.StatusCreated)
	openAtCentre := e.expect(e.do("POST", "/api/v1/dossiers", centreDesk, validReceipt()), http.StatusCreated)
	openAtLand := e.expect(e.do("POST", "/api/v1/dossiers", landDesk, validReceipt()), http.StatusCreated)
	code, secret := late.body["code"].(string), late.body["rating_secret"].(string)
	act := func(token, action string, body map[string]any) {
		t.Helper()
		e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/"+action, token, body), http.StatusOK)
	}
	act(cashier, "fee", map[string]any{})
	act(cashier, "payment", map[string]any{"amount": 150000, "channel": "online", "receipt_number": "BL-1"})
	// 09:00: to the specialist for 24 working hours, due Thursday 5 March 09:00.
	e.clock.Advance(time.Hour)
	act(centreDesk, "transfer", map[string]any{"to_unit": "PQLXD", "to_official_id": "chuyenvien1", "to_official_name": "Cán bộ chuyenvien1", "step": "Thẩm định hồ sơ"})
	// Friday 6 March 09:00 (8 working hours late): to the signer for 8 hours, due Monday 9 March 09:00.
	e.clock.Advance(4 * 24 * time.Hour)
	act(specialist, "appraise", map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện"})
	act(specialist, "transfer", map[string]any{"to_unit": "BGD", "to_official_id": "giamdoc1", "to_official_name": "Cán bộ giamdoc1", "step": "Trình ký"})
	// Tuesday 10 March 10:00 (9 working hours late): signed and ready, a day after the appointment date.
	e.clock.Advance(4*24*time.Hour + time.Hour)
	act(signer, "sign", map[string]any{"document_number": "15/GPXD", "document_hash": strings.Repeat("ab", 32)})
	act(signer, "result", map[string]any{})
	e.clock.Advance(time.Hour)
	act(centreDesk, "return", map[string]any{"channel": "direct"})
	scores := map[string]string{}
	for _, c := range domain.Criteria {
		scores[string(c)] = "very_satisfied"
	}
	e.expect(e.do("POST", "/api/v1/public/dossiers/"+code+"/rating", "", map[string]any{"secret": secret, "scores": scores}), http.StatusOK)
	sync()
	march := "?from=2026-03-01&to=2026-03-31"

	t.Run("late dashboard", func(t *testing.T) {
		dash := e.expect(e.do("GET", "/api/v1/dashboards/late"+march, head, nil), http.StatusOK).body
		if codes := codesOf(items(dash["open_overdue"])); !slices.Equal(codes, []string{openAtCentre.body["code"].(string), openAtLand.body["code"].(string)}) {
			t.Errorf("open overdue: %v", codes)
		}
		resolved := items(dash["resolved_late"])
		if len(resolved) != 1 || resolved[0].(map[string]any)["code"] != code {
			t.Fatalf("resolved late: %v", resolved)
		}
		var overruns []string
		for _, s := range resolved[0].(map[string]any)["overrun_steps"].([]any) {
			step := s.(map[string]any)
			overruns = append(overruns, step["step"].(string)+" "+step["to"].(map[string]any)["official_id"].(string)+" "+jsonNumber(step["overrun_hours"]))
			// The API names the verdict in words from l10n; the read model holds the code only.
			if step["verdict"] != "late" || step["verdict_label"] != "Quá hạn" {
				t.Errorf("overrun step %v: verdict %v (%v), want late (Quá hạn)", step["step"], step["verdict"], step["verdict_label"])
			}
		}
		if want := []string{"Thẩm định hồ sơ chuyenvien1 8", "Trình ký giamdoc1 9"}; !slices.Equal(overruns, want) {
			t.Errorf("overrun steps %v, want %v", overruns, want)
		}
		// The other agency's desk sees only the dossier it received, and may not ask for another's.
		landView := e.expect(e.do("GET", "/api/v1/dashboards/late"+march, landDesk, nil), http.StatusOK).body
		if codes := codesOf(items(landView["open_overdue"])); !slices.Equal(codes, []string{openAtLand.body["code"].(string)}) || len(items(landView["resolved_late"])) != 0 {
			t.Errorf("land's view: %v", landView)
		}
		e.expect(e.do("GET", "/api/v1/dashboards/late?agency="+building, landDesk, nil), http.StatusForbidden)
		e.expect(e.do("GET", "/api/v1/dashboards/late", noAgency, nil), http.StatusForbidden)
		e.expect(e.do("GET", "/api/v1/dashboards/late", "", nil), http.StatusUnauthorized)
		// An inspector sees every agency, or the one asked for.
		all := e.expect(e.do("GET", "/api/v1/dashboards/late"+march, inspector, nil), http.StatusOK).body
		onlyLand := e.expect(e.do("GET", "/api/v1/dashboards/late"+march+"&agency="+land, inspector, nil), http.StatusOK).body
		if len(items(all["open_overdue"])) != 2 || len(items(onlyLand["open_overdue"])) != 1 {
			t.Errorf("inspector: all %v, land %v", all["open_overdue"], onlyLand["open_overdue"])
		}
		// One row a page: the dashboard answers the first with the cursor of the next, which the
		// list's own endpoint serves; the unit filter keeps the dossiers a unit received.
		paged := e.expect(e.do("GET", "/api/v1/dashboards/late"+march+"&limit=1", inspector, nil), http.StatusOK).body
		open := paged["open_overdue"].(map[string]any)
		if len(items(open)) != 1 || open["total"] != 2.0 || open["next"] == nil {
			t.Fatalf("first page of open overdue: %v", open)
		}
		rest := e.expect(e.do("GET", "/api/v1/dashboards/late/open_overdue"+march+"&limit=1&after="+open["next"].(string), inspector, nil), http.StatusOK).body
		if got := append(codesOf(items(open)), codesOf(items(rest))...); !slices.Equal(got, codesOf(items(all["open_overdue"]))) || rest["next"] != nil {
			t.Errorf("open overdue page by page: %v then %v", open, rest)
		}
		atLand := e.expect(e.do("GET", "/api/v1/dashboards/late/open_overdue"+march+"&unit="+land, inspector, nil), http.StatusOK).body
		if codes := codesOf(items(atLand)); !slices.Equal(codes, []string{openAtLand.body["code"].(string)}) {
			t.Errorf("open overdue received by %s: %v", land, codes)
		}
		e.expect(e.do("GET", "/api/v1/dashboards/late/everything", inspector, nil), http.StatusNotFound)
	})

	t.Run("bad filters", func(t *testing.T) {
		for _, c := range []struct {
			path   string
			fields []string
		}{
			{"/api/v1/dashboards/late?from=2026-13-01", []string{"from"}},
			{"/api/v1/dashboards/late?from=2026-03-10&to=2026-03-01", []string{"to"}},
			{"/api/v1/dashboards/late?agency=xyz&due_within_days=-1", []string{"agency", "due_within_days"}},
			{"/api/v1/dashboards/late?due_within_days=many", []string{"due_within_days"}},
			{"/api/v1/reports/resolution?to=yesterday", []string{"to"}},
			{"/api/v1/reports/resolution?from=2000-01-01&to=2026-01-01", []string{"to"}},
			{"/api/v1/statistics/satisfaction?agency=000.00.06", []string{"agency"}},
			{"/api/v1/registers/centre/2026", []string{"unit"}},
			{"/api/v1/registers/" + centre + "/twenty", []string{"year"}},
			{"/api/v1/registers/" + centre + "/2026?limit=501", []string{"limit"}},
			{"/api/v1/registers/" + centre + "/2026?after=not-a-cursor", []string{"after"}},
			{"/api/v1/dashboards/late?limit=0&unit=centre", []string{"unit", "limit"}},
			{"/api/v1/dashboards/late/open_overdue?after=" + projections.Cursor{"x"}.Encode(), []string{"after"}},
			{"/api/v1/dashboards/late/due_soon?procedure=a%20b&field=%3D1", []string{"procedure", "field"}},
		} {
			r := e.expect(e.do("GET", c.path, inspector, nil), http.StatusBadRequest)
			if got := fieldsOf(r); !slices.Equal(got, c.fields) {
				t.Errorf("%s: fields %v, want %v", c.path, got, c.fields)
			}
		}
	})

	t.Run("control sheet", func(t *testing.T) {
		sheet := e.expect(e.do("GET", "/api/v1/dossiers/"+code+"/control-sheet", specialist, nil), http.StatusOK).body
		var rows []string
		for _, h := range sheet["handovers"].([]any) {
			row := h.(map[string]any)
			verdict, _ := row["verdict"].(string)
			label, _ := row["verdict_label"].(string)
			rows = append(rows, strings.TrimSpace(row["kind"].(string)+" "+row["step"].(string)+" "+verdict+" "+label))
		}
		want := []string{"reception Tiếp nhận hồ sơ on_time Đúng hạn", "transfer Thẩm định hồ sơ late Quá hạn", "transfer Trình ký late Quá hạn", "result Trả kết quả"}
		if !slices.Equal(rows, want) || sheet["resolution_verdict"] != "late" {
			t.Errorf("sheet rows %q (resolution %v), want %q", rows, sheet["resolution_verdict"], want)
		}
		// The notes are stored as codes; the API words them in Vietnamese, as it always has.
		var notes []string
		for _, h := range sheet["handovers"].([]any) {
			events, _ := h.(map[string]any)["events"].([]any) // omitted when the step had none
			for _, n := range events {
				note := n.(map[string]any)
				notes = append(notes, note["event"].(string)+": "+note["detail"].(string))
			}
		}
		if want := []string{"Thẩm định: approve: Đủ điều kiện", "Ký số: 15/GPXD"}; !slices.Equal(notes, want) {
			t.Errorf("sheet notes %q, want %q", notes, want)
		}
		byID := e.expect(e.do("GET", "/api/v1/dossiers/"+late.body["id"].(string)+"/control-sheet", inspector, nil), http.StatusOK).body
		if byID["code"] != code {
			t.Errorf("by id: %v", byID["code"])
		}
		e.expect(e.do("GET", "/api/v1/dossiers/"+code+"/control-sheet", landDesk, nil), http.StatusForbidden)
		e.expect(e.do("GET", "/api/v1/dossiers/000.00.00.H56-260302-0042/control-sheet", inspector, nil), http.StatusNotFound)
		// The dossier's other routes are unaffected.
		e.expect(e.do("GET", "/api/v1/dossiers/"+code+"/events", specialist, nil), http.StatusOK)
	})

	t.Run("resolution report", func(t *testing.T) {
		report := e.expect(e.do("GET", "/api/v1/reports/resolution"+march, inspector, nil), http.StatusOK).body
		total := report["total"].(map[string]any)
		for key, want := range map[string]float64{"received_total": 3, "received_in_person_or_postal": 3, "resolved_total": 1, "resolved_late": 1,
			"in_progress_total": 2, "in_progress_overdue": 2, "carried_over": 0} {
			if total[key] != want {
				t.Errorf("total %s = %v, want %v", key, total[key], want)
			}
		}
		r := e.expect(e.do("GET", "/api/v1/reports/resolution"+march+"&agency="+centre, inspector, nil, "Accept", "text/csv"), http.StatusOK)
		if r.header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(r.header.Get("Content-Disposition"), "bao-cao-II06a_000.00.00.H56_2026-03-01_2026-03-31.csv") {
			t.Errorf("CSV headers: %v", r.header)
		}
		records := csvOf(t, r.raw)
		// The headings are form II.06a's, word for word (they come from l10n now; the file must not change).
		if want := []string{"STT", "Mã lĩnh vực", "Lĩnh vực, thủ tục", "Mã thủ tục",
			"Số hồ sơ nhận giải quyết - Tổng số", "Trong kỳ - Trực tuyến", "Trong kỳ - Trực tiếp, dịch vụ bưu chính", "Từ kỳ trước chuyển qua",
			"Số hồ sơ đã giải quyết - Tổng số", "Trước hạn", "Đúng hạn", "Quá hạn", "Trong đó từ chối giải quyết",
			"Số hồ sơ đang giải quyết - Tổng số", "Trong hạn", "Quá hạn", "Số hồ sơ rút (tính riêng)",
			// After the form's own columns, the two a succession adds (docs/rules.md, "Agencies that cease to exist").
			"Nhận từ cơ quan bị sắp xếp (trong tổng số nhận)", "Chuyển cơ quan kế thừa (tính riêng)"}; !slices.Equal(records[0], want) {
			t.Errorf("CSV header row: %q, want %q", records[0], want)
		}
		last := records[len(records)-1]
		if last[2] != "Tổng cộng" || last[4] != "2" || last[8] != "1" || last[11] != "1" || last[15] != "1" {
			t.Errorf("CSV total row for the centre: %q", last)
		}
		if !strings.Contains(r.raw, "\r\n") {
			t.Error("CSV lines do not end in CRLF")
		}
	})

	t.Run("satisfaction", func(t *testing.T) {
		stats := e.expect(e.do("GET", "/api/v1/statistics/satisfaction"+march, head, nil), http.StatusOK).body
		overall := stats["overall"].(map[string]any)
		// Rated very satisfied on everything, but the dossier was late and so were its steps: TT 01/2018
		// art. 13 scores the two time criteria from the facts, 0 each, so 14 of 18.
		if overall["ratings"] != float64(1) || overall["average_total"] != float64(14) || overall["grade"] != "good" || overall["grade_label"] != "Tốt" {
			t.Errorf("overall: %v", overall)
		}
		indicators := stats["indicators_766"].(map[string]any)
		if indicators["processed"] != float64(3) || indicators["on_time_rate"] != float64(0) || indicators["online_payment_rate"] != float64(100) ||
			len(indicators["not_computed"].([]any)) == 0 {
			t.Errorf("indicators: %v", indicators)
		}
		var officials []string
		for _, g := range stats["by_official"].([]any) {
			officials = append(officials, g.(map[string]any)["key"].(string))
		}
		if want := []string{"chuyenvien1", "giamdoc1", "thungan1", "tiepnhan1"}; !slices.Equal(officials, want) {
			t.Errorf("officials %v, want %v", officials, want)
		}
	})

	t.Run("register", func(t *testing.T) {
		register := e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026", centreDesk, nil), http.StatusOK).body
		if codes := codesOf(items(register)); !slices.Equal(codes, []string{code, openAtCentre.body["code"].(string)}) || register["total"] != 2.0 {
			t.Errorf("centre's register: %v", register)
		}
		// A page at a time: the second line comes after the first's cursor, numbered 2.
		first := e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026?limit=1", centreDesk, nil), http.StatusOK).body
		second := e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026?limit=1&after="+first["next"].(string), centreDesk, nil), http.StatusOK).body
		if codes := append(codesOf(items(first)), codesOf(items(second))...); !slices.Equal(codes, []string{code, openAtCentre.body["code"].(string)}) ||
			items(second)[0].(map[string]any)["no"] != 2.0 || second["next"] != nil {
			t.Errorf("centre's register page by page: %v then %v", first, second)
		}
		e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026", landDesk, nil), http.StatusForbidden)
		r := e.expect(e.do("GET", "/api/v1/registers/"+land+"/2026", inspector, nil, "Accept", "text/csv"), http.StatusOK)
		records := csvOf(t, r.raw)
		if len(records) != 2 || records[1][1] != openAtLand.body["code"].(string) || len(records[1]) != len(records[0]) {
			t.Errorf("land's register as CSV: %q", records)
		}
		// The headings are form 06's, word for word (they come from l10n now; the file must not change).
		if want := []string{"STT", "Mã hồ sơ", "Tên thủ tục hành chính", "Lĩnh vực", "Tên tổ chức, cá nhân", "Địa chỉ", "Số điện thoại",
			"Hình thức nộp", "Cơ quan chủ trì giải quyết", "Nhận hồ sơ lúc", "Người tiếp nhận", "Hẹn trả kết quả",
			"Hẹn trả kết quả (hiện hành)", "Chuyển hồ sơ đến", "Chuyển lúc", "Nhận kết quả lúc", "Trả kết quả lúc", "Ghi chú"}; !slices.Equal(records[0], want) {
			t.Errorf("register CSV header row: %q, want %q", records[0], want)
		}
	})
}

// items returns the items of a JSON page (projections.Page).
func items(page any) []any { return page.(map[string]any)["items"].([]any) }

func codesOf(list any) []string {
	var codes []string
	for _, item := range list.([]any) {
		codes = append(codes, item.(map[string]any)["code"].(string))
	}
	return codes
}

func jsonNumber(v any) string { return strconv.FormatFloat(v.(float64), 'f', -1, 64) }

// csvOf checks the byte-order mark that makes Excel read UTF-8, then parses the table.
func csvOf(t *testing.T, raw string) [][]string {
	t.Helper()
	body, ok := strings.CutPrefix(raw, "\ufeff")
	if !ok {
		t.Fatalf("CSV without a UTF-8 byte-order mark: %q", raw[:min(len(raw), 20)])
	}
	records, err := csv.NewReader(bytes.NewReader([]byte(body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return records
}
