package http_test

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
)

// newPDFStream yields a whole PDF of size bytes without holding it: the client side of the
// benchmark must not be what fills the heap.
func newPDFStream(seed string, size int64) io.Reader {
	head, tail := "%PDF-1.7\n% "+seed+"\n", "\n%%EOF\n"
	return io.MultiReader(strings.NewReader(head), io.LimitReader(zeros{}, size-int64(len(head)+len(tail))), strings.NewReader(tail))
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

// multipartUpload streams a multipart body: the component field, then the file.
func multipartUpload(component, name string, file io.Reader) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("component", component)
		part, err := mw.CreateFormFile("file", name)
		if err == nil {
			_, err = io.Copy(part, file)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

// BenchmarkConcurrentUploads sends 20 uploads at once through the real router (SQLite, the blob
// directory, files sealed under the applicant's key, the default 20 MB / 100 MB limits), of 2 MB
// and of 20 MB files in the same run: the throughput, and the peak of the heap while they run,
// which must stay flat with the file's size (docs/benchmarks.md, "Uploads").
//
//	go test ./http -run '^$' -bench ConcurrentUploads -benchtime 3x
func BenchmarkConcurrentUploads(b *testing.B) {
	const concurrent = 20
	for _, size := range []int64{2 << 20, 20 << 20} {
		b.Run(fmt.Sprintf("%dMB", size>>20), func(b *testing.B) {
			store, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "motcua.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { store.Close() })
			e := newDocEnvLimited(b, store, store.DB(), blobstore.DefaultMaxSize, commands.DefaultMaxDossierBytes)
			desk := commands.Caller{ID: "tiepnhan1", Name: "Cán bộ tiếp nhận", Roles: []commands.Role{commands.RoleReception}, Agency: centre}
			codes := make([]string, concurrent)
			for i := range codes {
				receipt, err := e.app.Receive(context.Background(), desk, commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect,
					Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn An", IDNumber: fmt.Sprintf("0380123456%02d", i)},
					Components: []domain.Component{{Name: drawing, Copies: 1}}})
				if err != nil {
					b.Fatal(err)
				}
				codes[i] = receipt.Code
			}
			reception, err := mhttp.MintToken(e.key, desk, time.Hour, e.clock.Now())
			if err != nil {
				b.Fatal(err)
			}

			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				var m runtime.MemStats
				for {
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
					}
				}
			}()
			b.SetBytes(concurrent * size)
			b.ResetTimer()
			for i := range b.N {
				var wg sync.WaitGroup
				errs := make(chan error, concurrent)
				for k, code := range codes {
					wg.Add(1)
					go func() {
						defer wg.Done()
						body, contentType := multipartUpload(drawing, "ban-ve.pdf", newPDFStream(fmt.Sprint(i, "-", k), size))
						req, _ := http.NewRequest("POST", e.url+"/api/v1/dossiers/"+code+"/documents", body)
						req.Header.Set("Content-Type", contentType)
						req.Header.Set("Authorization", "Bearer "+reception)
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							errs <- err
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusCreated {
							errs <- fmt.Errorf("upload answered %d", resp.StatusCode)
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			close(stop)
			<-sampled
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(int64(peak.Load())-int64(base.HeapInuse))/(1<<20)/concurrent, "heap-per-upload-MiB")
		})
	}
}
