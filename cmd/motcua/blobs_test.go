package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mhttp "github.com/motcua/motcua/http"
)

// orphanAsARefusedUploadLeaves stores a file the way a refused or interrupted upload leaves it:
// in the blob store, named by no event.
func orphanAsARefusedUploadLeaves(t *testing.T, dataDir string, content []byte) string {
	t.Helper()
	deployment, err := openDeployment(context.Background(), &storeFlags{dataDir: dataDir}, openOptions{personalData: true})
	if err != nil {
		t.Fatal(err)
	}
	defer deployment.Close()
	blobs, _ := openBlobsAsServeDoes(t, dataDir, deployment)
	info, err := blobs.Put(context.Background(), bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return info.Hash
}

// age makes the blob's file look stored that long ago.
func age(t *testing.T, dataDir, blob string, by time.Duration) {
	t.Helper()
	then := time.Now().Add(-by)
	if err := os.Chtimes(filepath.Join(dataDir, "blobs", blob[:2], blob), then, then); err != nil {
		t.Fatal(err)
	}
}

func blobExists(dataDir, blob string) bool {
	_, err := os.Stat(filepath.Join(dataDir, "blobs", blob[:2], blob))
	return err == nil
}

// motcua blobs sweep removes an old file no event references, and keeps an old referenced one
// (whose dossier then still verifies) and a recent orphan (an upload perhaps still being recorded).
func TestBlobsSweepRemovesOnlyOldUnreferencedFiles(t *testing.T) {
	dataDir := t.TempDir()
	dossierID := receiveAsServeDoes(t, dataDir, "Trần Văn Bình", "038190006666")
	referenced := attachAsServeDoes(t, dataDir, dossierID, []byte("%PDF-1.7\n"+strings.Repeat("đơn ", 500)+"\n%%EOF\n"))
	oldOrphan := orphanAsARefusedUploadLeaves(t, dataDir, []byte("%PDF-1.7\nrefused\n%%EOF\n"))
	youngOrphan := orphanAsARefusedUploadLeaves(t, dataDir, []byte("%PDF-1.7\nstill being recorded\n%%EOF\n"))
	age(t, dataDir, referenced, 72*time.Hour)
	age(t, dataDir, oldOrphan, 72*time.Hour)
	age(t, dataDir, youngOrphan, 10*time.Minute)

	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"blobs", "sweep", "--data", dataDir, "--older-than", "5m"}, &stdout, io.Discard); err == nil {
		t.Errorf("a grace period of 5 minutes was accepted")
	}
	if err := run(context.Background(), []string{"blobs", "sweep", "--data", dataDir, "--older-than", "24h"}, &stdout, io.Discard); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if !strings.Contains(stdout.String(), "swept 3 stored files: removed 1 referenced by no event, kept 1 referenced and 1 younger than 24h0m0s") {
		t.Errorf("sweep said %q", stdout.String())
	}
	if blobExists(dataDir, oldOrphan) || !blobExists(dataDir, referenced) || !blobExists(dataDir, youngOrphan) {
		t.Errorf("after the sweep: old orphan %v (want gone), referenced %v, young orphan %v", blobExists(dataDir, oldOrphan),
			blobExists(dataDir, referenced), blobExists(dataDir, youngOrphan))
	}
	if out, err := runVerifyCommand(t, "--data", dataDir); err != nil || !strings.Contains(out, "verified 1 files referenced by events") {
		t.Errorf("verify after the sweep: %v\n%s", err, out)
	}
}

// serve sweeps on its timer, with the same rule.
func TestServeSweepsUnreferencedFilesOnItsTimer(t *testing.T) {
	dataDir := t.TempDir()
	dossierID := receiveAsServeDoes(t, dataDir, "Trần Văn Bình", "038190007777")
	referenced := attachAsServeDoes(t, dataDir, dossierID, []byte("%PDF-1.7\n"+strings.Repeat("đơn ", 500)+"\n%%EOF\n"))
	orphan := orphanAsARefusedUploadLeaves(t, dataDir, []byte("%PDF-1.7\nrefused\n%%EOF\n"))
	age(t, dataDir, referenced, 72*time.Hour)
	age(t, dataDir, orphan, 72*time.Hour)

	deployment, err := openDeployment(context.Background(), &storeFlags{dataDir: dataDir}, openOptions{personalData: true})
	if err != nil {
		t.Fatal(err)
	}
	defer deployment.Close()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	documents := addDocumentFlags(fs)
	sweep := addSweepFlags(fs)
	if err := fs.Parse([]string{"--blob-sweep-every", "20ms"}); err != nil {
		t.Fatal(err)
	}
	blobs, err := documents.open(context.Background(), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	config := &mhttp.DocumentsConfig{Blobs: blobs}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sweep.run(ctx, deployment.Store, config, slog.New(slog.DiscardHandler)) }()
	for deadline := time.Now().Add(30 * time.Second); blobExists(dataDir, orphan) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("the sweeper ended with %v", err)
	}
	if blobExists(dataDir, orphan) || !blobExists(dataDir, referenced) {
		t.Errorf("serve's sweep: orphan there %v (want gone), referenced there %v", blobExists(dataDir, orphan), blobExists(dataDir, referenced))
	}
}
