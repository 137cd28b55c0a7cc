package http_test

import (
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// A 20 MB scan sent through the dossier page's form reaches the blob store without the page, the
// in-process call to the API or the API holding it: what the whole request allocates, client and
// server together, stays a small fraction of the file (docs/documents.md, "On the officials' pages").
func TestPageUploadStreamsTheFile(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := newDocEnvLimited(t, store, store.DB(), blobstore.DefaultMaxSize, commands.DefaultMaxDossierBytes)
	code := e.received()
	browser := e.officialBrowser(e.token("tiepnhan1", centre, commands.RoleReception))
	csrf := browser.csrf(code)
	const size = 20 << 20

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("csrf", csrf)
		_ = mw.WriteField("component", drawing)
		part, err := mw.CreateFormFile("file", "ban-ve-a0.pdf")
		if err == nil {
			_, err = io.Copy(part, newPDFStream("a0", size))
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", e.url+"/can-bo/ho-so/"+code+"/tep", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resp, err := browser.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the 20 MB scan: %d\n%s", resp.StatusCode, body)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("a 20 MB scan through the page allocated %d KB in all", allocated>>10)
	// About 0.4 MB measured (the API's sealing chunk and copy buffers, the pipe, the client's
	// multipart writer); a form parsed into memory would hold a megabyte before spilling to disk.
	if allocated > 2<<20 {
		t.Errorf("a 20 MB scan through the page allocated %d MB: the file is held, not streamed", allocated>>20)
	}
	d, _, err := e.app.Load(context.Background(), code)
	if err != nil || len(d.Documents) != 1 || d.Documents[0].Size != size {
		t.Errorf("the scan is not recorded whole: %+v, %v", d.Documents, err)
	}
}
