package blobstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Listing is a Backend whose blobs can be listed and removed: what a sweep of unreferenced blobs
// needs. Both backends are.
type Listing interface {
	Backend
	// Walk calls fn with the name of every committed blob and when it was stored, in any order;
	// an error from fn ends the walk with that error.
	Walk(ctx context.Context, fn func(name string, stored time.Time) error) error
	// Remove deletes the blob called name; a blob that is not there is no error.
	Remove(ctx context.Context, name string) error
}

// ErrNotListing is a backend that cannot list its blobs, so it cannot be swept.
var ErrNotListing = errors.New("blobstore: the backend cannot list its blobs")

// SweepResult is what a sweep found and did.
type SweepResult struct {
	Stored     int // blobs seen
	Young      int // stored after the cut-off: kept, an upload may not have been recorded yet
	Referenced int // old enough, and named by an event: kept
	Removed    int // old enough and named by no event: removed
}

// Referenced reports the blobs events name (by name, the digest of the stored bytes).
type Referenced func(ctx context.Context) (map[string]bool, error)

// Sweep removes the blobs stored before cutoff that no event references: files whose upload was
// refused after they were stored (another upload took the dossier's budget, a result that was not
// the signed document) or whose request died between storing and recording them
// (docs/documents.md, "Failure behaviour"). A blob stored after cutoff is never touched: its
// request may still be about to record it. The referenced set is read after the listing, so an
// event appended while the backend was listed still protects its blob; cutoff must leave more
// time than any upload request takes (serve's file transfer timeout and its retries).
func (s *Store) Sweep(ctx context.Context, cutoff time.Time, referenced Referenced) (SweepResult, error) {
	backend, ok := s.backend.(Listing)
	if !ok {
		return SweepResult{}, ErrNotListing
	}
	var result SweepResult
	var old [][32]byte // digests, not strings: a sweep over millions of blobs stays small
	err := backend.Walk(ctx, func(name string, stored time.Time) error {
		if CheckHash(name) != nil {
			return nil // not a blob's name: nothing the Store wrote, left alone
		}
		result.Stored++
		if !stored.Before(cutoff) {
			result.Young++
			return nil
		}
		var digest [32]byte
		_, _ = hex.Decode(digest[:], []byte(name))
		old = append(old, digest)
		return nil
	})
	if err != nil {
		return result, fmt.Errorf("blobstore: list the blobs: %w", err)
	}
	if len(old) == 0 {
		return result, nil
	}
	named, err := referenced(ctx)
	if err != nil {
		return result, fmt.Errorf("blobstore: read the files events reference: %w", err)
	}
	for _, digest := range old {
		name := hex.EncodeToString(digest[:])
		if named[name] {
			result.Referenced++
			continue
		}
		if err := backend.Remove(ctx, name); err != nil {
			return result, fmt.Errorf("blobstore: remove %s: %w", name, err)
		}
		result.Removed++
	}
	return result, nil
}
