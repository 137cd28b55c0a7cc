package eventstore

import (
	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// metadataDecodeOptions are encoding/json's semantics (case-insensitive names, duplicates and
// invalid UTF-8 accepted), so a stored metadata document reads exactly as it always did.
var metadataDecodeOptions = jsonv1.DefaultOptionsV1()

// DecodeMetadata reads metadata stored as JSON. Backends that keep metadata as one JSON document
// call it for every event they read: with encoding/json it was a third of reading the log.
func DecodeMetadata(data []byte, m *Metadata) error {
	return jsonv2.Unmarshal(data, m, metadataDecodeOptions)
}
