// Package blobstoretest is the conformance suite every blob backend runs: the same tests of
// blobstore.Store over a directory (blobstore/dirblob) and over a real S3-compatible server
// (blobstore/s3blob against Versity's gateway). Keys for sealed blobs come from the real key table of
// the crypto-shredding decorator (eventstore/shred) in a throwaway SQLite database.
package blobstoretest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/eventstore/shred"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// Harness is what the suite needs of a backend beyond blobstore.Backend: a fresh one per test, and
// ways to look at and damage what it stores, bypassing the Store.
type Harness struct {
	// New returns an empty backend.
	New func(t *testing.T) blobstore.Backend
	// Names lists the blobs committed in b, in any order.
	Names func(t *testing.T, b blobstore.Backend) []string
	// Leftovers lists what b keeps of uploads that never committed (incoming files or objects,
	// incomplete multipart uploads): empty once every Put has ended.
	Leftovers func(t *testing.T, b blobstore.Backend) []string
	// Overwrite replaces the stored bytes of the blob called name, as a failing disk or a hand on
	// the storage would.
	Overwrite func(t *testing.T, b blobstore.Backend, name string, data []byte)
	// MaxPutAlloc bounds the bytes a Put of a 24 MB file may allocate in all: what the backend
	// buffers per upload (an S3 part), never the file.
	MaxPutAlloc uint64
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Run("PutGetStat", func(t *testing.T) { testPutGetStat(t, h) })
	t.Run("EmptyFile", func(t *testing.T) { testEmpty(t, h) })
	t.Run("StoredOnce", func(t *testing.T) { testStoredOnce(t, h) })
	t.Run("ConcurrentSameFile", func(t *testing.T) { testConcurrentSameFile(t, h) })
	t.Run("OverLimitLeavesNothing", func(t *testing.T) { testOverLimit(t, h) })
	t.Run("ReaderErrorLeavesNothing", func(t *testing.T) { testReaderError(t, h) })
	t.Run("CancelledLeavesNothing", func(t *testing.T) { testCancelled(t, h) })
	t.Run("AbandonedUploadInvisible", func(t *testing.T) { testAbandoned(t, h) })
	t.Run("TruncatedTypedFileLeavesNothing", func(t *testing.T) { testTruncatedTyped(t, h) })
	t.Run("CorruptBlobNamed", func(t *testing.T) { testCorrupt(t, h) })
	t.Run("BadHashRefused", func(t *testing.T) { testBadHash(t, h) })
	t.Run("SealedRoundTrip", func(t *testing.T) { testSealedRoundTrip(t, h) })
	t.Run("SealedErasedUnreadableButVerifies", func(t *testing.T) { testSealedErased(t, h) })
	t.Run("SealedCorruptNamed", func(t *testing.T) { testSealedCorrupt(t, h) })
	t.Run("SealedOverLimitLeavesNothing", func(t *testing.T) { testSealedOverLimit(t, h) })
	t.Run("StreamsWithoutHoldingTheFile", func(t *testing.T) { testStreaming(t, h) })
	t.Run("SweepRemovesOnlyOldUnreferenced", func(t *testing.T) { testSweep(t, h) })
}

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readAll returns a function reading all of what Get or GetSealed opened, failing t on any error.
func readAll(t *testing.T) func(io.ReadCloser, error) []byte {
	return func(rc io.ReadCloser, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func expectNothingStored(t *testing.T, h Harness, b blobstore.Backend) {
	t.Helper()
	if names := h.Names(t, b); len(names) != 0 {
		t.Errorf("blobs stored by a failed Put: %v", names)
	}
	if left := h.Leftovers(t, b); len(left) != 0 {
		t.Errorf("a failed Put left behind: %v", left)
	}
}

func testPutGetStat(t *testing.T, h Harness) {
	ctx := context.Background()
	backend := h.New(t)
	store := blobstore.New(backend, blobstore.Options{})
	// Over one S3 part, so the multipart path is taken.
	data := randomBytes(1, 6<<20+12345)
	info, err := store.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if info.Hash != sum(data) || info.Size != int64(len(data)) {
		t.Fatalf("Put = %+v, want hash %s size %d", info, sum(data), len(data))
	}
	if got := readAll(t)(store.Get(ctx, info.Hash)); !bytes.Equal(got, data) {
		t.Fatalf("Get returned %d bytes differing from the %d stored", len(got), len(data))
	}
	stat, err := store.Stat(ctx, info.Hash)
	if err != nil || stat != info {
		t.Fatalf("Stat = %+v, %v; want %+v", stat, err, info)
	}
	if ok, err := store.Exists(ctx, info.Hash); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	if err := store.Verify(ctx, info.Hash); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	missing := sum([]byte("never stored"))
	if ok, err := store.Exists(ctx, missing); ok || err != nil {
		t.Fatalf("Exists(missing) = %v, %v", ok, err)
	}
	if _, err := store.Stat(ctx, missing); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("Stat(missing) = %v, want ErrNotFound", err)
	}
	if _, err := store.Get(ctx, missing); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("Get(missing) = %v, want ErrNotFound", err)
	}
	if err := store.Verify(ctx, missing); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("Verify(missing) = %v, want ErrNotFound", err)
	}
	if names := h.Names(t, backend); len(names) != 1 || names[0] != info.Hash {
		t.Fatalf("stored %v, want [%s]", names, info.Hash)
	}
	if left := h.Leftovers(t, backend); len(left) != 0 {
		t.Fatalf("a committed Put left behind: %v", left)
	}
}

// testEmpty: the store takes an empty file like any other (refusing one is the upload path's
// business, through Sniff); on S3 it is a multipart upload of no bytes.
func testEmpty(t *testing.T, h Harness) {
	ctx := context.Background()
	store := blobstore.New(h.New(t), blobstore.Options{})
	info, err := store.Put(ctx, bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	if info.Hash != sum(nil) || info.Size != 0 {
		t.Fatalf("Put(empty) = %+v", info)
	}
	if got := readAll(t)(store.Get(ctx, info.Hash)); len(got) != 0 {
		t.Fatalf("Get(empty) = %d bytes", len(got))
	}
	if err := store.Verify(ctx, info.Hash); err != nil {
		t.Fatal(err)
	}
}

func testStoredOnce(t *testing.T, h Harness) {
	ctx := context.Background()
	backend := h.New(t)
	store := blobstore.New(backend, blobstore.Options{})
	data := randomBytes(2, 100_000)
	first, err := store.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	second, err := store.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Fatalf("the same file stored twice answered %+v then %+v", first, second)
	}
	other, err := store.Put(ctx, bytes.NewReader(data[1:]))
	if err != nil {
		t.Fatal(err)
	}
	if other.Hash == first.Hash {
		t.Fatal("different files share a name")
	}
	if names := h.Names(t, backend); len(names) != 2 {
		t.Fatalf("stored %v, want 2 blobs for 2 distinct files put 3 times", names)
	}
	if left := h.Leftovers(t, backend); len(left) != 0 {
		t.Fatalf("a duplicate Put left behind: %v", left)
	}
}

func testConcurrentSameFile(t *testing.T, h Harness) {
	ctx := context.Background()
	backend := h.New(t)
	store := blobstore.New(backend, blobstore.Options{})
	data := randomBytes(3, 300_000)
	var wg sync.WaitGroup
	infos := make([]blobstore.Info, 6)
	errs := make([]error, len(infos))
	for i := range infos {
		wg.Go(func() { infos[i], errs[i] = store.Put(ctx, bytes.NewReader(data)) })
	}
	wg.Wait()
	for i := range infos {
		if errs[i] != nil || infos[i].Hash != sum(data) {
			t.Fatalf("Put %d = %+v, %v", i, infos[i], errs[i])
		}
	}
	if names := h.Names(t, backend); len(names) != 1 {
		t.Fatalf("stored %v, want one blob", names)
	}
	if got := readAll(t)(store.Get(ctx, sum(data))); !bytes.Equal(got, data) {
		t.Fatal("racing Puts of one file left other bytes under its name")
	}
}

func testOverLimit(t *testing.T, h Harness) {
	ctx := context.Background()
	backend := h.New(t)
	store := blobstore.New(backend, blobstore.Options{MaxSize: 100_000})
	if _, err := store.Put(ctx, bytes.NewReader(randomBytes(4, 100_001))); !errors.Is(err, blobstore.ErrTooLarge) {
		t.Fatalf("Put over the limit = %v, want ErrTooLarge", err)
	}
	expectNothingStored(t, h, backend)
	// The caller's own budget on top (what is left of a dossier's total).
	if _, err := store.Put(ctx, blobstore.MaxBytes(bytes.NewReader(randomBytes(4, 5000)), 4999)); !errors.Is(err, blobstore.ErrTooLarge) {
		t.Fatalf("Put over the caller's budget = %v, want ErrTooLarge", err)
	}
	expectNothingStored(t, h, backend)
	exact := randomBytes(5, 100_000)
	if info, err := store.Put(ctx, blobstore.MaxBytes(bytes.NewReader(exact), 100_000)); err != nil || info.Size != 100_000 {
		t.Fatalf("Put at the limit = %+v, %v", info, err)
	}
}

// failingReader yields n bytes, then fails.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func testReaderError(t *testing.T, h Harness) {
	backend := h.New(t)
	store := blobstore.New(backend, blobstore.Options{})
	broken := errors.New("connection reset by the citizen's browser")
	_, err := store.Put(context.Background(), &failingReader{r: bytes.NewReader(randomBytes(6, 7<<20)), err: broken})
	if !errors.Is(err, broken) {
		t.Fatalf("Put = %v, want the reader's error", err)
	}
	expectNothingStored(t, h, backend)
}

// cancellingReader cancels its context after n bytes and goes on yielding.
type cancellingReader struct {
	r      io.Reader
	after  int
	read   int
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	if c.read >= c.after {
		c.cancel()
	}
	return n, err
}

func testCancelled(t *testing.T, h Harness) {
	backend := h.New(t)
	store := blobstore.New(backend, blobstore.Options{})
	for _, after := range []int{1, 6 << 20} {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := store.Put(ctx, &cancellingReader{r: bytes.NewReader(randomBytes(7, 7<<20)), after: after, cancel: cancel})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put cancelled after %d bytes = %v, want context.Canceled", after, err)
		}
		expectNothingStored(t, h, backend)
	}
}

// testAbandoned is a process killed in the middle of an upload, as far as a test can be: written
// to, never committed nor aborted. Nothing is visible under any name.
func testAbandoned(t *testing.T, h Harness) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	backend := h.New(t)
	pending, err := backend.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pending.Write(randomBytes(8, 1<<20)); err != nil {
		t.Fatal(err)
	}
	store := blobstore.New(backend, blobstore.Options{})
	if names := h.Names(t, backend); len(names) != 0 {
		t.Fatalf("an upload in flight is visible: %v", names)
	}
	if ok, err := store.Exists(ctx, sum(randomBytes(8, 1<<20))); ok || err != nil {
		t.Fatalf("Exists of an upload in flight = %v, %v", ok, err)
	}
	if err := pending.Abort(); err != nil {
		t.Fatal(err)
	}
}

func testTruncatedTyped(t *testing.T, h Harness) {
	backend := h.New(t)
	store := blobstore.New(backend, blobstore.Options{})
	pdf := append([]byte("%PDF-1.7\n"), randomBytes(9, 200_000)...)
	typed, err := blobstore.Sniff(bytes.NewReader(pdf)) // no %%EOF: cut short
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(context.Background(), typed); !errors.Is(err, blobstore.ErrTruncated) {
		t.Fatalf("Put of a truncated PDF = %v, want ErrTruncated", err)
	}
	expectNothingStored(t, h, backend)
	whole, err := blobstore.Sniff(bytes.NewReader(append(pdf, "\n%%EOF\n"...)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(context.Background(), whole); err != nil {
		t.Fatalf("Put of a whole PDF: %v", err)
	}
}

func testCorrupt(t *testing.T, h Harness) {
	ctx := context.Background()
	backend := h.New(t)
	store := blobstore.New(backend, blobstore.Options{})
	data := randomBytes(10, 300_000)
	info, err := store.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(data)
	damaged[150_000] ^= 0x01
	h.Overwrite(t, backend, info.Hash, damaged)
	rc, err := store.Get(ctx, info.Hash)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	rc.Close()
	if !errors.Is(err, blobstore.ErrCorrupt) || !strings.Contains(err.Error(), info.Hash) {
		t.Fatalf("reading a damaged blob = %v, want ErrCorrupt naming %s", err, info.Hash)
	}
	if err := store.Verify(ctx, info.Hash); !errors.Is(err, blobstore.ErrCorrupt) || !strings.Contains(err.Error(), info.Hash) {
		t.Fatalf("Verify of a damaged blob = %v, want ErrCorrupt naming it", err)
	}
	// Putting the file again repairs it.
	if _, err := store.Put(ctx, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	h.Overwrite(t, backend, info.Hash, data[:1000]) // a different size now
	if err := store.Verify(ctx, info.Hash); !errors.Is(err, blobstore.ErrCorrupt) {
		t.Fatalf("Verify of a cut blob = %v, want ErrCorrupt", err)
	}
	if _, err := store.Put(ctx, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := store.Verify(ctx, info.Hash); err != nil {
		t.Fatalf("Verify after the file was put again: %v", err)
	}
}

func testBadHash(t *testing.T, h Harness) {
	ctx := context.Background()
	store := blobstore.New(h.New(t), blobstore.Options{})
	for _, bad := range []string{"", "../../etc/passwd", strings.Repeat("A", 64), strings.Repeat("a", 63), strings.Repeat("a", 63) + "/"} {
		if _, err := store.Get(ctx, bad); !errors.Is(err, blobstore.ErrBadHash) {
			t.Errorf("Get(%q) = %v, want ErrBadHash", bad, err)
		}
		if _, err := store.Exists(ctx, bad); !errors.Is(err, blobstore.ErrBadHash) {
			t.Errorf("Exists(%q) = %v, want ErrBadHash", bad, err)
		}
	}
}

// Keys returns the crypto-shredding key table in a throwaway SQLite database.
func Keys(t testing.TB) *shred.SQLKeys {
	t.Helper()
	db, err := sql.Open("sqlite", sqlite.ReadModelDSN(filepath.Join(t.TempDir(), "keys.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys, err := shred.OpenSQLKeys(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func testSealedRoundTrip(t *testing.T, h Harness) {
	ctx := context.Background()
	backend := h.New(t)
	store := blobstore.New(backend, blobstore.Options{})
	keys := Keys(t)
	subject := shred.SubjectOf("001099012345")
	// Sizes around the 64 KiB chunk: none, less than one, exactly two, a bit more.
	for _, size := range []int{0, 1000, 2 << 16, 2<<16 + 1, 300_000} {
		data := randomBytes(uint64(11+size), size)
		sealed, err := store.PutSealed(ctx, bytes.NewReader(data), keys, subject)
		if err != nil {
			t.Fatal(err)
		}
		if sealed.Hash != sum(data) || sealed.Size != int64(size) || sealed.KeyID == "" {
			t.Fatalf("PutSealed(%d bytes) = %+v", size, sealed)
		}
		if sealed.Object.Hash == sealed.Hash {
			t.Fatal("a sealed blob is named by the digest of the file it hides")
		}
		stored := readAll(t)(store.Get(ctx, sealed.Object.Hash))
		if sum(stored) != sealed.Object.Hash || int64(len(stored)) != sealed.Object.Size {
			t.Fatalf("stored object does not match %+v", sealed.Object)
		}
		if size >= 1000 && bytes.Contains(stored, data[:64]) {
			t.Fatal("the stored blob holds the file in clear")
		}
		if got := readAll(t)(store.GetSealed(ctx, sealed.Object.Hash, keys)); !bytes.Equal(got, data) {
			t.Fatalf("GetSealed returned %d bytes differing from the %d sealed", len(got), size)
		}
		again, err := store.PutSealed(ctx, bytes.NewReader(data), keys, subject)
		if err != nil {
			t.Fatal(err)
		}
		if again.Object.Hash == sealed.Object.Hash || again.Hash != sealed.Hash {
			t.Fatalf("sealing the same file again: %+v then %+v; want the same file digest in another blob", sealed, again)
		}
	}
}

func testSealedErased(t *testing.T, h Harness) {
	ctx := context.Background()
	store := blobstore.New(h.New(t), blobstore.Options{})
	keys := Keys(t)
	erased, kept := shred.SubjectOf("001099012345"), shred.SubjectOf("079088000111")
	data := randomBytes(12, 200_000)
	gone, err := store.PutSealed(ctx, bytes.NewReader(data), keys, erased)
	if err != nil {
		t.Fatal(err)
	}
	stays, err := store.PutSealed(ctx, bytes.NewReader(data), keys, kept)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := keys.Erase(ctx, erased); !ok || err != nil {
		t.Fatalf("Erase = %v, %v", ok, err)
	}
	if _, err := store.GetSealed(ctx, gone.Object.Hash, keys); !errors.Is(err, blobstore.ErrErased) || !errors.Is(err, shred.ErrNoKey) {
		t.Fatalf("GetSealed after erasure = %v, want ErrErased", err)
	}
	if err := store.Verify(ctx, gone.Object.Hash); err != nil {
		t.Fatalf("Verify of an erased applicant's blob: %v (it must still verify)", err)
	}
	if got := readAll(t)(store.GetSealed(ctx, stays.Object.Hash, keys)); !bytes.Equal(got, data) {
		t.Fatal("another applicant's copy of the same file became unreadable")
	}
}

func testSealedCorrupt(t *testing.T, h Harness) {
	ctx := context.Background()
	backend := h.New(t)
	store := blobstore.New(backend, blobstore.Options{})
	keys := Keys(t)
	subject := shred.SubjectOf("001099012345")
	data := randomBytes(13, 200_000)
	sealed, err := store.PutSealed(ctx, bytes.NewReader(data), keys, subject)
	if err != nil {
		t.Fatal(err)
	}
	stored := readAll(t)(store.Get(ctx, sealed.Object.Hash))
	for name, damage := range map[string]func([]byte) []byte{
		"flipped in the first chunk": func(b []byte) []byte { b[100] ^= 1; return b },
		"key id altered":             func(b []byte) []byte { b[8] ^= 1; return b }, // names no key: not an erasure
		"flipped in the trailer":     func(b []byte) []byte { b[len(b)-3] ^= 1; return b },
		"last chunk and trailer cut": func(b []byte) []byte { return b[:len(b)-70_000] },
	} {
		h.Overwrite(t, backend, sealed.Object.Hash, damage(bytes.Clone(stored)))
		rc, err := store.GetSealed(ctx, sealed.Object.Hash, keys)
		var got []byte
		if err == nil {
			got, err = io.ReadAll(rc)
			rc.Close()
		}
		if !errors.Is(err, blobstore.ErrCorrupt) || errors.Is(err, blobstore.ErrErased) || !strings.Contains(err.Error(), sealed.Object.Hash) {
			t.Errorf("%s: GetSealed = %v, want ErrCorrupt naming the blob", name, err)
		}
		if !bytes.HasPrefix(data, got) {
			t.Errorf("%s: GetSealed let out bytes that are not the file's", name)
		}
	}
}

func testSealedOverLimit(t *testing.T, h Harness) {
	backend := h.New(t)
	store := blobstore.New(backend, blobstore.Options{MaxSize: 100_000})
	keys := Keys(t)
	_, err := store.PutSealed(context.Background(), bytes.NewReader(randomBytes(14, 100_001)), keys, shred.SubjectOf("001099012345"))
	if !errors.Is(err, blobstore.ErrTooLarge) {
		t.Fatalf("PutSealed over the limit = %v, want ErrTooLarge", err)
	}
	expectNothingStored(t, h, backend)
	// The limit is of the file, not of its ciphertext (a little longer).
	if _, err := store.PutSealed(context.Background(), bytes.NewReader(randomBytes(14, 100_000)), keys, shred.SubjectOf("001099012345")); err != nil {
		t.Fatalf("PutSealed at the limit: %v", err)
	}
}

// patternReader yields n bytes of a pattern without holding them.
type patternReader struct{ left, i int }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := min(len(b), p.left)
	for k := range n {
		b[k] = byte(p.i*7 + p.i>>9)
		p.i++
	}
	p.left -= n
	return n, nil
}

func testStreaming(t *testing.T, h Harness) {
	ctx := context.Background()
	store := blobstore.New(h.New(t), blobstore.Options{MaxSize: 24 << 20})
	keys := Keys(t)
	measure := func(put func() error) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if err := put(); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	plain := measure(func() error {
		_, err := store.Put(ctx, &patternReader{left: 24 << 20})
		return err
	})
	sealed := measure(func() error {
		_, err := store.PutSealed(ctx, &patternReader{left: 24 << 20}, keys, shred.SubjectOf("001099012345"))
		return err
	})
	t.Logf("a 24 MB Put allocated %d KB, PutSealed %d KB", plain>>10, sealed>>10)
	if plain > h.MaxPutAlloc || sealed > h.MaxPutAlloc {
		t.Fatalf("a 24 MB upload allocated %d (Put) and %d (PutSealed) bytes, over %d: the file is held in memory", plain, sealed, h.MaxPutAlloc)
	}
}

// testSweep: a sweep removes the blobs stored before its cut-off that no event references, and
// nothing else — not a referenced blob, however old, not a blob younger than the cut-off, not an
// upload under way; a sealed blob is referenced by its stored name.
func testSweep(t *testing.T, h Harness) {
	ctx := context.Background()
	backend := h.New(t)
	store := blobstore.New(backend, blobstore.Options{})
	keys := Keys(t)
	put := func(seed uint64) string {
		info, err := store.Put(ctx, bytes.NewReader(randomBytes(seed, 10<<10)))
		if err != nil {
			t.Fatal(err)
		}
		return info.Hash
	}
	referenced, orphan, another := put(1), put(2), put(3)
	sealed, err := store.PutSealed(ctx, bytes.NewReader(randomBytes(4, 70<<10)), keys, shred.SubjectOf("001099000001"))
	if err != nil {
		t.Fatal(err)
	}
	// An upload under way during the sweep: not a blob yet, never listed, never removed.
	pending, err := backend.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pending.Write(randomBytes(5, 1000)); err != nil {
		t.Fatal(err)
	}
	events := func(context.Context) (map[string]bool, error) {
		return map[string]bool{referenced: true, sealed.Object.Hash: true, strings.Repeat("ab", 32): true}, nil
	}

	// Every blob is younger than a cut-off an hour ago: nothing is touched, the events not even read.
	res, err := store.Sweep(ctx, time.Now().Add(-time.Hour), func(context.Context) (map[string]bool, error) {
		t.Error("the events were read although no blob is old enough")
		return nil, nil
	})
	if err != nil || res.Stored != 4 || res.Young != 4 || res.Removed != 0 {
		t.Fatalf("sweep of young blobs: %+v, %v", res, err)
	}
	// A cut-off ahead of every blob: the unreferenced ones go.
	res, err = store.Sweep(ctx, time.Now().Add(time.Minute), events)
	if err != nil || res.Stored != 4 || res.Referenced != 2 || res.Removed != 2 {
		t.Fatalf("sweep: %+v, %v", res, err)
	}
	for _, gone := range []string{orphan, another} {
		if ok, err := store.Exists(ctx, gone); ok || err != nil {
			t.Errorf("unreferenced blob %s still there after the sweep (%v)", gone, err)
		}
	}
	if err := store.Verify(ctx, referenced); err != nil {
		t.Errorf("the referenced blob: %v", err)
	}
	if _, err := store.GetSealed(ctx, sealed.Object.Hash, keys); err != nil {
		t.Errorf("the referenced sealed blob: %v", err)
	}
	if err := pending.Commit(sum(randomBytes(5, 1000))); err != nil {
		t.Errorf("the upload under way could not finish after the sweep: %v", err)
	}
	// A sweep of a clean store removes nothing; a failure to read the events removes nothing.
	if res, err := store.Sweep(ctx, time.Now().Add(time.Minute), events); err != nil || res.Removed != 1 {
		// The upload that finished meanwhile is named by no event, and old enough now.
		t.Errorf("second sweep: %+v, %v", res, err)
	}
	if res, err := store.Sweep(ctx, time.Now().Add(time.Minute), func(context.Context) (map[string]bool, error) {
		return nil, errors.New("database unavailable")
	}); err == nil || res.Removed != 0 {
		t.Errorf("a sweep that could not read the events: %+v, %v", res, err)
	}
	if names := h.Names(t, backend); len(names) != 2 {
		t.Errorf("after the sweeps the store holds %v, want the two referenced blobs", names)
	}
}
