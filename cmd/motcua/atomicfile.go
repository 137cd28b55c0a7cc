package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// tempFileWriter is what createFileAtomically writes a temporary file's content through; tests
// replace it to fail a write half-way, as a full disk does.
var tempFileWriter = func(f *os.File) io.Writer { return f }

// createFileAtomically creates path holding data, whole or not at all, with mode perm; it reports
// false, and writes nothing, when path exists already. The content goes to a temporary file in the
// same directory, is fsynced, and is then linked into place — link, unlike rename, fails when
// another process created path meanwhile, so two processes starting at once keep one key — and the
// directory is fsynced so the new name survives a crash. A write that fails (a full disk) leaves
// nothing at path: creating an empty key file and writing into it left an empty file behind, which
// every later start read as "no PEM block", even once space was back.
func createFileAtomically(path string, data []byte, perm fs.FileMode) (created bool, err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if err := tmp.Chmod(perm); err != nil {
		return false, err
	}
	if _, err := tempFileWriter(tmp).Write(data); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	return true, syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// ensurePrivateDir creates dir (and its parents) with mode 0700, and takes group and other access
// away from it when it exists already: it holds signing keys and, with SQLite, the applicants'
// personal data.
func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	info, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return os.Chmod(dir, info.Mode().Perm()&0o700)
	}
	return nil
}
