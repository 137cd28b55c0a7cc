package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/blobstore/dirblob"
	"github.com/motcua/motcua/blobstore/s3blob"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/shred"
	mhttp "github.com/motcua/motcua/http"
)

// documentFlags choose where the dossiers' files are kept and how large they may be
// (docs/documents.md, "Configuration"). S3 credentials come from the environment only.
type documentFlags struct {
	backend, dir                          string
	s3Endpoint, s3Region, s3Bucket, s3Pre string
	s3TLS                                 bool
	maxFile, maxDossier                   byteSize
	transferTimeout                       time.Duration
}

func addDocumentFlags(fs *flag.FlagSet) *documentFlags {
	f := &documentFlags{maxFile: blobstore.DefaultMaxSize, maxDossier: commands.DefaultMaxDossierBytes}
	fs.StringVar(&f.backend, "blobs", "dir", "where the dossiers' files are kept: dir (a directory, see --blob-dir) or s3 (an S3-compatible bucket)")
	fs.StringVar(&f.dir, "blob-dir", "", "the files' directory with --blobs dir (default <data>/blobs)")
	fs.StringVar(&f.s3Endpoint, "s3-endpoint", "", "host:port of the S3-compatible service, with --blobs s3")
	fs.BoolVar(&f.s3TLS, "s3-tls", true, "speak HTTPS to --s3-endpoint")
	fs.StringVar(&f.s3Region, "s3-region", "", "the S3 region, when the service wants one")
	fs.StringVar(&f.s3Bucket, "s3-bucket", "", "an existing bucket for the files (motcua does not create it); credentials from $MOTCUA_S3_ACCESS_KEY and $MOTCUA_S3_SECRET_KEY")
	fs.StringVar(&f.s3Pre, "s3-prefix", "", "prefix of every object name, so one bucket can serve several deployments")
	fs.Var(&f.maxFile, "max-file-size", "largest file of a dossier, e.g. 20MB")
	fs.Var(&f.maxDossier, "max-dossier-size", "largest sum of one dossier's files, e.g. 100MB")
	fs.DurationVar(&f.transferTimeout, "file-transfer-timeout", 10*time.Minute, "time an upload or a download of one file may take (it replaces --read-timeout and --write-timeout for them)")
	return f
}

// open returns the configured blob store; dataDir holds the directory backend by default.
func (f *documentFlags) open(ctx context.Context, dataDir string) (*blobstore.Store, error) {
	var backend blobstore.Backend
	switch f.backend {
	case "dir":
		dir := f.dir
		if dir == "" {
			dir = filepath.Join(dataDir, "blobs")
		}
		d, err := dirblob.Open(dir)
		if err != nil {
			return nil, err
		}
		backend = d
	case "s3":
		if f.s3Endpoint == "" || f.s3Bucket == "" {
			return nil, errors.New("--blobs s3 needs --s3-endpoint and --s3-bucket")
		}
		access, secret := os.Getenv("MOTCUA_S3_ACCESS_KEY"), os.Getenv("MOTCUA_S3_SECRET_KEY")
		if access == "" || secret == "" {
			return nil, errors.New("--blobs s3 needs $MOTCUA_S3_ACCESS_KEY and $MOTCUA_S3_SECRET_KEY")
		}
		b, err := s3blob.Open(ctx, s3blob.Config{Endpoint: f.s3Endpoint, Secure: f.s3TLS, Region: f.s3Region,
			AccessKey: access, SecretKey: secret, Bucket: f.s3Bucket, Prefix: f.s3Pre})
		if err != nil {
			return nil, err
		}
		backend = b
	default:
		return nil, fmt.Errorf("--blobs %q: want dir or s3", f.backend)
	}
	if f.maxFile <= 0 || f.maxDossier < f.maxFile {
		return nil, errors.New("--max-file-size must be positive and at most --max-dossier-size")
	}
	return blobstore.New(backend, blobstore.Options{MaxSize: int64(f.maxFile)}), nil
}

// serverConfig opens the blob store for serve, with the deployment's personal-data keys, and sets
// the dossier limit on the use cases.
func (f *documentFlags) serverConfig(ctx context.Context, d *deployment, dataDir string, app *commands.App, logger *slog.Logger) (*mhttp.DocumentsConfig, error) {
	blobs, err := f.open(ctx, dataDir)
	if err != nil {
		return nil, err
	}
	keys, err := shred.OpenSQLKeys(ctx, d.KeysDB)
	if err != nil {
		return nil, err
	}
	app.MaxDossierBytes = int64(f.maxDossier)
	logger.Info("dossier files", "blobs", f.backend, "max_file_size", f.maxFile.String(), "max_dossier_size", f.maxDossier.String())
	return &mhttp.DocumentsConfig{Blobs: blobs, Keys: keys, TransferTimeout: f.transferTimeout}, nil
}

// byteSize is a flag of bytes written 20MB, 512KB, 1GB or a plain number (MB = 2^20 bytes).
type byteSize int64

func (b *byteSize) String() string {
	switch n := int64(*b); {
	case n > 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MB"
	case n > 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KB"
	default:
		return strconv.FormatInt(n, 10)
	}
}

func (b *byteSize) Set(s string) error {
	s = strings.ToUpper(strings.TrimSpace(s))
	unit := int64(1)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, unit = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.size
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/unit {
		return errors.New("want a positive size such as 20MB")
	}
	*b = byteSize(n * unit)
	return nil
}

func (b *byteSize) Get() any { return int64(*b) }

// documentFinding is a file an event references that is not as recorded.
type documentFinding struct {
	Stream     string `json:"stream"`
	Version    uint64 `json:"version"`
	DocumentID string `json:"document_id"`
	Blob       string `json:"blob"`
	Problem    string `json:"problem"` // missing or corrupt
}

// documentReport is what verify found of the files: how many events reference one, and the
// files missing or damaged.
type documentReport struct {
	Files    int               `json:"files"`
	Findings []documentFinding `json:"findings"`
}

// attachedFile is what verify and the sweep read of a dossier.document_attached event: the
// members in clear (the file's name is sealed in the stored bytes; its blob is not personal data).
type attachedFile struct {
	DocumentID string `json:"document_id"`
	Blob       string `json:"blob"`
}

// eachAttachedFile calls visit with every file a dossier.document_attached event of the log
// references, reading the events as stored, in pages. An event that does not decode stops the
// walk: it may still name a file.
func eachAttachedFile(ctx context.Context, store eventstore.Store, visit func(e eventstore.RecordedEvent, ref attachedFile) error) error {
	const pageSize = 1000
	from := eventstore.Start
	for {
		page, err := store.ReadAll(ctx, from, pageSize)
		if err != nil {
			return err
		}
		for _, e := range page {
			if e.Type != domain.TypeDocumentAttached {
				continue
			}
			var ref attachedFile
			if err := json.Unmarshal(e.Data, &ref); err != nil {
				return fmt.Errorf("%s v%d: %w", e.Stream, e.Version, err)
			}
			if err := visit(e, ref); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		from = page[len(page)-1].Position
	}
}

// verifyDocuments checks that every file a dossier.document_attached event references exists
// and hashes to its name. It reads the events as stored, needing no personal-data key: a sealed
// file of an erased applicant still verifies (blobstore.Store.Verify re-hashes the ciphertext).
func verifyDocuments(ctx context.Context, store eventstore.Store, blobs *blobstore.Store) (documentReport, error) {
	report := documentReport{Findings: []documentFinding{}}
	err := eachAttachedFile(ctx, store, func(e eventstore.RecordedEvent, ref attachedFile) error {
		report.Files++
		switch err := blobs.Verify(ctx, ref.Blob); {
		case errors.Is(err, blobstore.ErrNotFound):
			report.Findings = append(report.Findings, documentFinding{e.Stream, e.Version, ref.DocumentID, ref.Blob, "missing"})
		case errors.Is(err, blobstore.ErrCorrupt), errors.Is(err, blobstore.ErrBadHash):
			report.Findings = append(report.Findings, documentFinding{e.Stream, e.Version, ref.DocumentID, ref.Blob, "corrupt"})
		case err != nil:
			return err
		}
		return nil
	})
	return report, err
}

func printDocumentReport(w io.Writer, r documentReport) {
	fmt.Fprintf(w, "verified %d files referenced by events\n", r.Files)
	for _, f := range r.Findings {
		fmt.Fprintf(w, "FILE %s: document %s of %s (event %d), blob %s\n", strings.ToUpper(f.Problem), f.DocumentID, f.Stream, f.Version, f.Blob)
	}
}

// verifyFiles checks the files the events reference in the configured blob store. A directory
// store that was never made (a deployment without files) holds nothing to check: it is not
// created by a verification.
func verifyFiles(ctx context.Context, store eventstore.Store, f *documentFlags, dataDir string) (documentReport, error) {
	if f.backend == "dir" {
		dir := f.dir
		if dir == "" {
			dir = filepath.Join(dataDir, "blobs")
		}
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return verifyDocuments(ctx, store, blobstore.New(missingBlobs{}, blobstore.Options{}))
		}
	}
	blobs, err := f.open(ctx, dataDir)
	if err != nil {
		return documentReport{}, err
	}
	return verifyDocuments(ctx, store, blobs)
}

// missingBlobs is a blob store holding nothing: every file an event references is missing.
type missingBlobs struct{}

func (missingBlobs) Create(context.Context) (blobstore.Pending, error) {
	return nil, errors.New("verify stores nothing")
}
func (missingBlobs) Open(context.Context, string) (io.ReadCloser, error) {
	return nil, blobstore.ErrNotFound
}
func (missingBlobs) Size(context.Context, string) (int64, error) { return 0, blobstore.ErrNotFound }
