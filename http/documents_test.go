package http_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/blobstore/dirblob"
	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/shred"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
)

// Small limits keep the tests fast; the defaults (20 MB, 100 MB) are the benchmark's.
const (
	testMaxFile    = 256 << 10
	testMaxDossier = 600 << 10
)

// docEnv is the real router over one backend with the dossiers' files in a blob directory, the
// events crypto-shredded as motcua serve wires them.
type docEnv struct {
	*env
	stored   eventstore.Store // the backend itself, without decorators
	shredded *shred.Store
	blobs    *blobstore.Store
	blobDir  string
	keys     *shred.SQLKeys
	// handled counts the requests the server has finished handling, so a test can wait for one
	// whose client gave up before the server was done with it.
	handled *atomic.Int64
}

// forEachDocumentBackend runs test on SQLite and on PostgreSQL.
func forEachDocumentBackend(t *testing.T, test func(t *testing.T, e *docEnv)) {
	t.Run("sqlite", func(t *testing.T) {
		store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "motcua.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		test(t, newDocEnv(t, store, store.DB()))
	})
	t.Run("postgres", func(t *testing.T) {
		ctx := context.Background()
		store, err := postgres.Open(ctx, pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		if err := store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		db := stdlib.OpenDBFromPool(store.Pool())
		t.Cleanup(func() { db.Close() })
		test(t, newDocEnv(t, store, db))
	})
}

func newDocEnv(t testing.TB, store eventstore.Store, db *sql.DB) *docEnv {
	return newDocEnvLimited(t, store, db, testMaxFile, testMaxDossier)
}

// newDocEnvLimited is newDocEnv with the given limits per file and per dossier.
func newDocEnvLimited(t testing.TB, store eventstore.Store, db *sql.DB, maxFile, maxDossier int64) *docEnv {
	t.Helper()
	ctx := context.Background()
	events, err := wiring.Decorate(ctx, store, db)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := shred.OpenSQLKeys(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	blobDir := filepath.Join(t.TempDir(), "blobs")
	dir, err := dirblob.Open(blobDir)
	if err != nil {
		t.Fatal(err)
	}
	blobs := blobstore.New(dir, blobstore.Options{MaxSize: maxFile})
	cal := calendar.Default()
	clock := &testClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)}
	quiet := slog.New(slog.DiscardHandler)
	app := commands.New(events.Sealed, domaintest.Catalog(t, cal), cal)
	app.Now, app.Logger, app.MaxDossierBytes = clock.Now, quiet, maxDossier
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	server := mhttp.NewServer(mhttp.Config{App: app, Tokens: mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey)}, Logger: quiet,
		Officials: tokenSignIn(t, db), Documents: &mhttp.DocumentsConfig{Blobs: blobs, Keys: keys},
		Eraser: mhttp.EraserFunc(func(ctx context.Context, idNumber string) (bool, error) {
			return events.Sealed.Erase(ctx, idNumber)
		})})
	handled := new(atomic.Int64)
	checked := checkContract(t, server)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer handled.Add(1)
		checked.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	tt, _ := t.(*testing.T) // nil in a benchmark, which uses none of env's helpers that need it
	e := &env{t: tt, url: ts.URL, events: events.Sealed, app: app, server: server, key: key, clock: clock, cal: cal}
	return &docEnv{env: e, stored: store, shredded: events.Sealed, blobs: blobs, blobDir: blobDir, keys: keys, handled: handled}
}

// documentsConfig is the files' configuration over a fresh blob directory, with the keys of db.
func documentsConfig(t *testing.T, db *sql.DB) *mhttp.DocumentsConfig {
	t.Helper()
	return documentsConfigAt(t, db, filepath.Join(t.TempDir(), "blobs"))
}

// documentsConfigAt is documentsConfig with the blob directory at dir.
func documentsConfigAt(t *testing.T, db *sql.DB, dir string) *mhttp.DocumentsConfig {
	t.Helper()
	blobDir, err := dirblob.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := shred.OpenSQLKeys(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return &mhttp.DocumentsConfig{Blobs: blobstore.New(blobDir, blobstore.Options{MaxSize: testMaxFile}), Keys: keys}
}

// upload posts a multipart form: fields in order, then the file named name holding content (a
// name starting "*=" is sent as an RFC 2231 filename* parameter).
func (e *docEnv) upload(path, token string, fields [][2]string, name string, content []byte) response {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		_ = mw.WriteField(f[0], f[1])
	}
	h := textproto.MIMEHeader{}
	// Written by hand: multipart.Writer's CreateFormFile would escape what the test must send raw.
	if encoded, ok := strings.CutPrefix(name, "*="); ok {
		h.Set("Content-Disposition", `form-data; name="file"; filename*=`+encoded) // RFC 2231, as a browser may send it
	} else {
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	}
	h.Set("Content-Type", "application/octet-stream")
	part, _ := mw.CreatePart(h)
	_, _ = part.Write(content)
	_ = mw.Close()
	return e.do("POST", path, token, body.String(), "Content-Type", mw.FormDataContentType())
}

// received records a dossier at the desk and returns its code.
func (e *docEnv) received() string {
	e.t.Helper()
	created := e.expect(e.do("POST", "/api/v1/dossiers", e.token("tiepnhan1", centre, commands.RoleReception), validReceipt()), http.StatusCreated)
	return created.body["code"].(string)
}

// blobCount counts the blobs stored (not the uploads under way).
func (e *docEnv) blobCount() int {
	e.t.Helper()
	return blobsIn(e.t, e.blobDir)
}

// blobsIn counts the blobs stored in a directory blob store, leaving out the uploads under way.
func blobsIn(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "incoming" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// incomingCount counts the uploads left under way.
func (e *docEnv) incomingCount() int {
	entries, err := os.ReadDir(filepath.Join(e.blobDir, "incoming"))
	if err != nil {
		e.t.Fatal(err)
	}
	return len(entries)
}

func (e *docEnv) streamLength(code string) int {
	e.t.Helper()
	d, _, err := e.app.Load(context.Background(), code)
	if err != nil {
		e.t.Fatal(err)
	}
	return int(d.Version)
}

// pdfOf is a small whole PDF of about size bytes whose content depends on seed.
func pdfOf(seed string, size int) []byte {
	head := "%PDF-1.7\n% " + seed + "\n"
	tail := "\n%%EOF\n"
	pad := max(size-len(head)-len(tail), 0)
	return []byte(head + strings.Repeat("0", pad) + tail)
}

func pngOf(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha256Of(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

const drawing = "Bản vẽ thiết kế" // a component of procedure 1.009972 in the test catalog

func TestDocumentsAttachedAtTheDesk(t *testing.T) {
	forEachDocumentBackend(t, func(t *testing.T, e *docEnv) {
		code := e.received()
		reception := e.token("tiepnhan1", centre, commands.RoleReception)
		path := "/api/v1/dossiers/" + code + "/documents"
		scan := pdfOf("bản vẽ", 40<<10)
		name := "Bản vẽ mặt bằng.pdf"
		got := e.expect(e.upload(path, reception, [][2]string{{"component", drawing}}, name, scan), http.StatusCreated)
		doc, _ := got.body["document"].(map[string]any)
		if doc["sha256"] != sha256Of(scan) || doc["media_type"] != "application/pdf" || doc["size"] != float64(len(scan)) ||
			doc["origin"] != "desk_scan" || doc["digitised"] != true || doc["component"] != drawing || doc["name"] != name {
			t.Fatalf("document = %v", doc)
		}
		picture := pngOf(t)
		e.expect(e.upload(path, reception, [][2]string{{"component", "Đơn đề nghị cấp giấy phép xây dựng"}, {"origin", "national_database"}},
			"don.png", picture), http.StatusCreated)

		// A retried upload of the same file records it once.
		versionBefore := e.streamLength(code)
		again := e.expect(e.upload(path, reception, [][2]string{{"component", drawing}}, name, scan), http.StatusOK)
		if again.header.Get("Idempotent-Replayed") != "true" || e.streamLength(code) != versionBefore {
			t.Errorf("the same file again: %d %s, stream %d → %d", again.status, again.raw, versionBefore, e.streamLength(code))
		}

		dossier := e.expect(e.do("GET", "/api/v1/dossiers/"+code, reception, nil), http.StatusOK)
		docs, _ := dossier.body["documents"].([]any)
		if len(docs) != 2 {
			t.Fatalf("dossier lists %d documents, want 2: %s", len(docs), dossier.raw)
		}
		id := docs[0].(map[string]any)["id"].(string)

		// The file is sealed: the blob on disk is not the file.
		if entries, _ := filepath.Glob(filepath.Join(e.blobDir, "*", sha256Of(scan))); len(entries) != 0 {
			t.Errorf("the file is stored in clear under its own digest: %v", entries)
		}

		resp := e.get("/api/v1/dossiers/"+code+"/documents/"+id, reception)
		if resp.status != http.StatusOK || !bytes.Equal(resp.bytes, scan) {
			t.Fatalf("download: %d, %d bytes, equal %v", resp.status, len(resp.bytes), bytes.Equal(resp.bytes, scan))
		}
		if ct := resp.header.Get("Content-Type"); ct != "application/pdf" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := resp.header.Get("Content-Disposition"); cd != "attachment; filename*=utf-8''B%E1%BA%A3n%20v%E1%BA%BD%20m%E1%BA%B7t%20b%E1%BA%B1ng.pdf" {
			t.Errorf("Content-Disposition %q", cd)
		}
		if resp.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.header.Get("Cache-Control"), "no-store") {
			t.Errorf("download headers %v", resp.header)
		}
		inline := e.get("/api/v1/dossiers/"+code+"/documents/"+id+"?inline=1", reception)
		if !strings.HasPrefix(inline.header.Get("Content-Disposition"), "inline;") {
			t.Errorf("preview Content-Disposition %q", inline.header.Get("Content-Disposition"))
		}
		// Another agency's official reads nothing of it.
		outsider := e.token("canbo-khac", land, commands.RoleSpecialist)
		if r := e.get("/api/v1/dossiers/"+code+"/documents/"+id, outsider); r.status != http.StatusForbidden || bytes.Contains(r.bytes, scan[:20]) {
			t.Errorf("another agency's download: %d", r.status)
		}
	})
}

// binaryResponse is a response whose body is kept as bytes.
type binaryResponse struct {
	status int
	header http.Header
	bytes  []byte
}

func (e *docEnv) get(path, token string) binaryResponse {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return binaryResponse{status: resp.StatusCode, header: resp.Header, bytes: body}
}

func TestBadUploadsStoreNothing(t *testing.T) {
	forEachDocumentBackend(t, func(t *testing.T, e *docEnv) {
		code := e.received()
		reception := e.token("tiepnhan1", centre, commands.RoleReception)
		path := "/api/v1/dossiers/" + code + "/documents"
		component := [][2]string{{"component", drawing}}
		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), bytes.Repeat([]byte{0}, 2000)...)
		truncated := pdfOf("cut", 8<<10)
		truncated = truncated[:len(truncated)-10]
		cases := []struct {
			name    string
			fields  [][2]string
			file    string
			content []byte
			status  int
			field   string
		}{
			{"over the per-file limit", component, "lon.pdf", pdfOf("big", testMaxFile+1), http.StatusBadRequest, "file"},
			{"an executable renamed .pdf", component, "giay-to.pdf", exe, http.StatusBadRequest, "file"},
			{"a zero-byte file", component, "rong.pdf", nil, http.StatusBadRequest, "file"},
			{"a truncated PDF", component, "cut.pdf", truncated, http.StatusBadRequest, "file"},
			{"a name with ../", component, "../../etc/passwd.pdf", pdfOf("a", 100), http.StatusBadRequest, "file"},
			{"a name with a control character", component, "*=UTF-8''scan%01.pdf", pdfOf("b", 100), http.StatusBadRequest, "file"},
			{"a name with an encoded path", component, "*=UTF-8''..%2F..%2Fetc%2Fpasswd.pdf", pdfOf("b2", 100), http.StatusBadRequest, "file"},
			{"a name with a line break", component, "scan\r\nX-Evil: 1.pdf", pdfOf("c", 100), http.StatusBadRequest, "file"},
			{"a component not in the procedure", [][2]string{{"component", "Sổ hộ khẩu"}}, "so.pdf", pdfOf("d", 100), http.StatusBadRequest, "component"},
			{"no component", nil, "x.pdf", pdfOf("e", 100), http.StatusBadRequest, "component"},
			{"an unknown origin", [][2]string{{"component", drawing}, {"origin", "result"}}, "x.pdf", pdfOf("f", 100), http.StatusBadRequest, "origin"},
			{"an unknown field", [][2]string{{"component", drawing}, {"owner", "me"}}, "x.pdf", pdfOf("g", 100), http.StatusBadRequest, "owner"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.streamLength(code)
				r := e.expect(e.upload(path, reception, tc.fields, tc.file, tc.content), tc.status)
				if fields := fieldsOf(r); len(fields) != 1 || fields[0] != tc.field {
					t.Errorf("fields at fault %v, want [%s]: %s", fields, tc.field, r.raw)
				}
				if e.streamLength(code) != before || e.blobCount() != 0 || e.incomingCount() != 0 {
					t.Errorf("a refused upload left events %d → %d, %d blobs, %d uploads under way", before, e.streamLength(code), e.blobCount(), e.incomingCount())
				}
			})
		}
		t.Run("another agency's dossier", func(t *testing.T) {
			outsider := e.token("canbo-khac", land, commands.RoleReception)
			e.expect(e.upload(path, outsider, component, "x.pdf", pdfOf("h", 100)), http.StatusForbidden)
			if e.blobCount() != 0 {
				t.Errorf("an upload to another agency's dossier stored %d blobs", e.blobCount())
			}
		})
		t.Run("a dossier's budget", func(t *testing.T) {
			// Two files of 250 KB fit the 600 KB budget; a third does not, and is not kept.
			for i := range 2 {
				e.expect(e.upload(path, reception, component, fmt.Sprintf("trang-%d.pdf", i), pdfOf(fmt.Sprint(i), 250<<10)), http.StatusCreated)
			}
			blobs, before := e.blobCount(), e.streamLength(code)
			r := e.expect(e.upload(path, reception, component, "trang-3.pdf", pdfOf("3", 250<<10)), http.StatusBadRequest)
			if fields := fieldsOf(r); len(fields) != 1 || fields[0] != "file" || e.blobCount() != blobs || e.streamLength(code) != before {
				t.Errorf("over the dossier's budget: %v, blobs %d → %d: %s", fields, blobs, e.blobCount(), r.raw)
			}
		})
	})
}

// failingReader yields n bytes of data, then fails as a dropped connection does.
type failingReader struct {
	data []byte
	n    int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection dropped")
	}
	k := copy(p, f.data[:min(len(f.data), f.n, len(p))])
	f.data, f.n = f.data[k:], f.n-k
	return k, nil
}

func TestInterruptedUploadLeavesNothing(t *testing.T) {
	forEachDocumentBackend(t, func(t *testing.T, e *docEnv) {
		code := e.received()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("component", drawing)
		part, _ := mw.CreateFormFile("file", "ban-ve.pdf")
		_, _ = part.Write(pdfOf("dropped", 200<<10))
		_ = mw.Close()
		before, handledBefore := e.streamLength(code), e.handled.Load()
		req, _ := http.NewRequest("POST", e.url+"/api/v1/dossiers/"+code+"/documents", &failingReader{data: body.Bytes(), n: 120 << 10})
		req.ContentLength = int64(body.Len())
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+e.token("tiepnhan1", centre, commands.RoleReception))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("the dropped upload was answered %d", resp.StatusCode)
		}
		// The client gives up before the server is done with the request (it may not even have
		// started on the body): wait until the server has handled it.
		deadline := time.Now().Add(30 * time.Second)
		for e.handled.Load() == handledBefore && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if e.streamLength(code) != before || e.blobCount() != 0 || e.incomingCount() != 0 {
			t.Errorf("an interrupted upload left events %d → %d, %d blobs, %d under way", before, e.streamLength(code), e.blobCount(), e.incomingCount())
		}
	})
}

func TestResultFileMustBeTheSignedDocument(t *testing.T) {
	forEachDocumentBackend(t, func(t *testing.T, e *docEnv) {
		code := e.received()
		signedPermit := pdfOf("giấy phép 12/GPXD", 30<<10)
		reception := e.token("tiepnhan1", centre, commands.RoleReception)
		signer := e.token("giamdoc1", building, commands.RoleSigner)
		for _, step := range []struct {
			token, action string
			body          any
		}{
			{reception, "transfer", map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ"}},
			{e.token("chuyenvien1", building, commands.RoleSpecialist), "appraise", map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện"}},
			{signer, "sign", map[string]any{"document_number": "12/GPXD", "document_hash": sha256Of(signedPermit)}},
		} {
			e.clock.Advance(30 * time.Minute)
			e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/"+step.action, step.token, step.body), http.StatusOK)
		}
		path := "/api/v1/dossiers/" + code + "/result/file"
		before := e.streamLength(code)
		forged := pdfOf("giấy phép khác", 30<<10)
		e.expect(e.upload(path, signer, nil, "giay-phep.pdf", forged), http.StatusConflict)
		// Stating the forgery's own digest does not make it the signed result.
		e.expect(e.upload(path, signer, [][2]string{{"document_number", "12/GPXD"}, {"document_hash", sha256Of(forged)}}, "giay-phep.pdf", forged), http.StatusConflict)
		e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/result", signer, map[string]any{"document_number": "12/GPXD", "document_hash": sha256Of(forged)}), http.StatusConflict)
		if e.streamLength(code) != before {
			t.Fatalf("a file that is not the signed one was recorded")
		}
		got := e.expect(e.upload(path, signer, nil, "giay-phep.pdf", signedPermit), http.StatusCreated)
		doc := got.body["document"].(map[string]any)
		if got.body["status"] != "result_ready" || doc["result_code"] != code+"-KQ1" || doc["sha256"] != sha256Of(signedPermit) || doc["origin"] != "result" {
			t.Fatalf("result with its file: %s", got.raw)
		}
		download := e.get("/api/v1/dossiers/"+code+"/documents/"+doc["id"].(string), reception)
		if !bytes.Equal(download.bytes, signedPermit) {
			t.Errorf("the result's download is not the signed file")
		}
	})
}

func TestErasedApplicantsFilesUnreadableButVerified(t *testing.T) {
	forEachDocumentBackend(t, func(t *testing.T, e *docEnv) {
		code := e.received()
		reception := e.token("tiepnhan1", centre, commands.RoleReception)
		scan := pdfOf("CCCD Nguyễn Văn An", 20<<10)
		got := e.expect(e.upload("/api/v1/dossiers/"+code+"/documents", reception, [][2]string{{"component", drawing}}, "CCCD Nguyễn Văn An.pdf", scan), http.StatusCreated)
		id := got.body["document"].(map[string]any)["id"].(string)
		d, _, err := e.app.Load(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		blob := d.Documents[0].Blob

		admin := e.token("quantri", "", commands.RoleAdmin)
		e.expect(e.do("POST", "/api/v1/admin/erasures", admin, map[string]any{"id_number": "038012345678", "basis": "Đơn số 15/2026"}), http.StatusOK)

		if r := e.get("/api/v1/dossiers/"+code+"/documents/"+id, admin); r.status != http.StatusGone || bytes.Contains(r.bytes, scan[:20]) {
			t.Errorf("an erased applicant's file: %d %s", r.status, r.bytes)
		}
		if _, err := e.blobs.GetSealed(context.Background(), blob, e.keys); !errors.Is(err, blobstore.ErrErased) {
			t.Errorf("GetSealed after erasure: %v, want ErrErased", err)
		}
		if err := e.blobs.Verify(context.Background(), blob); err != nil {
			t.Errorf("the erased applicant's blob no longer verifies: %v", err)
		}
		// The file's name was sealed with the applicant and is gone too.
		dossier := e.expect(e.do("GET", "/api/v1/dossiers/"+code, admin, nil), http.StatusOK)
		if strings.Contains(dossier.raw, "Nguyễn Văn An") || !strings.Contains(dossier.raw, `"name":"[đã xoá]","media_type"`) {
			t.Errorf("after erasure the dossier shows %s", dossier.raw)
		}
		recorded, err := e.stored.ReadStream(context.Background(), commands.StreamName(d.ID), 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recorded {
			if bytes.Contains(r.Data, []byte("CCCD")) {
				t.Errorf("the stored %s holds the file's name in clear: %s", r.Type, r.Data)
			}
		}
	})
}

// The officials' dossier page lists the files and previews a PDF and an image inline, through the
// page's own route with the page's session.
func TestDossierPagePreviewsFiles(t *testing.T) {
	forEachDocumentBackend(t, func(t *testing.T, e *docEnv) {
		code := e.received()
		token := e.token("tiepnhan1", centre, commands.RoleReception)
		path := "/api/v1/dossiers/" + code + "/documents"
		scan, picture := pdfOf("bản vẽ", 10<<10), pngOf(t)
		pdfID := e.expect(e.upload(path, token, [][2]string{{"component", drawing}}, "ban-ve.pdf", scan), http.StatusCreated).body["document"].(map[string]any)["id"].(string)
		pngID := e.expect(e.upload(path, token, [][2]string{{"component", "Đơn đề nghị cấp giấy phép xây dựng"}}, "don.png", picture), http.StatusCreated).body["document"].(map[string]any)["id"].(string)

		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := browser.PostForm(e.url+"/can-bo/dang-nhap", url.Values{"token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		get := func(path string) (*http.Response, []byte) {
			t.Helper()
			resp, err := browser.Get(e.url + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp, body
		}
		resp, body := get("/can-bo/ho-so/" + code)
		page := string(body)
		pdfURL, pngURL := "/can-bo/ho-so/"+code+"/tep/"+pdfID, "/can-bo/ho-so/"+code+"/tep/"+pngID
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<iframe class="preview" src="`+pdfURL+`?xem=1"`) ||
			!strings.Contains(page, `<img class="preview" src="`+pngURL+`?xem=1"`) || !strings.Contains(page, "số hóa tại bộ phận một cửa") {
			t.Fatalf("dossier page %d lacks the files' previews:\n%s", resp.StatusCode, page)
		}
		resp, body = get(pdfURL + "?xem=1")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, scan) || resp.Header.Get("Content-Type") != "application/pdf" ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline;") {
			t.Errorf("the PDF's preview: %d %v", resp.StatusCode, resp.Header)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'self'") ||
			strings.Contains(csp, "sandbox") || resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Cross-Origin-Resource-Policy") != "same-origin" {
			t.Errorf("the PDF's preview is served with %v", resp.Header)
		}
		resp, body = get(pngURL)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, picture) || resp.Header.Get("Content-Type") != "image/png" ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
			t.Errorf("the image's download: %d %v", resp.StatusCode, resp.Header)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "; sandbox") {
			t.Errorf("the image is served with Content-Security-Policy %q, want it sandboxed", csp)
		}
		// Without a session the file is not given: the visitor is sent to sign in.
		resp, err = noRedirects.Get(e.url + pdfURL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Content-Type") == "application/pdf" {
			t.Errorf("a file without a session: %d %v", resp.StatusCode, resp.Header)
		}
	})
}
