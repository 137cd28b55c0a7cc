package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/eventstore/shred"
)

// attachAsServeDoes attaches content to the dossier's component "Đơn" through the use case, the
// file stored as serve stores it (the default blob directory under dataDir, sealed under the
// applicant's key), and returns the blob's name.
func attachAsServeDoes(t *testing.T, dataDir, dossierID string, content []byte) string {
	t.Helper()
	ctx := context.Background()
	deployment, err := openDeployment(ctx, &storeFlags{dataDir: dataDir}, openOptions{personalData: true})
	if err != nil {
		t.Fatal(err)
	}
	defer deployment.Close()
	blobs, keys := openBlobsAsServeDoes(t, dataDir, deployment)
	cal := calendar.Default()
	app := commands.New(deployment.events.Sealed, domaintest.Catalog(t, cal), cal)
	app.Now = func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, domain.VietnamTime) }
	desk := commands.Caller{ID: "tn1", Name: "Lê Thị Tiếp", Roles: []commands.Role{commands.RoleReception}, Agency: "000.00.00.H56"}
	var blob string
	_, err = app.AttachDocument(ctx, desk, dossierID, commands.AttachDocumentInput{Component: "Đơn", Origin: domain.OriginDeskScan},
		func(ctx context.Context, target commands.FileTarget) (domain.StoredFile, error) {
			typed, err := blobstore.Sniff(bytes.NewReader(content))
			if err != nil {
				return domain.StoredFile{}, err
			}
			sealed, err := blobs.PutSealed(ctx, typed, keys, target.Subject)
			if err != nil {
				return domain.StoredFile{}, err
			}
			blob = sealed.Object.Hash
			return domain.StoredFile{Name: "don.pdf", MediaType: typed.MediaType(), Size: sealed.Size, SHA256: sealed.Hash, Blob: blob, Sealed: true}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return blob
}

func openBlobsAsServeDoes(t *testing.T, dataDir string, d *deployment) (*blobstore.Store, *shred.SQLKeys) {
	t.Helper()
	f := addDocumentFlags(flag.NewFlagSet("serve", flag.ContinueOnError))
	blobs, err := f.open(context.Background(), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := shred.OpenSQLKeys(context.Background(), d.ReadDB)
	if err != nil {
		t.Fatal(err)
	}
	return blobs, keys
}

// An erased applicant's file can no longer be decrypted, while `motcua verify` still finds every
// file the events reference whole; a damaged or missing file fails the verification, named.
func TestVerifyChecksFilesAndErasureMakesThemUnreadable(t *testing.T) {
	dataDir := t.TempDir()
	const idNumber = "038190005555"
	dossierID := receiveAsServeDoes(t, dataDir, erasedApplicantName, idNumber)
	content := []byte("%PDF-1.7\n" + strings.Repeat("đơn đề nghị ", 3000) + "\n%%EOF\n")
	blob := attachAsServeDoes(t, dataDir, dossierID, content)

	out, err := runVerifyCommand(t, "--data", dataDir)
	if err != nil || !strings.Contains(out, "verified 1 files referenced by events") {
		t.Fatalf("verify before erasure: %v\n%s", err, out)
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"erase", "--data", dataDir, "--id-number", idNumber, "--basis", "Đơn số 7/2026"}, &stdout, io.Discard); err != nil {
		t.Fatalf("erase: %v", err)
	}
	deployment, err := openDeployment(context.Background(), &storeFlags{dataDir: dataDir}, openOptions{personalData: true})
	if err != nil {
		t.Fatal(err)
	}
	blobs, keys := openBlobsAsServeDoes(t, dataDir, deployment)
	if _, err := blobs.GetSealed(context.Background(), blob, keys); !errors.Is(err, blobstore.ErrErased) {
		t.Errorf("the erased applicant's file: %v, want ErrErased", err)
	}
	deployment.Close()
	out, err = runVerifyCommand(t, "--data", dataDir)
	if err != nil || !strings.Contains(out, "history intact") || !strings.Contains(out, "verified 1 files") {
		t.Fatalf("verify after erasure: %v\n%s", err, out)
	}

	path := filepath.Join(dataDir, "blobs", blob[:2], blob)
	stored, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(stored)
	damaged[len(damaged)/2] ^= 1
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = runVerifyCommand(t, "--data", dataDir)
	if err == nil || !strings.Contains(out, "FILE CORRUPT") || !strings.Contains(out, blob) {
		t.Errorf("verify of a damaged file: %v\n%s", err, out)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	out, err = runVerifyCommand(t, "--data", dataDir)
	if err == nil || !strings.Contains(out, "FILE MISSING") || !strings.Contains(out, "dossier-"+dossierID) {
		t.Errorf("verify of a missing file: %v\n%s", err, out)
	}
}
