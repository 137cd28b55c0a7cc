// Package mailpittest runs a real SMTP server for tests: Mailpit (github.com/axllent/mailpit,
// pinned in tools/mailpit.mod, outside the module's own requirements so that its dependencies do
// not move ours), with STARTTLS, authentication and its chaos triggers, and reads back what it
// received through its HTTP API.
//
// The binary is $MOTCUA_MAILPIT when set; otherwise it is built once from tools/mailpit.mod into
// the user's cache directory (a few minutes the first time).
package mailpittest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the Mailpit version tools/mailpit.mod pins.
const Version = "v1.33.1"

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Binary returns the path of the Mailpit program, building it the first time.
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		if path := os.Getenv("MOTCUA_MAILPIT"); path != "" {
			binary = path
			return
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		binary = filepath.Join(cache, "motcua", "mailpit-"+Version)
		if _, err := os.Stat(binary); err == nil {
			return
		}
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-modfile=tools/mailpit.mod", "-o", binary, "github.com/axllent/mailpit")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build mailpit: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatalf("mailpittest: %v (or set MOTCUA_MAILPIT to a mailpit %s binary)", buildErr, Version)
	}
	return binary
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "mailpit.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("tools/mailpit.mod not found above the working directory")
		}
		dir = parent
	}
}

// Options configure a server.
type Options struct {
	// StartTLS offers STARTTLS with a fresh self-signed certificate and requires it.
	StartTLS bool
	// Username and Password, when set, are the only credentials accepted.
	Username, Password string
	// Chaos sets Mailpit's chaos triggers, e.g. "Recipient:451:30" (refuse 30 % of recipients
	// with 451).
	Chaos string
	// IgnoreDuplicateIDs makes the server keep one message per Message-ID, as a receiver that
	// recognises a message sent again does.
	IgnoreDuplicateIDs bool
}

// Server is a running Mailpit.
type Server struct {
	// SMTPAddr is the SMTP listener's host:port; APIURL the HTTP API's base URL.
	SMTPAddr, APIURL string
	// RootCAs trusts the server's certificate (StartTLS).
	RootCAs *x509.CertPool
	cmd     *exec.Cmd
	args    []string
	dir     string
}

// Start runs Mailpit until the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	dir := tb.TempDir()
	s := &Server{SMTPAddr: freeAddr(tb), dir: dir}
	httpAddr := freeAddr(tb)
	s.APIURL = "http://" + httpAddr
	s.args = []string{"--smtp", s.SMTPAddr, "--listen", httpAddr, "--database", filepath.Join(dir, "mailpit.db"),
		"--smtp-disable-rdns", "--quiet"}
	if opts.StartTLS {
		certFile, keyFile, pool := selfSigned(tb, dir)
		s.RootCAs = pool
		s.args = append(s.args, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-require-starttls")
	}
	if opts.Username != "" {
		sum := sha1.Sum([]byte(opts.Password))
		authFile := filepath.Join(dir, "smtp-auth")
		line := opts.Username + ":{SHA}" + base64.StdEncoding.EncodeToString(sum[:]) + "\n"
		if err := os.WriteFile(authFile, []byte(line), 0o600); err != nil {
			tb.Fatal(err)
		}
		s.args = append(s.args, "--smtp-auth-file", authFile)
	}
	if opts.IgnoreDuplicateIDs {
		s.args = append(s.args, "--ignore-duplicate-ids")
	}
	if opts.Chaos != "" {
		s.args = append(s.args, "--chaos-triggers", opts.Chaos)
	}
	s.start(tb)
	tb.Cleanup(s.Stop)
	return s
}

func (s *Server) start(tb testing.TB) {
	tb.Helper()
	s.cmd = exec.Command(Binary(tb), s.args...)
	s.cmd.Stdout, s.cmd.Stderr = os.Stderr, os.Stderr
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("mailpittest: start: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.APIURL + "/api/v1/info")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if conn, err := net.DialTimeout("tcp", s.SMTPAddr, time.Second); err == nil {
					conn.Close()
					return
				}
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			tb.Fatalf("mailpittest: mailpit did not start on %s", s.SMTPAddr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the server (its messages stay in its database for a Restart).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart stops the server and starts it again on the same addresses and database.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop()
	s.start(tb)
}

// Address is a mailbox as the API reports it.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Message is one received message as the API reports it.
type Message struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
	Text      string    `json:"Text"`
}

// Messages returns every message received, oldest first, with its text.
func (s *Server) Messages(tb testing.TB) []Message {
	tb.Helper()
	var all []Message
	for start := 0; ; {
		var page struct {
			Total    int       `json:"total"`
			Messages []Message `json:"messages"`
		}
		s.get(tb, fmt.Sprintf("/api/v1/messages?start=%d&limit=500", start), &page)
		all = append(all, page.Messages...)
		start += len(page.Messages)
		if len(page.Messages) == 0 || start >= page.Total {
			break
		}
	}
	for i := range all {
		var full Message
		s.get(tb, "/api/v1/message/"+url.PathEscape(all[i].ID), &full)
		all[i].Text = full.Text
	}
	// The API lists the newest first.
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all
}

// Headers returns a message's headers.
func (s *Server) Headers(tb testing.TB, id string) map[string][]string {
	tb.Helper()
	var headers map[string][]string
	s.get(tb, "/api/v1/message/"+url.PathEscape(id)+"/headers", &headers)
	return headers
}

func (s *Server) get(tb testing.TB, path string, into any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.APIURL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("mailpittest: GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("mailpittest: GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		tb.Fatalf("mailpittest: GET %s: %v", path, err)
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

// selfSigned writes a certificate for 127.0.0.1 and localhost and returns its files and a pool
// trusting it.
func selfSigned(tb testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "mailpittest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "smtp.crt"), filepath.Join(dir, "smtp.key")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		tb.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, pool
}

// HeaderValue returns the first value of header name, or "".
func HeaderValue(headers map[string][]string, name string) string {
	for k, v := range headers {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
