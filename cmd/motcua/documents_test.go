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

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/blobstore/s3blob/versitygwtest"
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
	keys, err := shred.OpenSQLKeys(context.Background(), d.KeysDB)
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

// serve's blob flags: the directory under --data by default, an S3-compatible bucket with
// --blobs s3 (a real versitygw), and the flags' mistakes refused at start.
func TestDocumentFlagsChooseTheBackend(t *testing.T) {
	ctx := context.Background()
	parse := func(args ...string) (*documentFlags, error) {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := addDocumentFlags(fs)
		return f, fs.Parse(args)
	}
	roundTrip := func(t *testing.T, blobs *blobstore.Store) string {
		t.Helper()
		file := []byte("%PDF-1.7\n" + strings.Repeat("x", 1000) + "\n%%EOF\n")
		info, err := blobs.Put(ctx, bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if err := blobs.Verify(ctx, info.Hash); err != nil {
			t.Fatalf("the stored file does not verify: %v", err)
		}
		return info.Hash
	}
	t.Run("directory", func(t *testing.T) {
		dataDir := t.TempDir()
		f, err := parse("--max-file-size", "5MB", "--max-dossier-size", "50MB")
		if err != nil {
			t.Fatal(err)
		}
		blobs, err := f.open(ctx, dataDir)
		if err != nil {
			t.Fatal(err)
		}
		if blobs.MaxSize() != 5<<20 {
			t.Errorf("per-file limit %d, want 5 MB", blobs.MaxSize())
		}
		hash := roundTrip(t, blobs)
		if _, err := os.Stat(filepath.Join(dataDir, "blobs", hash[:2], hash)); err != nil {
			t.Errorf("the blob is not under <data>/blobs: %v", err)
		}
	})
	t.Run("s3", func(t *testing.T) {
		server := versitygwtest.Start(t)
		admin, err := minio.New(server.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(server.AccessKey, server.SecretKey, "")})
		if err != nil {
			t.Fatal(err)
		}
		if err := admin.MakeBucket(ctx, "motcua-serve", minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Setenv("MOTCUA_S3_ACCESS_KEY", server.AccessKey)
		t.Setenv("MOTCUA_S3_SECRET_KEY", server.SecretKey)
		f, err := parse("--blobs", "s3", "--s3-endpoint", server.Endpoint, "--s3-tls=false", "--s3-bucket", "motcua-serve", "--s3-prefix", "thanhhoa/")
		if err != nil {
			t.Fatal(err)
		}
		blobs, err := f.open(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		hash := roundTrip(t, blobs)
		if _, err := admin.StatObject(ctx, "motcua-serve", "thanhhoa/blobs/"+hash, minio.StatObjectOptions{}); err != nil {
			t.Errorf("the blob is not in the bucket under the prefix: %v", err)
		}
	})
	t.Run("mistakes", func(t *testing.T) {
		t.Setenv("MOTCUA_S3_ACCESS_KEY", "")
		for _, args := range [][]string{
			{"--blobs", "ftp"},
			{"--blobs", "s3", "--s3-endpoint", "127.0.0.1:9"},
			{"--blobs", "s3", "--s3-endpoint", "127.0.0.1:9", "--s3-bucket", "b"}, // no credentials
			{"--max-file-size", "200MB"},                                          // over the dossier's 100 MB
		} {
			f, err := parse(args...)
			if err == nil {
				_, err = f.open(ctx, t.TempDir())
			}
			if err == nil {
				t.Errorf("%v was accepted", args)
			}
		}
		for _, size := range []string{"0", "-1MB", "twenty", "20TB", "99999999999GB"} {
			if _, err := parse("--max-file-size", size); err == nil {
				t.Errorf("--max-file-size %s was accepted", size)
			}
		}
	})
}
