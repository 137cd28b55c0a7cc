// Package dirblob keeps blobs as files in a directory (by default blobs/ under motcua's --data): the
// embedded backend, needing nothing but a disk. A blob is written to a file of its own under
// incoming/, flushed to the disk, and renamed into place under its name once the whole file is
// there; a rename within one file system is atomic, so a reader sees a whole blob or none, and a
// killed process leaves at most a file in incoming/, which Open clears on the next start.
package dirblob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/motcua/motcua/blobstore"
)

// incoming is the folder of blobs being written, beside the blobs' own folders.
const incoming = "incoming"

// abandonedAfter is how old a file in incoming/ must be for Open to take it for the leftover of a
// killed process rather than an upload still running in another process.
const abandonedAfter = 24 * time.Hour

// Dir is a directory of blobs: <dir>/<first two hex digits>/<hash>.
type Dir struct {
	root string
}

var _ blobstore.Backend = (*Dir)(nil)

// Open returns the blob directory at root, creating it when missing (readable by its owner only:
// the files hold personal data), and removes what killed processes left in incoming/.
func Open(root string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(root, incoming), 0o700); err != nil {
		return nil, fmt.Errorf("dirblob: %w", err)
	}
	d := &Dir{root: root}
	if err := d.clearIncoming(time.Now().Add(-abandonedAfter)); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Dir) clearIncoming(before time.Time) error {
	entries, err := os.ReadDir(filepath.Join(d.root, incoming))
	if err != nil {
		return fmt.Errorf("dirblob: %w", err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || info.ModTime().After(before) {
			continue
		}
		if err := os.Remove(filepath.Join(d.root, incoming, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("dirblob: clear incoming: %w", err)
		}
	}
	return nil
}

func (d *Dir) path(name string) (string, error) {
	if err := blobstore.CheckHash(name); err != nil {
		return "", err
	}
	return filepath.Join(d.root, name[:2], name), nil
}

// Create starts a file in incoming/.
func (d *Dir) Create(ctx context.Context) (blobstore.Pending, error) {
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return nil, fmt.Errorf("dirblob: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(d.root, incoming, hex.EncodeToString(random)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dirblob: %w", err)
	}
	return &pending{dir: d, f: f}, nil
}

type pending struct {
	dir  *Dir
	f    *os.File
	done bool
}

func (p *pending) Write(b []byte) (int, error) { return p.f.Write(b) }

// Commit flushes the file and its folder to the disk and renames it into place, so that a blob an
// event names survives a power cut.
func (p *pending) Commit(name string) error {
	if p.done {
		return errors.New("dirblob: blob already committed or aborted")
	}
	target, err := p.dir.path(name)
	if err != nil {
		return errors.Join(err, p.Abort())
	}
	p.done = true
	if err := p.f.Sync(); err != nil {
		return errors.Join(fmt.Errorf("dirblob: %w", err), p.discard())
	}
	if err := p.f.Close(); err != nil {
		return errors.Join(fmt.Errorf("dirblob: %w", err), os.Remove(p.f.Name()))
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return errors.Join(fmt.Errorf("dirblob: %w", err), os.Remove(p.f.Name()))
	}
	if err := os.Rename(p.f.Name(), target); err != nil {
		return errors.Join(fmt.Errorf("dirblob: %w", err), os.Remove(p.f.Name()))
	}
	return syncDir(filepath.Dir(target))
}

func (p *pending) Abort() error {
	if p.done {
		return nil
	}
	p.done = true
	return p.discard()
}

func (p *pending) discard() error {
	return errors.Join(p.f.Close(), os.Remove(p.f.Name()))
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("dirblob: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("dirblob: sync %s: %w", dir, err)
	}
	return nil
}

// Open streams the blob called name.
func (d *Dir) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	path, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", blobstore.ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("dirblob: %w", err)
	}
	return f, nil
}

// Size returns the size of the blob called name.
func (d *Dir) Size(ctx context.Context, name string) (int64, error) {
	path, err := d.path(name)
	if err != nil {
		return 0, err
	}
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%w: %s", blobstore.ErrNotFound, name)
	}
	if err != nil {
		return 0, fmt.Errorf("dirblob: %w", err)
	}
	return info.Size(), nil
}

var _ blobstore.Listing = (*Dir)(nil)

// Walk calls fn with each blob's name and its file's modification time (when it was committed:
// a blob is never written again).
func (d *Dir) Walk(ctx context.Context, fn func(name string, stored time.Time) error) error {
	shards, err := os.ReadDir(d.root)
	if err != nil {
		return fmt.Errorf("dirblob: %w", err)
	}
	for _, shard := range shards {
		if !shard.IsDir() || len(shard.Name()) != 2 {
			continue // incoming/ and anything else that is not a blob's folder
		}
		entries, err := os.ReadDir(filepath.Join(d.root, shard.Name()))
		if err != nil {
			return fmt.Errorf("dirblob: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile
			}
			if err != nil {
				return fmt.Errorf("dirblob: %w", err)
			}
			if !info.Mode().IsRegular() || !strings.HasPrefix(e.Name(), shard.Name()) {
				continue
			}
			if err := fn(e.Name(), info.ModTime()); err != nil {
				return err
			}
		}
	}
	return nil
}

// Remove deletes the blob called name.
func (d *Dir) Remove(ctx context.Context, name string) error {
	path, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("dirblob: %w", err)
	}
	return nil
}

// Root is the directory.
func (d *Dir) Root() string { return d.root }
