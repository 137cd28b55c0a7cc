package domain

import "testing"

// cleanText, SanitizeText's fast path, says clean exactly when the character-by-character check
// finds nothing forbidden.
func FuzzCleanTextIsTheFullCheck(f *testing.F) {
	for _, seed := range []string{"", "2026-03-02T01:00:00.000000Z", "Nguyễn Văn An", "abcdefg\x1fhijk", "abcdefgh\x7f",
		"abcdefgh ", "dòng\r\nmột\tba", "\xc2\x85abcdefgh", "abcdefg\xff", "\xe2\x80\x8b", "\xed\xa0\x80", "\xef\xbb\xbf", "~~~~~~~~\x20\x1f", "\xd8\x9c", "\xe1\xbb", "\xe1\xbb\x87", "\xc3", "\xd8\xb1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _, forbidden := firstForbidden(s, true)
		if got := cleanText(s); got == forbidden {
			t.Fatalf("cleanText(%q) = %v, but the full check finds forbidden: %v", s, got, forbidden)
		}
	})
}

// Every byte value, at every position of a 17-byte text, among clean ASCII (a fast path reading
// eight bytes at a time must judge each of them).
func TestCleanTextJudgesEveryByteInEveryPosition(t *testing.T) {
	for b := range 256 {
		for at := range 17 {
			buf := []byte("abcdefghijklmnopq")
			buf[at] = byte(b)
			s := string(buf)
			_, _, forbidden := firstForbidden(s, true)
			if cleanText(s) == forbidden {
				t.Fatalf("cleanText(%q) = %v, but the full check finds forbidden: %v", s, !forbidden, forbidden)
			}
		}
	}
}
