package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

// The citizen's journey through the API, with a real OpenID provider, the real router, crypto-
// shredding and the blob directory: file online with two files, answer a supplement request with
// one new file and one reused, download the signed result.

const (
	componentForm    = "Đơn đề nghị cấp giấy phép xây dựng" // the test catalog's procedure 1.009972
	componentDrawing = "Bản vẽ thiết kế xây dựng"
	missingLandTitle = "Giấy chứng nhận quyền sử dụng đất"
)

// part is one part of a citizen's multipart form: a field, or a file when name is set.
type part struct {
	field, value string
	name         string
	content      []byte
}

func field(name, value string) part { return part{field: name, value: value} }
func file(name string, content []byte) part {
	return part{field: "file", name: name, content: content}
}

// send posts a citizen's multipart form with the session cookie (and extra headers).
func (ce *citizenEnv) send(path string, cookie *http.Cookie, parts []part, headers ...string) response {
	ce.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		if p.field != "file" {
			_ = mw.WriteField(p.field, p.value)
			continue
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+p.name+`"`)
		h.Set("Content-Type", "application/octet-stream")
		w, _ := mw.CreatePart(h)
		_, _ = w.Write(p.content)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, ce.url+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		ce.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return decodeResponse(resp, raw)
}

func decodeResponse(resp *http.Response, raw []byte) response {
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// blobCount counts the blobs stored under the citizens' blob directory.
func (ce *citizenEnv) blobCount() int {
	ce.t.Helper()
	return blobsIn(ce.t, ce.blobDir)
}

func (ce *citizenEnv) version(id string) uint64 {
	ce.t.Helper()
	d, _, err := ce.app.Load(context.Background(), id)
	if err != nil {
		ce.t.Fatal(err)
	}
	return d.Version
}

func documentsOf(r response) []map[string]any {
	docs := []map[string]any{}
	dossier, _ := r.body["dossier"].(map[string]any)
	if dossier == nil {
		dossier = r.body
	}
	list, _ := dossier["documents"].([]any)
	for _, d := range list {
		docs = append(docs, d.(map[string]any))
	}
	return docs
}

func TestACitizenFilesOnlineAnswersASupplementAndDownloadsTheResult(t *testing.T) {
	forEachSessionDatabase(t, func(t *testing.T, ce *citizenEnv) {
		an := ce.signIn(newBrowser(t), citizenAn)

		procedures := ce.call("GET", "/api/v1/me/procedures", an, "")
		items, _ := procedures.body["items"].([]any)
		if procedures.status != http.StatusOK || len(items) != 1 || items[0].(map[string]any)["code"] != "1.009972" ||
			items[0].(map[string]any)["receiving_unit"] != centre {
			t.Fatalf("online procedures: %s", procedures.raw)
		}

		form, drawing := pdfOf("đơn đề nghị", 20<<10), pngOf(t)
		submitted := ce.expect(ce.send("/api/v1/me/dossiers", an, []part{
			field("procedure_code", "1.009972"), field("address", "12 Lê Lợi, Thanh Hóa"),
			field("component", componentForm), file("Đơn đề nghị.pdf", form),
			field("component", componentDrawing), file("ban-ve.png", drawing),
		}), http.StatusCreated)
		id := submitted.body["id"].(string)
		if submitted.body["status"] != "submitted" || !slices.Equal(anyStrings(submitted.body["events"]),
			[]string{"dossier.submitted.v1", "dossier.document_attached.v1", "dossier.document_attached.v1"}) {
			t.Fatalf("submission: %s", submitted.raw)
		}
		d, _, err := ce.app.Load(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Applicant.IDNumber != citizenAn.IDNumber || d.Applicant.Name != citizenAn.Name || d.ReceivingUnit != centre ||
			len(d.Documents) != 2 || d.Documents[0].Origin != domain.OriginUpload || !d.Documents[0].Sealed || d.Documents[1].SHA256 != sha256Of(drawing) {
			t.Fatalf("the submitted dossier: %+v", d)
		}
		if len(d.AcceptanceWindows) != 1 || !d.AcceptanceWindows[0].Deadline.After(d.SubmittedAt) {
			t.Errorf("no acceptance window opened: %+v", d.AcceptanceWindows)
		}

		// Bound to the citizen through the keyed index: it is in their list, not in Bình's.
		ce.waitProjected()
		if mine := ce.call("GET", "/api/v1/me/dossiers", an, ""); !containsDossier(mine, id) {
			t.Fatalf("the submitted dossier is not in the citizen's list: %s", mine.raw)
		}
		binh := ce.signIn(newBrowser(t), citizenBinh)
		if theirs := ce.call("GET", "/api/v1/me/dossiers", binh, ""); containsDossier(theirs, id) {
			t.Fatalf("another citizen lists the dossier: %s", theirs.raw)
		}

		reception := ce.token("tiepnhan1", centre, commands.RoleReception)
		accepted := ce.expect(ce.do("POST", "/api/v1/dossiers/"+id+"/receive", reception, map[string]any{}), http.StatusOK)
		code := accepted.body["code"].(string)
		ce.env.clock.Advance(time.Hour)
		ce.expect(ce.do("POST", "/api/v1/dossiers/"+code+"/supplement-request", reception, map[string]any{
			"missing_items": []string{componentDrawing, missingLandTitle}, "reason": "Bản vẽ thiếu mặt cắt; thiếu giấy chứng nhận"}), http.StatusOK)
		before, _, _ := ce.app.Load(context.Background(), id)

		// The request, with everything missing, in "Hồ sơ của tôi" and on the dossier.
		ce.waitProjected()
		listed := itemOf(ce.call("GET", "/api/v1/me/dossiers", an, ""), id)
		if listed == nil || listed["status"] != "supplement_requested" || !slices.Equal(anyStrings(listed["missing_items"]), []string{componentDrawing, missingLandTitle}) {
			t.Fatalf("the list does not show the request: %v", listed)
		}
		mine := ce.call("GET", "/api/v1/me/dossiers/"+id, an, "")
		supplement, _ := mine.body["supplement"].(map[string]any)
		if mine.status != http.StatusOK || supplement == nil || len(anyStrings(supplement["missing_items"])) != 2 || mine.body["code"] != code {
			t.Fatalf("my dossier: %s", mine.raw)
		}

		// An answer missing an item, another's dossier, a cross-site post: refused, nothing kept.
		blobs, version := ce.blobCount(), ce.version(id)
		landTitle := pdfOf("giấy chứng nhận", 10<<10)
		for name, c := range map[string]struct {
			cookie  *http.Cookie
			parts   []part
			headers []string
			status  int
			field   string
		}{
			"an item missing":      {an, []part{field("component", componentDrawing), field("reuse", sha256Of(drawing))}, nil, http.StatusBadRequest, "component"},
			"a reuse not theirs":   {an, []part{field("component", componentDrawing), field("reuse", sha256Of([]byte("x")))}, nil, http.StatusBadRequest, "reuse"},
			"not an item":          {an, []part{field("component", "Sổ hộ khẩu"), file("so.pdf", landTitle)}, nil, http.StatusBadRequest, "component"},
			"someone else's":       {binh, []part{field("component", missingLandTitle), file("gcn.pdf", landTitle)}, nil, http.StatusNotFound, ""},
			"from another site":    {an, []part{field("component", missingLandTitle), file("gcn.pdf", landTitle)}, []string{"Origin", "https://evil.example"}, http.StatusForbidden, ""},
			"a cross-site form":    {an, []part{field("component", missingLandTitle), file("gcn.pdf", landTitle)}, []string{"Sec-Fetch-Site", "cross-site", "Origin", "null"}, http.StatusForbidden, ""},
			"an official's bearer": {nil, []part{field("component", missingLandTitle), file("gcn.pdf", landTitle)}, []string{"Authorization", "Bearer " + reception}, http.StatusForbidden, ""},
		} {
			r := ce.send("/api/v1/me/dossiers/"+id+"/supplement", c.cookie, c.parts, c.headers...)
			ce.expect(r, c.status)
			if c.field != "" && !slices.Contains(fieldsOf(r), c.field) {
				t.Errorf("%s: fields %v, want %s", name, fieldsOf(r), c.field)
			}
			if ce.blobCount() != blobs || ce.version(id) != version {
				t.Errorf("%s: something was stored", name)
			}
		}

		ce.env.clock.Advance(24 * time.Hour)
		drawingWithSection := pdfOf("bản vẽ có mặt cắt", 12<<10)
		answered := ce.expect(ce.send("/api/v1/me/dossiers/"+id+"/supplement", an, []part{
			field("component", componentDrawing), file("ban-ve-mat-cat.pdf", drawingWithSection),
			field("component", missingLandTitle), file("GCN.pdf", landTitle),
		}), http.StatusOK)
		if !slices.Equal(anyStrings(answered.body["events"]), []string{"dossier.document_attached.v1", "dossier.document_attached.v1", "dossier.supplemented.v1"}) ||
			answered.body["code"] != code || answered.body["status"] != string(before.ResumeStatus) {
			t.Fatalf("the answer: %s", answered.raw)
		}
		// Answered once: a second answer finds no request pending (409), and stores nothing.
		version = ce.version(id)
		ce.expect(ce.send("/api/v1/me/dossiers/"+id+"/supplement", an, []part{field("component", missingLandTitle), field("reuse", sha256Of(landTitle))}), http.StatusConflict)
		if ce.version(id) != version {
			t.Error("a second answer was recorded")
		}
		after, _, _ := ce.app.Load(context.Background(), id)
		if len(after.Documents) != 4 || after.Documents[3].Component != missingLandTitle || after.Documents[3].Origin != domain.OriginUpload {
			t.Errorf("the answer's files: %+v", after.Documents)
		}
		if !after.AppointmentDate.After(before.AppointmentDate) || after.PendingSupplement != nil || after.Code != before.Code || len(after.Components) != len(before.Components)+2 {
			t.Errorf("the clock did not restart: appointment %v then %v", before.AppointmentDate, after.AppointmentDate)
		}

		// A second dossier reuses the first's application form by its digest: not stored again,
		// recorded as reused from the citizen's own store (QĐ 766 group 4).
		blobs = ce.blobCount()
		again := ce.expect(ce.send("/api/v1/me/dossiers", an, []part{
			field("procedure_code", "1.009972"),
			field("component", componentForm), field("reuse", sha256Of(form)),
			field("component", componentDrawing), file("ban-ve-2.pdf", pdfOf("bản vẽ nhà thứ hai", 9<<10)),
		}), http.StatusCreated)
		docs := documentsOf(again)
		if len(docs) != 2 || docs[0]["origin"] != "citizen_store" || docs[0]["reused"] != true || docs[0]["sha256"] != sha256Of(form) {
			t.Fatalf("the reused file: %s", again.raw)
		}
		second, _, _ := ce.app.Load(context.Background(), again.body["id"].(string))
		if second.Documents[0].Blob != d.Documents[0].Blob || ce.blobCount() != blobs+1 {
			t.Errorf("the reused file was stored again (%d blobs, want %d)", ce.blobCount(), blobs+1)
		}
		if r := ce.call("GET", "/api/v1/me/dossiers/"+second.ID+"/documents/"+second.Documents[0].DocumentID, an, ""); r.raw != string(form) {
			t.Errorf("the reused file does not read back: %d", r.status)
		}

		// The officials resolve it; the signed result's file is the owner's to download.
		permit := pdfOf("giấy phép xây dựng 7/GPXD", 15<<10)
		signer := ce.token("giamdoc1", building, commands.RoleSigner)
		for _, step := range []struct {
			token, action string
			body          any
		}{
			{reception, "transfer", map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ"}},
			{ce.token("chuyenvien1", building, commands.RoleSpecialist), "appraise", map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện"}},
			{signer, "sign", map[string]any{"document_number": "7/GPXD", "document_hash": sha256Of(permit)}},
		} {
			ce.env.clock.Advance(30 * time.Minute)
			ce.expect(ce.do("POST", "/api/v1/dossiers/"+code+"/"+step.action, step.token, step.body), http.StatusOK)
		}
		docEnvOf(ce).expect(docEnvOf(ce).upload("/api/v1/dossiers/"+code+"/result/file", signer, nil, "giay-phep.pdf", permit), http.StatusCreated)

		mine = ce.call("GET", "/api/v1/me/dossiers/"+id, an, "")
		results, _ := mine.body["results"].([]any)
		if len(results) != 1 || results[0].(map[string]any)["document_hash"] != sha256Of(permit) {
			t.Fatalf("my dossier's results: %s", mine.raw)
		}
		download := results[0].(map[string]any)["download_url"].(string)
		got := ce.call("GET", download, an, "")
		if got.status != http.StatusOK || got.raw != string(permit) || got.header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("the result's download: %d %s", got.status, got.header)
		}
		if other := ce.call("GET", download, binh, ""); other.status != http.StatusNotFound {
			t.Errorf("another citizen downloads the result: %d", other.status)
		}
		if official := ce.call("GET", download, nil, reception); official.status != http.StatusForbidden {
			t.Errorf("an official's token on the citizen's download: %d", official.status)
		}
	})
}

// Bad submissions are refused with the field at fault, and nothing is stored or recorded.
func TestBadOnlineSubmissionsStoreNothing(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	an := ce.signIn(newBrowser(t), citizenAn)
	good := pdfOf("đơn", 10<<10)
	head := []part{field("procedure_code", "1.009972")}
	for name, c := range map[string]struct {
		parts []part
		field string
	}{
		"a component not in the procedure": {append(head, field("component", "Sổ hộ khẩu"), file("so.pdf", good)), "component"},
		"an executable renamed .pdf":       {append(head, field("component", componentForm), file("don.pdf", []byte("MZ\x90\x00\x03\x00\x00\x00 this program"))), "file"},
		"a zero-byte file":                 {append(head, field("component", componentForm), file("don.pdf", nil)), "file"},
		"a component without a file":       {append(head, field("component", componentForm), file("don.pdf", good)), "component"},
		"an unknown procedure":             {[]part{field("procedure_code", "9.999999"), field("component", componentForm), file("don.pdf", good)}, "procedure_code"},
		"an unknown field":                 {[]part{field("id_number", "001190000002"), field("component", componentForm), file("don.pdf", good)}, "id_number"},
		"a file before its component":      {append(head, file("don.pdf", good)), "file"},
	} {
		blobs := ce.blobCount()
		r := ce.expect(ce.send("/api/v1/me/dossiers", an, c.parts), http.StatusBadRequest)
		if !slices.Contains(fieldsOf(r), c.field) {
			t.Errorf("%s: fields %v, want %s (%s)", name, fieldsOf(r), c.field, r.raw)
		}
		if name != "a component without a file" && ce.blobCount() != blobs {
			t.Errorf("%s: a blob was stored", name)
		}
	}
	if n := ce.eventCount(); n != 0 {
		t.Errorf("%d events recorded by refused submissions", n)
	}
	// A citizen's session on an official's upload: 401, nothing stored.
	code, blobs := ce.receiveFor(citizenAn), ce.blobCount()
	ce.expect(ce.send("/api/v1/dossiers/"+code+"/documents", an, []part{field("component", componentForm), file("don.pdf", good)}), http.StatusUnauthorized)
	if ce.blobCount() != blobs || ce.version(code) != 1 {
		t.Error("a citizen's session stored a file through the officials' upload")
	}
}

func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, s := range list {
		out = append(out, s.(string))
	}
	return out
}

func itemOf(r response, id string) map[string]any {
	items, _ := r.body["items"].([]any)
	for _, item := range items {
		if m := item.(map[string]any); m["dossier_id"] == id {
			return m
		}
	}
	return nil
}

func containsDossier(r response, id string) bool { return itemOf(r, id) != nil }

// docEnvOf lends the citizens' environment the upload helper of the documents' tests.
func docEnvOf(ce *citizenEnv) *docEnv { return &docEnv{env: ce.env} }

// The pages: the form of a procedure prefilled from the identity claims, a submission through it
// (the form's multipart body forwarded as it streams), a refused file shown inline, the dossier's
// page with its files.
func TestACitizenFilesOnlineThroughThePages(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	an := ce.signIn(newBrowser(t), citizenAn)
	page := func(method, path string, parts []part) response {
		if method == "GET" {
			req, _ := http.NewRequest(method, ce.url+path, nil)
			req.AddCookie(an)
			req.Header.Set("Accept", "text/html")
			resp, err := noRedirects.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			return response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
		}
		return ce.send(path, an, parts, "Origin", ce.url, "Sec-Fetch-Site", "same-origin")
	}
	form := page("GET", "/ho-so-cua-toi/nop-ho-so/1.009972", nil)
	if form.status != http.StatusOK || !strings.Contains(form.raw, `value="Nguyễn Văn An"`) || !strings.Contains(form.raw, `value="0912345678"`) ||
		strings.Count(form.raw, `name="component"`) != 2 || !strings.Contains(form.raw, `enctype="multipart/form-data"`) {
		t.Fatalf("the form: %d\n%s", form.status, form.raw)
	}
	refused := page("POST", "/ho-so-cua-toi/nop-ho-so/1.009972", []part{field("procedure_code", "1.009972"), field("name", citizenAn.Name),
		field("component", componentForm), file("don.pdf", []byte("MZ\x90\x00 an executable"))})
	if refused.status != http.StatusBadRequest || !strings.Contains(refused.raw, `id="file-error"`) || !strings.Contains(refused.raw, `id="submit-form"`) {
		t.Fatalf("a refused file is not shown inline: %d\n%s", refused.status, refused.raw)
	}
	if n := ce.eventCount(); n != 0 {
		t.Fatalf("%d events after a refused submission", n)
	}
	done := page("POST", "/ho-so-cua-toi/nop-ho-so/1.009972", []part{field("procedure_code", "1.009972"), field("name", citizenAn.Name),
		field("component", componentForm), file("don.pdf", pdfOf("đơn", 8<<10)), field("component", componentDrawing), file("ve.png", pngOf(t))})
	where := done.header.Get("Location")
	if done.status != http.StatusSeeOther || !strings.HasPrefix(where, "/ho-so-cua-toi/ho-so/") {
		t.Fatalf("the submission: %d %s\n%s", done.status, where, done.raw)
	}
	shown := page("GET", where, nil)
	if shown.status != http.StatusOK || !strings.Contains(shown.raw, `id="submitted-notice"`) || !strings.Contains(shown.raw, "ve.png") || !strings.Contains(shown.raw, "chờ tiếp nhận") {
		t.Fatalf("the dossier's page: %d\n%s", shown.status, shown.raw)
	}
	// "Hồ sơ của tôi" refreshes its list from a fragment, which shows the new dossier.
	ce.waitProjected()
	if list := page("GET", "/ho-so-cua-toi?fragment=list", nil); list.status != http.StatusOK || !strings.Contains(list.raw, `href="`+where[:strings.IndexByte(where, '?')]+`"`) ||
		strings.Contains(list.raw, "<html") {
		t.Errorf("the list's fragment: %d\n%s", list.status, list.raw)
	}
	// Without a session (it ended), a live part is a 401, never the sign-in page to swap in.
	for _, part := range []string{"/ho-so-cua-toi?fragment=list", where[:strings.IndexByte(where, '?')] + "?fragment=status"} {
		if r := ce.call("GET", part, nil, ""); r.status != http.StatusUnauthorized || strings.Contains(r.raw, "<html") {
			t.Errorf("%s without a session: %d", part, r.status)
		}
	}
	if other := ce.call("GET", where, ce.signIn(newBrowser(t), citizenBinh), ""); other.status != http.StatusNotFound {
		t.Errorf("another citizen opens the dossier's page: %d", other.status)
	}
}

// Two answers to one supplement request at once (two tabs): one is recorded, the other is a 409,
// and the dossier holds the winner's file only.
func TestTwoAnswersToOneSupplementRequest(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	an := ce.signIn(newBrowser(t), citizenAn)
	submitted := ce.expect(ce.send("/api/v1/me/dossiers", an, []part{field("procedure_code", "1.009972"),
		field("component", componentForm), file("don.pdf", pdfOf("đơn", 8<<10)),
		field("component", componentDrawing), file("ve.pdf", pdfOf("bản vẽ", 8<<10))}), http.StatusCreated)
	id := submitted.body["id"].(string)
	reception := ce.token("tiepnhan1", centre, commands.RoleReception)
	ce.expect(ce.do("POST", "/api/v1/dossiers/"+id+"/supplement-request", reception, map[string]any{
		"missing_items": []string{missingLandTitle}, "reason": "Thiếu giấy chứng nhận"}), http.StatusOK)
	statuses := make(chan int, 2)
	for i := range 2 {
		go func() {
			r := ce.send("/api/v1/me/dossiers/"+id+"/supplement", an, []part{field("component", missingLandTitle),
				file("gcn.pdf", pdfOf("giấy chứng nhận bản "+strconv.Itoa(i), 8<<10))})
			statuses <- r.status
		}()
	}
	got := []int{<-statuses, <-statuses}
	slices.Sort(got)
	if !slices.Equal(got, []int{http.StatusOK, http.StatusConflict}) {
		t.Fatalf("two answers at once: %v, want one 200 and one 409", got)
	}
	d, _, _ := ce.app.Load(context.Background(), id)
	if len(d.Documents) != 3 || d.Status != domain.StatusSubmitted || d.SupplementRequests != 1 {
		t.Errorf("after two answers: %d files, status %s", len(d.Documents), d.Status)
	}
}

// A filing sent again with its key (a lost answer, a second click) answers with the first dossier
// and reads none of its files: one dossier, no new blob.
func TestAKeyedFilingSentTwiceFilesOnce(t *testing.T) {
	ce := newCitizenEnv(t, sessionsInTheStore)
	an := ce.signIn(newBrowser(t), citizenAn)
	filing := []part{field("procedure_code", "1.009972"), field("idempotency_key", "form-7f3a"),
		field("component", componentForm), file("don.pdf", pdfOf("đơn", 8<<10)),
		field("component", componentDrawing), file("ve.pdf", pdfOf("bản vẽ", 8<<10))}
	first := ce.expect(ce.send("/api/v1/me/dossiers", an, filing), http.StatusCreated)
	events, blobs := ce.eventCount(), ce.blobCount()
	again := ce.expect(ce.send("/api/v1/me/dossiers", an, filing), http.StatusOK)
	if again.body["id"] != first.body["id"] || again.header.Get("Idempotent-Replayed") != "true" || ce.eventCount() != events || ce.blobCount() != blobs {
		t.Fatalf("the same filing again: %s (events %d → %d)", again.raw, events, ce.eventCount())
	}
	// Another citizen's filing under the same key is their own.
	binh := ce.signIn(newBrowser(t), citizenBinh)
	theirs := ce.expect(ce.send("/api/v1/me/dossiers", binh, filing), http.StatusCreated)
	if theirs.body["id"] == first.body["id"] {
		t.Fatal("another citizen's filing with the same key answered with the first citizen's dossier")
	}
}
