package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// checkNoKeyLeft fails unless dir holds nothing but the files named keep: no key file a failed
// write left behind, no temporary file.
func checkNoKeyLeft(t *testing.T, dir string, keep ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	for _, e := range entries {
		if !kept[e.Name()] {
			t.Errorf("%s left in %s after a failed write", e.Name(), dir)
		}
	}
}

// checkKeyIsStable loads the key twice more (a restart) and checks it is the same key, in a file of
// mode 0600.
func checkKeyIsStable(t *testing.T, dir, file string) {
	t.Helper()
	first, err := loadOrCreateKey(dir, file)
	if err != nil {
		t.Fatalf("after the disk has room again: %v", err)
	}
	again, err := loadOrCreateKey(dir, file)
	if err != nil || !first.Equal(again) {
		t.Fatalf("a restart reads another key (%v)", err)
	}
	info, err := os.Stat(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", info.Mode().Perm())
	}
}

// A disk that fills up while a key is written leaves no key file behind: the next attempt, once
// there is room, creates the key, and a restart reads the same one. The disk is a real tmpfs of
// 64 KiB, filled up; mounting it needs root.
func TestKeyCreationSurvivesAFullTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; TestKeyCreationSurvivesAFailedWrite covers the failure without it")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); TestKeyCreationSurvivesAFailedWrite covers the failure without it", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	block := bytes.Repeat([]byte{'x'}, 4096)
	for {
		if _, err := filler.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the tmpfs: %v", err)
			}
			break
		}
	}
	filler.Close()
	const file = "token-signing-key.pem"
	if _, err := loadOrCreateKey(dir, file); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("creating a key on a full disk: %v, want ENOSPC", err)
	}
	checkNoKeyLeft(t, dir, "filler")
	// Until there is room, every attempt fails the same way and leaves nothing.
	if _, err := loadOrCreateKey(dir, file); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("second attempt on a full disk: %v, want ENOSPC", err)
	}
	checkNoKeyLeft(t, dir, "filler")
	if err := os.Remove(filepath.Join(dir, "filler")); err != nil {
		t.Fatal(err)
	}
	checkKeyIsStable(t, dir, file)
}

// The same failure without root: the key's content is written half-way to its temporary file and
// the rest to /dev/full, which answers ENOSPC as a full disk does.
func TestKeyCreationSurvivesAFailedWrite(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full here: %v", err)
	}
	defer full.Close()
	tempFileWriter = func(f *os.File) io.Writer { return &halfThenFull{file: f, full: full} }
	defer func() { tempFileWriter = func(f *os.File) io.Writer { return f } }()

	dir := t.TempDir()
	keys := newFileAgencyKeys(filepath.Join(dir, "agency-keys"), quietLogger())
	if _, err := keys.SignerFor(context.Background(), "000.00.00.H56"); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("agency key on a full disk: %v, want ENOSPC", err)
	}
	checkNoKeyLeft(t, filepath.Join(dir, "agency-keys"))
	if _, err := loadOrCreateTokenKey(dir); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("token key on a full disk: %v, want ENOSPC", err)
	}
	checkNoKeyLeft(t, dir, "agency-keys")

	tempFileWriter = func(f *os.File) io.Writer { return f }
	signer, err := newFileAgencyKeys(filepath.Join(dir, "agency-keys"), quietLogger()).SignerFor(context.Background(), "000.00.00.H56")
	if err != nil {
		t.Fatalf("agency key once the disk has room: %v", err)
	}
	again, err := newFileAgencyKeys(filepath.Join(dir, "agency-keys"), quietLogger()).SignerFor(context.Background(), "000.00.00.H56")
	if err != nil || !bytes.Equal(publicBytes(t, signer.Public()), publicBytes(t, again.Public())) {
		t.Fatalf("a restart reads another agency key (%v)", err)
	}
	checkKeyIsStable(t, dir, tokenKeyFile)
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("data directory mode %v (%v), want 0700", info.Mode().Perm(), err)
	}
}

// An empty key file, as an older motcua left it when the disk filled up, held no key that was
// ever used: it is replaced by a new key instead of failing every start with "no PEM block".
func TestEmptyKeyFileIsReplaced(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, tokenKeyFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	checkKeyIsStable(t, dir, tokenKeyFile)
	agencyDir := filepath.Join(dir, "agency-keys")
	if err := os.MkdirAll(agencyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(agencyDir, "000.00.00.H56.pem"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newFileAgencyKeys(agencyDir, quietLogger()).SignerFor(context.Background(), "000.00.00.H56"); err != nil {
		t.Fatalf("empty agency key file: %v", err)
	}
	// A key file that holds something else is not a creation cut short: it stays an error.
	if err := os.WriteFile(filepath.Join(dir, "other.pem"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreateKey(dir, "other.pem"); err == nil {
		t.Fatal("a malformed key file was accepted")
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "other.pem")); string(data) != "not a key" {
		t.Fatal("a malformed key file was overwritten")
	}
}

// The embedded store's database and the data directory are private to the service's user.
func TestDataDirectoryAndDatabaseArePrivate(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	b, err := openBackend(context.Background(), "", dataDir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if info, err := os.Stat(dataDir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("data directory: %v (%v), want 0700", info.Mode().Perm(), err)
	}
	for _, file := range []string{"motcua.db", "motcua.db-wal", "motcua.db-shm"} {
		info, err := os.Stat(filepath.Join(dataDir, file))
		if errors.Is(err, fs.ErrNotExist) && file != "motcua.db" {
			continue
		}
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", file, info.Mode().Perm(), err)
		}
	}
}

// halfThenFull writes the first half of what it is given to file, then fails like a full disk.
type halfThenFull struct {
	file *os.File
	full *os.File
}

func (w *halfThenFull) Write(p []byte) (int, error) {
	n, err := w.file.Write(p[:len(p)/2])
	if err != nil {
		return n, err
	}
	m, err := w.full.Write(p[len(p)/2:])
	return n + m, err
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func publicBytes(t *testing.T, key crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
