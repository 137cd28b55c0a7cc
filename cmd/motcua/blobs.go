package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/eventstore"
	mhttp "github.com/motcua/motcua/http"
)

// defaultSweepGrace is how old an unreferenced blob must be before a sweep removes it: far longer
// than any upload request (--file-transfer-timeout, 10 minutes by default, and the decision's
// retries), so a file stored by a request still running is never taken for an orphan.
const defaultSweepGrace = 24 * time.Hour

// runBlobs is `motcua blobs sweep`: remove the files no event references, older than --older-than.
func runBlobs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "sweep" {
		return errors.New("usage: motcua blobs sweep [--older-than 24h] [--store URL] [--data DIR] [--blobs dir|s3 …]")
	}
	fs := flag.NewFlagSet("blobs sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	storage := addStoreFlags(fs, storeURLUsage, "data directory (embedded store, blob directory)")
	documents := addDocumentFlags(fs)
	olderThan := fs.Duration("older-than", defaultSweepGrace, "remove only unreferenced files stored longer ago than this (at least 1h: an upload under way is not recorded yet)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *olderThan < time.Hour {
		return errors.New("--older-than must be at least 1h: a file still being recorded would be taken for an orphan")
	}
	deployment, err := openDeployment(ctx, storage, openOptions{})
	if err != nil {
		return err
	}
	defer deployment.Close()
	blobs, err := documents.open(ctx, storage.dataDir)
	if err != nil {
		return err
	}
	result, err := blobs.Sweep(ctx, time.Now().Add(-*olderThan), referencedBlobs(deployment.Store))
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(sweepJSON(result))
	}
	fmt.Fprintf(stdout, "swept %d stored files: removed %d referenced by no event, kept %d referenced and %d younger than %s\n",
		result.Stored, result.Removed, result.Referenced, result.Young, *olderThan)
	return nil
}

func sweepJSON(r blobstore.SweepResult) map[string]int {
	return map[string]int{"stored": r.Stored, "removed": r.Removed, "referenced": r.Referenced, "young": r.Young}
}

// referencedBlobs reads every blob a dossier.document_attached event names, from the events as
// stored (the blob's name is not personal data: it is never sealed). An event that does not decode
// may still name a blob: then nothing is swept.
func referencedBlobs(store eventstore.Store) blobstore.Referenced {
	return func(ctx context.Context) (map[string]bool, error) {
		named := map[string]bool{}
		err := eachAttachedFile(ctx, store, func(_ eventstore.RecordedEvent, ref attachedFile) error {
			named[ref.Blob] = true
			return nil
		})
		if err != nil {
			return nil, err
		}
		return named, nil
	}
}

// sweepFlags set serve's periodic sweep of unreferenced files.
type sweepFlags struct {
	every, olderThan time.Duration
}

func addSweepFlags(fs *flag.FlagSet) *sweepFlags {
	f := &sweepFlags{}
	fs.DurationVar(&f.every, "blob-sweep-every", 24*time.Hour, "how often serve removes the files no event references (0: never; motcua blobs sweep does it by hand)")
	fs.DurationVar(&f.olderThan, "blob-sweep-older-than", defaultSweepGrace, "the age an unreferenced file must reach before a sweep removes it (at least 1h)")
	return f
}

// run sweeps the blob store every f.every until ctx ends; the first sweep comes one period after
// the start, so restarts do not sweep in a burst. A failed sweep is logged and tried again at
// the next period: serve goes on. Several nodes sweeping the same store is harmless: a removal
// of what another node removed is no error.
func (f *sweepFlags) run(ctx context.Context, store eventstore.Store, documents *mhttp.DocumentsConfig, logger *slog.Logger) error {
	if documents == nil || f.every <= 0 {
		return nil
	}
	if f.olderThan < time.Hour {
		return errors.New("--blob-sweep-older-than must be at least 1h")
	}
	tick := time.NewTicker(f.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		result, err := documents.Blobs.Sweep(ctx, time.Now().Add(-f.olderThan), referencedBlobs(store))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			logger.ErrorContext(ctx, "blob sweep", "err", err)
			continue
		}
		logger.InfoContext(ctx, "blob sweep", "stored", result.Stored, "removed", result.Removed, "referenced", result.Referenced, "young", result.Young)
	}
}
