// Package wiring stacks the event store's decorators in the one order that is right, for cmd/motcua
// and for the tests that run the system as it is deployed.
//
// From the stored bytes outwards:
//
//	stored   the backend (SQLite, PostgreSQL, EventStoreDB): what is on disk
//	chained  chain.Wrap(stored): every append is hash-linked (docs/security.md, "Tamper evidence")
//	sealed   shred.Wrap(chained, keys, personal): applicants' personal data is encrypted on append
//	         and opened on reads (docs/security.md, "Privacy")
//
// The chain sits inside the seal so that it hashes ciphertext: erasing an applicant's key changes no
// stored byte and breaks no hash. Swapped, the chain would hash the applicant in clear, and once their
// key is erased every event about them would verify as altered. Verification and checkpoints read the chained layer (the stored bytes); the application,
// the read models and their rebuilds read the sealed one. Reads pass through the chain unchanged,
// so a reader that never appends sees the same events through either.
package wiring

import (
	"context"
	"database/sql"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/chain"
	"github.com/motcua/motcua/eventstore/shred"
)

// Events is the event store with its decorators; see the package comment for who reads which.
type Events struct {
	// Stored is the backend itself: for the readiness check and for counting what is stored.
	Stored eventstore.Store
	// Chained hash-links every append: the verifier and the checkpointer read it.
	Chained *chain.Store
	// Sealed is the store the application, the read models and erasures use.
	Sealed *shred.Store
}

// personalData says where the domain's events hold an applicant and what an erased one reads as:
// the domain knows its events, and shred names none of them.
func personalData() shred.PersonalData {
	return shred.PersonalData{Fields: domain.ApplicantFields(), Erased: domain.ErasedName, SubjectMembers: domain.PersonalSubjectMembers()}
}

// Chain is the only hash-chained view of stored: what verification reads, without the personal-data
// keys (a verifying inspector needs no access to them).
func Chain(stored eventstore.Store) *chain.Store { return chain.Wrap(stored) }

// Decorate stacks the decorators over stored, with the personal-data keys kept in keysDB (the
// deployment's read database, beside the events, so both are backed up together).
func Decorate(ctx context.Context, stored eventstore.Store, keysDB *sql.DB) (*Events, error) {
	keys, err := shred.OpenSQLKeys(ctx, keysDB)
	if err != nil {
		return nil, err
	}
	return DecorateWithKeys(stored, keys), nil
}

// DecorateWithKeys is Decorate with the personal-data keys kept by keys: `motcua bench generate`
// keeps the deployment's key table behind a cache.
func DecorateWithKeys(stored eventstore.Store, keys shred.KeyStore) *Events {
	chained := Chain(stored)
	return &Events{Stored: stored, Chained: chained, Sealed: shred.Wrap(chained, keys, personalData())}
}
