package eventstore

import (
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/google/uuid"

	"github.com/motcua/motcua/eventstore/jsonscan"
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
	ok = jsonscan.Consume(&r, `{"actor":{"id":`)
	id, ok = jsonscan.String(ok, &r)
	ok = ok && jsonscan.Consume(&r, `,"name":`)
	name, ok = jsonscan.String(ok, &r)
	ok = ok && jsonscan.Consume(&r, `,"role":`)
	role, ok = jsonscan.String(ok, &r)
	if ok && jsonscan.Consume(&r, `,"agency":`) {
		agency, ok = jsonscan.String(ok, &r)
	}
	ok = ok && jsonscan.Consume(&r, `},"correlation_id":`)
	correlation, ok = jsonscan.String(ok, &r)
	ok = ok && jsonscan.Consume(&r, `,"causation_id":`)
	causation, ok = jsonscan.String(ok, &r)
	ok = ok && jsonscan.Consume(&r, `,"occurred_at":`)
	occurred, ok = jsonscan.String(ok, &r)
	if ok && jsonscan.Consume(&r, `,"prev_hash":`) {
		prevHash, ok = jsonscan.String(ok, &r)
	}
	if ok && jsonscan.Consume(&r, `,"idempotency_key":`) {
		idempotencyKey, ok = jsonscan.String(ok, &r)
	}
	if ok && jsonscan.Consume(&r, `,"request_hash":`) {
		requestHash, ok = jsonscan.String(ok, &r)
	}
	if !ok || !jsonscan.Consume(&r, `}`) || len(r) != 0 {
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
