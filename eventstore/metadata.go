package eventstore

import (
	"bytes"
	"strings"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/google/uuid"
)

// metadataDecodeOptions are encoding/json's semantics (case-insensitive names, duplicates and
// invalid UTF-8 accepted), so a stored metadata document reads exactly as it always did.
var metadataDecodeOptions = jsonv1.DefaultOptionsV1()

// DecodeMetadata reads metadata stored as JSON. Backends that keep metadata as one JSON document
// call it for every event they read: with encoding/json it was a third of reading the log. A
// document laid out as the append path writes it is read by canonicalMetadata (json's reflection
// was still a fifth of reading the log); anything else by the JSON decoder.
func DecodeMetadata(data []byte, m *Metadata) error {
	if *m == (Metadata{}) && canonicalMetadata(data, m) {
		return nil
	}
	return jsonv2.Unmarshal(data, m, metadataDecodeOptions)
}

// canonicalMetadata reads data into m when it is laid out exactly as encoding/json writes a
// Metadata — the members in their order, the optional ones present or not, every string valid
// UTF-8 without escapes or control characters — and reports false, m unchanged, for anything
// else. What it reads equals what the decoder reads (FuzzCanonicalMetadataReadsAsDecoded).
func canonicalMetadata(data []byte, m *Metadata) bool {
	var out Metadata
	r := data
	var ok bool
	var id, name, role, agency, correlation, causation, occurred, prevHash, idempotencyKey, requestHash []byte
	ok = consume(&r, `{"actor":{"id":`)
	id, ok = textIf(ok, &r)
	ok = ok && consume(&r, `,"name":`)
	name, ok = textIf(ok, &r)
	ok = ok && consume(&r, `,"role":`)
	role, ok = textIf(ok, &r)
	if ok && consume(&r, `,"agency":`) {
		agency, ok = textIf(ok, &r)
	}
	ok = ok && consume(&r, `},"correlation_id":`)
	correlation, ok = textIf(ok, &r)
	ok = ok && consume(&r, `,"causation_id":`)
	causation, ok = textIf(ok, &r)
	ok = ok && consume(&r, `,"occurred_at":`)
	occurred, ok = textIf(ok, &r)
	if ok && consume(&r, `,"prev_hash":`) {
		prevHash, ok = textIf(ok, &r)
	}
	if ok && consume(&r, `,"idempotency_key":`) {
		idempotencyKey, ok = textIf(ok, &r)
	}
	if ok && consume(&r, `,"request_hash":`) {
		requestHash, ok = textIf(ok, &r)
	}
	if !ok || !consume(&r, `}`) || len(r) != 0 {
		return false
	}
	var err error
	if out.CorrelationID, err = uuid.ParseBytes(correlation); err != nil {
		return false
	}
	if out.CausationID, err = uuid.ParseBytes(causation); err != nil {
		return false
	}
	// What the decoder calls, with encoding/json's semantics (loose RFC 3339).
	if out.OccurredAt.UnmarshalText(occurred) != nil {
		return false
	}
	// One allocation holds the strings, as the decoder's one.
	texts := [...][]byte{id, name, role, agency, prevHash, idempotencyKey, requestHash}
	size := 0
	for _, t := range texts {
		size += len(t)
	}
	var all strings.Builder
	all.Grow(size)
	for _, t := range texts {
		all.Write(t)
	}
	joined := all.String()
	var parts [len(texts)]string
	for i, t := range texts {
		parts[i], joined = joined[:len(t)], joined[len(t):]
	}
	out.Actor = Actor{ID: parts[0], Name: parts[1], Role: parts[2], Agency: parts[3]}
	out.PrevHash, out.IdempotencyKey, out.RequestHash = parts[4], parts[5], parts[6]
	*m = out
	return true
}

// consume takes prefix off the front of *r, reporting whether it was there.
func consume(r *[]byte, prefix string) bool {
	if !bytes.HasPrefix(*r, []byte(prefix)) {
		return false
	}
	*r = (*r)[len(prefix):]
	return true
}

// textIf, when ok, takes a JSON string of valid UTF-8 without escapes or control characters off
// the front of *r and returns its contents (in place).
func textIf(ok bool, r *[]byte) ([]byte, bool) {
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
