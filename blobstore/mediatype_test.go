package blobstore_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/motcua/motcua/blobstore"
)

func encodedImages(t *testing.T) (pngFile, jpegFile []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for x := range 300 {
		for y := range 200 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var p, j bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, img, nil); err != nil {
		t.Fatal(err)
	}
	return p.Bytes(), j.Bytes()
}

const minimalPDF = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" +
	"trailer<</Root 1 0 R>>\n%%EOF\n"

func TestSniff(t *testing.T) {
	pngFile, jpegFile := encodedImages(t)
	// Windows executables and ELF programs renamed .pdf are what the issue names; a ZIP (a .docx)
	// and HTML are the likeliest other uploads.
	cases := []struct {
		name string
		file []byte
		want string
		err  error
	}{
		{"pdf", []byte(minimalPDF), blobstore.PDF, nil},
		{"pdf with junk after %%EOF", []byte(minimalPDF + "\r\n\x00"), blobstore.PDF, nil},
		{"png", pngFile, blobstore.PNG, nil},
		{"jpeg", jpegFile, blobstore.JPEG, nil},
		{"empty", nil, "", blobstore.ErrEmpty},
		{"windows executable named .pdf", append([]byte("MZ\x90\x00\x03"), bytes.Repeat([]byte{0}, 2000)...), "", blobstore.ErrUnsupportedType},
		{"elf program", []byte("\x7fELF\x02\x01\x01"), "", blobstore.ErrUnsupportedType},
		{"zip (docx)", []byte("PK\x03\x04\x14\x00"), "", blobstore.ErrUnsupportedType},
		{"html claiming pdf", []byte("<html>%PDF-1.4"), "", blobstore.ErrUnsupportedType},
		{"truncated pdf", []byte(minimalPDF[:len(minimalPDF)-8]), blobstore.PDF, blobstore.ErrTruncated},
		{"truncated png", pngFile[:len(pngFile)-20], blobstore.PNG, blobstore.ErrTruncated},
		{"truncated jpeg", jpegFile[:len(jpegFile)/2], blobstore.JPEG, blobstore.ErrTruncated},
		{"pdf magic only", []byte("%PDF-"), blobstore.PDF, blobstore.ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// One byte at a time: the type and the end must not depend on how the stream is cut.
			typed, err := blobstore.Sniff(&oneByteReader{r: bytes.NewReader(c.file)})
			if c.want == "" {
				if !errors.Is(err, c.err) {
					t.Fatalf("Sniff = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if typed.MediaType() != c.want {
				t.Fatalf("type %s, want %s", typed.MediaType(), c.want)
			}
			got, err := io.ReadAll(typed)
			if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
				t.Fatalf("reading = %v, want %v", err, c.err)
			}
			if c.err == nil && !bytes.Equal(got, c.file) {
				t.Fatal("the typed reader changed the file")
			}
		})
	}
}

type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestDetectMediaTypeIgnoresTheName(t *testing.T) {
	// The function takes no name at all: the content decides. A short head is enough.
	if got, err := blobstore.DetectMediaType([]byte("%PDF-1.7")); got != blobstore.PDF || err != nil {
		t.Fatalf("DetectMediaType = %q, %v", got, err)
	}
}

func TestMaxBytes(t *testing.T) {
	for _, c := range []struct {
		size, limit int
		over        bool
	}{{10, 10, false}, {11, 10, true}, {0, 0, false}, {1, 0, true}, {100_000, 99_999, true}} {
		got, err := io.ReadAll(blobstore.MaxBytes(strings.NewReader(strings.Repeat("a", c.size)), int64(c.limit)))
		if c.over != errors.Is(err, blobstore.ErrTooLarge) || (!c.over && (err != nil || len(got) != c.size)) {
			t.Errorf("MaxBytes(%d bytes, %d) = %d bytes, %v", c.size, c.limit, len(got), err)
		}
	}
}

func TestCheckHash(t *testing.T) {
	good := strings.Repeat("0123456789abcdef", 4)
	if err := blobstore.CheckHash(good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", good[:63], good + "0", strings.ToUpper(good), "../" + good[3:], good[:62] + "g0"} {
		if err := blobstore.CheckHash(bad); !errors.Is(err, blobstore.ErrBadHash) {
			t.Errorf("CheckHash(%q) = %v", bad, err)
		}
	}
}
