package wiring_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/chain"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// The chain sits inside the seal: it hashes the ciphertext, so the stored bytes never hold the
// applicant in clear, the log verifies intact, and it still does after the applicant's key is
// erased. Stacked the other way, the stored event would hold the name and erasing could not hide it.
func TestDecorateChainsTheSealedBytes(t *testing.T) {
	ctx := context.Background()
	stored, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer stored.Close()
	events, err := wiring.Decorate(ctx, stored, stored.DB())
	if err != nil {
		t.Fatal(err)
	}
	if events.Stored != stored || events.Chained.Unwrap() != stored || events.Sealed.Unwrap() != events.Chained {
		t.Fatal("the decorators are not stacked stored ← chained ← sealed")
	}
	const name, idNumber = "Đinh Thị Ngoạn", "038188776655"
	received := eventstore.EventData{ID: eventstore.NewEventID(), Type: domain.TypeReceived,
		Data:     []byte(`{"applicant":{"type":"citizen","name":"` + name + `","id_number":"` + idNumber + `"}}`),
		Metadata: eventstore.Metadata{Actor: eventstore.Actor{ID: "tn1", Name: "Lê Thị Tiếp", Role: "reception"}, OccurredAt: time.Now()}}
	if _, err := events.Sealed.Append(ctx, "dossier-1", eventstore.NoStream, received); err != nil {
		t.Fatal(err)
	}

	raw, err := stored.ReadStream(ctx, "dossier-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 1 || raw[0].Metadata.PrevHash == "" {
		t.Fatalf("the stored event is not hash-linked: %+v", raw)
	}
	if bytes.Contains(raw[0].Data, []byte(idNumber)) || strings.Contains(string(raw[0].Data), name) {
		t.Fatalf("the stored event holds the applicant in clear: %s", raw[0].Data)
	}
	opened, err := events.Sealed.ReadStream(ctx, "dossier-1", 0)
	if err != nil || len(opened) != 1 || !strings.Contains(string(opened[0].Data), name) {
		t.Fatalf("the sealed store reads %v, %v; want the applicant in clear", opened, err)
	}

	verify := func(when string) {
		t.Helper()
		report, err := chain.NewVerifier(events.Chained).VerifyAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !report.Intact() || report.Events != 1 {
			t.Fatalf("%s: %d events verified, findings %v", when, report.Events, report.Findings)
		}
	}
	verify("before the erasure")
	if erased, err := events.Sealed.Erase(ctx, idNumber); err != nil || !erased {
		t.Fatalf("erase: %v, %v", erased, err)
	}
	verify("after the erasure")
	opened, err = events.Sealed.ReadStream(ctx, "dossier-1", 0)
	if err != nil || len(opened) != 1 || strings.Contains(string(opened[0].Data), name) {
		t.Fatalf("after the erasure the sealed store reads %v, %v", opened, err)
	}
}
