package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/demo"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/email"
	"github.com/motcua/motcua/integrations/email/mailpittest"
	"github.com/motcua/motcua/integrations/portal"
	"github.com/motcua/motcua/integrations/portal/portalsim"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/internal/outboxtest"
)

// Kill -9 the server during a storm of status changes, with the mail server and the national portal
// flapping: `motcua
// serve` runs as a real process with notifications on, the demo's dossier histories are recorded
// from another connection (as another node would) while Mailpit refuses a fifth of the recipients
// and a proxy refuses connections and cuts acceptances off, and the process is killed with SIGKILL
// mid-storm and started again. Afterwards Mailpit — which, like a mail system recognising a
// Message-ID, keeps one message per id — holds exactly one message for every event of the log that
// calls for one (computed here from the events), in log order per dossier, and none for anything
// else; the portal simulator (5xx, time-outs, drops, lost answers, late applies) accepted exactly
// one document per key the log calls for, and holds every dossier's status and appointment as the
// log gives them. Same on SQLite and PostgreSQL.
func TestKillNineMidStormLosesAndRepeatsNoNotification(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dataDir := t.TempDir()
			storeURL := ""
			if backend == "postgres" {
				storeURL = pgtest.NewDatabaseInTurn(t)
			}
			server := mailpittest.Start(t, mailpittest.Options{Chaos: "Recipient:451:20", IgnoreDuplicateIDs: true})
			proxy := mailpittest.StartProxy(t, server.SMTPAddr, 0.2, 0.15)
			sim, portalArgs := startFlappingPortal(t)
			args := []string{"serve", "--data", dataDir, "--addr", "127.0.0.1:0", "--smtp", proxy.Addr, "--smtp-security", "none",
				"--mail-from", "Bộ phận Một cửa <khong-tra-loi@tinh.gov.vn>", "--delivery-attempts", "1000",
				"--delivery-backoff", "20ms", "--delivery-backoff-max", "200ms", "--delivery-send-timeout", "2s"}
			args = withTestCatalog(t, append(args, portalArgs...))
			if storeURL != "" {
				args = append(args, "--store", storeURL)
			}
			flags := &storeFlags{url: storeURL, dataDir: dataDir}
			child := startChild(t, args)
			db := waitForOrigin(t, flags, child)

			seeded := make(chan struct{})
			go func() { defer close(seeded); seedAsAnotherNode(t, flags) }()
			eventually(t, "some notifications went out", func() bool { return len(server.Messages(t)) >= 15 })
			child.kill(t) // SIGKILL: no shutdown, sends and transactions cut wherever they were
			midStorm := true
			select {
			case <-seeded:
				midStorm = false
			default:
			}
			time.Sleep(200 * time.Millisecond)
			child = startChild(t, args)

			<-seeded
			deployment, err := openDeployment(context.Background(), flags, openOptions{personalData: true})
			if err != nil {
				t.Fatal(err)
			}
			defer deployment.Close()
			log := logtest.Settled(t, deployment.events.Sealed)
			last := log[len(log)-1].Position
			eventually(t, "the deliveries consumer reached the head of the log", func() bool {
				var commit, prepare int64
				err := db.QueryRow(`SELECT commit_position, prepare_position FROM projection_checkpoints WHERE name = $1`, delivery.ConsumerName).Scan(&commit, &prepare)
				return err == nil && !(eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}).Less(last)
			})
			eventually(t, "nothing is pending", func() bool {
				var n int
				return db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE state <> 'sent'`).Scan(&n) == nil && n == 0
			})
			child.stop(t)

			want := outboxtest.ExpectedEmails(t, log)
			rows := map[string]struct {
				dossier string
				version uint64
			}{}
			rs, err := db.Query(`SELECT idempotency_key, dossier_id, stream_version FROM deliveries WHERE destination = 'email'`)
			if err != nil {
				t.Fatal(err)
			}
			for rs.Next() {
				var key, dossier string
				var version int64
				if err := rs.Scan(&key, &dossier, &version); err != nil {
					t.Fatal(err)
				}
				rows[email.MessageID(key, "khong-tra-loi@tinh.gov.vn")] = struct {
					dossier string
					version uint64
				}{dossier, uint64(version)}
				if want[key] == "" {
					t.Fatalf("delivery %s: the log calls for no such notification", key)
				}
			}
			rs.Close()
			if len(rows) != len(want) {
				t.Fatalf("%d deliveries recorded; the log calls for %d", len(rows), len(want))
			}
			messages := server.Messages(t)
			seen := map[string]bool{}
			lastVersion := map[string]uint64{}
			for _, m := range messages {
				id := "<" + strings.Trim(m.MessageID, "<>") + ">"
				row, ok := rows[id]
				if !ok {
					t.Fatalf("Mailpit holds %s, which no delivery sent", id)
				}
				if seen[id] {
					t.Fatalf("Mailpit holds %s twice", id)
				}
				seen[id] = true
				if row.version <= lastVersion[row.dossier] {
					t.Fatalf("%s: the message for version %d arrived after version %d", row.dossier, row.version, lastVersion[row.dossier])
				}
				lastVersion[row.dossier] = row.version
			}
			if len(messages) != len(want) {
				t.Fatalf("Mailpit holds %d messages; the log calls for %d", len(messages), len(want))
			}
			portalDocuments := checkPortalAfterStorm(t, db, sim, log)
			t.Logf("%d notifications delivered once each across a kill -9 (while events were still being recorded: %v; %d acceptances cut off and sent again); %d portal documents accepted once each, portal: %+v",
				len(want), midStorm, proxy.LostAcks(), portalDocuments, sim.Stats())
		})
	}
}

type childProcess struct {
	cmd  *exec.Cmd
	done chan error
	out  *syncBuffer
}

// startChild runs motcua with args in a process of its own (the test binary, see TestMain), with
// env added to the test's environment.
func startChild(t *testing.T, args []string, env ...string) *childProcess {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	c := &childProcess{cmd: exec.Command(os.Args[0], "-test.run=^$"), done: make(chan error, 1), out: &syncBuffer{}}
	c.cmd.Env = append(append(os.Environ(), serveChildEnv+"="+string(raw)), env...)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() { c.kill(t) })
	return c
}

func (c *childProcess) kill(t *testing.T) {
	t.Helper()
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// stop ends the child as an operator would (SIGTERM) and fails the test if it did not stop cleanly.
func (c *childProcess) stop(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatalf("motcua serve: %v\n%s", err, c.out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("motcua serve did not stop\n%s", c.out.String())
	}
}

// waitForOrigin waits until the child's deliveries consumer has started (its origin is recorded:
// events from then on are notified) and returns the deployment's database.
func waitForOrigin(t *testing.T, flags *storeFlags, child *childProcess) *sql.DB {
	t.Helper()
	var b *backend
	var lastErr error
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last error: %v; the child said:\n%s", lastErr, child.out.String())
		}
	})
	eventually(t, "the child recorded the deliveries' origin", func() bool {
		if b == nil {
			opened, err := openBackend(context.Background(), flags.url, flags.dataDir, false)
			if err != nil {
				lastErr = err
				return false
			}
			b = opened
			t.Cleanup(func() { b.Close() })
		}
		var origin int64
		lastErr = b.ReadDB.QueryRow(`SELECT started_at FROM delivery_origin WHERE id = 1`).Scan(&origin)
		return lastErr == nil
	})
	return b.ReadDB
}

// seedAsAnotherNode records the demo's dossier histories through the use cases, on a connection of
// its own to the deployment's store.
func seedAsAnotherNode(t *testing.T, flags *storeFlags) {
	ctx := context.Background()
	deployment, err := openDeployment(ctx, flags, openOptions{personalData: true})
	if err != nil {
		t.Error(err)
		return
	}
	defer deployment.Close()
	cal := calendar.Default()
	app := commands.New(deployment.events.Sealed, domaintest.Catalog(t, cal), cal)
	now := time.Date(2026, 3, 20, 9, 0, 0, 0, domain.VietnamTime)
	app.Now = func() time.Time { return now }
	app.Logger = slog.New(slog.DiscardHandler)
	if _, err := demo.Seed(ctx, app); err != nil && !errors.Is(err, context.Canceled) {
		t.Error(err)
	}
}

// startFlappingPortal starts the portal simulator with every fault on, and returns serve's flags
// for it.
func startFlappingPortal(t *testing.T) (*portalsim.Server, []string) {
	t.Helper()
	sim, err := portalsim.New("motcua-kill", "bí mật")
	if err != nil {
		t.Fatal(err)
	}
	sim.SetFaults(portalsim.Faults{ServerError: 0.1, Timeout: 0.03, Drop: 0.08, AckLost: 0.12, Reorder: 0.15,
		TimeoutDelay: 3 * time.Second, ReorderDelay: 80 * time.Millisecond})
	server := httptest.NewServer(sim.Handler())
	t.Cleanup(server.Close)
	secret := filepath.Join(t.TempDir(), "portal-secret")
	if err := os.WriteFile(secret, []byte("bí mật"), 0o600); err != nil {
		t.Fatal(err)
	}
	return sim, []string{"--portal-url", server.URL, "--portal-client-id", "motcua-kill", "--portal-client-secret-file", secret}
}

// checkPortalAfterStorm checks that the portal accepted, exactly once, one document per key for
// each delivery the log calls for (computed from the events with the destination's Plan), and
// holds each dossier's status and appointment as the log gives them. It returns how many documents.
func checkPortalAfterStorm(t *testing.T, db *sql.DB, sim *portalsim.Server, log []eventstore.RecordedEvent) int {
	t.Helper()
	sim.Settle()
	want := map[string]bool{}
	var syncer portal.Syncer
	states := outboxtest.FoldLog(t, log, func(re eventstore.RecordedEvent, e domain.Event, before, after domain.Dossier) {
		if kind := syncer.Plan(delivery.Change{Recorded: re, Event: e, Before: before, After: after}); kind != "" {
			for _, service := range portal.Services(kind) {
				want[portal.IdempotencyKey(delivery.Key(portal.DestinationName, re.ID.String(), kind), service)] = true
			}
		}
	})
	var sent int
	if err := db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE destination = 'dvcqg' AND state = 'sent'`).Scan(&sent); err != nil {
		t.Fatal(err)
	}
	applied := sim.Applied()
	for key := range want {
		if applied[key] != 1 {
			t.Fatalf("the portal accepted %s %d times", key, applied[key])
		}
	}
	if len(applied) != len(want) || sent == 0 {
		t.Fatalf("the portal accepted %d documents (%d deliveries sent); the log calls for %d", len(applied), sent, len(want))
	}
	for stream, d := range states {
		if d.Code == "" {
			continue
		}
		held, ok := sim.Dossier(string(d.Code))
		if !ok {
			t.Fatalf("%s: the portal does not hold it", stream)
		}
		var doc portal.SyncDocument
		if err := json.Unmarshal(held.Sync, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.TrangThaiHoSo != d.Status.PortalStatusCode() || doc.NgayHenTra != portal.Date(d.AppointmentDate) {
			t.Fatalf("%s: the portal holds status %d, appointment %s; the log says %d, %s", stream, doc.TrangThaiHoSo, doc.NgayHenTra,
				d.Status.PortalStatusCode(), portal.Date(d.AppointmentDate))
		}
	}
	return len(want)
}
