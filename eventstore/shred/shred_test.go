package shred_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/eventstoretest"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/shred"
	"github.com/motcua/motcua/eventstore/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backend is a real event store with the SQL database its keys live in, and a way to overwrite a
// stored event's data as a database administrator could.
type backend struct {
	name   string
	store  eventstore.Store
	db     *sql.DB
	tamper func(t *testing.T, id string, data []byte)
}

func openSQLite(t *testing.T) backend {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := store.DB()
	return backend{name: "sqlite", store: store, db: db, tamper: func(t *testing.T, id string, data []byte) {
		t.Helper()
		// The store forbids updates with a trigger; an administrator can drop it.
		if _, err := db.Exec(`DROP TRIGGER IF EXISTS events_no_update`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE events SET data = $1 WHERE event_id = $2`, string(data), id); err != nil {
			t.Fatal(err)
		}
	}}
}

func openPostgres(t *testing.T) backend {
	t.Helper()
	ctx := context.Background()
	store, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(store.Pool())
	t.Cleanup(func() { db.Close() })
	return backend{name: "postgres", store: store, db: db, tamper: func(t *testing.T, id string, data []byte) {
		t.Helper()
		if _, err := db.Exec(`UPDATE eventstore.events SET data = $1 WHERE id = $2`, string(data), id); err != nil {
			t.Fatal(err)
		}
	}}
}

func backends(t *testing.T, run func(t *testing.T, b backend)) {
	for _, open := range []func(*testing.T) backend{openSQLite, openPostgres} {
		b := open(t)
		t.Run(b.name, func(t *testing.T) { run(t, b) })
	}
}

func wrap(t *testing.T, b backend) *shred.Store {
	t.Helper()
	keys, err := shred.OpenSQLKeys(context.Background(), b.db)
	if err != nil {
		t.Fatal(err)
	}
	return shred.Wrap(b.store, keys, personalData)
}

// personalData is what cmd/motcua passes: the domain's applicant fields and erased name.
var personalData = shred.PersonalData{Fields: domain.ApplicantFields(), Erased: domain.ErasedName, SubjectMembers: domain.PersonalSubjectMembers()}

var an = domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn An", IDNumber: "038012345678",
	Phone: "0912345678", Email: "an@example.vn", Address: "12 Lê Lợi, Thanh Hóa"}

var binh = domain.Applicant{Type: domain.ApplicantCitizen, Name: "Trần Thị Bình", IDNumber: "038099999999",
	Phone: "0987654321", Email: "binh@example.vn", Address: "5 Trần Phú, Sầm Sơn"}

// personalTexts is what must never be found in stored bytes.
func personalTexts(a domain.Applicant) []string {
	return []string{a.Name, a.IDNumber, a.Phone, a.Email, a.Address}
}

func receivedEvent(t *testing.T, dossierID string, a domain.Applicant) eventstore.EventData {
	t.Helper()
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)
	typ, data, err := domain.EncodeEvent(domain.Received{DossierID: dossierID, Code: "000.00.00.H56-260302-0001", Applicant: a,
		Channel: domain.ChannelDirect, ReceivingUnit: "000.00.00.H56", CompetentAgency: "000.00.06.H56", ReceivedAt: at, AppointmentDate: at.Add(72 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Data: data, Metadata: eventstore.Metadata{OccurredAt: at}}
}

func submittedEvent(t *testing.T, dossierID string, a domain.Applicant) eventstore.EventData {
	t.Helper()
	typ, data, err := domain.EncodeEvent(domain.Submitted{DossierID: dossierID, Applicant: a, ReceivingUnit: "000.00.00.H56"})
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Data: data}
}

func transferredEvent(t *testing.T) eventstore.EventData {
	t.Helper()
	typ, data, err := domain.EncodeEvent(domain.Transferred{To: domain.Handler{Unit: "PQLXD"}, Step: "Thẩm định hồ sơ", Note: "Nguyễn Văn An gọi điện"})
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Data: data}
}

func applicantOf(t *testing.T, e eventstore.RecordedEvent) domain.Applicant {
	t.Helper()
	decoded, err := domain.DecodeEvent(e.Type, e.Data)
	if err != nil {
		t.Fatalf("decode %s: %v", e.Type, err)
	}
	switch d := decoded.(type) {
	case domain.Received:
		return d.Applicant
	case domain.Submitted:
		return d.Applicant
	}
	t.Fatalf("%s has no applicant", e.Type)
	return domain.Applicant{}
}

func mustAppend(t *testing.T, s eventstore.Store, stream string, events ...eventstore.EventData) {
	t.Helper()
	if _, err := s.Append(context.Background(), stream, eventstore.Any, events...); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, s eventstore.Store, stream string) []eventstore.RecordedEvent {
	t.Helper()
	events, err := s.ReadStream(context.Background(), stream, 1)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func readAll(t *testing.T, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	events, err := s.ReadAll(context.Background(), eventstore.Start, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// subscribeAll collects what a subscription delivers until it has n events.
func subscribeAll(t *testing.T, s eventstore.Store, n int) []eventstore.RecordedEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []eventstore.RecordedEvent
	errDone := errors.New("done")
	err := s.Subscribe(ctx, eventstore.Start, func(_ context.Context, e eventstore.RecordedEvent) error {
		got = append(got, e)
		if len(got) == n {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("subscription ended with %v after %d events", err, len(got))
	}
	return got
}

func TestPersonalDataIsStoredEncryptedAndReadInClear(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		s := wrap(t, b)
		submitted, received, transferred := submittedEvent(t, "d1", an), receivedEvent(t, "d1", an), transferredEvent(t)
		mustAppend(t, s, "dossier-d1", submitted, received, transferred)

		raw := mustRead(t, b.store, "dossier-d1")
		for _, e := range raw[:2] {
			for _, text := range personalTexts(an) {
				if bytes.Contains(e.Data, []byte(text)) {
					t.Fatalf("stored %s holds %q in clear: %s", e.Type, text, e.Data)
				}
			}
			if !bytes.Contains(e.Data, []byte(`"sealed"`)) || !bytes.Contains(e.Data, []byte(`"type":"citizen"`)) {
				t.Fatalf("stored %s is not sealed as expected: %s", e.Type, e.Data)
			}
		}
		if !bytes.Equal(raw[2].Data, transferred.Data) {
			t.Fatalf("an event without personal data was changed: %s", raw[2].Data)
		}

		for name, events := range map[string][]eventstore.RecordedEvent{
			"ReadStream": mustRead(t, s, "dossier-d1"), "ReadAll": readAll(t, s), "Subscribe": subscribeAll(t, s, 3),
		} {
			if len(events) != 3 {
				t.Fatalf("%s: %d events", name, len(events))
			}
			for i, e := range events[:2] {
				if got := applicantOf(t, e); got != an {
					t.Fatalf("%s: %s applicant %+v, want %+v", name, e.Type, got, an)
				}
				if appended := []eventstore.EventData{submitted, received}[i]; !bytes.Equal(e.Data, appended.Data) {
					t.Fatalf("%s: %s reads back as\n%s\nnot as appended\n%s", name, e.Type, e.Data, appended.Data)
				}
			}
			if !bytes.Equal(events[2].Data, transferred.Data) {
				t.Fatalf("%s: %s", name, events[2].Data)
			}
		}
	})
}

func TestErasureShowsTheApplicantErasedAndKeepsTheStoredBytes(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		s := wrap(t, b)
		ctx := context.Background()
		mustAppend(t, s, "dossier-d1", receivedEvent(t, "d1", an), transferredEvent(t))
		mustAppend(t, s, "dossier-d2", receivedEvent(t, "d2", binh))
		mustAppend(t, s, "dossier-d3", submittedEvent(t, "d3", an)) // the same person's second dossier
		before := readAll(t, b.store)

		erased, err := s.Erase(ctx, an.IDNumber)
		if err != nil || !erased {
			t.Fatalf("Erase = %v, %v; want true", erased, err)
		}
		if again, err := s.Erase(ctx, an.IDNumber); err != nil || again {
			t.Fatalf("second Erase = %v, %v; want false: nothing left to erase", again, err)
		}

		after := readAll(t, b.store)
		if len(after) != len(before) {
			t.Fatalf("%d stored events after erasure, %d before", len(after), len(before))
		}
		for i := range before {
			if !bytes.Equal(before[i].Data, after[i].Data) || before[i].ID != after[i].ID {
				t.Fatalf("stored event %d changed by the erasure", i)
			}
		}

		want := domain.Applicant{Type: domain.ApplicantCitizen, Name: domain.ErasedName, IDNumber: domain.ErasedName}
		for _, stream := range []string{"dossier-d1", "dossier-d3"} {
			if got := applicantOf(t, mustRead(t, s, stream)[0]); got != want {
				t.Fatalf("%s after erasure: %+v, want %+v", stream, got, want)
			}
		}
		if got := applicantOf(t, mustRead(t, s, "dossier-d2")[0]); got != binh {
			t.Fatalf("another applicant was erased too: %+v", got)
		}
		for _, e := range subscribeAll(t, s, 4) {
			if e.Type == domain.TypeReceived || e.Type == domain.TypeSubmitted {
				if got := applicantOf(t, e); got != want && got != binh {
					t.Fatalf("subscription delivered %+v", got)
				}
			}
		}

		// The same person files again after the erasure: a new key, readable; the old stays erased.
		mustAppend(t, s, "dossier-d4", receivedEvent(t, "d4", an))
		if got := applicantOf(t, mustRead(t, s, "dossier-d4")[0]); got != an {
			t.Fatalf("new dossier after erasure: %+v", got)
		}
		if got := applicantOf(t, mustRead(t, s, "dossier-d1")[0]); got != want {
			t.Fatalf("old dossier readable again with the new key: %+v", got)
		}
	})
}

// An administrator who alters the ciphertext, or copies one applicant's envelope into another
// event, gets an error on read — never someone else's data and never a silent "erased".
func TestAlteredPersonalDataFailsToRead(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		s := wrap(t, b)
		first, second := receivedEvent(t, "d1", an), receivedEvent(t, "d2", binh)
		mustAppend(t, s, "dossier-d1", first)
		mustAppend(t, s, "dossier-d2", second)
		raw := mustRead(t, b.store, "dossier-d1")[0].Data

		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatal(err)
		}
		var applicant struct {
			Sealed struct {
				Ciphertext string `json:"ct"`
			} `json:"sealed"`
		}
		if err := json.Unmarshal(fields["applicant"], &applicant); err != nil {
			t.Fatal(err)
		}
		ct := applicant.Sealed.Ciphertext
		flipped := []byte(ct)
		flipped[5] ^= 'A' ^ 'B'
		if flipped[5] == ct[5] {
			flipped[5] = 'C'
		}
		altered := bytes.Replace(raw, []byte(ct), flipped, 1)

		b.tamper(t, first.ID.String(), altered)
		if _, err := s.ReadStream(context.Background(), "dossier-d1", 1); err == nil || !strings.Contains(err.Error(), "altered") {
			t.Fatalf("reading an altered ciphertext: %v", err)
		}
		// A character that is not base64 at all: the envelope no longer parses; still "altered".
		unparsable := []byte(ct)
		unparsable[5] = '!'
		b.tamper(t, first.ID.String(), bytes.Replace(raw, []byte(ct), unparsable, 1))
		if _, err := s.ReadStream(context.Background(), "dossier-d1", 1); err == nil || !strings.Contains(err.Error(), "altered") {
			t.Fatalf("reading an unparsable ciphertext: %v", err)
		}
		// The untouched envelope of d1, moved into d2's event.
		b.tamper(t, second.ID.String(), raw)
		if _, err := s.ReadStream(context.Background(), "dossier-d2", 1); err == nil {
			t.Fatal("an envelope moved into another event decrypted")
		}
	})
}

// Events stored before shredding was switched on keep reading as they are.
func TestPlainEventsFromBeforeShreddingReadUnchanged(t *testing.T) {
	b := openSQLite(t)
	plain := receivedEvent(t, "d1", an)
	mustAppend(t, b.store, "dossier-d1", plain)
	s := wrap(t, b)
	got := mustRead(t, s, "dossier-d1")[0]
	if !bytes.Equal(got.Data, plain.Data) {
		t.Fatalf("plain event changed on read: %s", got.Data)
	}
	if erased, err := s.Erase(context.Background(), an.IDNumber); err != nil || erased {
		t.Fatalf("Erase of a subject without a key = %v, %v", erased, err)
	}
}

// Many first appends for one person at once agree on a single key.
func TestConcurrentFirstUsesShareOneKey(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		s := wrap(t, b)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Append(context.Background(), "dossier-c"+string(rune('a'+i)), eventstore.NoStream, receivedEvent(t, "c", an))
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		var keys int
		if err := b.db.QueryRow(`SELECT COUNT(*) FROM shred_keys`).Scan(&keys); err != nil {
			t.Fatal(err)
		}
		if keys != 1 {
			t.Fatalf("%d keys for one person", keys)
		}
		if _, err := s.Erase(context.Background(), an.IDNumber); err != nil {
			t.Fatal(err)
		}
		for _, e := range readAll(t, s) {
			if got := applicantOf(t, e); got.Name != domain.ErasedName {
				t.Fatalf("%s still readable after erasure: %+v", e.Stream, got)
			}
		}
	})
}

func TestSubjectHidesTheIdentityNumber(t *testing.T) {
	s := shred.SubjectOf("038012345678")
	if strings.Contains(string(s), "038012345678") || len(s) != 64 {
		t.Fatalf("subject %q", s)
	}
	if shred.SubjectOf(" 038012345678 ") != s || shred.SubjectOf("038012345679") == s {
		t.Fatal("subject must depend on the trimmed number only")
	}
}

// The decorator keeps every promise of the event store contract.
func TestConformance(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		return wrap(t, openSQLite(t))
	})
}

// On SQLite an erased key leaves no trace in the database file or its write-ahead log.
func TestErasedKeyBytesLeaveTheSQLiteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "motcua.db")
	store, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	keys, err := shred.OpenSQLKeys(context.Background(), store.DB())
	if err != nil {
		t.Fatal(err)
	}
	s := shred.Wrap(store, keys, personalData)
	mustAppend(t, s, "dossier-d1", receivedEvent(t, "d1", an))
	key, err := keys.KeyFor(context.Background(), shred.SubjectOf(an.IDNumber))
	if err != nil {
		t.Fatal(err)
	}
	fileHolds := func() bool {
		for _, name := range []string{path, path + "-wal"} {
			data, err := os.ReadFile(name)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			if bytes.Contains(data, key.Secret) {
				return true
			}
		}
		return false
	}
	if !fileHolds() {
		t.Fatal("the key is not in the file before erasure: this test would prove nothing")
	}
	if _, err := s.Erase(context.Background(), an.IDNumber); err != nil {
		t.Fatal(err)
	}
	if fileHolds() {
		t.Fatal("the erased key's bytes are still in the database file or its WAL")
	}
}

// countingKeys counts the reads of a key store.
type countingKeys struct {
	*shred.SQLKeys
	one, many int
}

func (c *countingKeys) Key(ctx context.Context, id string) (shred.Key, error) {
	c.one++
	return c.SQLKeys.Key(ctx, id)
}

func (c *countingKeys) KeysByID(ctx context.Context, ids []string) (map[string]shred.Key, error) {
	c.many++
	return c.SQLKeys.KeysByID(ctx, ids)
}

// A page of the log is decrypted with its keys read in one query, not one per sealed event — a
// catch-up reads millions — and reads exactly as event by event would: each applicant in clear
// under their own key, the erased one erased, the same person's two dossiers alike.
func TestAPageOfTheLogReadsItsKeysAtOnce(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		sqlKeys, err := shred.OpenSQLKeys(ctx, b.db)
		if err != nil {
			t.Fatal(err)
		}
		keys := &countingKeys{SQLKeys: sqlKeys}
		s := shred.Wrap(b.store, keys, personalData)
		chi := domain.Applicant{Type: domain.ApplicantCitizen, Name: "Lê Văn Chí", IDNumber: "038011111111"}
		mustAppend(t, s, "dossier-p1", receivedEvent(t, "p1", an), transferredEvent(t))
		mustAppend(t, s, "dossier-p2", receivedEvent(t, "p2", binh))
		mustAppend(t, s, "dossier-p3", submittedEvent(t, "p3", an))
		mustAppend(t, s, "dossier-p4", receivedEvent(t, "p4", chi))
		if _, err := s.Erase(ctx, binh.IDNumber); err != nil {
			t.Fatal(err)
		}

		keys.one, keys.many = 0, 0
		events, err := s.ReadAll(ctx, eventstore.Start, 100)
		if err != nil {
			t.Fatal(err)
		}
		if keys.one != 0 || keys.many != 1 {
			t.Fatalf("a page read its keys with %d single and %d batch queries, want 0 and 1", keys.one, keys.many)
		}
		erased := domain.Applicant{Type: domain.ApplicantCitizen, Name: domain.ErasedName, IDNumber: domain.ErasedName}
		want := map[string]domain.Applicant{"dossier-p1": an, "dossier-p2": erased, "dossier-p3": an, "dossier-p4": chi}
		read := 0
		for _, e := range events {
			if e.Type != domain.TypeReceived && e.Type != domain.TypeSubmitted {
				continue
			}
			read++
			if got := applicantOf(t, e); got != want[e.Stream] {
				t.Fatalf("%s read in a page: %+v, want %+v", e.Stream, got, want[e.Stream])
			}
			one := mustRead(t, s, e.Stream)[0]
			if !bytes.Equal(one.Data, e.Data) {
				t.Fatalf("%s reads differently in a page and in its stream:\n%s\n%s", e.Stream, e.Data, one.Data)
			}
		}
		if read != len(want) {
			t.Fatalf("read %d applicants' events, want %d", read, len(want))
		}
	})
}
