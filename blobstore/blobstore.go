// Package blobstore keeps the files dossiers carry (scanned components, uploaded documents, signed
// results) outside the event store, content-addressed by SHA-256: a file is stored once under the
// hex digest of its bytes, whatever its name, however often it is uploaded. Events record the
// digest, never the bytes.
//
// A Store streams every file: Put hashes while it writes to a pending object of the Backend and
// makes it visible under its digest only once the whole file has been read, within the size limit
// (docs/documents.md). A Put that fails or is interrupted — the reader's error, a cancelled
// context, a killed process — leaves nothing under any digest. Get streams the bytes back and
// re-hashes them; a blob whose bytes no longer match its name is an error naming it.
//
// Files holding personal data go through PutSealed and GetSealed (sealed.go): encrypted in chunks
// with the applicant's crypto-shredding key, so erasing the key makes them unreadable.
package blobstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// DefaultMaxSize is the size limit per file when Options leave it unset: 20 MB, the issue's
// default for a dossier component.
const DefaultMaxSize = 20 << 20

var (
	// ErrNotFound is a digest that names no stored blob.
	ErrNotFound = errors.New("blobstore: no such blob")
	// ErrTooLarge is a file over the size limit; nothing of it was stored.
	ErrTooLarge = errors.New("blobstore: file over the size limit")
	// ErrCorrupt is a stored blob whose bytes do not hash to its name (or a sealed blob that does
	// not decrypt under its key): the bytes were altered or damaged after they were stored.
	ErrCorrupt = errors.New("blobstore: stored blob is corrupt")
	// ErrBadHash is a digest that is not 64 lowercase hexadecimal digits.
	ErrBadHash = errors.New("blobstore: not a SHA-256 hex digest")
)

// Backend keeps immutable objects by name: a directory (blobstore/dirblob) or an S3-compatible
// bucket (blobstore/s3blob). Names are SHA-256 hex digests; the Store decides them.
type Backend interface {
	// Create starts a new object. Its bytes are invisible under any name until Commit.
	Create(ctx context.Context) (Pending, error)
	// Open streams the object called name, or fails with ErrNotFound.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Size returns the size of the object called name, or fails with ErrNotFound.
	Size(ctx context.Context, name string) (int64, error)
}

// Pending is an object being written. Exactly one of Commit and Abort ends it; after a failed
// Commit nothing is visible either.
type Pending interface {
	io.Writer
	// Commit makes the written bytes visible as name, atomically: a reader sees the whole object
	// or none. Committing a name that exists already (the same bytes: names are digests) keeps one.
	Commit(name string) error
	// Abort discards what was written.
	Abort() error
}

// Info describes a stored blob.
type Info struct {
	Hash string // SHA-256 of the stored bytes, lowercase hex: the blob's name
	Size int64  // bytes
}

// Options configure a Store.
type Options struct {
	// MaxSize is the largest file Put accepts, in bytes; 0 means DefaultMaxSize.
	MaxSize int64
}

// Store is content-addressed file storage over a Backend.
type Store struct {
	backend Backend
	maxSize int64
}

// New returns a Store keeping its blobs in backend.
func New(backend Backend, opts Options) *Store {
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	return &Store{backend: backend, maxSize: opts.MaxSize}
}

// MaxSize is the largest file Put accepts.
func (s *Store) MaxSize() int64 { return s.maxSize }

// Put stores what r yields and returns its digest and size. It reads r once, in small pieces,
// never holding the file in memory. Over the size limit it fails with ErrTooLarge; when r fails or
// ctx ends it fails with that error. Either way nothing is stored. A file stored before is kept
// once and Put answers as if it had stored it.
func (s *Store) Put(ctx context.Context, r io.Reader) (Info, error) {
	return s.put(ctx, func(w io.Writer) (int64, error) {
		return copyLimited(ctx, w, r, s.maxSize)
	})
}

// put writes through write into a pending object, hashing what reaches the backend, and commits
// it under that digest.
func (s *Store) put(ctx context.Context, write func(io.Writer) (int64, error)) (Info, error) {
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	pending, err := s.backend.Create(ctx)
	if err != nil {
		return Info{}, err
	}
	digest := sha256.New()
	counted := &countingWriter{w: io.MultiWriter(pending, digest)}
	if _, err := write(counted); err != nil {
		return Info{}, errors.Join(err, pending.Abort())
	}
	if err := ctx.Err(); err != nil {
		return Info{}, errors.Join(err, pending.Abort())
	}
	info := Info{Hash: hex.EncodeToString(digest.Sum(nil)), Size: counted.n}
	if size, err := s.backend.Size(ctx, info.Hash); err == nil && size == info.Size {
		// Stored already: keep the first copy.
		return info, pending.Abort()
	}
	if err := pending.Commit(info.Hash); err != nil {
		return Info{}, err
	}
	return info, nil
}

// Get streams the blob named hash. The reader re-hashes what it returns: when the stored bytes no
// longer match, its last Read fails with ErrCorrupt naming the hash instead of reporting the end,
// so a copy to a file or a response ends in an error, not in a file taken for good. A caller
// that must not let out a single byte before the check (comparing with a signed hash, say)
// calls Verify first.
func (s *Store) Get(ctx context.Context, hash string) (io.ReadCloser, error) {
	if err := CheckHash(hash); err != nil {
		return nil, err
	}
	rc, err := s.backend.Open(ctx, hash)
	if err != nil {
		return nil, err
	}
	return &verifyingReader{rc: rc, hash: hash, digest: sha256.New()}, nil
}

// Stat returns the digest and size of the blob named hash, or ErrNotFound.
func (s *Store) Stat(ctx context.Context, hash string) (Info, error) {
	if err := CheckHash(hash); err != nil {
		return Info{}, err
	}
	size, err := s.backend.Size(ctx, hash)
	if err != nil {
		return Info{}, err
	}
	return Info{Hash: hash, Size: size}, nil
}

// Exists reports whether a blob is stored under hash.
func (s *Store) Exists(ctx context.Context, hash string) (bool, error) {
	_, err := s.Stat(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Verify reads the whole blob named hash and re-hashes it: nil when its bytes still hash to its
// name, ErrNotFound when it is missing, ErrCorrupt when they differ. It needs no key: a sealed blob
// is named by the digest of its ciphertext, so a blob whose key was erased still verifies.
func (s *Store) Verify(ctx context.Context, hash string) error {
	rc, err := s.Get(ctx, hash)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = copyContext(ctx, io.Discard, rc)
	return err
}

// CheckHash accepts a SHA-256 digest in lowercase hex, the only names a Store uses (so a name can
// never climb out of a directory or address another key).
func CheckHash(hash string) error {
	if len(hash) != sha256.Size*2 {
		return fmt.Errorf("%w: %q", ErrBadHash, hash)
	}
	for _, c := range hash {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: %q", ErrBadHash, hash)
		}
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// copyLimited copies r to w until r ends, failing with ErrTooLarge past limit bytes and with ctx's
// error once it ends.
func copyLimited(ctx context.Context, w io.Writer, r io.Reader, limit int64) (int64, error) {
	n, err := copyContext(ctx, w, io.LimitReader(r, limit+1))
	if err != nil {
		return n, err
	}
	if n > limit {
		return n, fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)
	}
	return n, nil
}

// copyBufferSize is the piece a copy moves at a time: what one upload holds in memory.
const copyBufferSize = 32 << 10

// copyContext is io.Copy that stops when ctx ends.
func copyContext(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, copyBufferSize)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			written, werr := w.Write(buf[:n])
			total += int64(written)
			if werr != nil {
				return total, werr
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// verifyingReader hashes what it returns and, at the end, turns io.EOF into ErrCorrupt when the
// digest is not the blob's name.
type verifyingReader struct {
	rc     io.ReadCloser
	hash   string
	digest hash.Hash
	err    error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.rc.Read(p)
	v.digest.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(v.digest.Sum(nil)); got != v.hash {
			v.err = fmt.Errorf("%w: blob %s hashes to %s", ErrCorrupt, v.hash, got)
			return n, v.err
		}
		v.err = io.EOF
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.rc.Close() }
