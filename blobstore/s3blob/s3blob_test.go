package s3blob_test

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/blobstore/blobstoretest"
	"github.com/motcua/motcua/blobstore/s3blob"
	"github.com/motcua/motcua/blobstore/s3blob/versitygwtest"
)

var buckets atomic.Int64

// newBucket makes a fresh bucket on server and opens it with prefix.
func newBucket(t testing.TB, server *versitygwtest.Server, prefix string) *s3blob.Bucket {
	t.Helper()
	ctx := context.Background()
	cfg := s3blob.Config{Endpoint: server.Endpoint, AccessKey: server.AccessKey, SecretKey: server.SecretKey,
		Bucket: fmt.Sprintf("motcua-test-%d", buckets.Add(1)), Prefix: prefix}
	if _, err := s3blob.Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Open of a missing bucket = %v, want an error saying so", err)
	}
	admin, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := s3blob.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func list(t testing.TB, b *s3blob.Bucket, prefix string) []string {
	t.Helper()
	var names []string
	for obj := range b.Client().ListObjects(context.Background(), b.BucketName(), minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		names = append(names, obj.Key)
	}
	return names
}

func harness(server *versitygwtest.Server, prefix string) blobstoretest.Harness {
	return blobstoretest.Harness{
		New: func(t *testing.T) blobstore.Backend { return newBucket(t, server, prefix) },
		Names: func(t *testing.T, backend blobstore.Backend) []string {
			var names []string
			for _, key := range list(t, backend.(*s3blob.Bucket), prefix+"blobs/") {
				names = append(names, path.Base(key))
			}
			return names
		},
		Leftovers: func(t *testing.T, backend blobstore.Backend) []string {
			b := backend.(*s3blob.Bucket)
			left := list(t, b, prefix+"incoming/")
			for upload := range b.Client().ListIncompleteUploads(context.Background(), b.BucketName(), prefix, true) {
				if upload.Err != nil {
					t.Fatal(upload.Err)
				}
				left = append(left, "incomplete upload of "+upload.Key)
			}
			return left
		},
		Overwrite: func(t *testing.T, backend blobstore.Backend, name string, data []byte) {
			b := backend.(*s3blob.Bucket)
			_, err := b.Client().PutObject(context.Background(), b.BucketName(), b.ObjectName(name), bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
		},
		// One upload holds one part (s3blob.PartSize) and the client's signing and checksum
		// buffers: a fixed amount, well under the 24 MB file.
		MaxPutAlloc: 4 * s3blob.PartSize,
	}
}

func TestConformance(t *testing.T) {
	blobstoretest.Run(t, harness(versitygwtest.Start(t), ""))
}

// TestPrefix checks that a deployment given a prefix keeps every object under it, so that one
// bucket can serve several.
func TestPrefix(t *testing.T) {
	server := versitygwtest.Start(t)
	b := newBucket(t, server, "province-a/")
	store := blobstore.New(b, blobstore.Options{})
	info, err := store.Put(context.Background(), strings.NewReader("giấy tờ"))
	if err != nil {
		t.Fatal(err)
	}
	if keys := list(t, b, ""); len(keys) != 1 || keys[0] != "province-a/blobs/"+info.Hash {
		t.Fatalf("bucket holds %v, want only province-a/blobs/%s", keys, info.Hash)
	}
	if err := store.Verify(context.Background(), info.Hash); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkConcurrentUploads is the measure: 20 concurrent uploads of 20 MB.
//
//	go test -run='^$' -bench=ConcurrentUploads -benchtime=1x ./blobstore/s3blob
func BenchmarkConcurrentUploads(b *testing.B) {
	server := versitygwtest.Start(b)
	for _, sealed := range []bool{false, true} {
		b.Run(fmt.Sprintf("sealed=%v", sealed), func(b *testing.B) {
			blobstoretest.BenchmarkConcurrentUploads(b, newBucket(b, server, ""), 20, 20<<20, sealed)
		})
	}
}
