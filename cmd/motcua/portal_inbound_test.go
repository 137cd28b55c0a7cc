package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/portal/inbound/feedsim"
)

// portalDossierJSON is a dossier filed on the portal now, for the demo catalog's building permit.
func portalDossierJSON(portalID string) []byte {
	data, _ := json.Marshal(map[string]any{
		"MaHoSoQG": portalID, "MaTTHC": "1.013225", "MaDonViTiepNhan": "000.00.00.H56",
		"NgayNopHoSo":    time.Now().In(domain.VietnamTime).Format("20060102150405"),
		"ChuHoSo":        map[string]any{"LoaiDoiTuong": 1, "HoVaTen": "Vũ Thị Mai", "SoGiayTo": "038195551234"},
		"DanhSachGiayTo": []map[string]any{{"TenGiayTo": "Đơn đề nghị cấp giấy phép xây dựng", "SoBan": 1}},
	})
	return data
}

func TestServeTakesInThePortalsDossiersByWebhookAndByFeed(t *testing.T) {
	dir := t.TempDir()
	secret := []byte("0123456789abcdef0123456789abcdef-tinh-thanh-hoa")
	secretFile, clientSecretFile := filepath.Join(dir, "portal-secret"), filepath.Join(dir, "client-secret")
	if err := os.WriteFile(secretFile, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(clientSecretFile, []byte("bí-mật-ứng-dụng\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	portal := feedsim.New("motcua-thanh-hoa", "bí-mật-ứng-dụng")
	feed := httptest.NewServer(portal.Handler())
	defer feed.Close()
	portal.Add(portalDossierJSON("G22.99-FEED-0001"))
	portal.Add([]byte(`{"MaHoSoQG": "G22.99-FEED-0002", "MaTTHC": "9.999999"}`))

	// A secret too short to be one is refused at start.
	short := filepath.Join(dir, "short")
	_ = os.WriteFile(short, []byte("mật-khẩu"), 0o600)
	if err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--portal-inbound-secret-file", short},
		io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("serve with a short secret: %v", err)
	}

	// The portal's dossiers name procedures of the built-in demo catalog ("--catalog" empty).
	serving := serveWith(t, filepath.Join(dir, "data"), "--catalog", "", "--portal-inbound-secret-file", secretFile,
		"--portal-pull-url", feed.URL+"/hoso", "--portal-pull-interval", "50ms", "--portal-token-url", feed.URL+"/token",
		"--portal-client-id", "motcua-thanh-hoa", "--portal-client-secret-file", clientSecretFile)
	push := func(document []byte) int {
		t.Helper()
		resp, err := feedsim.Push(context.Background(), http.DefaultClient, serving.url+"/api/v1/portal/dossiers", secret, document)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := push(portalDossierJSON("G22.99-HOOK-0001")); status != http.StatusCreated {
		t.Fatalf("webhook: %d", status)
	}
	if status := push(portalDossierJSON("G22.99-HOOK-0001")); status != http.StatusOK {
		t.Fatalf("webhook again: %d", status)
	}
	eventually(t, "the feed's good dossier is recorded and its bad one parked", func() bool {
		metrics := serving.get(t, "/metrics")
		return strings.Contains(metrics, `motcua_portal_inbound_items_total{outcome="recorded"} 1`) &&
			strings.Contains(metrics, `motcua_portal_inbound_items_total{outcome="parked"} 1`)
	})
	// The feed's dossier arriving by the webhook too is the same dossier.
	if status := push(portalDossierJSON("G22.99-FEED-0001")); status != http.StatusOK {
		t.Fatalf("the feed's dossier by webhook: %d", status)
	}
	serving.stop()
}
