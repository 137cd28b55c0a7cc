package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/eventstore"
)

// crashChildEnv names the database file when this test binary runs as the child that gets killed.
const crashChildEnv = "MOTCUA_SQLITE_CRASH_CHILD_DB"

const ackPrefix = "acked "

// TestKillDuringAppendsLosesNoAcknowledgedEvent re-runs this test binary as a child that appends
// from several goroutines and prints each event id once Append has returned, kills it with SIGKILL
// mid-stream, and checks that every id it printed is in the reopened file. SIGKILL leaves the
// kernel's page cache intact, so this proves the process-crash guarantee (commit means written to
// the file), not power-loss durability, which rests on synchronous=FULL's fsync.
func TestKillDuringAppendsLosesNoAcknowledgedEvent(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		appendUntilKilled(path)
		return
	}

	path := filepath.Join(t.TempDir(), "events.db")
	child := exec.Command(os.Args[0], "-test.run=^TestKillDuringAppendsLosesNoAcknowledgedEvent$", "-test.count=1")
	child.Env = append(os.Environ(), crashChildEnv+"="+path)
	child.Stderr = os.Stderr
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatalf("child stdout: %v", err)
	}
	if err := child.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	// Whatever happens below, the child must not outlive the test.
	t.Cleanup(func() { _ = child.Process.Kill() })

	killAfter := 100 + rand.IntN(200)
	var acknowledged []uuid.UUID
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		id, ok := strings.CutPrefix(lines.Text(), ackPrefix)
		if !ok {
			continue // the testing package's own output
		}
		parsed, err := uuid.Parse(id)
		if err != nil {
			t.Fatalf("child printed %q: %v", lines.Text(), err)
		}
		acknowledged = append(acknowledged, parsed)
		if len(acknowledged) == killAfter {
			if err := child.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill child: %v", err)
			}
		}
		// Lines already in the pipe when the child died were acknowledged too: read them all.
	}
	if err := lines.Err(); err != nil {
		t.Fatalf("read child output: %v", err)
	}
	waitErr := child.Wait()
	var exit *exec.ExitError
	if !errors.As(waitErr, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v after %d acknowledgements, want killed by SIGKILL after %d", waitErr, len(acknowledged), killAfter)
	}

	store := openTestStore(t, path)
	ctx := context.Background()
	stored := map[uuid.UUID]bool{}
	for after := eventstore.Start; ; {
		page, err := store.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatalf("ReadAll after reopening: %v", err)
		}
		if len(page) == 0 {
			break
		}
		for _, event := range page {
			stored[event.ID] = true
		}
		after = page[len(page)-1].Position
	}
	for _, id := range acknowledged {
		if !stored[id] {
			t.Errorf("acknowledged event %s is missing after the crash", id)
		}
	}
	var integrity string
	if err := store.DB().QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check = %q, %v", integrity, err)
	}
	t.Logf("killed at acknowledgement %d; %d acknowledged in all, %d stored", killAfter, len(acknowledged), len(stored))
}

// appendUntilKilled is the child: 4 writers append 1–3 events at a time and print each id after
// Append returns. It gives up after a while so that an orphaned child cannot run forever.
func appendUntilKilled(path string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open:", err)
		os.Exit(2)
	}
	var printing sync.Mutex
	var writers sync.WaitGroup
	for w := range 4 {
		writers.Go(func() {
			for ctx.Err() == nil {
				events := make([]eventstore.EventData, 1+rand.IntN(3))
				for i := range events {
					events[i] = testEvent(fmt.Sprintf("writer %d", w))
				}
				if _, err := store.Append(ctx, fmt.Sprintf("dossier-crash-%d", w), eventstore.Any, events...); err != nil {
					fmt.Fprintln(os.Stderr, "child: append:", err)
					os.Exit(2)
				}
				printing.Lock()
				for _, event := range events {
					fmt.Fprintln(os.Stdout, ackPrefix+event.ID.String())
				}
				printing.Unlock()
			}
		})
	}
	writers.Wait()
	os.Exit(3) // not killed in time
}
