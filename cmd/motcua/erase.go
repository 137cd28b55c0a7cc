package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/projections"
)

// personalDataEraser carries out a legal erasure: it deletes the applicant's key, then rebuilds
// every read model from the shredded log, since read models (the register, the control sheet, the
// public view's folded state) copied the applicant's data when they were built — and the keyed ones
// given (the citizens' index), so the erased applicant's list is empty.
func personalDataEraser(deployment *deployment, logger *slog.Logger, keyed ...engine.Consumer) mhttp.EraserFunc {
	store := deployment.events.Sealed
	return func(ctx context.Context, idNumber string) (bool, error) {
		erased, err := store.Erase(ctx, idNumber)
		if err != nil || !erased {
			return erased, err
		}
		rebuilder := &engine.Rebuilder{Store: store, DB: deployment.ProjectionDB, Dialect: deployment.Dialect(), Consumers: projections.MeasuredWith(deployment.calendar, append(projections.All(), keyed...)), Logger: logger}
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
	feedbackCode := fs.String("feedback-code", "", "lookup code (PAKN-…) of a complaint whose sender gave no identity number: that sender's data is erased")
	basis := fs.String("basis", "", "legal ground of the erasure, e.g. the number of the applicant's written request (logged)")
	storage := addStoreFlags(fs, storeURLUsage, "data directory (for sqlite stores)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*idNumber == "") == (*feedbackCode == "") || *basis == "" {
		return errors.New("erase: --basis and one of --id-number or --feedback-code are required")
	}
	if *feedbackCode != "" && !domain.ValidFeedbackLookupCode(*feedbackCode) {
		return fmt.Errorf("erase: --feedback-code %q is not a feedback lookup code (PAKN-XXXXX-XXXXX)", *feedbackCode)
	}
	deployment, err := openDeployment(ctx, storage, openOptions{migrateReadModels: true, personalData: true})
	if err != nil {
		return err
	}
	defer deployment.Close()
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	keyed, err := citizenReadModels(storage.dataDir)
	if err != nil {
		return err
	}
	// A complaint's sender without an identity number is keyed by its lookup code (domain.PersonalSubjectMembers).
	erased, err := personalDataEraser(deployment, logger, keyed...).Erase(ctx, cmp.Or(*idNumber, *feedbackCode))
	if err != nil {
		return err
	}
	if !erased {
		fmt.Fprintln(stdout, "no personal data is kept under that identity number or code: nothing erased")
		return nil
	}
	// A signed-in session of the person keeps the claims their identity provider gave: it ends now.
	if *idNumber != "" {
		if err := endCitizenSessions(ctx, deployment, storage.dataDir, *idNumber); err != nil {
			return fmt.Errorf("erased, but the person's sessions could not be ended: %w", err)
		}
	}
	logger.Info("personal data erased", "by", "motcua erase", "basis", *basis)
	fmt.Fprintln(stdout, "erased: the applicant now reads as \"[đã xoá]\" and the read models were rebuilt; the stored events and their hash chain are unchanged")
	return nil
}
