package shred_test

import (
	"context"
	"testing"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/shred"
)

// hookedKeys counts the batch reads of a key store and can run something once, right after a
// batch read fetched its keys and before the read decrypts with them.
type hookedKeys struct {
	*shred.SQLKeys
	many       int
	afterFetch func()
}

func (h *hookedKeys) KeysByID(ctx context.Context, ids []string) (map[string]shred.Key, error) {
	h.many++
	found, err := h.SQLKeys.KeysByID(ctx, ids)
	if hook := h.afterFetch; hook != nil {
		h.afterFetch = nil
		hook()
	}
	return found, err
}

// applicantsOf returns the applicant of each dossier's receipt in a read of the whole log.
func applicantsOf(t *testing.T, s eventstore.Store) map[string]domain.Applicant {
	t.Helper()
	events, err := s.ReadAll(context.Background(), eventstore.Start, 100)
	if err != nil {
		t.Fatal(err)
	}
	applicants := map[string]domain.Applicant{}
	for _, e := range events {
		if e.Type == domain.TypeReceived {
			applicants[e.Stream] = applicantOf(t, e)
		}
	}
	return applicants
}

// Reads keep the keys they fetched for the reads after them — a catch-up's pages name the same
// keys again and again — and yet an erasure takes effect at the next read, as when every read
// fetched its keys: made through this store, through another process's (another key store on
// the same database), or by deleting the key row by hand.
func TestKeptKeysNeverOutliveAnErasure(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		sqlKeys, err := shred.OpenSQLKeys(ctx, b.db)
		if err != nil {
			t.Fatal(err)
		}
		keys := &hookedKeys{SQLKeys: sqlKeys}
		s := shred.Wrap(b.store, keys, personalData)
		chi := domain.Applicant{Type: domain.ApplicantCitizen, Name: "Lê Văn Chí", IDNumber: "038011111111"}
		mustAppend(t, s, "dossier-k1", receivedEvent(t, "k1", an))
		mustAppend(t, s, "dossier-k2", receivedEvent(t, "k2", binh))
		mustAppend(t, s, "dossier-k3", receivedEvent(t, "k3", chi))
		erased := domain.Applicant{Type: domain.ApplicantCitizen, Name: domain.ErasedName, IDNumber: domain.ErasedName}
		expect := func(step string, want map[string]domain.Applicant) {
			t.Helper()
			got := applicantsOf(t, s)
			for stream, applicant := range want {
				if got[stream] != applicant {
					t.Fatalf("%s: %s reads %+v, want %+v", step, stream, got[stream], applicant)
				}
			}
		}

		all := map[string]domain.Applicant{"dossier-k1": an, "dossier-k2": binh, "dossier-k3": chi}
		expect("first read", all)
		keys.many = 0
		expect("second read", all)
		if keys.many != 0 {
			t.Fatalf("the second read fetched keys %d times, want none: it would not test the kept keys", keys.many)
		}

		// Another process erases Bình: it shares the database, not this store's memory.
		otherKeys, err := shred.OpenSQLKeys(ctx, b.db)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := shred.Wrap(b.store, otherKeys, personalData).Erase(ctx, binh.IDNumber); err != nil || !ok {
			t.Fatalf("Erase = %v, %v", ok, err)
		}
		all["dossier-k2"] = erased
		expect("after another process's erasure", all)

		// A database administrator deletes An's key row; An files again (a new key). The next read
		// begins after the deletion, so it drops what was kept and fetches every key — Chí's just
		// before Chí's erasure. It may show Chí (its keys are as of its start), but must not leave
		// Chí's key behind for the reads begun after the erasure, one of which runs meanwhile.
		if _, err := b.db.ExecContext(ctx, `DELETE FROM shred_keys WHERE subject = $1`, string(shred.SubjectOf(an.IDNumber))); err != nil {
			t.Fatal(err)
		}
		mustAppend(t, s, "dossier-k4", receivedEvent(t, "k4", an))
		keys.afterFetch = func() {
			if ok, err := s.Erase(ctx, chi.IDNumber); err != nil || !ok {
				t.Errorf("Erase = %v, %v", ok, err)
			}
			if got := applicantsOf(t, s)["dossier-k3"]; got != erased {
				t.Errorf("a read begun after the erasure shows %+v", got)
			}
		}
		got := applicantsOf(t, s)
		if got["dossier-k1"] != erased || got["dossier-k4"] != an {
			t.Fatalf("after a key row deleted by hand: An's old dossier reads %+v, the new %+v", got["dossier-k1"], got["dossier-k4"])
		}
		if keys.afterFetch != nil {
			t.Fatal("the read after the deletion fetched no keys: it would not test a key fetched before an erasure")
		}
		all["dossier-k1"], all["dossier-k3"], all["dossier-k4"] = erased, erased, an
		expect("after a read begun before an erasure", all)
	})
}
