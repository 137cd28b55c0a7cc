// Package s3blob keeps blobs in a bucket of S3-compatible object storage (AWS S3, MinIO, Ceph,
// Versity's gateway, a cloud provider's), through github.com/minio/minio-go/v7.
//
// S3 cannot name an object after its digest before the digest is known, and a PUT needs its length
// up front. A blob is therefore streamed as a multipart upload (parts of PartSize bytes, the only
// memory an upload holds) to incoming/<random>, copied on the server to blobs/<hash> once the whole
// file is hashed, and the incoming object deleted. Until the copy nothing is under blobs/; a
// multipart upload that never completes is invisible as an object, and the client aborts it when
// the upload fails. A process killed in between leaves an incomplete upload or an object under
// incoming/: a bucket lifecycle rule removes them (docs/documents.md).
package s3blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/motcua/motcua/blobstore"
)

// PartSize is the size of each part of an upload, S3's smallest but the last: the memory one upload
// holds, whatever the size of the file.
const PartSize = 5 << 20

// Config names a bucket and how to reach it.
type Config struct {
	Endpoint  string // host:port, without scheme
	Secure    bool   // HTTPS
	Region    string // optional
	AccessKey string
	SecretKey string
	Bucket    string
	// Prefix is prepended to every object name (e.g. "motcua/"), so that one bucket can serve
	// several deployments.
	Prefix string
}

// Bucket is a bucket of blobs: <prefix>blobs/<hash>, and <prefix>incoming/ for uploads under way.
type Bucket struct {
	client *minio.Client
	bucket string
	prefix string
}

var _ blobstore.Backend = (*Bucket)(nil)

// Open connects to the bucket and checks that it exists (it is not created: a production bucket
// is made with its lifecycle rule and access policy by whoever runs the storage).
func Open(ctx context.Context, cfg Config) (*Bucket, error) {
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3blob: %w", err)
	}
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3blob: bucket %s: %w", cfg.Bucket, err)
	}
	if !exists {
		return nil, fmt.Errorf("s3blob: bucket %s does not exist", cfg.Bucket)
	}
	return &Bucket{client: client, bucket: cfg.Bucket, prefix: cfg.Prefix}, nil
}

// Client is the connection, for tests and tools that look at the bucket directly.
func (b *Bucket) Client() *minio.Client { return b.client }

// ObjectName is where the blob called name is kept in the bucket.
func (b *Bucket) ObjectName(name string) string { return b.prefix + "blobs/" + name }

func (b *Bucket) objectName(name string) (string, error) {
	if err := blobstore.CheckHash(name); err != nil {
		return "", err
	}
	return b.ObjectName(name), nil
}

// Create starts a multipart upload to incoming/, fed by what is written to the returned Pending.
func (b *Bucket) Create(ctx context.Context) (blobstore.Pending, error) {
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return nil, fmt.Errorf("s3blob: %w", err)
	}
	p := &pending{bucket: b, ctx: ctx, temp: b.prefix + "incoming/" + hex.EncodeToString(random), done: make(chan error, 1)}
	reader, writer := io.Pipe()
	p.writer = writer
	go func() {
		_, err := b.client.PutObject(ctx, b.bucket, p.temp, reader, -1, minio.PutObjectOptions{
			PartSize:    PartSize,
			ContentType: "application/octet-stream",
		})
		// A failed upload stops the writer too, instead of leaving it blocked on the pipe.
		reader.CloseWithError(errors.Join(err, errUploadEnded))
		p.done <- err
	}()
	return p, nil
}

var (
	errUploadEnded = errors.New("s3blob: upload ended")
	errAborted     = errors.New("s3blob: upload aborted")
)

type pending struct {
	bucket *Bucket
	ctx    context.Context
	temp   string
	writer *io.PipeWriter
	done   chan error
	ended  bool
}

func (p *pending) Write(b []byte) (int, error) { return p.writer.Write(b) }

// Commit completes the upload, copies it under name and deletes the incoming object.
func (p *pending) Commit(name string) error {
	if p.ended {
		return errors.New("s3blob: blob already committed or aborted")
	}
	target, err := p.bucket.objectName(name)
	if err != nil {
		return errors.Join(err, p.Abort())
	}
	p.ended = true
	p.writer.Close()
	if err := <-p.done; err != nil {
		return errors.Join(fmt.Errorf("s3blob: upload: %w", err), p.removeIncomplete())
	}
	_, err = p.bucket.client.CopyObject(p.ctx,
		minio.CopyDestOptions{Bucket: p.bucket.bucket, Object: target},
		minio.CopySrcOptions{Bucket: p.bucket.bucket, Object: p.temp})
	// The incoming object goes whether the copy worked or not; with a cancelled context the
	// lifecycle rule takes it.
	removeErr := p.bucket.client.RemoveObject(context.WithoutCancel(p.ctx), p.bucket.bucket, p.temp, minio.RemoveObjectOptions{})
	if err != nil {
		return fmt.Errorf("s3blob: copy into place: %w", err)
	}
	if removeErr != nil {
		return fmt.Errorf("s3blob: blob %s stored, but its incoming copy stays: %w", name, removeErr)
	}
	return nil
}

// Abort fails the upload (the client aborts the multipart upload).
func (p *pending) Abort() error {
	if p.ended {
		return nil
	}
	p.ended = true
	p.writer.CloseWithError(errAborted)
	if err := <-p.done; err == nil {
		// The whole upload had gone through already: take it back.
		return p.bucket.client.RemoveObject(context.WithoutCancel(p.ctx), p.bucket.bucket, p.temp, minio.RemoveObjectOptions{})
	}
	return p.removeIncomplete()
}

// removeIncomplete aborts what is left of a failed multipart upload. The client aborts it itself
// with the upload's context, which fails when that context was cancelled (a client gone away):
// this one is not cancelled. A request the client gave up on may still be under way in the server
// (a part being written when the abort came made the upload reappear, seen on a loaded machine), so
// it looks again a moment later, a few times; what still escapes is the bucket lifecycle rule's.
func (p *pending) removeIncomplete() error {
	ctx := context.WithoutCancel(p.ctx)
	for round := range incompleteRechecks {
		if err := p.bucket.client.RemoveIncompleteUpload(ctx, p.bucket.bucket, p.temp); err != nil {
			return err
		}
		if round < incompleteRechecks-1 {
			time.Sleep(time.Duration(round+1) * 200 * time.Millisecond)
		}
	}
	return nil
}

// incompleteRechecks is how many times a failed upload's leftovers are looked for.
const incompleteRechecks = 3

// Open streams the blob called name.
func (b *Bucket) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	object, err := b.objectName(name)
	if err != nil {
		return nil, err
	}
	obj, err := b.client.GetObject(ctx, b.bucket, object, minio.GetObjectOptions{})
	if err != nil {
		return nil, b.mapErr(name, err)
	}
	// GetObject is lazy: Stat makes the request, so that a missing blob is an error here.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, b.mapErr(name, err)
	}
	return obj, nil
}

// Size returns the size of the blob called name.
func (b *Bucket) Size(ctx context.Context, name string) (int64, error) {
	object, err := b.objectName(name)
	if err != nil {
		return 0, err
	}
	info, err := b.client.StatObject(ctx, b.bucket, object, minio.StatObjectOptions{})
	if err != nil {
		return 0, b.mapErr(name, err)
	}
	return info.Size, nil
}

func (b *Bucket) mapErr(name string, err error) error {
	resp := minio.ToErrorResponse(err)
	if resp.StatusCode == http.StatusNotFound || resp.Code == "NoSuchKey" {
		return fmt.Errorf("%w: %s", blobstore.ErrNotFound, name)
	}
	return fmt.Errorf("s3blob: %s: %w", name, err)
}

var _ blobstore.Listing = (*Bucket)(nil)

// Walk calls fn with each blob's name and when its object was written (the copy into place).
func (b *Bucket) Walk(ctx context.Context, fn func(name string, stored time.Time) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the listing when fn stops the walk early
	prefix := b.prefix + "blobs/"
	for object := range b.client.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if object.Err != nil {
			return fmt.Errorf("s3blob: list: %w", object.Err)
		}
		if err := fn(strings.TrimPrefix(object.Key, prefix), object.LastModified); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Remove deletes the blob called name (S3 answers a missing object's removal as done).
func (b *Bucket) Remove(ctx context.Context, name string) error {
	object, err := b.objectName(name)
	if err != nil {
		return err
	}
	if err := b.client.RemoveObject(ctx, b.bucket, object, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("s3blob: remove %s: %w", name, err)
	}
	return nil
}

// BucketName is the bucket's name.
func (b *Bucket) BucketName() string { return b.bucket }
