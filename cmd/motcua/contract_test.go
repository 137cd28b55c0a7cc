package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/internal/contracttest"
)

// Every `motcua serve` a test of this package runs in-process serves through the API contract's
// checker (internal/contracttest; TestMain sets checkServed): each call to /api/v1 (and the
// probes) the test makes, and each call its pages make to the API for it, is checked against
// docs/openapi.yaml with its answer. The test that started serve with contractCheckedBy hears of
// each mismatch when it ends, as an error; what no test heard of (a serve started without one, a
// call still running when its test ended) TestMain prints and fails the package with.

// contractReporter hears of the mismatches in the calls to one serve: the test that started it
// (a testing.TB is one).
type contractReporter interface {
	Cleanup(func())
	Errorf(format string, args ...any)
}

type contractReporterKey struct{}

// contractCheckedBy returns ctx naming r as who hears of the contract's mismatches in the calls
// to a serve run with it.
func contractCheckedBy(ctx context.Context, r contractReporter) context.Context {
	return context.WithValue(ctx, contractReporterKey{}, r)
}

// servedCheck is the checker of one serve and how many of its mismatches were reported.
type servedCheck struct {
	checker  *contracttest.Checker
	mu       sync.Mutex
	reported int
}

// report hands to each mismatch not yet reported.
func (s *servedCheck) report(to func(failure string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	failures := s.checker.Failures()
	for _, f := range failures[s.reported:] {
		to(f)
	}
	s.reported = len(failures)
}

// servedChecks are the checkers of every serve the tests started, for TestMain's last report.
var servedChecks struct {
	sync.Mutex
	all []*servedCheck
}

// checkServedContract is checkServed in the tests: server serves through a checker of its own,
// the pages' calls to the API included; the test named in ctx hears of the mismatches at its end.
func checkServedContract(ctx context.Context, server *mhttp.Server) http.Handler {
	return newServedCheck(ctx, server).checker
}

func newServedCheck(ctx context.Context, server *mhttp.Server) *servedCheck {
	checker, err := contracttest.New(server, server.Routes())
	if err != nil {
		panic(err) // TestMain loaded the contract before any test ran
	}
	server.WrapPagesAPI(checker.Wrap)
	check := &servedCheck{checker: checker}
	servedChecks.Lock()
	servedChecks.all = append(servedChecks.all, check)
	servedChecks.Unlock()
	if r, ok := ctx.Value(contractReporterKey{}).(contractReporter); ok {
		r.Cleanup(func() { check.report(func(f string) { r.Errorf("docs/openapi.yaml: %s", f) }) })
	}
	return check
}

// reportUnheardContractFailures prints the mismatches no test heard of, and says whether there
// was one.
func reportUnheardContractFailures(w io.Writer) (found bool) {
	servedChecks.Lock()
	defer servedChecks.Unlock()
	for _, check := range servedChecks.all {
		check.report(func(f string) {
			fmt.Fprintf(w, "docs/openapi.yaml, in a call to a serve no running test heard of: %s\n", f)
			found = true
		})
	}
	return found
}

// contractReportEnv names the file a child process (the test binary run as motcua: killed
// nodes, clusters, scripts) appends each mismatch in the calls to its serve to, one a line, as
// soon as found — a child killed with SIGKILL has said what it found. TestMain sets it, reads it
// after the tests and fails the package with what it holds.
const contractReportEnv = "MOTCUA_TEST_CONTRACT_REPORT"

// setUpContractChecks makes every serve the tests start check its calls against the contract,
// and names the file their children report to; the returned function, called after the tests,
// reports what no test heard of and says whether there was any.
func setUpContractChecks() (reportUnheard func() (found bool)) {
	if _, err := contracttest.Contract(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	checkServed = checkServedContract
	children, err := os.CreateTemp("", "motcua-contract-*.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	children.Close()
	os.Setenv(contractReportEnv, children.Name())
	return func() (found bool) {
		defer os.Remove(children.Name())
		found = reportUnheardContractFailures(os.Stderr)
		heard, err := os.ReadFile(children.Name())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return true
		}
		for line := range strings.Lines(string(heard)) {
			fmt.Fprintf(os.Stderr, "docs/openapi.yaml, in a call to a child process's serve: %s", line)
			found = true
		}
		return found
	}
}

// setUpChildContractChecks makes the serve of a child process check its calls against the
// contract and append each mismatch, when its call ends, to the file its parent named.
func setUpChildContractChecks() {
	report := os.Getenv(contractReportEnv)
	if report == "" {
		return
	}
	// Loaded while serve opens its store, not after (a second or so on a loaded machine).
	go func() { _, _ = contracttest.Contract() }()
	checkServed = func(ctx context.Context, server *mhttp.Server) http.Handler {
		check := newServedCheck(ctx, server)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			check.checker.ServeHTTP(w, r)
			check.report(func(f string) {
				file, err := os.OpenFile(report, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					fmt.Fprintln(os.Stderr, "docs/openapi.yaml:", f)
					return
				}
				defer file.Close()
				fmt.Fprintln(file, strings.ReplaceAll(f, "\n", " "))
			})
		})
	}
}

// heardMismatches is a contractReporter that keeps what it hears, for the test of the checks.
type heardMismatches struct {
	mu       sync.Mutex
	cleanups []func()
	errors   []string
}

func (h *heardMismatches) Cleanup(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cleanups = append(h.cleanups, f)
}

func (h *heardMismatches) Errorf(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errors = append(h.errors, fmt.Sprintf(format, args...))
}

// heard runs the cleanups (which report what is new) and returns all heard so far.
func (h *heardMismatches) heard() []string {
	h.mu.Lock()
	cleanups := h.cleanups
	h.mu.Unlock()
	for _, f := range cleanups {
		f()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.errors
}

// forbiddenPetition posts a petition the API takes as a text/plain body, which the contract does
// not accept (the API reads every body as JSON), after the same petition as JSON.
func forbiddenPetition(t *testing.T, base string) {
	t.Helper()
	post := func(contentType string) int {
		body := `{"kind":"petition","agency":"000.00.00.H56","subject":"Thủ tục rườm rà","content":"Đề nghị bỏ bản sao chứng thực","submitter":{"name":"Nguyễn Văn An"}}`
		resp, err := http.Post(base+"/api/v1/public/feedback", contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := post("application/json"); status != http.StatusCreated {
		t.Fatalf("a petition as JSON: %d", status)
	}
	if status := post("text/plain"); status != http.StatusCreated {
		t.Fatalf("a petition as text/plain: %d, the API reads every body as JSON", status)
	}
}

// checkHeardTheForbiddenPetition waits for heard to hold what the checker reported and checks
// that it is forbiddenPetition's text/plain call alone.
func checkHeardTheForbiddenPetition(t *testing.T, heard func() []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		heardSoFar := heard()
		if len(heardSoFar) > 0 {
			t.Log(heardSoFar)
			if len(heardSoFar) != 1 || !strings.Contains(heardSoFar[0], "POST /api/v1/public/feedback") ||
				!strings.Contains(heardSoFar[0], "201") || !strings.Contains(heardSoFar[0], "text/plain") {
				t.Errorf("heard %q, want the text/plain call alone", heardSoFar)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the call the contract forbids was not reported")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeChecksItsCallsAgainstTheContract: a serve started in-process checks the calls made to
// it — a JSON body the API takes although its Content-Type is one the contract does not accept
// (the API reads every body as JSON) is reported with its method, path and status to whom started
// serve, here a recorder, so that the package does not fail; a call the contract allows is not.
func TestServeChecksItsCallsAgainstTheContract(t *testing.T) {
	heard := &heardMismatches{}
	s := serveReportingTo(t, heard, t.TempDir())
	forbiddenPetition(t, s.url)
	checkHeardTheForbiddenPetition(t, heard.heard)
}

// TestServeInAChildProcessChecksItsCallsAgainstTheContract: the serve of a child process (the
// killed nodes', the clusters') reports the call the contract forbids to the file it is named,
// at once.
func TestServeInAChildProcessChecksItsCallsAgainstTheContract(t *testing.T) {
	report := filepath.Join(t.TempDir(), "contract.txt")
	if err := os.WriteFile(report, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	child := startChild(t, withTestCatalog(t, []string{"serve", "--data", t.TempDir(), "--addr", addr}), contractReportEnv+"="+report)
	eventually(t, "the child is ready", func() bool {
		status, _ := get("http://" + addr + "/readyz")
		return status == http.StatusOK
	})
	forbiddenPetition(t, "http://"+addr)
	checkHeardTheForbiddenPetition(t, func() []string {
		heard, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Collect(strings.Lines(string(heard)))
	})
	child.stop(t)
}
