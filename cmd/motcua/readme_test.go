package main

import (
	"bufio"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/demo"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/integrations/payment/vnpaysim"
	"github.com/motcua/motcua/integrations/portal/inbound"
)

// TestREADMECommandsRunAgainstTheBuiltBinary runs every shell block of README.md, in order, in one
// bash session against the built binary, so README and product cannot drift apart. The first block
// starts the service: the test starts its `serve` line itself, on a free port with a fresh data
// directory (and skips `./scripts/test.sh`, which is what runs this test). The other blocks run as
// shown, with substitutions: the built binary for `go run ./cmd/motcua`, the server's address for
// http://localhost:8080, and simulators for the national portal's procedure list (the demo
// catalog's, with one fee changed) and the VNPAY gateway (its statement of the day). Every
// `# → NNN` comment is the HTTP status the command beside it must print as `→ HTTP NNN`; the
// statuses printed must be exactly those, in order; the administration commands must print what
// they are for.
func TestREADMECommandsRunAgainstTheBuiltBinary(t *testing.T) {
	bash := lookTool(t, "bash")
	lookTool(t, "curl")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := shellBlocks(string(readme))
	if len(blocks) < 2 {
		t.Fatalf("README.md has %d shell blocks; want the quick start and the walk-through", len(blocks))
	}
	serveArgs := quickStartServeArgs(t, blocks[0])

	work := t.TempDir()
	binary := filepath.Join(work, "motcua")
	build := exec.Command("go", "build", "-o", binary, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	url := startBinary(t, ctx, work, binary, append(serveArgs, "--data", filepath.Join(work, "data"), "--addr", "127.0.0.1:0"))

	procedureList, gateway := readmeSimulators(t, work)
	script := strings.Join(blocks[1:], "\n")
	for _, sub := range []struct{ shown, here string }{
		{"go run ./cmd/motcua", binary},
		{"http://localhost:8080", url},
		{"https://dvcqg.example.gov.vn/api/LayDanhSachTTHC", procedureList},
		{"https://sandbox.vnpayment.vn", gateway},
	} {
		if !strings.Contains(script, sub.shown) {
			t.Fatalf("the walk-through no longer shows %q: update this test with the README", sub.shown)
		}
		script = strings.ReplaceAll(script, sub.shown, sub.here)
	}
	run := exec.CommandContext(ctx, bash, "-euo", "pipefail", "-c", script)
	run.Dir = work // the token command finds the server's key in ./data, as in the README
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s", err, out)
	}

	want := statuses(regexp.MustCompile(`# → (\d{3})\b`), script)
	got := statuses(regexp.MustCompile(`→ HTTP (\d{3})\b`), string(out))
	if len(want) == 0 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("HTTP statuses\n got: %v\nwant: %v (the README's # → comments)\noutput:\n%s", got, want, out)
	}
	for _, said := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^history intact`),
		regexp.MustCompile(`(?m)^the citizen's result is the signed file`),
		regexp.MustCompile(`(?m)^dvcqg\s|synced \(QĐ 766\) \d{4}-\d\d-\d\d – \d{4}-\d\d-\d\d: `),
		regexp.MustCompile(`\d+ dossiers changed, \d+ acknowledged in their latest state, \d+ due again`),
		regexp.MustCompile(`(?m)^changed  1\.013225 .*\n\s+fees: `),
		regexp.MustCompile(`Nothing written: run again with --apply`),
		regexp.MustCompile(`(?m)^vnpay, \d{4}-\d\d-\d\d: 0 paid in the statement; 0 not recorded`),
		regexp.MustCompile(`(?m)^hoa\.le\s+tn01\s+Lê Thị Hoa\s+reception,cashier\s+000\.00\.00\.H56\s+enabled`),
	} {
		if !said.Match(out) {
			t.Errorf("the README's commands did not print %s:\n%s", said, out)
		}
	}
	t.Logf("%d README commands answered as documented:\n%s", len(want), out)
}

// readmeSimulators starts what the README's portal and payment commands talk to: the national
// portal's procedure list saying what the demo catalog says but for the building permit's fee,
// and the VNPAY gateway (its secret in work/vnpay-secret.txt, as the README names it).
func readmeSimulators(t *testing.T, work string) (procedureList, gateway string) {
	t.Helper()
	catalog, err := demo.Catalog(calendar.Default())
	if err != nil {
		t.Fatal(err)
	}
	list := portalListOf(catalog)
	for i, p := range list {
		if p.MaTTHC == "1.013225" {
			list[i].PhiLePhi = []inbound.PortalFee{{TenPhiLePhi: "Lệ phí cấp giấy phép xây dựng", MucPhi: 150000}}
		}
	}
	portal := httptest.NewServer(&procedureListServer{list: list})
	t.Cleanup(portal.Close)
	const secret = "README-VNPAY-SECRET-0123456789"
	if err := os.WriteFile(filepath.Join(work, "vnpay-secret.txt"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	sim := httptest.NewServer((&vnpaysim.Gateway{TmnCode: "MOTCUA01", Secret: []byte(secret)}).Handler())
	t.Cleanup(sim.Close)
	return portal.URL, sim.URL
}

func lookTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("the README's walk-through needs %s: install it (scripts/test.sh does, from Debian's packages)", name)
	}
	return path
}

// shellBlocks returns the bodies of the ```sh fenced blocks of a Markdown text, in order.
func shellBlocks(markdown string) []string {
	var blocks []string
	var current *strings.Builder
	for line := range strings.Lines(markdown) {
		trimmed := strings.TrimSpace(line)
		switch {
		case current == nil && trimmed == "```sh":
			current = &strings.Builder{}
		case current != nil && trimmed == "```":
			blocks = append(blocks, current.String())
			current = nil
		case current != nil:
			current.WriteString(line)
		}
	}
	return blocks
}

// quickStartServeArgs reads the quick start: the arguments of its `serve` line; its only other line
// may be the test script.
func quickStartServeArgs(t *testing.T, block string) []string {
	t.Helper()
	var args []string
	for line := range strings.Lines(block) {
		command, _, _ := strings.Cut(line, "#")
		fields := strings.Fields(command)
		switch {
		case len(fields) == 0, len(fields) == 1 && fields[0] == "./scripts/test.sh":
		case len(fields) > 3 && strings.Join(fields[:4], " ") == "go run ./cmd/motcua serve":
			args = fields[3:]
		default:
			t.Fatalf("the README's quick start shows %q, which this test does not run: run it here", strings.TrimSpace(line))
		}
	}
	if args == nil {
		t.Fatal("the README's quick start does not start the service")
	}
	return args
}

// startBinary starts the built service and returns its base URL once it listens.
func startBinary(t *testing.T, ctx context.Context, dir, binary string, args []string) string {
	t.Helper()
	serve := exec.CommandContext(ctx, binary, args...)
	serve.Dir = dir
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	serve.Stderr = &stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = serve.Process.Signal(os.Interrupt)
		_ = serve.Wait()
	})
	found := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		scanner.Buffer(nil, 1<<20) // the demo's token lines are long
		for scanner.Scan() {
			if m := listeningLine.FindStringSubmatch(scanner.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case url := <-found:
		return url
	case <-time.After(90 * time.Second):
		t.Fatalf("%s did not start listening:\n%s", strings.Join(serve.Args, " "), stderr.String())
	}
	return ""
}

func statuses(pattern *regexp.Regexp, text string) []string {
	var out []string
	for _, m := range pattern.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}
