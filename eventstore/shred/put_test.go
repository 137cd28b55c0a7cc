package shred_test

import (
	"context"
	"testing"

	"github.com/motcua/motcua/eventstore/shred"
)

// Keys a bulk load made itself are stored together and read back by id; a batch naming a subject
// that has a key already stores nothing, on both backends.
func TestPutStoresKeysMadeByTheCaller(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		keys, err := shred.OpenSQLKeys(ctx, b.db)
		if err != nil {
			t.Fatal(err)
		}
		first, _ := shred.NewKey()
		second, _ := shred.NewKey()
		if err := keys.Put(ctx, []shred.SubjectKey{{Subject: shred.SubjectOf(an.IDNumber), Key: first}, {Subject: shred.SubjectOf(binh.IDNumber), Key: second}}); err != nil {
			t.Fatal(err)
		}
		got, err := keys.Key(ctx, second.ID)
		if err != nil || string(got.Secret) != string(second.Secret) {
			t.Fatalf("Key(%s) = %x, %v; want the secret put", second.ID, got.Secret, err)
		}
		if k, err := keys.KeyFor(ctx, shred.SubjectOf(an.IDNumber)); err != nil || k.ID != first.ID {
			t.Fatalf("KeyFor after Put: %s, %v; want %s", k.ID, err, first.ID)
		}
		third, _ := shred.NewKey()
		again, _ := shred.NewKey()
		err = keys.Put(ctx, []shred.SubjectKey{{Subject: "another subject", Key: third}, {Subject: shred.SubjectOf(an.IDNumber), Key: again}})
		if err == nil {
			t.Fatal("Put replaced a subject's key")
		}
		if _, err := keys.Key(ctx, third.ID); err == nil {
			t.Fatal("a failed Put stored part of its batch")
		}
	})
}
