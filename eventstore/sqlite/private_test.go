package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// The database holds applicants' personal data: its file and SQLite's -wal and -shm files are
// readable by the service's user only, whether Open creates the file or finds it open to all.
func TestDatabaseFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	loose := filepath.Join(dir, "loose.db")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fresh, loose} {
		store, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(context.Background(), "s-1", eventstore.Any,
			eventstore.EventData{ID: eventstore.NewEventID(), Type: "t", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		for _, file := range []string{path, path + "-wal", path + "-shm"} {
			info, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", filepath.Base(file), info.Mode().Perm())
			}
		}
		store.Close()
	}
}
