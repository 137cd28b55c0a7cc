package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/portal/portalsim"
)

// An operator's day with the national portal: serve syncs a received dossier to the portal
// (authenticating with the client id and the secret from a file); while the portal refuses every
// request the next dossier's document dies, `motcua portal status` shows the synced indicator
// below 100 %, and once the portal is back `motcua portal reconcile` makes it due again: serve sends
// it and the indicator is 100 %.
func TestServeSyncsThePortalAndOperatorsReconcile(t *testing.T) {
	dataDir := t.TempDir()
	sim, err := portalsim.New("motcua-test", "bí mật")
	if err != nil {
		t.Fatal(err)
	}
	server := httptest.NewServer(sim.Handler())
	defer server.Close()
	secretFile := filepath.Join(t.TempDir(), "portal-secret")
	if err := os.WriteFile(secretFile, []byte("bí mật\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--portal-url", server.URL, "--portal-client-id", "motcua-test", "--portal-client-secret-file", secretFile,
		"--delivery-attempts", "2", "--delivery-backoff", "10ms", "--delivery-backoff-max", "20ms"}

	// Without its secret, serve refuses to start rather than fail every document.
	if err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--portal-url", server.URL,
		"--portal-client-id", "x"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Fatalf("serve without a secret: %v", err)
	}

	serving := serveWith(t, dataDir, flags...)
	receiveWithEmail(t, dataDir, "Trần Thị Bưởi", "038100000014", "")
	eventually(t, "the portal holds the dossier", func() bool { return len(sim.Codes()) == 1 })
	sim.SetFaults(portalsim.Faults{ServerError: 1})
	receiveWithEmail(t, dataDir, "Lê Văn Cam", "038100000015", "")
	type status struct {
		Dossiers, Acknowledged int64
		Percent                float64 `json:"synced_percent"`
		Deliveries             struct{ Dead int64 }
	}
	var st status
	eventually(t, "the second document is dead", func() bool {
		out := runOK(t, "portal", "status", "--data", dataDir, "--json")
		return json.Unmarshal([]byte(out), &st) == nil && st.Deliveries.Dead == 1
	})
	if st.Dossiers != 2 || st.Acknowledged != 1 || st.Percent != 50 {
		t.Fatalf("status while the portal refuses: %+v", st)
	}
	sim.SetFaults(portalsim.Faults{})
	today := time.Now().In(domain.VietnamTime)
	from, to := today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly)
	if out := runOK(t, "portal", "reconcile", "--data", dataDir, "--from", from, "--to", to); !strings.Contains(out, "2 dossiers changed, 1 acknowledged in their latest state, 1 due again") {
		t.Fatalf("reconcile: %s", out)
	}
	eventually(t, "the portal holds both dossiers", func() bool { return len(sim.Codes()) == 2 })
	serving.stop()
	if out := runOK(t, "portal", "status", "--data", dataDir); !strings.Contains(out, "100.0 % (2 of 2") {
		t.Fatalf("status after reconcile:\n%s", out)
	}
	for key, n := range sim.Applied() {
		if n != 1 {
			t.Fatalf("%s applied %d times", key, n)
		}
	}
}
