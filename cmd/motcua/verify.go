package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/eventstore/chain"
)

// integrityKeyFile is the deployment's Ed25519 key for integrity checkpoints, in the data dir. It is
// not the token key: rotating one must not invalidate what the other signed.
const integrityKeyFile = "integrity-signing-key.pem"

// trustedKeys collects --trust PEM files of public keys (retired checkpoint keys).
type trustedKeys []ed25519.PublicKey

func (t *trustedKeys) String() string { return fmt.Sprintf("%d keys", len(*t)) }

func (t *trustedKeys) Set(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return fmt.Errorf("%s: no PEM block", path)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return fmt.Errorf("%s: not an Ed25519 public key", path)
	}
	*t = append(*t, pub)
	return nil
}

// runVerify checks the hash chain of every stream and every signed checkpoint, and names each event
// altered, removed, inserted or reordered. With --checkpoint it then signs a checkpoint over the
// events not yet covered, but only if nothing was found wrong: signing a tampered log would bless it.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("verify", flag.ContinueOnError)
	flags.SetOutput(stderr)
	storage := addStoreFlags(flags, storeURLUsage, "data directory (embedded store, integrity key)")
	checkpoint := flags.Bool("checkpoint", false, "after a clean verification, sign a checkpoint over the events not yet covered")
	asJSON := flags.Bool("json", false, "print the report as JSON")
	var trusted trustedKeys
	flags.Var(&trusted, "trust", "PEM file of a retired checkpoint key's public key to trust as well (repeatable)")
	documents := addDocumentFlags(flags)
	if err := flags.Parse(args); err != nil {
		return err
	}
	key, err := integrityKey(storage.dataDir, *checkpoint)
	if err != nil {
		return err
	}
	if key != nil {
		trusted = append(trusted, key.Public().(ed25519.PublicKey))
	}
	deployment, err := openDeployment(ctx, storage, openOptions{})
	if err != nil {
		return err
	}
	defer deployment.Close()
	// The stored bytes, as the chain hashed them: verifying needs no personal-data key.
	store := wiring.Chain(deployment.Store)

	report, err := chain.NewVerifier(store, trusted...).VerifyAll(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	files, err := verifyFiles(ctx, store, documents, storage.dataDir)
	if err != nil {
		return fmt.Errorf("verify files: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			chain.Report
			Documents documentReport `json:"documents"`
		}{report, files}); err != nil {
			return err
		}
	} else {
		printReport(stdout, report)
		printDocumentReport(stdout, files)
	}
	if !report.Intact() {
		return fmt.Errorf("the history is not intact: %d findings", len(report.Findings))
	}
	if len(files.Findings) > 0 {
		return fmt.Errorf("%d files referenced by events are missing or damaged", len(files.Findings))
	}
	if !*checkpoint {
		return nil
	}
	checkpointer, err := chain.NewCheckpointer(store, key)
	if err != nil {
		return err
	}
	checkpointer.Logger = slog.New(slog.DiscardHandler)
	written, err := checkpointer.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if len(written) == 0 {
		fmt.Fprintln(stdout, "no new events to checkpoint")
	}
	for _, cp := range written {
		fmt.Fprintf(stdout, "signed checkpoint %d over %d events (%d in all, through %s)\n", cp.Sequence, cp.Events, cp.Total, cp.Through)
	}
	return nil
}

// integrityKey loads the deployment's checkpoint key, creating it only when a checkpoint is to be
// signed: a verification must not mint a key of its own.
func integrityKey(dataDir string, create bool) (ed25519.PrivateKey, error) {
	if _, err := os.Stat(filepath.Join(dataDir, integrityKeyFile)); errors.Is(err, fs.ErrNotExist) && !create {
		return nil, nil
	}
	return loadOrCreateKey(dataDir, integrityKeyFile)
}

func printReport(w io.Writer, r chain.Report) {
	fmt.Fprintf(w, "verified %d events in %d streams against %d signed checkpoints: %d events confirmed by a checkpoint, %d by their links only",
		r.Events, r.Streams, r.Checkpoints, r.Checkpointed, r.Events-r.Checkpointed)
	if r.Unlinked > 0 {
		fmt.Fprintf(w, ", %d appended before the hash chain", r.Unlinked)
	}
	fmt.Fprintln(w)
	if r.Latest != nil {
		fmt.Fprintf(w, "latest checkpoint: %d, signed %s by key %s, hash %s — keep this line outside the database\n",
			r.Latest.Sequence, r.Latest.CreatedAt.Format("2006-01-02 15:04:05Z07:00"), r.Latest.KeyID, r.Latest.Hash)
	}
	for _, f := range r.Findings {
		fmt.Fprintln(w, strings.ToUpper(string(f.Kind))+": "+strings.TrimPrefix(f.String(), string(f.Kind)+": "))
	}
	if r.Intact() {
		fmt.Fprintln(w, "history intact")
	}
}
