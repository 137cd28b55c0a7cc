// Package pgtest runs throwaway PostgreSQL clusters for tests and benchmarks: initdb and pg_ctl on a
// temporary directory, listening only on a Unix socket inside it, so test runs never touch a shared
// server and never clash over TCP ports.
//
// Tests share one cluster per test binary and get a fresh database each:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.NewDatabase(t)
//		…
//	}
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoServerBinaries means no PostgreSQL server installation was found on this machine.
var ErrNoServerBinaries = errors.New("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found: run scripts/ensure-postgres.sh to install them")

// superuser is the cluster's bootstrap role; the cluster trusts every local connection.
const superuser = "postgres"

// settings go into the cluster's postgresql.conf. Durability settings stay at PostgreSQL's safe
// defaults because tests check that acknowledged events survive crashes; the rest make room for
// benchmarks with 64 writers and keep checkpoints out of short runs. shared_buffers is what a
// small production server would give (a quarter of 4 GB): the read models of the 1 M-event
// rebuild benchmark outgrow 256 MB. Linux maps it lazily, so idle test clusters do not hold it.
var settings = []string{
	"listen_addresses = ''",
	"fsync = on",
	"synchronous_commit = on",
	"full_page_writes = on",
	"max_connections = 300",
	"shared_buffers = 1GB",
	"max_wal_size = 2GB",
	"log_min_messages = warning",
	"log_checkpoints = off",
}

// Cluster is a running throwaway PostgreSQL cluster. Stop it to remove its files.
type Cluster struct {
	root    string // temporary directory: socket, data/ and server.log
	binDir  string
	runAs   *syscall.Credential // nil unless the test runs as root
	reaper  *exec.Cmd           // removes the cluster if this process dies without stopping it
	Version string              // server version, e.g. "15"
}

// StartCluster creates and starts a new cluster in a fresh temporary directory.
func StartCluster(ctx context.Context) (*Cluster, error) {
	binDir, err := findBinDir()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp(tempDirFor(os.Geteuid()), "motcua-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: temporary directory: %w", err)
	}
	c := &Cluster{root: root, binDir: binDir, Version: filepath.Base(filepath.Dir(binDir))}
	if err := c.start(ctx); err != nil {
		c.removeFiles()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root, and CI runs as root.
		cred, err := unprivilegedUser()
		if err != nil {
			return err
		}
		c.runAs = cred
		if err := os.Chown(c.root, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: chown %s: %w", c.root, err)
		}
	}
	if _, err := c.run(ctx, "initdb", "--pgdata", c.dataDir(), "--username", superuser, "--auth", "trust",
		"--encoding", "UTF8", "--no-locale", "--no-instructions"); err != nil {
		return err
	}
	conf := append([]string{"", "# pgtest", fmt.Sprintf("unix_socket_directories = '%s'", c.root)}, settings...)
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgtest: open postgresql.conf: %w", err)
	}
	_, err = f.WriteString(strings.Join(conf, "\n") + "\n")
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("pgtest: write postgresql.conf: %w", err)
	}
	if err := c.startReaper(); err != nil {
		return err
	}
	return c.pgctl(ctx, "start")
}

// DSN returns a connection URL for database on this cluster, as the superuser.
func (c *Cluster) DSN(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(superuser),
		Path:     "/" + database,
		RawQuery: url.Values{"host": {c.root}, "sslmode": {"disable"}}.Encode(),
	}
	return u.String()
}

// Restart stops the server (closing every connection) and starts it again on the same data, like
// a database failover or maintenance restart.
func (c *Cluster) Restart(ctx context.Context) error { return c.pgctl(ctx, "restart", "-m", "fast") }

// Pause stops the server, closing every connection, and keeps its files: until Resume, every
// connection attempt is refused, like a database that is down for maintenance.
func (c *Cluster) Pause(ctx context.Context) error { return c.pgctl(ctx, "stop", "-m", "fast") }

// Resume starts a paused server again on the same data.
func (c *Cluster) Resume(ctx context.Context) error { return c.pgctl(ctx, "start") }

// Stop shuts the server down and removes its files.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := c.pgctl(ctx, "stop", "-m", "immediate")
	if c.reaper != nil && c.reaper.Process != nil {
		_ = c.reaper.Process.Kill() // the cluster is being removed here; the reaper has nothing left to do
		_ = c.reaper.Wait()
	}
	c.removeFiles()
	return err
}

// LogTail returns the end of the server's log, for error messages.
func (c *Cluster) LogTail() string {
	data, err := os.ReadFile(c.logFile())
	if err != nil {
		return ""
	}
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

func (c *Cluster) pgctl(ctx context.Context, action string, args ...string) error {
	args = append([]string{"--pgdata", c.dataDir(), "--log", c.logFile(), "--wait", "--timeout", "60", action}, args...)
	if _, err := c.run(ctx, "pg_ctl", args...); err != nil {
		return fmt.Errorf("%w\nserver log:\n%s", err, c.LogTail())
	}
	return nil
}

// run runs one of the server's programs as the cluster's owner.
func (c *Cluster) run(ctx context.Context, program string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, program), args...)
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	if c.runAs != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.runAs}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("pgtest: %s %s: %w\n%s", program, strings.Join(args, " "), err, out.String())
	}
	return out.Bytes(), nil
}

// startReaper starts a detached shell that waits for this process to exit and then shuts the server
// down and deletes its files, so a test binary killed by a timeout or a signal leaves no server
// running on a shared machine.
func (c *Cluster) startReaper() error {
	script := `while kill -0 "$1" 2>/dev/null; do sleep 1; done
pid=$(head -n 1 "$2/data/postmaster.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null
sleep 2
rm -rf "$2"`
	cmd := exec.Command("/bin/sh", "-c", script, "pgtest-reaper", strconv.Itoa(os.Getpid()), c.root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlive the test's process group
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start reaper: %w", err)
	}
	c.reaper = cmd
	return nil
}

func (c *Cluster) removeFiles() { _ = os.RemoveAll(c.root) }

func (c *Cluster) dataDir() string { return filepath.Join(c.root, "data") }
func (c *Cluster) logFile() string { return filepath.Join(c.root, "server.log") }

// findBinDir looks for initdb, pg_ctl and postgres: $MOTCUA_PG_BINDIR, then PostgreSQL 15 (the
// version the project targets), then pg_config's, then the newest Debian installation.
func findBinDir() (string, error) {
	return firstServerBinDir(binDirCandidates())
}

func binDirCandidates() []string {
	var candidates []string
	if dir := os.Getenv("MOTCUA_PG_BINDIR"); dir != "" {
		candidates = append(candidates, dir)
	}
	candidates = append(candidates, "/usr/lib/postgresql/15/bin")
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	installed, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(installed, func(i, j int) bool { return versionOf(installed[i]) > versionOf(installed[j]) })
	return append(candidates, installed...)
}

func firstServerBinDir(candidates []string) (string, error) {
	for _, dir := range candidates {
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("pgtest: %w (looked in %s)", ErrNoServerBinaries, strings.Join(candidates, ", "))
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func hasServerBinaries(dir string) bool {
	for _, program := range []string{"initdb", "pg_ctl", "postgres"} {
		info, err := os.Stat(filepath.Join(dir, program))
		if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// unprivilegedUser returns the user to run the server as when the test runs as root.
func unprivilegedUser() (*syscall.Credential, error) {
	var lookupErrs []error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			lookupErrs = append(lookupErrs, err)
			continue
		}
		uid, errUID := strconv.ParseUint(u.Uid, 10, 32)
		gid, errGID := strconv.ParseUint(u.Gid, 10, 32)
		if errUID != nil || errGID != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
	}
	return nil, fmt.Errorf("pgtest: running as root and no unprivileged user to run PostgreSQL as: %w", errors.Join(lookupErrs...))
}

// tempDirFor picks where the cluster lives. Under root it is /tmp, which the unprivileged server
// user can always reach (root's $TMPDIR may not be); otherwise $TMPDIR unless it would push the
// socket path past the 107 bytes a Unix socket address allows.
func tempDirFor(euid int) string {
	dir := os.TempDir()
	if euid == 0 || len(dir) > 60 {
		return "/tmp"
	}
	return dir
}
