package shred_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/shred"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// BenchmarkReadAllPage reads a page of 4,000 events — 2,000 dossiers' receipts, each applicant
// sealed under a key of their own, and a transfer each — through the decorator, as a catch-up
// reads the log.
func BenchmarkReadAllPage(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "motcua.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	keys, err := shred.OpenSQLKeys(ctx, store.DB())
	if err != nil {
		b.Fatal(err)
	}
	s := shred.Wrap(store, keys, personalData)
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)
	const dossiers = 2000
	for i := range dossiers {
		applicant := domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn An", IDNumber: fmt.Sprintf("0380%08d", i),
			Phone: "0912345678", Email: "an@example.vn", Address: "12 Lê Lợi, Thanh Hóa"}
		id := fmt.Sprintf("d%d", i)
		typ, data, err := domain.EncodeEvent(domain.Received{DossierID: id, Code: domain.DossierCode(fmt.Sprintf("000.00.00.H56-260302-%04d", i)), Applicant: applicant,
			Channel: domain.ChannelDirect, ReceivingUnit: "000.00.00.H56", CompetentAgency: "000.00.06.H56", ReceivedAt: at, AppointmentDate: at.Add(72 * time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		received := eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Data: data, Metadata: eventstore.Metadata{OccurredAt: at}}
		typ, data, err = domain.EncodeEvent(domain.Transferred{To: domain.Handler{Unit: "PQLXD"}, Step: "Thẩm định hồ sơ", Note: "chuyển"})
		if err != nil {
			b.Fatal(err)
		}
		transferred := eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Data: data}
		if _, err := s.Append(ctx, "dossier-"+id, eventstore.Any, received, transferred); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		events, err := s.ReadAll(ctx, eventstore.Start, 2*dossiers)
		if err != nil || len(events) != 2*dossiers {
			b.Fatalf("read %d events, %v", len(events), err)
		}
	}
}
