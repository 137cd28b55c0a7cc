package dirblob_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/blobstore/blobstoretest"
	"github.com/motcua/motcua/blobstore/dirblob"
)

func harness() blobstoretest.Harness {
	return blobstoretest.Harness{
		New: func(t *testing.T) blobstore.Backend {
			d, err := dirblob.Open(filepath.Join(t.TempDir(), "blobs"))
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		Names: func(t *testing.T, b blobstore.Backend) []string {
			return names(t, b.(*dirblob.Dir).Root())
		},
		Leftovers: func(t *testing.T, b blobstore.Backend) []string {
			entries, err := os.ReadDir(filepath.Join(b.(*dirblob.Dir).Root(), "incoming"))
			if err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, e := range entries {
				left = append(left, e.Name())
			}
			return left
		},
		Overwrite: func(t *testing.T, b blobstore.Backend, name string, data []byte) {
			if err := os.WriteFile(filepath.Join(b.(*dirblob.Dir).Root(), name[:2], name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		// The copy buffer and the hashers; a few hundred KB with the test's own allocations.
		MaxPutAlloc: 2 << 20,
	}
}

func names(t *testing.T, root string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "incoming" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			found = append(found, d.Name())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestConformance(t *testing.T) {
	blobstoretest.Run(t, harness())
}

// TestKilledPutLeavesNothing kills a process in the middle of a Put (SIGKILL: no deferred code
// runs) and checks that nothing is visible, and that the next Open clears the leftover once it is
// old enough to be no live upload's.
func TestKilledPutLeavesNothing(t *testing.T) {
	if dir := os.Getenv("DIRBLOB_KILLED_PUT_DIR"); dir != "" {
		d, err := dirblob.Open(dir)
		if err != nil {
			panic(err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			panic(err)
		}
		go func() {
			// Half a file, then silence: the Put waits for the rest until it is killed.
			w.Write(bytes.Repeat([]byte("x"), 3<<20))
			os.Stdout.WriteString("written\n")
		}()
		_, err = blobstore.New(d, blobstore.Options{}).Put(context.Background(), r)
		panic(err)
	}
	dir := filepath.Join(t.TempDir(), "blobs")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledPutLeavesNothing$")
	cmd.Env = append(os.Environ(), "DIRBLOB_KILLED_PUT_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, len("written\n"))
	if _, err := out.Read(line); err != nil || !strings.HasPrefix(string(line), "written") {
		t.Fatalf("child: %q, %v", line, err)
	}
	// The writer has handed its bytes to the pipe; give the Put a moment to write them out.
	deadline := time.Now().Add(10 * time.Second)
	for {
		left, _ := os.ReadDir(filepath.Join(dir, "incoming"))
		if len(left) == 1 {
			if info, err := left[0].Info(); err == nil && info.Size() > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the child's upload never reached the disk")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	if found := names(t, dir); len(found) != 0 {
		t.Fatalf("a killed Put left blobs: %v", found)
	}
	// A fresh leftover may be a live upload of another process: Open keeps it; an old one goes.
	if _, err := dirblob.Open(dir); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(filepath.Join(dir, "incoming"))
	if len(left) != 1 {
		t.Fatalf("incoming holds %d files, want the killed upload's", len(left))
	}
	old := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "incoming", left[0].Name()), old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := dirblob.Open(dir); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "incoming")); len(left) != 0 {
		t.Fatalf("Open kept a day-old leftover: %v", left)
	}
}

// TestFilesPrivate checks blobs are readable by motcua's user only: they hold personal data.
func TestFilesPrivate(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	d, err := dirblob.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	info, err := blobstore.New(d, blobstore.Options{}).Put(context.Background(), strings.NewReader("hồ sơ"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{root, filepath.Join(root, info.Hash[:2]), filepath.Join(root, info.Hash[:2], info.Hash)} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: others can read it", path, st.Mode().Perm())
		}
	}
}

// BenchmarkConcurrentUploads is the measure: 20 concurrent uploads of 20 MB.
//
//	go test -run='^$' -bench=ConcurrentUploads -benchtime=1x ./blobstore/dirblob
func BenchmarkConcurrentUploads(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		b.Run(fmt.Sprintf("sealed=%v", sealed), func(b *testing.B) {
			d, err := dirblob.Open(filepath.Join(b.TempDir(), "blobs"))
			if err != nil {
				b.Fatal(err)
			}
			blobstoretest.BenchmarkConcurrentUploads(b, d, 20, 20<<20, sealed)
		})
	}
}
