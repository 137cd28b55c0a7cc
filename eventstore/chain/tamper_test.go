package chain_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/chain"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// database is a store's database as an attacker with administrator rights sees it: raw SQL on the
// events table, with the store's append-only triggers, if any, dropped.
type database struct {
	table string
	exec  func(t *testing.T, query string, args ...any)
	// setPrevHash rewrites the link an event records, where the backend keeps it.
	setPrevHash func(t *testing.T, stream string, version uint64, hash string)
}

type backend struct {
	name string
	open func(t *testing.T) (eventstore.Store, database)
}

var backends = []backend{
	{"sqlite", func(t *testing.T) (eventstore.Store, database) {
		path := filepath.Join(t.TempDir(), "events.db")
		store := openSQLite(t, path)
		db, err := sql.Open("sqlite", sqlite.DSN(path))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		exec := func(t *testing.T, query string, args ...any) {
			t.Helper()
			if _, err := db.Exec(query, args...); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'`)
		if err != nil {
			t.Fatal(err)
		}
		var triggers []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			triggers = append(triggers, name)
		}
		rows.Close()
		if len(triggers) == 0 {
			t.Fatal("the SQLite store has no append-only triggers: the test no longer shows an attacker must drop them")
		}
		for _, name := range triggers {
			exec(t, `DROP TRIGGER `+name)
		}
		return store, database{table: "events", exec: exec,
			setPrevHash: func(t *testing.T, stream string, version uint64, hash string) {
				exec(t, `UPDATE events SET metadata = json_set(metadata, '$.prev_hash', $1) WHERE stream = $2 AND version = $3`, hash, stream, version)
			}}
	}},
	{"postgres", func(t *testing.T) (eventstore.Store, database) {
		ctx := testContext(t)
		dsn := pgtest.NewDatabase(t)
		store, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		if err := store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close(context.Background()) })
		exec := func(t *testing.T, query string, args ...any) {
			t.Helper()
			if _, err := conn.Exec(ctx, query, args...); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		rows, err := conn.Query(ctx, `SELECT tgname FROM pg_trigger WHERE tgrelid = 'eventstore.events'::regclass AND NOT tgisinternal`)
		if err != nil {
			t.Fatal(err)
		}
		triggers, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range triggers {
			exec(t, `DROP TRIGGER `+pgx.Identifier{name}.Sanitize()+` ON eventstore.events`)
		}
		return store, database{table: "eventstore.events", exec: exec,
			setPrevHash: func(t *testing.T, stream string, version uint64, hash string) {
				exec(t, `UPDATE eventstore.events SET prev_hash = $1 WHERE stream = $2 AND version = $3`, hash, stream, version)
			}}
	}},
}

const (
	streamA = "dossier-a" // 8 events, the last two after the last checkpoint
	streamB = "dossier-b" // 3 events, all checkpointed
	streamC = "dossier-c" // never touched by an attack: it must never be accused
)

// history appends the events every scenario starts from and checkpoints them in ranges of four
// events; then it appends A's last two events, which no checkpoint covers.
func history(t *testing.T, store eventstore.Store, key ed25519.PrivateKey) {
	t.Helper()
	ctx := testContext(t)
	steps := []struct {
		stream   string
		expected eventstore.ExpectedVersion
		events   int
	}{
		{streamA, eventstore.NoStream, 2}, {streamB, eventstore.NoStream, 1}, {streamC, eventstore.NoStream, 2},
		{streamA, eventstore.Exact(2), 2}, {streamB, eventstore.Any, 2}, {streamA, eventstore.Exact(4), 1},
		{streamC, eventstore.Exact(2), 1}, {streamA, eventstore.StreamExists, 1},
	}
	for _, s := range steps {
		if _, err := store.Append(ctx, s.stream, s.expected, newEvents(s.stream, s.events)...); err != nil {
			t.Fatalf("append to %s: %v", s.stream, err)
		}
	}
	checkpointer, err := chain.NewCheckpointer(store, key)
	if err != nil {
		t.Fatal(err)
	}
	checkpointer.MaxEvents = 4
	written, err := checkpointer.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 3 || written[2].Total != 12 {
		t.Fatalf("checkpoints = %+v, want 3 covering 12 events", written)
	}
	if _, err := store.Append(ctx, streamA, eventstore.Exact(6), newEvents("tail", 2)...); err != nil {
		t.Fatal(err)
	}
}

type wantFinding struct {
	kind    chain.Kind
	stream  string
	version uint64
}

func TestVerificationNamesTamperedEvents(t *testing.T) {
	scenarios := []struct {
		name   string
		tamper func(t *testing.T, store eventstore.Store, db database)
		want   []wantFinding
		// inStream: the dossier's own verification (VerifyStream) names the event too.
		inStream bool
	}{
		{
			name:     "nothing touched",
			tamper:   func(*testing.T, eventstore.Store, database) {},
			inStream: true,
		},
		{
			name: "data of a checkpointed event updated",
			tamper: func(t *testing.T, _ eventstore.Store, db database) {
				db.exec(t, `UPDATE `+db.table+` SET data = $1 WHERE stream = $2 AND version = $3`, `{"label":"forged"}`, streamA, 3)
			},
			want:     []wantFinding{{chain.KindAltered, streamA, 3}},
			inStream: true,
		},
		{
			name: "data of an event after the last checkpoint updated",
			tamper: func(t *testing.T, _ eventstore.Store, db database) {
				db.exec(t, `UPDATE `+db.table+` SET data = $1 WHERE stream = $2 AND version = $3`, `{"label":"forged"}`, streamA, 7)
			},
			want:     []wantFinding{{chain.KindAltered, streamA, 7}},
			inStream: true,
		},
		{
			name: "data of a stream's last event updated",
			tamper: func(t *testing.T, _ eventstore.Store, db database) {
				db.exec(t, `UPDATE `+db.table+` SET data = $1 WHERE stream = $2 AND version = $3`, `{"label":"forged"}`, streamB, 3)
			},
			want:     []wantFinding{{chain.KindAltered, streamB, 3}},
			inStream: true,
		},
		{
			name: "an event in the middle deleted",
			tamper: func(t *testing.T, _ eventstore.Store, db database) {
				db.exec(t, `DELETE FROM `+db.table+` WHERE stream = $1 AND version = $2`, streamA, 4)
			},
			want:     []wantFinding{{chain.KindRemoved, streamA, 4}},
			inStream: true,
		},
		{
			name: "a stream's last event deleted",
			tamper: func(t *testing.T, _ eventstore.Store, db database) {
				db.exec(t, `DELETE FROM `+db.table+` WHERE stream = $1 AND version = $2`, streamB, 3)
			},
			want: []wantFinding{{chain.KindRemoved, streamB, 3}},
		},
		{
			name: "two versions swapped",
			tamper: func(t *testing.T, _ eventstore.Store, db database) {
				swap := `UPDATE ` + db.table + ` SET version = $1 WHERE stream = $2 AND version = $3`
				db.exec(t, swap, 1000, streamA, 5)
				db.exec(t, swap, 5, streamA, 6)
				db.exec(t, swap, 6, streamA, 1000)
			},
			want:     []wantFinding{{chain.KindReordered, streamA, 5}, {chain.KindReordered, streamA, 6}},
			inStream: true,
		},
		{
			name: "data updated and every later link recomputed",
			tamper: func(t *testing.T, store eventstore.Store, db database) {
				db.exec(t, `UPDATE `+db.table+` SET data = $1 WHERE stream = $2 AND version = $3`, `{"label":"forged"}`, streamA, 2)
				relink(t, store, db, streamA, 2)
			},
			want:     []wantFinding{{chain.KindAltered, streamA, 2}},
			inStream: true,
		},
		{
			name: "a checkpoint's signed body altered",
			tamper: func(t *testing.T, store eventstore.Store, db database) {
				events, err := store.ReadStream(testContext(t), chain.CheckpointStream, 1)
				if err != nil {
					t.Fatal(err)
				}
				forged := strings.Replace(string(events[0].Data), `"total":4`, `"total":5`, 1)
				if forged == string(events[0].Data) {
					t.Fatalf("no total to forge in %s", events[0].Data)
				}
				db.exec(t, `UPDATE `+db.table+` SET data = $1 WHERE stream = $2 AND version = 1`, forged, chain.CheckpointStream)
			},
			want: []wantFinding{{chain.KindCheckpoint, chain.CheckpointStream, 1}},
		},
		{
			name: "a checkpoint deleted",
			tamper: func(t *testing.T, _ eventstore.Store, db database) {
				db.exec(t, `DELETE FROM `+db.table+` WHERE stream = $1 AND version = 2`, chain.CheckpointStream)
			},
			want: []wantFinding{{chain.KindCheckpoint, chain.CheckpointStream, 2}},
		},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					ctx := testContext(t)
					_, key, _ := ed25519.GenerateKey(rand.Reader)
					inner, db := b.open(t)
					store := chain.Wrap(inner)
					history(t, store, key)
					sc.tamper(t, store, db)

					report, err := chain.NewVerifier(store, key.Public().(ed25519.PublicKey)).VerifyAll(ctx)
					if err != nil {
						t.Fatal(err)
					}
					requireFindings(t, "VerifyAll", report.Findings, sc.want)
					if report.Checkpoints == 0 || report.Latest == nil {
						t.Fatalf("report counts no valid checkpoint: %+v", report)
					}
					if !sc.inStream {
						return
					}
					for _, stream := range []string{streamA, streamB, streamC} {
						sr, err := chain.NewVerifier(store, key.Public().(ed25519.PublicKey)).VerifyStream(ctx, stream)
						if err != nil {
							t.Fatal(err)
						}
						var want []wantFinding
						for _, w := range sc.want {
							if w.stream == stream {
								want = append(want, w)
							}
						}
						requireFindings(t, "VerifyStream("+stream+")", sr.Findings, want)
					}
				})
			}
		})
	}
}

// relink does what an attacker who knows the scheme does after altering an event: recompute the
// link of every later event of the stream, so that the links alone look intact.
func relink(t *testing.T, store eventstore.Store, db database, stream string, from uint64) {
	t.Helper()
	ctx := testContext(t)
	events, err := store.ReadStream(ctx, stream, from)
	if err != nil {
		t.Fatal(err)
	}
	prev := chain.Hash(stream, events[0].Version, events[0].EventData)
	for _, e := range events[1:] {
		db.setPrevHash(t, stream, e.Version, prev)
		e.Metadata.PrevHash = prev
		prev = chain.Hash(stream, e.Version, e.EventData)
	}
	relinked, err := store.ReadStream(ctx, stream, from)
	if err != nil {
		t.Fatal(err)
	}
	prev = chain.Hash(stream, relinked[0].Version, relinked[0].EventData)
	for _, e := range relinked[1:] {
		if e.Metadata.PrevHash != prev {
			t.Fatalf("relinking failed at version %d", e.Version)
		}
		prev = chain.Hash(stream, e.Version, e.EventData)
	}
}

// requireFindings checks that every wanted finding is reported and that no business stream other
// than the wanted ones is accused.
func requireFindings(t *testing.T, what string, got []chain.Finding, want []wantFinding) {
	t.Helper()
	accused := map[string]bool{chain.CheckpointStream: true}
	for _, w := range want {
		accused[w.stream] = true
		found := false
		for _, f := range got {
			if f.Kind == w.kind && f.Stream == w.stream && f.Version == w.version {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no %s finding for %s@%d among %s", what, w.kind, w.stream, w.version, describe(got))
		}
	}
	for _, f := range got {
		if !accused[f.Stream] || (len(want) == 0) {
			t.Errorf("%s: unexpected finding %s", what, f)
		}
	}
}

func describe(findings []chain.Finding) string {
	if len(findings) == 0 {
		return "no findings"
	}
	lines := make([]string, len(findings))
	for i, f := range findings {
		lines[i] = f.String()
	}
	data, _ := json.MarshalIndent(lines, "", "  ")
	return fmt.Sprintf("%d findings: %s", len(findings), data)
}
