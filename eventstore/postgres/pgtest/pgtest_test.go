package pgtest_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestDatabasesAreIsolated(t *testing.T) {
	ctx := context.Background()
	first := connect(t, pgtest.NewDatabase(t))
	second := connect(t, pgtest.NewDatabase(t))
	if _, err := first.Exec(ctx, "CREATE TABLE only_in_first (id int)"); err != nil {
		t.Fatal(err)
	}
	var exists bool
	if err := second.QueryRow(ctx, "SELECT to_regclass('only_in_first') IS NOT NULL").Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatal("a table created in one test database is visible in another")
	}
}

func TestClusterIsDurableAndSocketOnly(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	for setting, want := range map[string]string{
		"fsync":              "on",
		"synchronous_commit": "on",
		"listen_addresses":   "",
	} {
		var got string
		if err := conn.QueryRow(context.Background(), "SELECT current_setting($1)", setting).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", setting, got, want)
		}
	}
	if !strings.Contains(pgtest.Start(t), "host=%2F") {
		t.Errorf("DSN %s does not name a socket directory", pgtest.Start(t))
	}
}

func TestRestartKeepsCommittedData(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	before := connect(t, dsn)
	if _, err := before.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('committed')"); err != nil {
		t.Fatal(err)
	}
	pgtest.Restart(t)
	if err := before.Ping(ctx); err == nil {
		t.Fatal("a connection opened before the restart still works")
	}
	var v string
	if err := connect(t, dsn).QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "committed" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
}

func TestStopRemovesFiles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cluster, err := pgtest.StartCluster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, cluster.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	socketDir := socketDirOf(t, cluster.DSN("postgres"))
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(socketDir); !os.IsNotExist(err) {
		t.Fatalf("cluster directory %s still exists after Stop (stat: %v)", socketDir, err)
	}
}

func socketDirOf(t *testing.T, dsn string) string {
	t.Helper()
	config, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return config.Host
}
