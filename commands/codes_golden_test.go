package commands

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/internal/golden"
)

var updateGolden = flag.Bool("update", false, "write testdata/events/<type>.json for new event types")

// The code reservation is stored for ever like a dossier event (lookup reads it to resolve a code),
// so its payload is pinned by a golden file too (see domain/golden_test.go).
func TestGoldenCodeAllocatedPayload(t *testing.T) {
	path := filepath.Join("testdata", "events", TypeCodeAllocated+".json")
	got, err := json.Marshal(codeAllocated{Code: "000.00.01.H56-260302-0001", DossierID: "0b5e6a3c-1f2d-4e5f-8a9b-0c1d2e3f4a5b"})
	if err != nil {
		t.Fatal(err)
	}
	if *updateGolden {
		golden.WriteNew(t, path, got)
	}
	want := golden.Read(t, path)
	if !bytes.Equal(got, want) {
		t.Fatalf("%s now encodes as\n%s\nbut is stored as\n%s\na published event's stored shape must never change: add a new version with an upcaster",
			TypeCodeAllocated, got, want)
	}
	dec := json.NewDecoder(bytes.NewReader(want))
	dec.DisallowUnknownFields()
	var decoded codeAllocated
	if err := dec.Decode(&decoded); err != nil {
		t.Fatalf("the stored %s no longer decodes: %v", TypeCodeAllocated, err)
	}
	if again, _ := json.Marshal(decoded); !bytes.Equal(again, want) {
		t.Fatalf("%s re-encodes as %s, not as stored %s", TypeCodeAllocated, again, want)
	}
}

// A payment order is stored for ever too: the gateway's callback is checked against it.
func TestGoldenPaymentOrderedPayload(t *testing.T) {
	path := filepath.Join("testdata", "events", TypePaymentOrdered+".json")
	at := time.Date(2026, 3, 2, 9, 15, 30, 0, time.UTC)
	got, err := json.Marshal(PaymentOrder{Ref: "20260302000001", Gateway: "vnpay", DossierID: "0b5e6a3c-1f2d-4e5f-8a9b-0c1d2e3f4a5b",
		DossierCode: "000.00.01.H56-260302-0001", Amount: 150000, CreatedAt: at, ExpiresAt: at.Add(PaymentOrderTTL)})
	if err != nil {
		t.Fatal(err)
	}
	if *updateGolden {
		golden.WriteNew(t, path, got)
	}
	want := golden.Read(t, path)
	if !bytes.Equal(got, want) {
		t.Fatalf("%s now encodes as\n%s\nbut is stored as\n%s\na published event's stored shape must never change: add a new version with an upcaster",
			TypePaymentOrdered, got, want)
	}
	dec := json.NewDecoder(bytes.NewReader(want))
	dec.DisallowUnknownFields()
	var decoded PaymentOrder
	if err := dec.Decode(&decoded); err != nil {
		t.Fatalf("the stored %s no longer decodes: %v", TypePaymentOrdered, err)
	}
	if again, _ := json.Marshal(decoded); !bytes.Equal(again, want) {
		t.Fatalf("%s re-encodes as %s, not as stored %s", TypePaymentOrdered, again, want)
	}
}
