package blobstore

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/motcua/motcua/eventstore/shred"
)

// A sealed blob is a file encrypted with its applicant's crypto-shredding key (eventstore/shred),
// so that erasing the key (`motcua erase`) makes the file unreadable as it makes the events'
// personal data unreadable. Its layout (docs/documents.md):
//
//	"MCSB" 0x01 | key id length (1 byte) | key id | salt (32 bytes)          the header, in clear
//	chunk 0 | chunk 1 | … | chunk n-1                                         64 KiB of file each, the last shorter
//	trailer                                                                   SHA-256 and size of the file
//
// Each chunk and the trailer is AES-256-GCM under a key derived from the applicant's key and the
// salt (HKDF-SHA256), with the chunk's index in its nonce and a last-chunk flag that only the
// trailer carries (the STREAM construction), and the header as associated data: a chunk moved,
// dropped, cut short or copied from another file fails to open. The file is streamed both ways;
// at most one chunk is held in memory.
//
// The blob is named by the SHA-256 of these stored bytes, not of the file: the salt is random, so
// the name says nothing about the content (two applicants storing the same file make two
// unrelated blobs, and the name cannot be used to test a guess of what an applicant sent), and
// Verify re-hashes a sealed blob with no key — after an erasure too. The file's own SHA-256 is
// inside the trailer, encrypted; PutSealed returns it for the event to record.

const (
	sealedMagic   = "MCSB"
	sealedVersion = 1
	saltSize      = 32
	chunkSize     = 64 << 10
	tagSize       = 16
	trailerSize   = sha256.Size + 8
	sealedChunk   = chunkSize + tagSize
	sealedTrailer = trailerSize + tagSize
)

// ErrErased is a sealed blob whose key is gone: its applicant was erased. It wraps shred.ErrNoKey.
var ErrErased = fmt.Errorf("blobstore: the file's key was erased: %w", shred.ErrNoKey)

// Sealed describes a file stored with PutSealed.
type Sealed struct {
	Object Info   // the stored blob: the digest and size of the ciphertext, what Get, Stat and Verify take
	Hash   string // SHA-256 of the file itself, lowercase hex
	Size   int64  // bytes of the file itself
	KeyID  string // the applicant's key it is sealed with
}

// PutSealed stores what r yields encrypted with subject's key from keys (made on first use), with
// Put's guarantees: streamed, within the size limit (of the file, not the ciphertext), nothing
// stored when it fails. Sealed blobs are not shared: the same file sealed twice is two blobs.
func (s *Store) PutSealed(ctx context.Context, r io.Reader, keys shred.KeyStore, subject shred.Subject) (Sealed, error) {
	key, err := keys.KeyFor(ctx, subject)
	if err != nil {
		return Sealed{}, err
	}
	header, aead, err := newSealedHeader(key)
	if err != nil {
		return Sealed{}, err
	}
	sealed := Sealed{KeyID: key.ID}
	object, err := s.put(ctx, func(w io.Writer) (int64, error) {
		if _, err := w.Write(header); err != nil {
			return 0, err
		}
		sw := &sealingWriter{w: w, aead: aead, aad: header, buf: make([]byte, 0, chunkSize), digest: sha256.New()}
		n, err := copyLimited(ctx, sw, r, s.maxSize)
		if err != nil {
			return n, err
		}
		sealed.Hash, err = sw.finish()
		sealed.Size = n
		return n, err
	})
	if err != nil {
		return Sealed{}, err
	}
	sealed.Object = object
	return sealed, nil
}

// GetSealed streams the file sealed in the blob named object, decrypting it with its key from
// keys. When the key was erased it fails with ErrErased. Every chunk is authenticated before any
// of its bytes are returned, so an altered blob yields ErrCorrupt naming it, never wrong bytes (a
// blob whose key is missing is re-hashed whole, so that a damaged key id is not taken for an erasure);
// at the end the file's digest is checked against the one sealed in the trailer.
func (s *Store) GetSealed(ctx context.Context, object string, keys shred.KeyStore) (io.ReadCloser, error) {
	rc, err := s.Get(ctx, object)
	if err != nil {
		return nil, err
	}
	opened, err := openSealed(ctx, rc, object, keys)
	if err != nil {
		rc.Close()
	}
	if errors.Is(err, ErrErased) {
		// A key id damaged in the stored header names no key either: only a blob that still
		// hashes to its name was erased rather than altered.
		if verr := s.Verify(ctx, object); verr != nil {
			return nil, verr
		}
	}
	if err != nil {
		return nil, err
	}
	return opened, nil
}

func newSealedHeader(key shred.Key) ([]byte, cipher.AEAD, error) {
	if len(key.ID) == 0 || len(key.ID) > 255 {
		return nil, nil, fmt.Errorf("blobstore: key id of %d bytes", len(key.ID))
	}
	header := append([]byte(sealedMagic), sealedVersion, byte(len(key.ID)))
	header = append(header, key.ID...)
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, nil, fmt.Errorf("blobstore: salt: %w", err)
	}
	header = append(header, salt...)
	aead, err := fileAEAD(key.Secret, salt)
	return header, aead, err
}

// fileAEAD derives the file's own key, so that no two files share a (key, nonce) pair whatever
// their chunk counters.
func fileAEAD(secret, salt []byte) (cipher.AEAD, error) {
	fileKey, err := hkdf.Key(sha256.New, secret, salt, "motcua/blobstore/sealed/v1", 32)
	if err != nil {
		return nil, fmt.Errorf("blobstore: derive key: %w", err)
	}
	block, err := aes.NewCipher(fileKey)
	if err != nil {
		return nil, fmt.Errorf("blobstore: key: %w", err)
	}
	return cipher.NewGCM(block)
}

func chunkNonce(index uint64, last bool) []byte {
	nonce := make([]byte, 12)
	binary.BigEndian.PutUint64(nonce, index)
	if last {
		nonce[11] = 1
	}
	return nonce
}

// sealingWriter encrypts what it is given in chunks of chunkSize.
type sealingWriter struct {
	w      io.Writer
	aead   cipher.AEAD
	aad    []byte
	buf    []byte
	index  uint64
	digest hash.Hash
	size   int64
	out    []byte
}

func (s *sealingWriter) Write(p []byte) (int, error) {
	s.digest.Write(p)
	s.size += int64(len(p))
	written := len(p)
	for len(p) > 0 {
		n := min(chunkSize-len(s.buf), len(p))
		s.buf = append(s.buf, p[:n]...)
		p = p[n:]
		if len(s.buf) == chunkSize {
			if err := s.flush(); err != nil {
				return 0, err
			}
		}
	}
	return written, nil
}

func (s *sealingWriter) flush() error {
	s.out = s.aead.Seal(s.out[:0], chunkNonce(s.index, false), s.buf, s.aad)
	s.index++
	s.buf = s.buf[:0]
	_, err := s.w.Write(s.out)
	return err
}

// finish writes the last partial chunk and the trailer, and returns the file's digest.
func (s *sealingWriter) finish() (string, error) {
	if len(s.buf) > 0 {
		if err := s.flush(); err != nil {
			return "", err
		}
	}
	sum := s.digest.Sum(nil)
	trailer := binary.BigEndian.AppendUint64(append([]byte(nil), sum...), uint64(s.size))
	if _, err := s.w.Write(s.aead.Seal(nil, chunkNonce(s.index, true), trailer, s.aad)); err != nil {
		return "", err
	}
	return hex.EncodeToString(sum), nil
}

// openedReader decrypts a sealed blob chunk by chunk.
type openedReader struct {
	rc     io.ReadCloser
	br     *bufio.Reader
	object string
	aead   cipher.AEAD
	aad    []byte
	index  uint64
	plain  []byte // decrypted, not yet returned
	chunk  []byte // the buffer plain points into
	digest hash.Hash
	size   int64
	err    error
}

func openSealed(ctx context.Context, rc io.ReadCloser, object string, keys shred.KeyStore) (*openedReader, error) {
	br := bufio.NewReaderSize(rc, sealedChunk+sealedTrailer)
	corrupt := func(what string) error { return fmt.Errorf("%w: sealed blob %s: %s", ErrCorrupt, object, what) }
	fixed := make([]byte, len(sealedMagic)+2)
	if _, err := io.ReadFull(br, fixed); err != nil {
		return nil, readErr(err, corrupt("no header"))
	}
	if string(fixed[:len(sealedMagic)]) != sealedMagic || fixed[len(sealedMagic)] != sealedVersion || fixed[len(sealedMagic)+1] == 0 {
		return nil, corrupt("not a sealed blob of a known version")
	}
	rest := make([]byte, int(fixed[len(sealedMagic)+1])+saltSize)
	if _, err := io.ReadFull(br, rest); err != nil {
		return nil, readErr(err, corrupt("header cut short"))
	}
	keyID := string(rest[:len(rest)-saltSize])
	key, err := keys.Key(ctx, keyID)
	if errors.Is(err, shred.ErrNoKey) {
		return nil, fmt.Errorf("blob %s: %w", object, ErrErased)
	}
	if err != nil {
		return nil, err
	}
	aead, err := fileAEAD(key.Secret, rest[len(rest)-saltSize:])
	if err != nil {
		return nil, err
	}
	return &openedReader{rc: rc, br: br, object: object, aead: aead, aad: append(fixed, rest...), digest: sha256.New()}, nil
}

// readErr is err itself when it is the stream's own failure (a corrupt ciphertext named by Get's
// check, a broken connection), and truncated when the stream merely ended.
func readErr(err, truncated error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return truncated
	}
	return err
}

func (o *openedReader) Read(p []byte) (int, error) {
	for len(o.plain) == 0 && o.err == nil {
		o.err = o.next()
	}
	if len(o.plain) > 0 {
		n := copy(p, o.plain)
		o.plain = o.plain[n:]
		return n, nil
	}
	return 0, o.err
}

// next opens the next chunk, or the trailer and the end of the stream.
func (o *openedReader) next() error {
	corrupt := func(what string) error { return fmt.Errorf("%w: sealed blob %s: %s", ErrCorrupt, o.object, what) }
	ahead, err := o.br.Peek(sealedChunk + sealedTrailer)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return err
	}
	if len(ahead) < sealedTrailer {
		return corrupt("cut short")
	}
	if len(ahead) == sealedTrailer {
		trailer, err := o.aead.Open(nil, chunkNonce(o.index, true), ahead, o.aad)
		if err != nil {
			return corrupt("trailer does not open")
		}
		if _, err := o.br.Discard(sealedTrailer); err != nil {
			return err
		}
		// Drain to the end, so that Get's check of the ciphertext's digest runs.
		if _, err := o.br.Read(make([]byte, 1)); err != io.EOF {
			return readErr(err, corrupt("bytes after the trailer"))
		}
		sum := o.digest.Sum(nil)
		if subtle.ConstantTimeCompare(sum, trailer[:sha256.Size]) != 1 || binary.BigEndian.Uint64(trailer[sha256.Size:]) != uint64(o.size) {
			return corrupt("file does not match its sealed digest")
		}
		return io.EOF
	}
	n := min(sealedChunk, len(ahead)-sealedTrailer)
	plain, err := o.aead.Open(o.chunk[:0], chunkNonce(o.index, false), ahead[:n], o.aad)
	if err != nil {
		return corrupt(fmt.Sprintf("chunk %d does not open", o.index))
	}
	if _, err := o.br.Discard(n); err != nil {
		return err
	}
	o.index++
	o.digest.Write(plain)
	o.size += int64(len(plain))
	o.chunk, o.plain = plain, plain
	return nil
}

func (o *openedReader) Close() error { return o.rc.Close() }
