package blobstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/blobstore/blobstoretest"
	"github.com/motcua/motcua/blobstore/dirblob"
	"github.com/motcua/motcua/eventstore/shred"
)

// The fuzz targets run 5,000 inputs in CI (scripts/test.sh); locally, e.g.
//
//	go test -run='^$' -fuzz='^FuzzOpenDamagedSealed$' -fuzztime=1m ./blobstore

// However a sealed blob's stored bytes are damaged — a byte changed, bytes cut or added anywhere,
// the header included — GetSealed returns either the whole file (the bytes were not changed) or an
// error, and never a byte that is not the file's.
func FuzzOpenDamagedSealed(f *testing.F) {
	for _, seed := range []struct {
		size, at int
		flip     byte
		cut, add int
	}{{100_000, 10, 1, 0, 0}, {100_000, 70_000, 0x80, 0, 0}, {0, 3, 1, 0, 0}, {65536, 0, 0, 30, 0}, {1, 5, 0, 0, 7}, {200_000, 0, 0, 0, 0}} {
		f.Add(seed.size, seed.at, seed.flip, seed.cut, seed.add)
	}
	ctx := context.Background()
	root := filepath.Join(f.TempDir(), "blobs")
	backend, err := dirblob.Open(root)
	if err != nil {
		f.Fatal(err)
	}
	store := blobstore.New(backend, blobstore.Options{})
	keys := blobstoretest.Keys(f)
	f.Fuzz(func(t *testing.T, size, at int, flip byte, cut, add int) {
		size = abs(size) % 300_000
		file := bytes.Repeat([]byte{byte(size), byte(at), 'x'}, size/3+1)[:size]
		sealed, err := store.PutSealed(ctx, bytes.NewReader(file), keys, shred.SubjectOf("001099012345"))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(root, sealed.Object.Hash[:2], sealed.Object.Hash)
		stored, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		damaged := bytes.Clone(stored)
		at = abs(at) % len(damaged)
		damaged[at] ^= flip
		damaged = damaged[:len(damaged)-abs(cut)%(len(damaged)+1)]
		damaged = append(damaged, bytes.Repeat([]byte{flip}, abs(add)%100)...)
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		rc, err := store.GetSealed(ctx, sealed.Object.Hash, keys)
		var got []byte
		if err == nil {
			got, err = io.ReadAll(rc)
			rc.Close()
		}
		unchanged := bytes.Equal(damaged, stored)
		switch {
		case unchanged && (err != nil || !bytes.Equal(got, file)):
			t.Fatalf("an undamaged blob read %d bytes, %v", len(got), err)
		case !unchanged && err == nil:
			t.Fatal("a damaged blob read without error")
		case !unchanged && !errors.Is(err, blobstore.ErrCorrupt):
			t.Fatalf("a damaged blob: %v, want ErrCorrupt", err)
		case !bytes.HasPrefix(file, got):
			t.Fatal("GetSealed returned bytes that are not the file's")
		}
	})
}

// Whatever bytes are sniffed, the type follows the first bytes only, and the typed reader yields
// the input unchanged.
func FuzzSniff(f *testing.F) {
	for _, seed := range []string{minimalPDF, "%PDF-", "\xff\xd8\xff\xe0\x00\x10JFIF\xff\xd9", "\x89PNG\r\n\x1a\n", "MZ", ""} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		typed, err := blobstore.Sniff(bytes.NewReader(file))
		want, wantErr := blobstore.DetectMediaType(file)
		if !errors.Is(err, wantErr) || (err == nil) != (wantErr == nil) {
			t.Fatalf("Sniff = %v, DetectMediaType = %v", err, wantErr)
		}
		if err != nil {
			return
		}
		if typed.MediaType() != want {
			t.Fatalf("Sniff says %s, DetectMediaType %s", typed.MediaType(), want)
		}
		got, err := io.ReadAll(typed)
		if err != nil && !errors.Is(err, blobstore.ErrTruncated) {
			t.Fatal(err)
		}
		if !bytes.Equal(got, file) {
			t.Fatal("the typed reader changed the file")
		}
	})
}

func abs(n int) int {
	if n < 0 {
		if n == -n { // the smallest int
			return 0
		}
		return -n
	}
	return n
}
