package blobstore_test

import (
	"strings"
	"testing"

	"github.com/motcua/motcua/internal/layering"
)

// The blob store keeps bytes under digests; it knows nothing of dossiers nor of who stores files in
// it (docs/architecture.md). It uses the crypto-shredding key table of eventstore/shred, so that one
// erasure makes an applicant's events and files unreadable together.
func TestBlobStoreDependsOnlyOnTheEventStoreKeys(t *testing.T) {
	const module = layering.Module
	for pkg, imports := range layering.Imports(t, "-deps", module+"blobstore/...") {
		if !strings.HasPrefix(pkg, module) {
			continue
		}
		for _, imported := range imports {
			if !strings.HasPrefix(imported, module) {
				continue
			}
			rest := strings.TrimPrefix(imported, module)
			if rest != "blobstore" && !strings.HasPrefix(rest, "blobstore/") && rest != "eventstore" && !strings.HasPrefix(rest, "eventstore/") {
				t.Errorf("%s imports %s", pkg, imported)
			}
		}
	}
}
