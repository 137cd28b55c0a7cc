// Package versitygwtest runs a real S3-compatible server for tests: Versity's S3 gateway
// (github.com/versity/versitygw, pinned in tools/versitygw.mod, outside the module's own
// requirements so that its dependencies do not move ours) over a throwaway directory. It is strict
// as AWS is: every request must be signed, with the payload's SHA-256.
//
// The binary is $MOTCUA_VERSITYGW when set, else the one scripts/ensure-versitygw.sh built into the
// user's cache directory. Building it takes about five minutes, too long to do unasked in a
// developer's `go test`: when it is missing the tests skip, saying how to build it — except in CI
// ($CI set, as scripts/test.sh's callers and every CI service set it), where they build it and
// never skip.
package versitygwtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Version is the versitygw version tools/versitygw.mod pins.
const Version = "v1.8.0"

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Binary returns the path of the versitygw program. It skips tb when the program is not built
// and this is not CI; in CI it builds it the first time.
func Binary(tb testing.TB) string {
	tb.Helper()
	if path := os.Getenv("MOTCUA_VERSITYGW"); path != "" {
		return path
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	target := filepath.Join(cache, "motcua", "versitygw-"+Version)
	if _, err := os.Stat(target); err == nil {
		return target
	}
	if os.Getenv("CI") == "" {
		tb.Skipf("S3 tests SKIPPED: versitygw %s is not built at %s; run scripts/ensure-versitygw.sh (about five minutes, once) or set MOTCUA_VERSITYGW (in CI the tests build it themselves)", Version, target)
	}
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-modfile=tools/versitygw.mod", "-o", target, "github.com/versity/versitygw/cmd/versitygw")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build versitygw: %v\n%s", err, out)
		}
		binary = target
	})
	if buildErr != nil {
		tb.Fatalf("versitygwtest: %v (or set MOTCUA_VERSITYGW to a versitygw %s binary)", buildErr, Version)
	}
	return binary
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "versitygw.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("tools/versitygw.mod not found above the working directory")
		}
		dir = parent
	}
}

// Server is a running gateway.
type Server struct {
	Endpoint  string // host:port, plain HTTP
	AccessKey string // the root user's
	SecretKey string
	Dir       string // the directory it serves: one folder per bucket
}

// Start runs versitygw over a fresh directory until the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := Binary(tb)
	secret := make([]byte, 20)
	if _, err := rand.Read(secret); err != nil {
		tb.Fatal(err)
	}
	s := &Server{Endpoint: freeAddr(tb), AccessKey: "motcua-test", SecretKey: hex.EncodeToString(secret), Dir: tb.TempDir()}
	cmd := exec.Command(bin, "--access", s.AccessKey, "--secret", s.SecretKey, "--port", s.Endpoint, "--quiet", "posix", s.Dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("versitygwtest: start: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if conn, err := net.DialTimeout("tcp", s.Endpoint, time.Second); err == nil {
			conn.Close()
			return s
		}
		select {
		case err := <-exited:
			tb.Fatalf("versitygwtest: versitygw exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("versitygwtest: versitygw did not listen on %s", s.Endpoint)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
