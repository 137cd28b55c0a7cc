package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/projections"
)

// A test cluster: nodes of `motcua serve` (each a process of its own) on one PostgreSQL database,
// sharing one data directory (the token and integrity keys).
type testCluster struct {
	t       *testing.T
	dsn     string
	dataDir string
	token   string
	nodes   map[string]*testNode
	db      *sql.DB
	// bus is serve's --bus: empty for the in-process transport.
	bus string

	mu    sync.Mutex
	codes []string
}

type testNode struct {
	name, base string
	child      *childProcess
}

func newTestCluster(t *testing.T) *testCluster {
	t.Helper()
	return newTestClusterOn(t, pgtest.NewDatabaseInTurn(t))
}

// newTestClusterOn is a test cluster on the database at dsn.
func newTestClusterOn(t *testing.T, dsn string) *testCluster {
	t.Helper()
	c := &testCluster{t: t, dsn: dsn, dataDir: t.TempDir(), nodes: map[string]*testNode{}}
	var out strings.Builder
	if err := run(context.Background(), []string{"token", "--data", c.dataDir, "--sub", "tn01", "--name", "Lê Thị Hoa",
		"--role", "reception", "--agency", "000.00.00.H56"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	c.token = strings.TrimSpace(out.String())
	db, err := sql.Open("pgx", c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c.db = db
	return c
}

// start starts the named nodes together.
func (c *testCluster) start(names ...string) {
	for _, name := range names {
		addr := freeAddr(c.t)
		// Each node's connections carry its name, so the audit (auditCheckpointWrites) tells who wrote.
		sep := "?"
		if strings.Contains(c.dsn, "?") {
			sep = "&"
		}
		dsn := c.dsn + sep + "application_name=" + name
		args := []string{"serve", "--store", dsn, "--data", c.dataDir, "--addr", addr, "--node", name, "--public-per-minute", "1000000"}
		if c.bus != "" {
			args = append(args, "--bus", c.bus)
		}
		c.nodes[name] = &testNode{name: name, base: "http://" + addr, child: startChild(c.t, args)}
	}
	for _, name := range names {
		n := c.nodes[name]
		c.t.Cleanup(func() {
			if c.t.Failed() {
				c.t.Logf("node %s said:\n%s", n.name, tail(n.child.out.String(), 60))
			}
		})
		eventually(c.t, "node "+name+" is ready", func() bool {
			status, _ := get(n.base + "/readyz")
			return status == http.StatusOK
		})
	}
}

// auditCheckpointWrites records, for every checkpoint write from now on, the node that wrote it
// (its connection's application_name) and the lease's owner as the writing transaction saw it.
func (c *testCluster) auditCheckpointWrites() {
	c.t.Helper()
	_, err := c.db.Exec(`CREATE TABLE checkpoint_writes (name TEXT, writer TEXT, owner TEXT, token BIGINT, at TIMESTAMPTZ DEFAULT clock_timestamp());
		CREATE FUNCTION audit_checkpoint_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			INSERT INTO checkpoint_writes (name, writer, owner, token)
				SELECT NEW.name, current_setting('application_name'), l.owner, l.token FROM consumer_leases l WHERE l.name = NEW.name;
			RETURN NEW; END $$;
		CREATE TRIGGER audit_checkpoint_write AFTER INSERT OR UPDATE ON projection_checkpoints
			FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_write()`)
	if err != nil {
		c.t.Fatal(err)
	}
}

// checkWritesByOwners checks that every node's checkpoint write was made while it held the lease.
func (c *testCluster) checkWritesByOwners() {
	c.t.Helper()
	var writes, foreign int
	err := c.db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE owner IS DISTINCT FROM writer) FROM checkpoint_writes
		WHERE writer = ANY($1)`, slices.Collect(maps.Keys(c.nodes))).Scan(&writes, &foreign)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("%d checkpoint writes by the nodes, %d by a node that did not hold the lease", writes, foreign)
	if writes == 0 || foreign > 0 {
		c.t.Errorf("%d of %d checkpoint writes were made by a node that did not hold the consumer's lease", foreign, writes)
	}
}

// leases returns each consumer's owner, counting only leases held and not expired.
func (c *testCluster) leases() map[string]string {
	c.t.Helper()
	leases, err := engine.ListLeases(context.Background(), c.db)
	if err != nil {
		c.t.Fatal(err)
	}
	owners := map[string]string{}
	for _, l := range leases {
		if l.Owner != "" && !l.Expired {
			owners[l.Name] = l.Owner
		}
	}
	return owners
}

// consumers are the consumers of the log the nodes run (the read models and the timers: no
// notifications), as their leases name them.
func (c *testCluster) consumers() []string {
	c.t.Helper()
	leases, err := engine.ListLeases(context.Background(), c.db)
	if err != nil {
		c.t.Fatal(err)
	}
	var names []string
	for _, l := range leases {
		names = append(names, l.Name)
	}
	if len(names) <= len(projections.Names()) {
		c.t.Fatalf("leases for %v, want every read model and the timers", names)
	}
	return names
}

// spread waits until every consumer runs on one of the living nodes, none more than its fair share.
func (c *testCluster) spread(living ...string) map[string]string {
	c.t.Helper()
	var owners map[string]string
	eventually(c.t, fmt.Sprintf("the consumers spread over %v", living), func() bool {
		owners = c.leases()
		count := map[string]int{}
		for _, name := range c.consumers() {
			owner := owners[name]
			if !slices.Contains(living, owner) {
				return false
			}
			count[owner]++
		}
		fair := (len(c.consumers()) + len(living) - 1) / len(living)
		for _, n := range living {
			if count[n] > fair || count[n] == 0 {
				return false
			}
		}
		return true
	})
	return owners
}

// load receives dossiers through the nodes named, in turn, until ctx ends; every code answered is
// kept. Answers other than 201 are allowed only while a node is being killed (503, refused).
func (c *testCluster) load(ctx context.Context, workers int, nodes ...string) *sync.WaitGroup {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			client := http.Client{Timeout: 10 * time.Second}
			for i := w; ctx.Err() == nil; i++ {
				n := c.nodes[nodes[i%len(nodes)]]
				body := `{"procedure_code": "1.013225", "channel": "direct", "applicant": {"type": "citizen", "name": "Nguyễn Văn An",
					"id_number": "038012345678", "phone": "0912345678", "address": "12 Lê Lợi, TP Thanh Hóa"},
					"components": [{"name": "Đơn đề nghị cấp giấy phép xây dựng", "copies": 1}]}`
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, n.base+"/api/v1/dossiers", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+c.token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusCreated:
					if m := regexp.MustCompile(`"code":"([^"]+)"`).FindSubmatch(raw); m != nil {
						c.mu.Lock()
						c.codes = append(c.codes, string(m[1]))
						c.mu.Unlock()
					}
				case http.StatusServiceUnavailable:
				default:
					c.t.Errorf("node %s answered %d to a receipt: %s", n.name, resp.StatusCode, raw)
				}
			}
		})
	}
	return &wg
}

// settled waits until every consumer has applied the whole log, and returns the log's length.
func (c *testCluster) settled() int {
	c.t.Helper()
	ctx := context.Background()
	b, err := openBackend(ctx, c.dsn, c.dataDir, false)
	if err != nil {
		c.t.Fatal(err)
	}
	defer b.Close()
	eventually(c.t, "every consumer applied the whole log", func() bool {
		for _, name := range c.consumers() {
			lag, err := engine.MeasureLag(ctx, b.Store, b.ReadDB, name, 0)
			if err != nil || lag.Events > 0 {
				return false
			}
		}
		return true
	})
	var events int
	if err := c.db.QueryRow(`SELECT count(*) FROM eventstore.events`).Scan(&events); err != nil {
		c.t.Fatal(err)
	}
	return events
}

// applied returns the node's motcua_projection_events_applied_total, by consumer.
func (c *testCluster) applied(node string) map[string]int {
	c.t.Helper()
	status, body := get(c.nodes[node].base + "/metrics")
	if status != http.StatusOK {
		c.t.Fatalf("node %s: /metrics answered %d", node, status)
	}
	counts := map[string]int{}
	pattern := regexp.MustCompile(`^motcua_projection_events_applied_total\{projection="([^"]+)"\} (\S+)$`)
	scanner := bufio.NewScanner(strings.NewReader(body))
	for scanner.Scan() {
		if m := pattern.FindStringSubmatch(scanner.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			counts[m[1]] = int(v)
		}
	}
	return counts
}

// checkAppliedOnce checks that, summed over the nodes, each consumer applied each event of the log once.
func (c *testCluster) checkAppliedOnce(events int, counts ...map[string]int) {
	c.t.Helper()
	for _, name := range c.consumers() {
		sum := 0
		for _, m := range counts {
			sum += m[name]
		}
		if sum != events {
			c.t.Errorf("%s: the nodes applied %d events in all, the log holds %d", name, sum, events)
		}
	}
}

// checkRebuildEqual checks that every read model holds what a fresh rebuild gives, and that no
// dossier code was given twice.
func (c *testCluster) checkRebuildEqual() {
	c.t.Helper()
	before := c.dumpReadModels()
	if err := run(context.Background(), []string{"projections", "rebuild", "--store", c.dsn, "--data", c.dataDir}, io.Discard, io.Discard); err != nil {
		c.t.Fatal(err)
	}
	if after := c.dumpReadModels(); after != before {
		c.t.Errorf("the read models differ from a fresh rebuild")
	}
	var duplicated int
	if err := c.db.QueryRow(`SELECT count(*) FROM (SELECT code FROM public_status GROUP BY code HAVING count(*) > 1) d`).Scan(&duplicated); err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	codes := slices.Clone(c.codes)
	c.mu.Unlock()
	sort.Strings(codes)
	if duplicated > 0 || len(slices.Compact(codes)) != len(c.codes) {
		c.t.Errorf("dossier codes given twice: %d in the read model, %d of %d answers", duplicated, len(c.codes)-len(slices.Compact(codes)), len(c.codes))
	}
	var rows int
	if err := c.db.QueryRow(`SELECT count(*) FROM public_status`).Scan(&rows); err != nil {
		c.t.Fatal(err)
	}
	if rows < len(c.codes) || len(c.codes) == 0 {
		c.t.Errorf("the public status holds %d dossiers, %d were received", rows, len(c.codes))
	}
}

func (c *testCluster) dumpReadModels() string {
	c.t.Helper()
	var b strings.Builder
	for _, consumer := range projections.All() {
		for _, table := range consumer.Tables() {
			rows, err := c.db.Query(`SELECT t::text FROM ` + table + ` t ORDER BY 1`)
			if err != nil {
				c.t.Fatal(err)
			}
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					c.t.Fatal(err)
				}
				b.WriteString(table + " " + line + "\n")
			}
			if err := rows.Close(); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	return b.String()
}

func tail(s string, lines int) string {
	all := strings.Split(s, "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// Three nodes started together on an empty PostgreSQL database share the consumers of the log, a
// fair share each; under load through all three, the node running the most is killed with SIGKILL:
// its consumers resume on the others within 10 s from their checkpoints, every read model equals a
// fresh rebuild, no event was applied twice (the nodes' counters sum to the log's length), no
// dossier code was given twice, and an SSE client on a surviving node saw every change made through
// every node, the victim's before it died and the others' after. Once with the in-process
// transport, once with NATS JetStream.
func TestThreeNodesShareTheConsumersAndFailOver(t *testing.T) {
	t.Run("in-process", func(t *testing.T) { threeNodesFailOver(t, newTestCluster(t)) })
	t.Run("nats", func(t *testing.T) {
		c := newTestCluster(t)
		c.bus = startNATS(t)
		threeNodesFailOver(t, c)
	})
}

func threeNodesFailOver(t *testing.T, c *testCluster) {
	names := []string{"n1", "n2", "n3"}
	c.start(names...)
	owners := c.spread(names...)
	c.auditCheckpointWrites()
	t.Logf("leases at start: %v", owners)

	ctx, cancel := context.WithCancel(context.Background())
	load := c.load(ctx, 6, names...)
	time.Sleep(3 * time.Second)
	cancel()
	load.Wait()
	count := map[string]int{}
	for _, owner := range owners {
		count[owner]++
	}
	victim := names[0]
	for _, n := range names {
		if count[n] > count[victim] {
			victim = n
		}
	}
	var survivors []string
	for _, n := range names {
		if n != victim {
			survivors = append(survivors, n)
		}
	}

	// An SSE client on a surviving node watches a dossier received through each node; the
	// victim's is transferred through the victim before it dies, the others' through the others
	// after: the client sees every change.
	watcher := survivors[len(survivors)-1]
	feeds, watched := map[string]<-chan string{}, map[string]string{}
	for _, n := range names {
		watched[n] = c.receive(n)
		feeds[n] = c.watch(watcher, watched[n])
	}
	c.transferWatched(victim, feeds[victim], watched[victim])
	c.settled()

	// Its counters are read just before it dies (the load paused, every event applied), then the
	// load starts again at once, through all three: the victim's share fails while it is dead.
	before := c.applied(victim)
	c.nodes[victim].child.kill(t)
	killed := time.Now()
	ctx, cancel = context.WithCancel(context.Background())
	load = c.load(ctx, 6, names...)
	eventually(t, "the victim's consumers run elsewhere", func() bool {
		held := c.leases()
		for _, name := range c.consumers() {
			if owner := held[name]; owner == "" || owner == victim {
				return false
			}
		}
		return true
	})
	moved := time.Since(killed)
	t.Logf("%s (running %d consumers) killed; they ran elsewhere after %s", victim, count[victim], moved.Round(10*time.Millisecond))
	if moved > 10*time.Second {
		t.Errorf("the consumers of the dead node moved after %s, want within 10 s", moved)
	}
	for _, n := range survivors {
		c.transferWatched(n, feeds[n], watched[n])
	}
	time.Sleep(2 * time.Second)
	cancel()
	load.Wait()
	events := c.settled()
	t.Logf("leases after the failover: %v; %d events, %d dossiers", c.spread(survivors...), events, len(c.codes))
	counts := []map[string]int{before}
	for _, n := range survivors {
		counts = append(counts, c.applied(n))
	}
	c.checkAppliedOnce(events, counts...)
	c.checkWritesByOwners()
	c.checkRebuildEqual()

	// A node stopped as an operator stops it (SIGTERM) hands its leases back as it goes: the last
	// node runs them at once, without waiting for them to expire.
	c.nodes[survivors[0]].child.stop(t)
	stopped := time.Now()
	c.spread(survivors[1])
	t.Logf("%s stopped; %s ran every consumer %s later", survivors[0], survivors[1], time.Since(stopped).Round(10*time.Millisecond))
	if took := time.Since(stopped); took >= engine.DefaultLeaseTTL {
		t.Errorf("the consumers of a node stopped gracefully moved after %s, as if it had died", took)
	}
	c.nodes[survivors[1]].child.stop(t)
}

// A node paused (SIGSTOP) past its leases' expiry, then woken (SIGCONT), writes nothing more: the
// other node took its consumers, and the fencing token checked in every write transaction refuses
// the paused node's writes, which it had ready to go.
func TestPausedNodeWritesNothingAfterItsLeasesWent(t *testing.T) {
	c := newTestCluster(t)
	c.start("z1", "z2")
	owners := c.spread("z1", "z2")
	t.Logf("leases at start: %v", owners)
	c.auditCheckpointWrites()
	ctx, cancel := context.WithCancel(context.Background())
	load := c.load(ctx, 4, "z1", "z2")
	time.Sleep(2 * time.Second)
	cancel()
	load.Wait()
	c.settled()
	before := c.applied("z1")

	zombie := c.nodes["z1"].child.cmd.Process
	if err := zombie.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	ctx, cancel = context.WithCancel(context.Background())
	load = c.load(ctx, 4, "z2")
	c.spread("z2")
	t.Logf("z2 runs every consumer %s after z1 was paused", time.Since(paused).Round(10*time.Millisecond))
	woke := len(c.nodes["z1"].child.out.String())
	if err := zombie.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	cancel()
	load.Wait()
	events := c.settled()
	after := c.applied("z1")
	// Once awake, z1 counts as alive again and takes a fair share back, legitimately, with new
	// tokens (it logs "consumer runs here"): only the consumers it did not take back must show no
	// event applied since the pause.
	retaken := map[string]bool{}
	for _, m := range regexp.MustCompile(`consumer runs here".* projection=(\S+)`).FindAllStringSubmatch(c.nodes["z1"].child.out.String()[woke:], -1) {
		retaken[m[1]] = true
	}
	t.Logf("z1 took back %v after it woke", retaken)
	for _, name := range c.consumers() {
		if !retaken[name] && after[name] != before[name] {
			t.Errorf("%s: the paused node applied %d events after it lost its lease", name, after[name]-before[name])
		}
	}
	c.checkAppliedOnce(events, after, c.applied("z2"))
	c.checkWritesByOwners()
	c.checkRebuildEqual()
	out := c.nodes["z1"].child.out.String()
	if !strings.Contains(out, "lost") {
		// Its lease lines: the tail is mostly the transport's retries of the runs that ended.
		var said []string
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "leases:") || strings.Contains(line, "consumer ") {
				said = append(said, line)
			}
		}
		t.Errorf("the woken node did not say it lost its leases:\n%s", strings.Join(said, "\n"))
	}
}

// A live feed on a node that does not run the public status view sees each change made through
// another node at once — the node that runs the view notifies every node through PostgreSQL's
// LISTEN/NOTIFY — rather than at its next poll, up to a second later.
func TestLiveFeedOnOneNodeSeesChangesMadeThroughAnother(t *testing.T) {
	c := newTestCluster(t)
	c.start("f1", "f2")
	owners := c.spread("f1", "f2")
	runner := owners[projections.PublicStatusView{}.Name()]
	watcher := "f1"
	if runner == "f1" {
		watcher = "f2"
	}
	var slowest time.Duration
	for i := range 5 {
		code := c.receive(runner)
		eventually(t, "the dossier is in the public status", func() bool {
			status, _ := get(c.nodes[watcher].base + "/api/v1/public/dossiers/" + code)
			return status == http.StatusOK
		})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.nodes[watcher].base+"/api/v1/public/dossiers/"+code+"/events", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		ids := make(chan string, 10)
		go func() {
			scanner := bufio.NewScanner(resp.Body)
			for scanner.Scan() {
				if id, ok := strings.CutPrefix(scanner.Text(), "id: "); ok {
					ids <- id
				}
			}
			close(ids)
		}()
		if first := <-ids; first != "1" {
			t.Fatalf("the feed's first event is version %q, want 1", first)
		}
		c.act(runner, code, "transfer", `{"step": "Thẩm định hồ sơ", "to_official_id": "cv01", "to_official_name": "Trần Văn Nam"}`)
		acted := time.Now()
		next := <-ids
		took := time.Since(acted)
		slowest = max(slowest, took)
		cancel()
		resp.Body.Close()
		if next != "2" {
			t.Fatalf("the feed's next event is version %q, want 2", next)
		}
		t.Logf("change %d through %s seen on %s after %s", i+1, runner, watcher, took.Round(time.Millisecond))
	}
	if slowest > 500*time.Millisecond {
		t.Errorf("a feed saw a change made through another node after %s; the fan-out wakes it at once", slowest)
	}
}

// watch opens the live feed of dossier code on node, once the dossier is in the node's public
// status, and returns the ids (versions) of the events it sends; its first is the receipt's.
func (c *testCluster) watch(node, code string) <-chan string {
	c.t.Helper()
	eventually(c.t, "the dossier is in the public status", func() bool {
		status, _ := get(c.nodes[node].base + "/api/v1/public/dossiers/" + code)
		return status == http.StatusOK
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.nodes[node].base+"/api/v1/public/dossiers/"+code+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cancel(); resp.Body.Close() })
	ids := make(chan string, 10)
	go func() {
		defer close(ids)
		scanner := bufio.NewScanner(resp.Body)
		for scanner.Scan() {
			if id, ok := strings.CutPrefix(scanner.Text(), "id: "); ok {
				ids <- id
			}
		}
	}()
	c.expectFeed(ids, "1", code+"'s receipt")
	return ids
}

// transferWatched transfers a watched dossier through node and checks that its feed shows it.
func (c *testCluster) transferWatched(node string, feed <-chan string, code string) {
	c.t.Helper()
	c.act(node, code, "transfer", `{"step": "Thẩm định hồ sơ", "to_official_id": "cv01", "to_official_name": "Trần Văn Nam"}`)
	c.expectFeed(feed, "2", fmt.Sprintf("the transfer of %s through %s", code, node))
}

// expectFeed waits for the next id of a feed.
func (c *testCluster) expectFeed(feed <-chan string, want, what string) {
	c.t.Helper()
	select {
	case id, open := <-feed:
		if !open || id != want {
			c.t.Fatalf("the live feed sent %q (open: %t) for %s, want version %s", id, open, what, want)
		}
	case <-time.After(15 * time.Second):
		c.t.Fatalf("the live feed did not show %s within 15 s", what)
	}
}

// receive receives a dossier through node and returns its code.
func (c *testCluster) receive(node string) string {
	c.t.Helper()
	answer := c.post(node, "/api/v1/dossiers", `{"procedure_code": "1.013225", "channel": "direct", "applicant": {"type": "citizen",
		"name": "Nguyễn Văn An", "id_number": "038012345678", "phone": "0912345678", "address": "12 Lê Lợi, TP Thanh Hóa"},
		"components": [{"name": "Đơn đề nghị cấp giấy phép xây dựng", "copies": 1}]}`, http.StatusCreated)
	m := regexp.MustCompile(`"code":"([^"]+)"`).FindStringSubmatch(answer)
	if m == nil {
		c.t.Fatalf("no code in %s", answer)
	}
	c.mu.Lock()
	c.codes = append(c.codes, m[1])
	c.mu.Unlock()
	return m[1]
}

// act takes action on dossier code through node.
func (c *testCluster) act(node, code, action, body string) {
	c.t.Helper()
	c.post(node, "/api/v1/dossiers/"+code+"/"+action, body, http.StatusOK)
}

func (c *testCluster) post(node, path, body string, want int) string {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.nodes[node].base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("POST %s through %s: %d %s, want %d", path, node, resp.StatusCode, raw, want)
	}
	return string(raw)
}

// startNATS runs a real NATS server with JetStream in this process, for the nodes' --bus.
func startNATS(t *testing.T) string {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns.ClientURL()
}
