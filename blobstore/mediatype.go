package blobstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// The media types a dossier's file may have (the issue: PDF, JPEG, PNG), decided by the content.
const (
	PDF  = "application/pdf"
	JPEG = "image/jpeg"
	PNG  = "image/png"
)

var (
	// ErrEmpty is a file with no bytes.
	ErrEmpty = errors.New("blobstore: empty file")
	// ErrUnsupportedType is content that is none of PDF, JPEG, PNG, whatever its name says.
	ErrUnsupportedType = errors.New("blobstore: not a PDF, JPEG or PNG file")
	// ErrTruncated is a PDF, JPEG or PNG file whose end is missing: a broken or interrupted copy.
	ErrTruncated = errors.New("blobstore: file is truncated")
)

// sniffLen is how much of a file's start decides its type (and of its end, whether it is whole).
const sniffLen = 1024

var (
	pdfMagic  = []byte("%PDF-")
	pdfEnd    = []byte("%%EOF")
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	jpegEnd   = []byte{0xFF, 0xD9}
	pngMagic  = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
	// pngEnd is the IEND chunk, always the last and always these bytes (length 0, type, CRC).
	pngEnd = []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82}
)

// DetectMediaType names the type of a file from its first bytes (at least the first 8, or all of a
// shorter file): PDF, JPEG or PNG by their signatures, never by the file's name. Anything else is
// ErrUnsupportedType; no bytes at all, ErrEmpty.
func DetectMediaType(head []byte) (string, error) {
	switch {
	case len(head) == 0:
		return "", ErrEmpty
	case bytes.HasPrefix(head, pdfMagic):
		return PDF, nil
	case bytes.HasPrefix(head, jpegMagic):
		return JPEG, nil
	case bytes.HasPrefix(head, pngMagic):
		return PNG, nil
	}
	return "", ErrUnsupportedType
}

// complete reports whether tail, a file's last bytes, ends the way a whole file of mediaType does:
// a PDF's last "%%EOF" marker within its last kilobyte (PDF 1.7 §7.5.5; readers accept trailing
// whitespace and a little junk after it), a JPEG's end-of-image marker (trailing padding allowed),
// a PNG's IEND chunk as its last twelve bytes.
func complete(mediaType string, tail []byte) bool {
	switch mediaType {
	case PDF:
		return bytes.Contains(tail, pdfEnd)
	case JPEG:
		trimmed := bytes.TrimRight(tail, "\x00\r\n ")
		return bytes.HasSuffix(trimmed, jpegEnd)
	case PNG:
		return bytes.HasSuffix(tail, pngEnd)
	}
	return false
}

// TypedReader is a file checked as it streams: its type decided from its first bytes when made,
// its end checked when the stream ends (the last Read fails with ErrTruncated instead of io.EOF
// when the file is cut short), so Put of a TypedReader stores nothing of a truncated file.
type TypedReader struct {
	mediaType string
	r         io.Reader
	tail      []byte // the last sniffLen bytes read so far
	err       error
}

// Sniff reads the start of r and returns a reader yielding the whole of r again, typed. An empty
// file is ErrEmpty; an unsupported one ErrUnsupportedType; r's own error is returned as is.
// It holds at most 2 KB of the file at a time.
func Sniff(r io.Reader) (*TypedReader, error) {
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	head = head[:n]
	mediaType, err := DetectMediaType(head)
	if err != nil {
		return nil, err
	}
	return &TypedReader{mediaType: mediaType, r: io.MultiReader(bytes.NewReader(head), r), tail: make([]byte, 0, sniffLen)}, nil
}

// MediaType is the type decided by the content.
func (t *TypedReader) MediaType() string { return t.mediaType }

func (t *TypedReader) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.r.Read(p)
	t.remember(p[:n])
	if err == io.EOF {
		if !complete(t.mediaType, t.tail) {
			t.err = fmt.Errorf("%w: no end of %s", ErrTruncated, t.mediaType)
			return n, t.err
		}
		t.err = io.EOF
	}
	return n, err
}

// remember keeps the last sniffLen bytes seen.
func (t *TypedReader) remember(p []byte) {
	if len(p) >= sniffLen {
		t.tail = append(t.tail[:0], p[len(p)-sniffLen:]...)
		return
	}
	if over := len(t.tail) + len(p) - sniffLen; over > 0 {
		t.tail = append(t.tail[:0], t.tail[over:]...)
	}
	t.tail = append(t.tail, p...)
}

// MaxBytes returns a reader yielding what r yields but failing with ErrTooLarge once more than n
// bytes have come: a caller's own budget (what is left of a dossier's total, say) on top of the
// Store's per-file limit.
func MaxBytes(r io.Reader, n int64) io.Reader { return &maxBytesReader{r: r, left: n} }

type maxBytesReader struct {
	r    io.Reader
	left int64
}

func (m *maxBytesReader) Read(p []byte) (int, error) {
	if m.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > m.left+1 {
		p = p[:m.left+1]
	}
	n, err := m.r.Read(p)
	m.left -= int64(n)
	if m.left < 0 {
		return 0, ErrTooLarge
	}
	return n, err
}
