package http_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/projections"
)

// officialBrowser is a browser signed in to the officials' pages with token.
type officialBrowser struct {
	e      *docEnv
	client *http.Client
}

func (e *docEnv) officialBrowser(token string) *officialBrowser {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(e.url+"/can-bo/dang-nhap", url.Values{"token": {token}})
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign in: %d", resp.StatusCode)
	}
	return &officialBrowser{e: e, client: client}
}

// page gets a page and returns its status and body.
func (b *officialBrowser) page(path string) (int, string) {
	b.e.t.Helper()
	resp, err := b.client.Get(b.e.url + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// csrf is the CSRF token of the dossier page's forms.
func (b *officialBrowser) csrf(code string) string {
	b.e.t.Helper()
	status, page := b.page("/can-bo/ho-so/" + code)
	m := csrfField.FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		b.e.t.Fatalf("dossier page %d has no form: %s", status, page)
	}
	return html.UnescapeString(m[1])
}

// postFile posts a form as a browser does: its fields in order, then the file part fileField.
func postFile(t *testing.T, client *http.Client, target string, fields [][2]string, fileField, name string, content []byte) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		_ = mw.WriteField(f[0], f[1])
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+fileField+`"; filename="`+name+`"`)
	h.Set("Content-Type", "application/octet-stream")
	part, _ := mw.CreatePart(h)
	_, _ = part.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", target, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp, string(page)
}

// An official at the desk attaches scanned components on the dossier page: the file is streamed to
// the API, recorded as digitised at the desk exactly as an upload through the API is, previewed
// on the page; a bad file is refused next to the form's file input, and nothing is kept.
func TestDeskAttachesScansOnTheDossierPage(t *testing.T) {
	forEachDocumentBackend(t, func(t *testing.T, e *docEnv) {
		code := e.received()
		token := e.token("tiepnhan1", centre, commands.RoleReception)
		browser := e.officialBrowser(token)
		status, page := browser.page("/can-bo/ho-so/" + code)
		if status != http.StatusOK || !strings.Contains(page, `action="/can-bo/ho-so/`+code+`/tep" enctype="multipart/form-data"`) ||
			!strings.Contains(page, `<option value="`+drawing+`"`) || !strings.Contains(page, `<option value="desk_scan"`) {
			t.Fatalf("the dossier page offers no form to attach a scan (%d):\n%s", status, page)
		}
		csrf := browser.csrf(code)
		target := e.url + "/can-bo/ho-so/" + code + "/tep"
		scan := pdfOf("bản quét bản vẽ", 60<<10)
		resp, body := postFile(t, browser.client, target, [][2]string{{"csrf", csrf}, {"component", drawing}, {"origin", "desk_scan"}}, "file", "Bản vẽ.pdf", scan)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/can-bo/ho-so/"+code+"?da-lam=documents" {
			t.Fatalf("attach on the page: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		dossier := e.expect(e.do("GET", "/api/v1/dossiers/"+code, token, nil), http.StatusOK)
		docs, _ := dossier.body["documents"].([]any)
		if len(docs) != 1 {
			t.Fatalf("the dossier holds %d files: %s", len(docs), dossier.raw)
		}
		doc := docs[0].(map[string]any)
		if doc["sha256"] != sha256Of(scan) || doc["origin"] != "desk_scan" || doc["digitised"] != true || doc["name"] != "Bản vẽ.pdf" || doc["component"] != drawing {
			t.Errorf("the page's scan is recorded as %v", doc)
		}
		// Downstream it is a file like any other: the page lists and previews it.
		_, page = browser.page("/can-bo/ho-so/" + code)
		if !strings.Contains(page, `/can-bo/ho-so/`+code+`/tep/`+doc["id"].(string)+`?xem=1`) || !strings.Contains(page, "số hóa tại bộ phận một cửa") {
			t.Errorf("the attached scan is not previewed on the dossier page")
		}

		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), bytes.Repeat([]byte{0}, 2000)...)
		for _, bad := range []struct {
			name    string
			fields  [][2]string
			file    string
			content []byte
			field   string
		}{
			{"an executable renamed .pdf", [][2]string{{"csrf", csrf}, {"component", drawing}}, "giay-to.pdf", exe, "file"},
			{"over the per-file limit", [][2]string{{"csrf", csrf}, {"component", drawing}}, "lon.pdf", pdfOf("big", testMaxFile+1), "file"},
			{"a zero-byte file", [][2]string{{"csrf", csrf}, {"component", drawing}}, "rong.pdf", nil, "file"},
			{"a name with ../", [][2]string{{"csrf", csrf}, {"component", drawing}}, "../../etc/passwd.pdf", pdfOf("p", 100), "file"},
			{"no file chosen", [][2]string{{"csrf", csrf}, {"component", drawing}}, "", nil, "file"},
			{"a component not in the procedure", [][2]string{{"csrf", csrf}, {"component", "Sổ hộ khẩu"}}, "so.pdf", pdfOf("s", 100), "component"},
		} {
			t.Run(bad.name, func(t *testing.T) {
				before, blobs := e.streamLength(code), e.blobCount()
				resp, body := postFile(t, browser.client, target, bad.fields, "file", bad.file, bad.content)
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="documents-`+bad.field+`-error" role="alert"`) ||
					!strings.Contains(body, `<details class="action" id="act-documents" open>`) {
					t.Errorf("%d, the form does not say what is wrong with %s:\n%s", resp.StatusCode, bad.field, body)
				}
				if e.streamLength(code) != before || e.blobCount() != blobs || e.incomingCount() != 0 {
					t.Errorf("a refused file left events %d → %d, blobs %d → %d, %d under way", before, e.streamLength(code), blobs, e.blobCount(), e.incomingCount())
				}
			})
		}
		t.Run("without the form's CSRF token", func(t *testing.T) {
			before := e.streamLength(code)
			for _, fields := range [][][2]string{{{"component", drawing}}, {{"csrf", "forged"}, {"component", drawing}}} {
				resp, _ := postFile(t, browser.client, target, fields, "file", "x.pdf", pdfOf("csrf", 100))
				if resp.StatusCode != http.StatusForbidden || e.streamLength(code) != before {
					t.Errorf("a form without its token: %d, events %d → %d", resp.StatusCode, before, e.streamLength(code))
				}
			}
		})
		t.Run("another agency's official", func(t *testing.T) {
			outsider := e.officialBrowser(e.token("canbo-khac", land, commands.RoleReception))
			before, blobs := e.streamLength(code), e.blobCount()
			// Their own token is valid; the dossier is not theirs.
			resp, _ := postFile(t, outsider.client, target, [][2]string{{"csrf", outsider.csrfOf(t)}, {"component", drawing}}, "file", "x.pdf", pdfOf("o", 100))
			if resp.StatusCode != http.StatusForbidden || e.streamLength(code) != before || e.blobCount() != blobs {
				t.Errorf("another agency's attach: %d, events %d → %d, blobs %d → %d", resp.StatusCode, before, e.streamLength(code), blobs, e.blobCount())
			}
		})
	})
}

// csrfOf is a CSRF token of b's session, read from the reception form (which every official sees).
func (b *officialBrowser) csrfOf(t *testing.T) string {
	t.Helper()
	_, page := b.page("/can-bo/tiep-nhan")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the reception form has no CSRF token")
	}
	return html.UnescapeString(m[1])
}

// signedForResult takes a received dossier through appraisal to the signature of document.
func (e *docEnv) signedForResult(code string, document []byte) string {
	e.t.Helper()
	signer := e.token("giamdoc1", building, commands.RoleSigner)
	for _, step := range []struct {
		token, action string
		body          any
	}{
		{e.token("tiepnhan1", centre, commands.RoleReception), "transfer", map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ"}},
		{e.token("chuyenvien1", building, commands.RoleSpecialist), "appraise", map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện"}},
		{signer, "sign", map[string]any{"document_number": "12/GPXD", "document_hash": sha256Of(document)}},
	} {
		e.clock.Advance(30 * time.Minute)
		e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/"+step.action, step.token, step.body), http.StatusOK)
	}
	return signer
}

// The "result ready" form on the dossier page stores the result's file, and refuses (409, on the
// form) a file that is not the document the signer signed.
func TestResultFormStoresOnlyTheSignedDocument(t *testing.T) {
	forEachDocumentBackend(t, func(t *testing.T, e *docEnv) {
		code := e.received()
		permit := pdfOf("giấy phép 12/GPXD", 30<<10)
		signer := e.signedForResult(code, permit)
		browser := e.officialBrowser(signer)
		csrf := browser.csrf(code)
		version := func() string { return strconv.Itoa(e.streamLength(code)) }
		target := e.url + "/can-bo/ho-so/" + code + "/result"

		before := e.streamLength(code)
		resp, body := postFile(t, browser.client, target, [][2]string{{"csrf", csrf}, {"version", version()}, {"idempotency_key", "k1"}, {"document_number", ""}},
			"document", "giay-phep.pdf", pdfOf("một giấy phép khác", 30<<10))
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `<details class="action" id="act-result" open>`) || !strings.Contains(body, `class="problem"`) {
			t.Errorf("a file that is not the signed document: %d\n%s", resp.StatusCode, body)
		}
		if e.streamLength(code) != before {
			t.Fatalf("the refused result was recorded")
		}
		resp, body = postFile(t, browser.client, target, [][2]string{{"csrf", csrf}, {"version", version()}, {"idempotency_key", "k2"}, {"document_number", ""}},
			"document", "giay-phep.pdf", permit)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the signed document: %d\n%s", resp.StatusCode, body)
		}
		d := e.expect(e.do("GET", "/api/v1/dossiers/"+code, signer, nil), http.StatusOK)
		docs, _ := d.body["documents"].([]any)
		if d.body["status"] != "result_ready" || len(docs) != 1 || docs[0].(map[string]any)["result_code"] != code+"-KQ1" ||
			docs[0].(map[string]any)["sha256"] != sha256Of(permit) {
			t.Errorf("after the result form: %s", d.raw)
		}
	})
}

// Anyone holding a result's code can check a document by sending the file itself: through the API
// and the public page, the right file is the signed one, a wrong one is not; the file is hashed
// as it arrives and kept nowhere; bad input is a 400 naming the field.
func TestVerifyResultByItsFile(t *testing.T) {
	forEachDocumentBackend(t, func(t *testing.T, e *docEnv) {
		code := e.received()
		permit := pdfOf("giấy phép 12/GPXD", 30<<10)
		signer := e.signedForResult(code, permit)
		e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/result", signer, map[string]any{}), http.StatusOK)
		resultCode := code + "-KQ1"
		api := "/api/v1/public/results/" + resultCode
		before, blobs := e.streamLength(code), e.blobCount()

		right := e.expect(e.upload(api, "", nil, "giay-phep.pdf", permit), http.StatusOK)
		if right.body["matches"] != true || right.body["presented_hash"] != sha256Of(permit) || right.body["document_hash"] != sha256Of(permit) {
			t.Errorf("the signed file: %s", right.raw)
		}
		forged := pdfOf("giấy phép giả", 30<<10)
		wrong := e.expect(e.upload(api, "", nil, "giay-phep.pdf", forged), http.StatusOK)
		if wrong.body["matches"] != false || wrong.body["genuine"] != false || wrong.body["presented_hash"] != sha256Of(forged) {
			t.Errorf("another file: %s", wrong.raw)
		}
		for _, bad := range []struct {
			name    string
			fields  [][2]string
			content []byte
			status  int
			field   string
		}{
			{"an empty file", nil, nil, http.StatusBadRequest, "file"},
			{"over the per-file limit", nil, pdfOf("big", testMaxFile+1), http.StatusBadRequest, "file"},
			{"another field", [][2]string{{"hash", sha256Of(permit)}}, permit, http.StatusBadRequest, "hash"},
		} {
			r := e.expect(e.upload(api, "", bad.fields, "x.pdf", bad.content), bad.status)
			if fields := fieldsOf(r); len(fields) != 1 || fields[0] != bad.field {
				t.Errorf("%s: fields %v, want [%s]: %s", bad.name, fields, bad.field, r.raw)
			}
		}
		e.expect(e.upload("/api/v1/public/results/"+code+"-KQ9", "", nil, "x.pdf", permit), http.StatusNotFound)
		e.expect(e.do("POST", api, "", "hash="+sha256Of(permit), "Content-Type", "application/x-www-form-urlencoded"), http.StatusBadRequest)

		// The public page: Vietnamese first, the verdict on the file sent.
		page := func(content []byte) (int, string) {
			resp, body := postFile(t, noRedirects, e.url+"/xac-thuc/"+resultCode, nil, "file", "giay-phep.pdf", content)
			return resp.StatusCode, body
		}
		if status, body := page(permit); status != http.StatusOK || !strings.Contains(body, "Văn bản bạn xuất trình đúng là văn bản đã được ký.") ||
			!strings.Contains(body, sha256Of(permit)) {
			t.Errorf("the page with the signed file: %d\n%s", status, body)
		}
		if status, body := page(forged); status != http.StatusOK || !strings.Contains(body, "Văn bản bạn xuất trình KHÔNG khớp với văn bản đã được ký.") {
			t.Errorf("the page with another file: %d\n%s", status, body)
		}
		if status, body := page(nil); status != http.StatusBadRequest || !strings.Contains(body, `class="problem"`) || !strings.Contains(body, code) {
			t.Errorf("the page with an empty file: %d\n%s", status, body)
		}
		if e.streamLength(code) != before || e.blobCount() != blobs || e.incomingCount() != 0 {
			t.Errorf("verifying files stored something: events %d → %d, blobs %d → %d", before, e.streamLength(code), blobs, e.blobCount())
		}
	})
}

// Previewing a file on the dossier page is a read of the applicant's data like the page itself:
// one access-log entry naming the official and the download's route; a refused preview (another
// agency's official) records nothing and gives nothing.
func TestFilePreviewIsARecordedRead(t *testing.T) {
	e := buildEnv(t, envOptions{configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
		cfg.Documents = documentsConfig(t, cfg.ReadDB)
	}})
	d := &docEnv{env: e}
	code := d.received()
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	scan := pdfOf("bản vẽ", 10<<10)
	id := e.expect(d.upload("/api/v1/dossiers/"+code+"/documents", reception, [][2]string{{"component", drawing}}, "ban-ve.pdf", scan),
		http.StatusCreated).body["document"].(map[string]any)["id"].(string)

	_, before := e.accessEntries("")
	status, body := d.officialBrowser(reception).page("/can-bo/ho-so/" + code + "/tep/" + id + "?xem=1")
	entries, after := e.accessEntries("")
	if status != http.StatusOK || body != string(scan) || after != before+1 {
		t.Fatalf("preview: %d, %d bytes, %d entries recorded, want 1", status, len(body), after-before)
	}
	if got := entries[0]; got["official_id"] != "tiepnhan1" || got["route"] != "GET /api/v1/dossiers/{ref}/documents/{id}" || got["dossier_code"] != code {
		t.Errorf("the preview was recorded as %v", got)
	}
	status, body = d.officialBrowser(e.token("canbo-khac", land, commands.RoleSpecialist)).page("/can-bo/ho-so/" + code + "/tep/" + id + "?xem=1")
	if _, total := e.accessEntries(""); status != http.StatusForbidden || strings.Contains(body, "bản vẽ") || total != after {
		t.Errorf("another agency's preview: %d, entries %d → %d", status, after, total)
	}
}

// At the desk the scans come right after the receipt: the printed receipt links to the dossier's
// attach form, which opens.
func TestReceiptLeadsToTheScans(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := newDocEnv(t, store, store.DB())
	browser := e.officialBrowser(e.token("tiepnhan1", centre, commands.RoleReception))
	csrf := browser.csrfOf(t)
	resp, err := browser.client.PostForm(e.url+"/can-bo/tiep-nhan", url.Values{"csrf": {csrf}, "idempotency_key": {"0190a0b0-0000-7000-8000-000000000001"},
		"procedure_code": {"1.009972"}, "channel": {"direct"}, "applicant.type": {"citizen"}, "applicant.name": {"Nguyễn Văn An"},
		"applicant.id_number": {"038012345678"}, "components": {drawing + " | 2"}})
	if err != nil {
		t.Fatal(err)
	}
	receipt, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	link := regexp.MustCompile(`<a href="(/can-bo/ho-so/[^"?]+\?dinh-kem=1#act-documents)" id="scan-link">`).FindStringSubmatch(string(receipt))
	if resp.StatusCode != http.StatusOK || link == nil {
		t.Fatalf("the printed receipt (%d) does not lead to the scans:\n%s", resp.StatusCode, receipt)
	}
	status, page := browser.page(html.UnescapeString(link[1]))
	if status != http.StatusOK || !strings.Contains(page, `<details class="action" id="act-documents" open>`) {
		t.Errorf("the receipt's link does not open the attach form (%d)", status)
	}
}

// The work queue lists each dossier's first files, each opening its preview in the browser, and
// says how many more the dossier page holds; the API's queue carries them too.
func TestWorkQueueListsTheFiles(t *testing.T) {
	e := buildEnv(t, envOptions{projections: projections.All(), configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
		cfg.Documents = documentsConfig(t, cfg.ReadDB)
	}})
	d := &docEnv{env: e}
	code := d.received()
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	var ids []string
	for i := range projections.MaxItemFiles + 2 {
		doc := e.expect(d.upload("/api/v1/dossiers/"+code+"/documents", reception, [][2]string{{"component", drawing}}, fmt.Sprintf("trang-%d.pdf", i+1),
			pdfOf(fmt.Sprint(i), 2<<10)), http.StatusCreated).body["document"].(map[string]any)
		ids = append(ids, doc["id"].(string))
	}
	e.waitProjected()
	queue := e.expect(e.do("GET", "/api/v1/work-queue?status=received", reception, nil), http.StatusOK)
	items, _ := queue.body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("queue: %s", queue.raw)
	}
	item := items[0].(map[string]any)
	files, _ := item["files"].([]any)
	if item["file_count"] != float64(projections.MaxItemFiles+2) || len(files) != projections.MaxItemFiles ||
		files[0].(map[string]any)["name"] != "trang-1.pdf" || files[0].(map[string]any)["media_type"] != "application/pdf" {
		t.Errorf("the queue's item lists %v files of %v: %s", len(files), item["file_count"], queue.raw)
	}
	_, page := d.officialBrowser(reception).page("/can-bo?status=received")
	if !strings.Contains(page, `href="/can-bo/ho-so/`+code+`/tep/`+ids[0]+`?xem=1" target="_blank" rel="noopener" type="application/pdf">trang-1.pdf</a>`) ||
		strings.Contains(page, ids[projections.MaxItemFiles]) || !strings.Contains(page, "và 2 tệp khác") {
		t.Errorf("the queue page does not list the dossier's files:\n%s", page)
	}
}
