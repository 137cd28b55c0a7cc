package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/shred"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/projections"
)

// protectPersonalData wraps store so applicants' identity data is encrypted on append and
// decrypted on reads (eventstore/shred), with the keys in the backend's SQL database. store is the
// event store as the tamper-evident chain sees it: the chain hashes the ciphertext, so erasing a key
// changes no stored byte and breaks no hash.
func protectPersonalData(ctx context.Context, b *backend, store eventstore.Store) (*shred.Store, error) {
	keys, err := shred.OpenSQLKeys(ctx, b.ReadDB)
	if err != nil {
		return nil, err
	}
	return shred.Wrap(store, keys, shred.PersonalData{Fields: domain.ApplicantFields(), Erased: domain.ErasedName}), nil
}

// personalDataEraser carries out a legal erasure: it deletes the applicant's key, then rebuilds
// every read model from the shredded log, since read models (the register, the control sheet, the
// public view's folded state) copied the applicant's data when they were built.
func personalDataEraser(b *backend, store *shred.Store, logger *slog.Logger) mhttp.EraserFunc {
	return func(ctx context.Context, idNumber string) (bool, error) {
		erased, err := store.Erase(ctx, idNumber)
		if err != nil || !erased {
			return erased, err
		}
		rebuilder := &engine.Rebuilder{Store: store, DB: b.ProjectionDB, Dialect: b.Dialect(), Consumers: projections.All(), Logger: logger}
		if _, err := rebuilder.Run(ctx); err != nil {
			return true, fmt.Errorf("the key is erased, but rebuilding the read models failed (run `motcua projections rebuild`): %w", err)
		}
		return true, nil
	}
}

func runErase(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("erase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	idNumber := fs.String("id-number", "", "identity number (citizen ID or tax code) of the applicant whose personal data is erased")
	basis := fs.String("basis", "", "legal ground of the erasure, e.g. the number of the applicant's written request (logged)")
	storeURL := fs.String("store", "", "event store URL: sqlite:PATH (default under --data), postgres://…, esdb://…, kurrentdb://…")
	dataDir := fs.String("data", "./data", "data directory (for sqlite stores)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *idNumber == "" || *basis == "" {
		return errors.New("erase: --id-number and --basis are both required")
	}
	b, err := openBackend(ctx, *storeURL, *dataDir, false)
	if err != nil {
		return err
	}
	defer b.Close()
	if err := migrateReadModels(ctx, b.ReadDB, b.Dialect()); err != nil {
		return err
	}
	store, err := protectPersonalData(ctx, b, b.Store)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	erased, err := personalDataEraser(b, store, logger).Erase(ctx, *idNumber)
	if err != nil {
		return err
	}
	if !erased {
		fmt.Fprintln(stdout, "no personal data is kept under that identity number: nothing erased")
		return nil
	}
	logger.Info("personal data erased", "by", "motcua erase", "basis", *basis)
	fmt.Fprintln(stdout, "erased: the applicant now reads as \"[đã xoá]\" and the read models were rebuilt; the stored events and their hash chain are unchanged")
	return nil
}
