package http_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/xuri/excelize/v2"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/projections"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// exportEnv is the real router over one backend (SQLite or PostgreSQL) with every read model fed
// by the projections engine, as motcua serve wires them.
type exportEnv struct {
	*env
	events eventstore.Store
	server *mhttp.Server
	feeder *engine.Engine
	db     *sql.DB // the read models'
}

func newExportEnv(t *testing.T, d engine.Dialect) *exportEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var store eventstore.Store
	var readDB *sql.DB
	if d == engine.PostgreSQL {
		pg, err := postgres.Open(ctx, pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pg.Close() })
		if err := pg.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		readDB = stdlib.OpenDBFromPool(pg.Pool())
		t.Cleanup(func() { readDB.Close() })
		store = pg
	} else {
		lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "motcua.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lite.Close() })
		store, readDB = lite, lite.DB()
	}
	if err := projections.MigrateAll(ctx, readDB, d); err != nil {
		t.Fatal(err)
	}
	cal := calendar.Default()
	clock := &testClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)}
	quiet := slog.New(slog.DiscardHandler)
	app := commands.New(store, domaintest.Catalog(t, cal), cal)
	app.Now, app.Logger = clock.Now, quiet
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	feeder := engine.NewEngine(store, readDB, d, projections.All()...)
	feeder.Logger = quiet
	server := mhttp.NewServer(mhttp.Config{App: app, ReadDB: readDB, Tokens: mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey)},
		Logger: quiet})
	ts := httptest.NewServer(checkContract(t, server))
	done := make(chan error, 1)
	go func() { done <- feeder.Run(ctx) }()
	t.Cleanup(func() {
		ts.Close()
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("projections: %v", err)
		}
	})
	return &exportEnv{env: &env{t: t, url: ts.URL, app: app, key: key, clock: clock, cal: cal}, events: store, server: server, feeder: feeder, db: readDB}
}

// sync waits until every read model has applied the whole log.
func (x *exportEnv) sync() {
	x.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var last eventstore.Position
	if log := logtest.Settled(x.t, x.events); len(log) > 0 {
		last = log[len(log)-1].Position
	}
	for _, name := range projections.Names() {
		if err := x.feeder.Runner(name).WaitFor(ctx, last); err != nil {
			x.t.Fatalf("read model %s did not catch up: %v", name, err)
		}
	}
}

// workbookOf checks an .xlsx answer's headers and opens it, cells read raw (numbers unformatted).
func workbookOf(t *testing.T, r response, asciiPrefix string) *excelize.File {
	t.Helper()
	if got := r.header.Get("Content-Type"); got != xlsxType {
		t.Fatalf("content type %q, want %q", got, xlsxType)
	}
	disposition := r.header.Get("Content-Disposition")
	if !strings.HasPrefix(disposition, `attachment; filename="`+asciiPrefix) || !strings.Contains(disposition, "; filename*=UTF-8''") {
		t.Errorf("content disposition %q: want an ASCII name starting %q and an RFC 5987 filename*", disposition, asciiPrefix)
	}
	f, err := excelize.OpenReader(strings.NewReader(r.raw), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("the answer is no workbook: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func rowsOf(t *testing.T, f *excelize.File, sheet string) [][]string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatalf("sheet %q: %v (sheets %v)", sheet, err, f.GetSheetList())
	}
	return rows
}

// rowWith finds the first row whose cell in column col is text.
func rowWith(rows [][]string, col int, text string) (int, []string) {
	for i, row := range rows {
		if col < len(row) && row[col] == text {
			return i, row
		}
	}
	return -1, nil
}

// number reads a raw numeric cell.
func number(t *testing.T, cell string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil {
		t.Fatalf("cell %q is no number", cell)
	}
	return v
}

// numFmtOf is the number format of a cell: a built-in id, or the custom code.
func numFmtOf(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	style, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if style.CustomNumFmt != nil {
		return *style.CustomNumFmt
	}
	return strconv.Itoa(style.NumFmt)
}

// headerSpans are a sheet's merged header cells, "A5:A7 STT" for each.
func headerSpans(t *testing.T, f *excelize.File, sheet string) []string {
	t.Helper()
	merged, err := f.GetMergeCells(sheet)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range merged {
		out = append(out, m.GetStartAxis()+":"+m.GetEndAxis()+" "+m.GetCellValue())
	}
	return out
}

func frozenRows(t *testing.T, f *excelize.File, sheet string) int {
	t.Helper()
	panes, err := f.GetPanes(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze {
		return 0
	}
	return panes.YSplit
}

var exportBackends = []engine.Dialect{engine.SQLite, engine.PostgreSQL}

// TestExcelExports plays a dossier resolved late (two steps overran) and rated, and two left open
// past their appointment, then asks each report as JSON and as .xlsx in the same request form:
// every workbook opens, carries the circular's headings, merged and frozen, and its figures are the
// JSON's cell for cell.
func TestExcelExports(t *testing.T) {
	for _, d := range exportBackends {
		t.Run(string(d), func(t *testing.T) {
			x := newExportEnv(t, d)
			e := x.env
			centreDesk := e.token("tiepnhan1", centre, commands.RoleReception)
			landDesk := e.token("tiepnhan-tn", land, commands.RoleReception)
			cashier := e.token("thungan1", centre, commands.RoleCashier)
			specialist := e.token("chuyenvien1", building, commands.RoleSpecialist)
			signer := e.token("giamdoc1", building, commands.RoleSigner)
			inspector := e.token("thanhtra1", land, commands.RoleInspector)

			late := e.expect(e.do("POST", "/api/v1/dossiers", centreDesk, validReceipt()), http.StatusCreated)
			e.expect(e.do("POST", "/api/v1/dossiers", centreDesk, validReceipt()), http.StatusCreated)
			e.expect(e.do("POST", "/api/v1/dossiers", landDesk, validReceipt()), http.StatusCreated)
			code, secret := late.body["code"].(string), late.body["rating_secret"].(string)
			act := func(token, action string, body map[string]any) {
				t.Helper()
				e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/"+action, token, body), http.StatusOK)
			}
			act(cashier, "fee", map[string]any{})
			act(cashier, "payment", map[string]any{"amount": 150000, "channel": "online", "receipt_number": "BL-1"})
			e.clock.Advance(time.Hour)
			act(centreDesk, "transfer", map[string]any{"to_unit": "PQLXD", "to_official_id": "chuyenvien1", "to_official_name": "Cán bộ chuyenvien1", "step": "Thẩm định hồ sơ"})
			e.clock.Advance(4 * 24 * time.Hour)
			act(specialist, "appraise", map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện"})
			act(specialist, "transfer", map[string]any{"to_unit": "BGD", "to_official_id": "giamdoc1", "to_official_name": "Cán bộ giamdoc1", "step": "Trình ký"})
			e.clock.Advance(4*24*time.Hour + time.Hour)
			act(signer, "sign", map[string]any{"document_number": "15/GPXD", "document_hash": strings.Repeat("ab", 32)})
			act(signer, "result", map[string]any{})
			e.clock.Advance(time.Hour)
			act(centreDesk, "return", map[string]any{"channel": "direct"})
			scores := map[string]string{}
			for i, c := range domain.Criteria {
				scores[string(c)] = []string{"very_satisfied", "satisfied", "dissatisfied"}[i%3]
			}
			e.expect(e.do("POST", "/api/v1/public/dossiers/"+code+"/rating", "", map[string]any{"secret": secret, "scores": scores}), http.StatusOK)
			x.sync()
			march := "?from=2026-03-01&to=2026-03-31"

			t.Run("II.06a", func(t *testing.T) {
				report := e.expect(e.do("GET", "/api/v1/reports/resolution"+march, inspector, nil), http.StatusOK).body
				// ?format= and the Accept header ask for the same workbook.
				byFormat := e.expect(e.do("GET", "/api/v1/reports/resolution"+march+"&format=xlsx", inspector, nil), http.StatusOK)
				byAccept := e.expect(e.do("GET", "/api/v1/reports/resolution"+march, inspector, nil, "Accept", xlsxType), http.StatusOK)
				for _, r := range []response{byFormat, byAccept} {
					f := workbookOf(t, r, "bao-cao-II06a_tat-ca_2026-03-01_2026-03-31")
					rows := rowsOf(t, f, "II.06a")
					checkResolutionWorkbook(t, f, rows, report)
				}
				// An official's own agency only, as the JSON.
				own := e.expect(e.do("GET", "/api/v1/reports/resolution"+march, landDesk, nil), http.StatusOK).body
				r := e.expect(e.do("GET", "/api/v1/reports/resolution"+march+"&format=xlsx", landDesk, nil), http.StatusOK)
				f := workbookOf(t, r, "bao-cao-II06a_"+land)
				rows := rowsOf(t, f, "II.06a")
				if _, unit := rowWith(rows, 0, "Đơn vị báo cáo: "+e.app.Catalog().AgencyName(land)+" ("+land+")"); unit == nil {
					t.Errorf("land's report names no unit on top: %q", rows[:4])
				}
				checkResolutionWorkbook(t, f, rows, own)
				// CSV stays, by ?format= too.
				if r := e.expect(e.do("GET", "/api/v1/reports/resolution"+march+"&format=csv", inspector, nil), http.StatusOK); !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
					t.Errorf("format=csv answered %q", r.header.Get("Content-Type"))
				}
			})

			t.Run("late dashboard", func(t *testing.T) {
				path := "/api/v1/dashboards/late" + march + "&limit=1"
				dash := e.expect(e.do("GET", path, inspector, nil), http.StatusOK).body
				f := workbookOf(t, e.expect(e.do("GET", path+"&format=xlsx", inspector, nil), http.StatusOK), "ho-so-tre-han_tat-ca")
				byAgency := rowsOf(t, f, "Theo cơ quan")
				header, _ := rowWith(byAgency, 0, "STT")
				if header < 0 || byAgency[header][3] != "Số hồ sơ" || byAgency[header+1][3] != "Đang giải quyết quá hạn" || frozenRows(t, f, "Theo cơ quan") != header+2 {
					t.Fatalf("by agency headings: %q (frozen %d)", byAgency, frozenRows(t, f, "Theo cơ quan"))
				}
				var total float64
				for i, g := range dash["by_agency"].([]any) {
					group, row := g.(map[string]any), byAgency[header+2+i]
					if row[1] != group["key"] || number(t, row[3]) != group["open_overdue"] || number(t, row[4]) != group["resolved_late"] || number(t, row[5]) != group["apologies"] {
						t.Errorf("by agency line %d: %q, JSON %v", i+1, row, group)
					}
					total += group["open_overdue"].(float64)
				}
				if _, row := rowWith(byAgency, 2, "Tổng cộng"); row == nil || number(t, row[3]) != total || total == 0 {
					t.Errorf("by agency total: %q, want %v open overdue", row, total)
				}
				// Each list as the JSON pages it: limit=1 shows one, and says how many the list holds.
				for _, list := range []struct{ sheet, key string }{{"Đang quá hạn", "open_overdue"}, {"Đã giải quyết quá hạn", "resolved_late"}} {
					page := dash[list.key].(map[string]any)
					rows := rowsOf(t, f, list.sheet)
					header, _ := rowWith(rows, 0, "STT")
					var codes []string
					for _, row := range rows[header+2:] {
						if len(row) > 1 && row[1] != "" {
							codes = append(codes, row[1])
						}
					}
					if want := codesOf(page["items"]); !slices.Equal(codes, want) {
						t.Errorf("%s: codes %v, JSON %v", list.sheet, codes, want)
					}
					note := "Danh sách có " + jsonNumber(page["total"]) + " hồ sơ; bảng này liệt kê 1 hồ sơ đầu."
					if _, row := rowWith(rows, 0, note); (page["next"] != nil) != (row != nil) {
						t.Errorf("%s: next %v, note %q in %q", list.sheet, page["next"], note, rows)
					}
				}
				resolved := items(dash["resolved_late"])[0].(map[string]any)
				rows := rowsOf(t, f, "Đã giải quyết quá hạn")
				_, row := rowWith(rows, 1, resolved["code"].(string))
				if number(t, row[8]) != resolved["late_hours"] || !strings.Contains(row[11], "Thẩm định hồ sơ") {
					t.Errorf("resolved late row %q, JSON %v", row, resolved)
				}
			})

			t.Run("satisfaction", func(t *testing.T) {
				report := e.expect(e.do("GET", "/api/v1/statistics/satisfaction"+march, inspector, nil), http.StatusOK).body
				f := workbookOf(t, e.expect(e.do("GET", "/api/v1/statistics/satisfaction"+march, inspector, nil, "Accept", xlsxType+", application/json;q=0.5"), http.StatusOK), "muc-do-hai-long")
				indicators := report["indicators_766"].(map[string]any)
				rows := rowsOf(t, f, "Chỉ số 766")
				_, onTime := rowWith(rows, 0, "Tiến độ giải quyết: hồ sơ đúng hạn / hồ sơ đã và đang giải quyết")
				if onTime == nil || number(t, onTime[1]) != indicators["on_time"] || number(t, onTime[2]) != indicators["processed"] ||
					number(t, onTime[3]) != indicators["on_time_rate"].(float64)/100 || indicators["processed"] == 0.0 {
					t.Errorf("on-time indicator %q, JSON %v", onTime, indicators)
				}
				at, _ := rowWith(rows, 0, onTime[0])
				if got := numFmtOf(t, f, "Chỉ số 766", "D"+strconv.Itoa(at+1)); got != "0.0%" {
					t.Errorf("the rate's number format is %q, want 0.0%%", got)
				}
				if got := numFmtOf(t, f, "Chỉ số 766", "B"+strconv.Itoa(at+1)); got != "3" {
					t.Errorf("the count's number format is %q, want the whole number #,##0 (3)", got)
				}
				overall := report["overall"].(map[string]any)
				summary := rowsOf(t, f, "Tổng hợp")
				header, _ := rowWith(summary, 0, "STT")
				row := summary[header+2]
				if number(t, row[3]) != overall["ratings"] || number(t, row[6]) != overall["average_total"] || row[7] != overall["grade_label"] || overall["ratings"] != 1.0 {
					t.Errorf("overall %q, JSON %v", row, overall)
				}
				for i, c := range overall["criteria"].([]any) {
					if number(t, row[8+i]) != c.(map[string]any)["average_score"] {
						t.Errorf("criterion %d: %q, JSON %v", i, row[8+i], c)
					}
				}
				if summary[header][8] != "Điểm trung bình từng tiêu chí (tối đa 2)" || summary[header+1][8] != "Tổng thời gian giải quyết so với quy định" {
					t.Errorf("criteria headings: %q / %q", summary[header], summary[header+1])
				}
			})

			t.Run("register", func(t *testing.T) {
				page := e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026", centreDesk, nil), http.StatusOK).body
				f := workbookOf(t, e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026?format=xlsx", centreDesk, nil), http.StatusOK), "so-theo-doi-ho-so_"+centre+"_2026")
				rows := rowsOf(t, f, "Sổ theo dõi")
				header, _ := rowWith(rows, 0, "STT")
				got := [][]string{}
				for _, row := range rows[header+3:] {
					got = append(got, row[:2])
				}
				var want [][]string
				for _, it := range items(page) {
					entry := it.(map[string]any)
					want = append(want, []string{jsonNumber(entry["no"]), entry["code"].(string)})
				}
				if !slices.EqualFunc(got, want, slices.Equal) {
					t.Errorf("register rows %q, JSON %q", got, want)
				}
				if spans := headerSpans(t, f, "Sổ theo dõi"); !slices.Contains(spans, "E"+strconv.Itoa(header+1)+":G"+strconv.Itoa(header+1)+" Tổ chức, cá nhân") {
					t.Errorf("register merged headings: %q", spans)
				}
				// Dates are dates, as Vietnam's clocks showed them.
				received, _ := time.Parse(time.RFC3339, items(page)[0].(map[string]any)["received_at"].(string))
				if serial := number(t, rows[header+3][9]); excelTime(serial).Format("2006-01-02 15:04") != received.In(domain.VietnamTime).Format("2006-01-02 15:04") {
					t.Errorf("received at %v is %v in the workbook", received, excelTime(serial))
				}
			})

			t.Run("same scope as the JSON", func(t *testing.T) {
				e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026?format=xlsx", landDesk, nil), http.StatusForbidden)
				e.expect(e.do("GET", "/api/v1/reports/resolution?format=xlsx&agency="+building, landDesk, nil), http.StatusForbidden)
				e.expect(e.do("GET", "/api/v1/statistics/satisfaction?format=xlsx", "", nil), http.StatusUnauthorized)
			})

			t.Run("bad format", func(t *testing.T) {
				for _, c := range []struct {
					path   string
					fields []string
				}{
					{"/api/v1/reports/resolution?format=pdf", []string{"format"}},
					{"/api/v1/dashboards/late?format=csv", []string{"format"}}, // the dashboard has no CSV in the API
					{"/api/v1/statistics/satisfaction?format=XLSX&from=yesterday", []string{"from"}},
					{"/api/v1/statistics/satisfaction?format=", []string{"format"}},
					{"/api/v1/registers/" + centre + "/2026?format=ods", []string{"format"}},
				} {
					r := e.expect(e.do("GET", c.path, inspector, nil), http.StatusBadRequest)
					if got := fieldsOf(r); !slices.Equal(got, c.fields) {
						t.Errorf("%s: fields %v, want %v", c.path, got, c.fields)
					}
				}
			})
		})
	}
}

// excelTime is a spreadsheet's date serial as a wall-clock time.
func excelTime(serial float64) time.Time {
	return time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).Add(time.Duration(serial * 24 * float64(time.Hour)))
}

// resolutionJSONKeys are the counts of form II.06a in the workbook's column order (E to Q).
var resolutionJSONKeys = []string{"received_total", "received_online", "received_in_person_or_postal", "carried_over",
	"resolved_total", "resolved_early", "resolved_on_time", "resolved_late", "resolved_by_rejection",
	"in_progress_total", "in_progress_within_time", "in_progress_overdue", "withdrawn"}

func checkResolutionWorkbook(t *testing.T, f *excelize.File, rows [][]string, report map[string]any) {
	t.Helper()
	if rows[0][0] != "Biểu số II.06a/VPCP/KSTT" || rows[1][0] != "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH" ||
		rows[2][0] != "Kỳ báo cáo: từ ngày 01/03/2026 đến ngày 31/03/2026" {
		t.Errorf("top lines: %q", rows[:4])
	}
	header, _ := rowWith(rows, 0, "STT")
	// The circular's headings, merged as on the form: received (E–H), results (I–P), withdrawn apart.
	h := strconv.Itoa(header + 1)
	h2, h3 := strconv.Itoa(header+2), strconv.Itoa(header+3)
	spans := headerSpans(t, f, "II.06a")
	for _, want := range []string{"A" + h + ":A" + h3 + " STT", "C" + h + ":C" + h3 + " Lĩnh vực, thủ tục",
		"E" + h + ":H" + h + " Số hồ sơ nhận giải quyết", "E" + h2 + ":E" + h3 + " Tổng số", "F" + h2 + ":G" + h2 + " Trong kỳ",
		"H" + h2 + ":H" + h3 + " Từ kỳ trước chuyển qua", "I" + h + ":P" + h + " Kết quả giải quyết",
		"I" + h2 + ":M" + h2 + " Số hồ sơ đã giải quyết", "N" + h2 + ":P" + h2 + " Số hồ sơ đang giải quyết", "Q" + h + ":Q" + h3 + " Số hồ sơ rút (tính riêng)"} {
		if !slices.Contains(spans, want) {
			t.Errorf("no merged heading %q in %q", want, spans)
		}
	}
	if want := []string{"", "", "", "", "", "Trực tuyến", "Trực tiếp, dịch vụ bưu chính", "", "Tổng số", "Trước hạn", "Đúng hạn", "Quá hạn",
		"Trong đó từ chối giải quyết", "Tổng số", "Trong hạn", "Quá hạn"}; !slices.Equal(rows[header+2], want) {
		t.Errorf("third heading row %q, want %q", rows[header+2], want)
	}
	if rows[header+3][0] != "(1)" || rows[header+3][16] != "(17)" || frozenRows(t, f, "II.06a") != header+4 {
		t.Errorf("column numbers %q, frozen rows %d, want %d", rows[header+3], frozenRows(t, f, "II.06a"), header+4)
	}
	line := func(row []string, counts map[string]any, what string) {
		for i, key := range resolutionJSONKeys {
			if number(t, row[4+i]) != counts[key] {
				t.Errorf("%s, %s: %q, JSON %v", what, key, row[4+i], counts[key])
			}
		}
	}
	at, total := rowWith(rows, 2, "Tổng cộng")
	if total == nil {
		t.Fatalf("no total row: %q", rows)
	}
	line(total, report["total"].(map[string]any), "total")
	if got := numFmtOf(t, f, "II.06a", "E"+strconv.Itoa(at+1)); got != "3" {
		t.Errorf("the total's number format is %q, want whole numbers (3)", got)
	}
	if report["total"].(map[string]any)["received_total"] == 0.0 {
		t.Errorf("the report counts nothing: %v", report)
	}
	next := header + 4
	for i, field := range report["fields"].([]any) {
		fl := field.(map[string]any)
		if rows[next][0] != strconv.Itoa(i+1) || rows[next][1] != fl["field_code"] {
			t.Errorf("field line %q, JSON %v", rows[next], fl["field_code"])
		}
		line(rows[next], fl, "field "+fl["field_code"].(string))
		next++
		procedures, _ := fl["procedures"].([]any)
		for _, p := range procedures {
			pr := p.(map[string]any)
			if rows[next][3] != pr["procedure_code"] {
				t.Errorf("procedure line %q, JSON %v", rows[next], pr["procedure_code"])
			}
			line(rows[next], pr, "procedure "+pr["procedure_code"].(string))
			next++
		}
	}
	if next != at {
		t.Errorf("the total is row %d, after the lines it is %d", at, next)
	}
}

// streamRecorder is a response writer that records the body and how it was written.
type streamRecorder struct {
	header  http.Header
	status  int
	body    bytes.Buffer
	writes  int
	largest int
}

func (s *streamRecorder) Header() http.Header { return s.header }
func (s *streamRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
}
func (s *streamRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	s.writes++
	s.largest = max(s.largest, len(p))
	return s.body.Write(p)
}

// TestRegisterWorkbookStreams exports a register of a few thousand dossiers through the real
// router: the workbook holds every row of the JSON's pages in order, and reaches the client in
// small writes as the zip is made — never built whole in memory and sent at once.
func TestRegisterWorkbookStreams(t *testing.T) {
	for _, d := range exportBackends {
		t.Run(string(d), func(t *testing.T) {
			x := newExportEnv(t, d)
			const dossiers = 2000
			ctx := context.Background()
			desk := commands.Caller{ID: "tiepnhan1", Name: "Cán bộ tiếp nhận", Roles: []commands.Role{commands.RoleReception}, Agency: centre}
			// The first applicant's name would be a formula in a careless export: the workbook holds it as text.
			const hostile = `=HYPERLINK("http://x.invalid","Nguyễn Văn An")`
			for i := range dossiers {
				name := "Nguyễn Văn An " + strconv.Itoa(i)
				if i == 0 {
					name = hostile
				}
				if _, err := x.app.Receive(ctx, desk, commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect,
					Applicant: domain.Applicant{Type: domain.ApplicantCitizen, Name: name, IDNumber: "038012345678",
						Address: "12 Lê Lợi, phường Điện Biên, Thanh Hóa", Phone: "0912345678"},
					Components: []domain.Component{{Name: "Đơn đề nghị", Copies: 1}}}); err != nil {
					t.Fatal(err)
				}
			}
			x.sync()
			desk1 := x.token("tiepnhan1", centre, commands.RoleReception)
			var want []string
			for after := ""; ; {
				page := x.expect(x.do("GET", "/api/v1/registers/"+centre+"/2026?limit=500&after="+after, desk1, nil), http.StatusOK).body
				want = append(want, codesOf(page["items"])...)
				next, _ := page["next"].(string)
				if next == "" {
					break
				}
				after = next
			}
			if len(want) != dossiers {
				t.Fatalf("the JSON pages list %d dossiers, want %d", len(want), dossiers)
			}

			req := httptest.NewRequest("GET", "/api/v1/registers/"+centre+"/2026?format=xlsx", nil)
			req.Header.Set("Authorization", "Bearer "+desk1)
			rec := &streamRecorder{header: http.Header{}}
			x.server.ServeHTTP(rec, req)
			if rec.status != http.StatusOK {
				t.Fatalf("status %d: %s", rec.status, rec.body.String())
			}
			// zip's writer sends 4 KiB at a time; a workbook built in memory first arrives in one write.
			if rec.largest > 64<<10 || rec.writes < 8 || rec.body.Len() < 8*rec.largest {
				t.Errorf("the workbook (%d bytes) came in %d writes, the largest %d bytes: not streamed", rec.body.Len(), rec.writes, rec.largest)
			}
			f := workbookOf(t, response{status: rec.status, header: rec.header, raw: rec.body.String()}, "so-theo-doi-ho-so_"+centre+"_2026")
			rows := rowsOf(t, f, "Sổ theo dõi")
			header, _ := rowWith(rows, 0, "STT")
			var got []string
			for i, row := range rows[header+3:] {
				if row[0] != strconv.Itoa(i+1) {
					t.Fatalf("row %d numbered %q", i+1, row[0])
				}
				got = append(got, row[1])
			}
			if !slices.Equal(got, want) {
				t.Errorf("the workbook lists %d dossiers, the JSON %d, or in another order", len(got), len(want))
			}
			first := "E" + strconv.Itoa(header+4)
			if formula, err := f.GetCellFormula("Sổ theo dõi", first); err != nil || formula != "" || rows[header+3][4] != hostile {
				t.Errorf("the first applicant is %q with formula %q (%v), want the text %q", rows[header+3][4], formula, err, hostile)
			}
		})
	}
}

// The dashboards' pages offer the workbook beside the CSV ("Tải Excel"), for the page's scope and
// period; the resolution report's workbook from the page is the API's for the same request.
func TestDashboardPagesLinkTheirWorkbooks(t *testing.T) {
	e := newPagesEnv(t)
	reception := e.token("tn", centre, commands.RoleReception)
	inspector := e.token("thanhtra1", "", commands.RoleInspector)
	for range 2 {
		e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated)
	}
	e.waitProjected()
	e.signIn(reception)
	query := "den=2026-03-31&amp;tu=2026-03-01" // the period travels with the links (it was lost, escaped as one parameter name)
	for _, tab := range []string{"tre-han", "hai-long", "bao-cao"} {
		e.get("/can-bo/thong-ke/"+tab+"?tu=2026-03-01&den=2026-03-31").expect(t, http.StatusOK,
			`href="/can-bo/thong-ke/`+tab+`.csv?`+query+`" download>Tải CSV</a>`,
			`href="/can-bo/thong-ke/`+tab+`.xlsx?`+query+`" download>Tải Excel</a>`)
	}
	if p := e.get("/can-bo/thong-ke/dung-han?lang=en"); strings.Contains(p.body, ".xlsx") {
		t.Errorf("the on-time page links a workbook it has not")
	}
	resp, err := e.client.Get(e.url + "/can-bo/thong-ke/bao-cao.xlsx?tu=2026-03-01&den=2026-03-31")
	if err != nil {
		t.Fatal(err)
	}
	raw := new(bytes.Buffer)
	_, _ = raw.ReadFrom(resp.Body)
	resp.Body.Close()
	f := workbookOf(t, response{status: resp.StatusCode, header: resp.Header, raw: raw.String()}, "bao-cao-II06a_"+centre+"_2026-03-01_2026-03-31")
	report := e.expect(e.do("GET", "/api/v1/reports/resolution?from=2026-03-01&to=2026-03-31", inspector, nil), http.StatusOK).body
	own := e.expect(e.do("GET", "/api/v1/reports/resolution?from=2026-03-01&to=2026-03-31", reception, nil), http.StatusOK).body
	if own["total"].(map[string]any)["received_total"] != 2.0 || report["total"].(map[string]any)["received_total"] != 2.0 {
		t.Fatalf("the reports count %v and %v dossiers, want 2", own["total"], report["total"])
	}
	checkResolutionWorkbook(t, f, rowsOf(t, f, "II.06a"), own)
	e.signIn(inspector)
	e.get("/can-bo/thong-ke/bao-cao?tu=2026-03-01&den=2026-03-31").expect(t, http.StatusOK, `href="/can-bo/thong-ke/bao-cao.xlsx?`)
}
