package eventstore

import (
	"reflect"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

// canonicalMetadata, the fast path for metadata as the append path writes it, reads whatever it
// accepts exactly as the JSON decoder does, and accepts what the append path writes.
func FuzzCanonicalMetadataReadsAsDecoded(f *testing.F) {
	for _, seed := range []string{
		`{"actor":{"id":"p17-reception-5","name":"Hồ Thanh Hà","role":"reception","agency":"000.00.45.H56"},"correlation_id":"01a24749-3bb1-7507-bb4c-545880ed5154","causation_id":"01a24749-3bb1-7507-bb4c-545880ed5154","occurred_at":"2025-11-30T18:24:36Z","prev_hash":"2a72"}`,
		`{"actor":{"id":"system","name":"","role":"system"},"correlation_id":"00000000-0000-0000-0000-000000000000","causation_id":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-10-13T10:37:16.329862+07:00","idempotency_key":"k","request_hash":"h"}`,
		`{"actor":{"id":"a","name":"b","role":"c"},"correlation_id":"{01a24749-3bb1-7507-bb4c-545880ed5154}","causation_id":"urn:uuid:01a24749-3bb1-7507-bb4c-545880ed5154","occurred_at":"2026-02-30T25:00:00Z"}`,
		`{"actor":{"id":"a","name":"b\xff","role":"c"},"correlation_id":"01a24749-3bb1-7507-bb4c-545880ed5154","causation_id":"01a24749-3bb1-7507-bb4c-545880ed5154","occurred_at":"2026-01-01T00:00:00.1Z"}`,
	} {
		f.Add([]byte(seed))
	}
	written, err := jsonv2.Marshal(Metadata{Actor: Actor{ID: "o1", Name: "Nguyễn Văn An", Role: "reception", Agency: "H56"}, PrevHash: "ab"})
	if err != nil {
		f.Fatal(err)
	}
	var m Metadata
	if !canonicalMetadata(written, &m) {
		f.Fatalf("the fast path refuses what the append path writes: %s", written)
	}
	f.Add(written)
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast Metadata
		if !canonicalMetadata(data, &fast) {
			if fast != (Metadata{}) {
				t.Fatalf("a refused document changed the metadata: %s", data)
			}
			return
		}
		var decoded Metadata
		if err := jsonv2.Unmarshal(data, &decoded, metadataDecodeOptions); err != nil {
			t.Fatalf("the fast path accepts what the decoder refuses (%v): %s", err, data)
		}
		if !reflect.DeepEqual(fast, decoded) {
			t.Fatalf("%s reads\n%+v by the fast path,\n%+v decoded", data, fast, decoded)
		}
	})
}
