package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
)

// scripts/cluster.sh --nats starts PostgreSQL, NATS JetStream and three nodes that become ready and
// share the consumers (each runs some), and SIGTERM stops them all and removes its files. The nodes are this test
// binary (MOTCUA_BIN), so the script builds only nats-server, once.
func TestClusterScriptStartsThreeReadyNodesAndStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, NATS and three nodes")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool to build nats-server")
	}
	if bin, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(bin) == 0 && os.Getenv("MOTCUA_PG_BINDIR") == "" {
		t.Skip("no PostgreSQL server binaries (scripts/ensure-postgres.sh installs them)")
	}
	base := freePortRun(t, 4) // node-i on base+i, NATS on base+4
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "../../scripts/cluster.sh", "--nats")
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT_BASE=%d", base), fmt.Sprintf("NATS_PORT=%d", base+4),
		"MOTCUA_BIN="+self, cliChildEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errs := &syncBuffer{}
	cmd.Stderr = errs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var said strings.Builder
	lines := make(chan string, 16)
	go func() {
		scanner := bufio.NewScanner(out)
		for scanner.Scan() {
			lines <- scanner.Text()
		}
		close(lines)
		done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-done
		}
	})
	nodes := map[string]bool{}
	started := time.Now()
	for len(nodes) < 3 {
		select {
		case line, open := <-lines:
			if !open {
				t.Fatalf("the script ended before starting three nodes:\n%s%s", said.String(), errs.String())
			}
			said.WriteString(line + "\n")
			if m := regexp.MustCompile(`^node-\d: (http://\S+)`).FindStringSubmatch(line); m != nil {
				nodes[m[1]] = true
			}
		case <-time.After(3 * time.Minute): // the first run builds nats-server
			t.Fatalf("the script did not start three nodes:\n%s%s", said.String(), errs.String())
		}
	}
	go func() {
		for range lines { // keep the pipe drained
		}
	}()
	root := regexp.MustCompile(`host=(\S+)/pg`).FindStringSubmatch(said.String())
	if root == nil || !strings.Contains(said.String(), fmt.Sprintf("NATS JetStream: nats://127.0.0.1:%d", base+4)) {
		t.Fatalf("the script did not say where PostgreSQL and NATS are:\n%s", said.String())
	}
	for node := range nodes {
		eventually(t, node+" is ready", func() bool {
			status, _ := get(node + "/readyz")
			return status == http.StatusOK
		})
	}
	t.Logf("three nodes ready %s after the script started", time.Since(started).Round(100*time.Millisecond))
	db, err := sql.Open("pgx", "postgres://motcua@/postgres?host="+root[1]+"/pg")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the consumers spread over the three nodes", func() bool {
		leases, err := engine.ListLeases(context.Background(), db)
		if err != nil {
			return false
		}
		owners := map[string]bool{}
		for _, l := range leases {
			if l.Owner != "" && !l.Expired {
				owners[l.Owner] = true
			}
		}
		return len(owners) == 3
	})
	db.Close()
	if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", base+4)); err != nil {
		t.Fatalf("NATS does not listen: %v", err)
	} else {
		conn.Close()
	}

	stopping := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the script ended with %v:\n%s", err, errs.String())
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("the script did not stop within 45 s:\n%s", errs.String())
	}
	t.Logf("stopped %s after SIGTERM", time.Since(stopping).Round(100*time.Millisecond))
	if _, err := os.Stat(root[1]); !os.IsNotExist(err) {
		t.Errorf("the script left %s behind", root[1])
	}
	for node := range nodes {
		if status, _ := get(node + "/healthz"); status != 0 {
			t.Errorf("%s still answers after the script stopped", node)
		}
	}
}

// freePortRun returns a port p such that p+1 … p+n are free on the loopback interface now.
func freePortRun(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if base+n > 65535 {
			continue
		}
		free := true
		for i := 1; i <= n && free; i++ {
			if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i)); err != nil {
				free = false
			} else {
				l.Close()
			}
		}
		if free {
			return base
		}
	}
	t.Fatal("no run of free ports")
	return 0
}
