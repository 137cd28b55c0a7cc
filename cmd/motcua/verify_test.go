package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/chain"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// seedStore appends a few chained events to the default SQLite store of dataDir.
func seedStore(t *testing.T, dataDir string) {
	t.Helper()
	ctx := context.Background()
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		t.Fatal(err)
	}
	raw, err := sqlite.Open(ctx, filepath.Join(dataDir, "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	store := wiring.Chain(raw)
	for _, stream := range []string{"dossier-a", "dossier-b"} {
		for i := range 3 {
			event := eventstore.EventData{ID: eventstore.NewEventID(), Type: "test.happened.v1", Data: fmt.Appendf(nil, `{"n":%d}`, i),
				Metadata: eventstore.Metadata{Actor: eventstore.Actor{ID: "tn1", Name: "Lê Thị Tiếp", Role: "reception"}, OccurredAt: time.Now()}}
			if _, err := store.Append(ctx, stream, eventstore.Any, event); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func runVerifyCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := runVerify(context.Background(), args, &stdout, &stderr)
	return stdout.String(), err
}

func TestVerifyCommand(t *testing.T) {
	dataDir := t.TempDir()
	seedStore(t, dataDir)

	out, err := runVerifyCommand(t, "--data", dataDir, "--checkpoint")
	if err != nil || !strings.Contains(out, "history intact") || !strings.Contains(out, "signed checkpoint 1 over 6 events") {
		t.Fatalf("first verification with --checkpoint: %v\n%s", err, out)
	}
	out, err = runVerifyCommand(t, "--data", dataDir)
	if err != nil || !strings.Contains(out, "verified 8 events in 4 streams against 1 signed checkpoints: 6 events confirmed by a checkpoint, 2 by their links only") ||
		!strings.Contains(out, "latest checkpoint: 1") {
		t.Fatalf("verification of a checkpointed store: %v\n%s", err, out)
	}

	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dataDir, "motcua.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, statement := range []string{`DROP TRIGGER events_no_update`, `UPDATE events SET data = '{"n":9}' WHERE stream = 'dossier-a' AND version = 2`} {
		if _, err := db.Exec(statement); err != nil {
			t.Fatalf("%s: %v", statement, err)
		}
	}

	out, err = runVerifyCommand(t, "--data", dataDir, "--checkpoint")
	if err == nil || !strings.Contains(out, "ALTERED: dossier-a@2") || strings.Contains(out, "signed checkpoint 2") {
		t.Fatalf("verification of a tampered store: %v\n%s", err, out)
	}
	out, _ = runVerifyCommand(t, "--data", dataDir, "--json")
	var report chain.Report
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if report.Checkpoints != 1 || len(report.Findings) != 1 || report.Findings[0].Stream != "dossier-a" || report.Findings[0].Version != 2 {
		t.Fatalf("JSON report: %+v (the refused --checkpoint must not have signed the tampered log)", report)
	}
}

func TestVerifyCommandNeedsTheCheckpointKey(t *testing.T) {
	dataDir := t.TempDir()
	seedStore(t, dataDir)
	if _, err := runVerifyCommand(t, "--data", dataDir, "--checkpoint"); err != nil {
		t.Fatal(err)
	}
	retired := filepath.Join(t.TempDir(), "retired.pem")
	key, err := loadOrCreateKey(dataDir, integrityKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	if err := os.WriteFile(retired, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	// The key is rotated: the old checkpoint verifies only while its public key is trusted.
	if err := os.Remove(filepath.Join(dataDir, integrityKeyFile)); err != nil {
		t.Fatal(err)
	}
	if out, err := runVerifyCommand(t, "--data", dataDir); err == nil || !strings.Contains(out, "not trusted") {
		t.Fatalf("without the checkpoint's key: %v\n%s", err, out)
	}
	if out, err := runVerifyCommand(t, "--data", dataDir, "--trust", retired); err != nil || !strings.Contains(out, "history intact") {
		t.Fatalf("trusting the retired key: %v\n%s", err, out)
	}
}

func TestAgencyKeysAreKeptPerAgency(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	const agency = "000.00.06.H56"

	created, err := newFileAgencyKeys(dir, quiet).SignerFor(ctx, agency)
	if err != nil {
		t.Fatal(err)
	}
	reloaded, err := newFileAgencyKeys(dir, quiet).SignerFor(ctx, agency)
	if err != nil {
		t.Fatal(err)
	}
	createdID, _ := commands.KeyID(created.Public())
	reloadedID, _ := commands.KeyID(reloaded.Public())
	if createdID != reloadedID {
		t.Fatal("a restarted service signs with another key")
	}

	// A certified key installed by the deployment is used as it is.
	certified, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(certified)
	if err := os.WriteFile(filepath.Join(dir, "000.00.00.H56.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := newFileAgencyKeys(dir, quiet).SignerFor(ctx, "000.00.00.H56")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := signer.Public().(*ecdsa.PublicKey); !ok || !got.Equal(&certified.PublicKey) {
		t.Fatalf("the installed key was not used: %T", signer.Public())
	}

	if _, err := newFileAgencyKeys(dir, quiet).SignerFor(ctx, "../token-signing-key"); err == nil {
		t.Fatal("an agency code that is a path was accepted")
	}
}
