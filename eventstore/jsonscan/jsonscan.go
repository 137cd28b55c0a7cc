// Package jsonscan reads JSON documents laid out exactly as motcua writes them — members in a
// known order, strings without escapes — by prefix and in place, for the fast paths of reading
// the log (event metadata, sealed values). Whatever is laid out otherwise is refused, and the
// caller decodes it the general way.
package jsonscan

import (
	"bytes"
	"unicode/utf8"
)

// Consume takes prefix off the front of *r, reporting whether it was there.
func Consume(r *[]byte, prefix string) bool {
	if !bytes.HasPrefix(*r, []byte(prefix)) {
		return false
	}
	*r = (*r)[len(prefix):]
	return true
}

// String, when ok, takes a JSON string of valid UTF-8 without escapes or control characters off
// the front of *r and returns its contents, in place: what a decoder would read from it.
func String(ok bool, r *[]byte) ([]byte, bool) {
	b := *r
	if !ok || len(b) == 0 || b[0] != '"' {
		return nil, false
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			if !utf8.Valid(b[1:i]) {
				return nil, false
			}
			*r = b[i+1:]
			return b[1:i], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}
