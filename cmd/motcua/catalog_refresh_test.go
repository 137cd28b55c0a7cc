package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/demo"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/integrations/portal/inbound"
)

// portalListOf is the portal's procedure list saying what catalog says, for change to edit.
func portalListOf(catalog *domain.Catalog) []inbound.PortalProcedure {
	var list []inbound.PortalProcedure
	for _, p := range catalog.Procedures {
		pp := inbound.PortalProcedure{MaTTHC: p.Code, TenTTHC: p.Name, MaLinhVuc: p.Field.Code, TenLinhVuc: p.Field.Name, KetQuaThucHien: p.ResultType}
		switch {
		case p.SameDay:
			pp.ThoiHanGiaiQuyet = inbound.ResolutionLimit{DonViTinh: "trong_ngay"}
		case p.Hours > 0:
			pp.ThoiHanGiaiQuyet = inbound.ResolutionLimit{SoLuong: p.Hours, DonViTinh: "gio_lam_viec"}
		default:
			pp.ThoiHanGiaiQuyet = inbound.ResolutionLimit{SoLuong: float64(p.Days), DonViTinh: "ngay_lam_viec"}
		}
		switch p.OnlineLevel {
		case "full":
			pp.MucDo = "toan_trinh"
		case "partial":
			pp.MucDo = "mot_phan"
		}
		for _, f := range p.Fees {
			pp.PhiLePhi = append(pp.PhiLePhi, inbound.PortalFee{TenPhiLePhi: f.Name, MucPhi: f.Amount})
		}
		for _, c := range p.Components {
			pp.ThanhPhanHoSo = append(pp.ThanhPhanHoSo, inbound.PortalPaper{TenGiayTo: c.Name, SoBan: c.Copies, BanChinh: c.Original})
		}
		list = append(list, pp)
	}
	return list
}

// procedureListServer serves the list the test sets, as the portal's LayDanhSachTTHC does.
type procedureListServer struct {
	mu   sync.Mutex
	list []inbound.PortalProcedure
}

func (s *procedureListServer) set(list []inbound.PortalProcedure) {
	s.mu.Lock()
	s.list = list
	s.mu.Unlock()
}

func (s *procedureListServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(inbound.ProcedureList{Message: "Thành công", Result: s.list})
}

func TestCatalogRefreshShowsTheDifferencesAndAppliesThemWithoutChangingOldDossiers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cal := calendar.Default()
	original, err := demo.Catalog(cal)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.MarshalIndent(original, "", "  ")
	catalogPath := filepath.Join(dir, catalogFile)
	if err := os.WriteFile(catalogPath, data, 0o644); err != nil {
		t.Fatal(err)
	}

	// A dossier received under the catalog as it is.
	store, err := sqlite.Open(ctx, filepath.Join(dir, "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, domain.VietnamTime)
	before := commands.New(store, original, cal)
	before.Now, before.Logger = func() time.Time { return now }, slog.New(slog.DiscardHandler)
	desk := commands.Caller{ID: "tiepnhan1", Name: "Cán bộ tiếp nhận", Roles: []commands.Role{commands.RoleReception}, Agency: "000.00.00.H56"}
	receipt := func(app *commands.App) commands.Receipt {
		t.Helper()
		r, err := app.Receive(ctx, desk, commands.ReceiveInput{ProcedureCode: "1.013225", Channel: domain.ChannelDirect,
			Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Đỗ Văn Hùng", IDNumber: "038090011223"},
			Components: []domain.Component{{Name: "Đơn đề nghị cấp giấy phép xây dựng", Copies: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	old := receipt(before)

	// The portal: the building permit now takes 20 days with a new fee and name, the civil-status
	// extract copy is gone, and a procedure is new.
	list := portalListOf(original)
	var kept []inbound.PortalProcedure
	for _, p := range list {
		switch p.MaTTHC {
		case "1.013225":
			p.TenTTHC = "Cấp giấy phép xây dựng nhà ở riêng lẻ"
			p.ThoiHanGiaiQuyet.SoLuong = 20
			p.PhiLePhi = []inbound.PortalFee{{TenPhiLePhi: "Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ", MucPhi: 100000}}
		case "2.000635":
			continue
		}
		kept = append(kept, p)
	}
	kept = append(kept, inbound.PortalProcedure{MaTTHC: "1.099999", TenTTHC: "Thủ tục mới", ThoiHanGiaiQuyet: inbound.ResolutionLimit{SoLuong: 5, DonViTinh: "ngay_lam_viec"}})
	portal := &procedureListServer{list: kept}
	server := httptest.NewServer(portal)
	defer server.Close()

	var stdout, stderr strings.Builder
	refresh := func(extra ...string) error {
		stdout.Reset()
		stderr.Reset()
		return run(ctx, append([]string{"catalog", "refresh", "--from-portal", server.URL, "--data", dir}, extra...), &stdout, &stderr)
	}
	if err := refresh(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	shown := stdout.String()
	for _, want := range []string{
		"changed  1.013225  Cấp giấy phép xây dựng nhà ở riêng lẻ",
		"name: Cấp giấy phép xây dựng mới đối với công trình cấp III, cấp IV và nhà ở riêng lẻ → Cấp giấy phép xây dựng nhà ở riêng lẻ",
		"resolution_time: 15 ngày làm việc → 20 ngày làm việc",
		"fees: Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ: 75000 đ → Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ: 100000 đ",
		"removed  2.000635", "added    1.099999  Thủ tục mới", "Nothing written",
	} {
		if !strings.Contains(shown, want) {
			t.Errorf("the differences do not show %q:\n%s", want, shown)
		}
	}
	if strings.Count(shown, "changed  ") != 1 {
		t.Errorf("only one procedure changed:\n%s", shown)
	}
	if after, _ := os.ReadFile(catalogPath); string(after) != string(data) {
		t.Fatal("the catalog changed without --apply")
	}

	if err := refresh("--apply"); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	refreshed, err := loadCatalog(catalogPath, cal)
	if err != nil {
		t.Fatal(err)
	}
	permit, _ := refreshed.Procedure("1.013225")
	if permit.Days != 20 || permit.Fees[0].Amount != 100000 || len(permit.Workflow) != 6 || permit.CompetentAgency != "000.00.41.H56" {
		t.Fatalf("refreshed permit = %+v, want the portal's time and fee with the province's workflow and agency", permit)
	}
	if _, ok := refreshed.Procedure("2.000635"); ok {
		t.Fatal("the procedure gone from the portal is still in the catalog")
	}
	if _, ok := refreshed.Procedure("1.099999"); ok {
		t.Fatal("a new procedure was added without its workflow")
	}

	// The old dossier keeps what it was received with; a new one gets the refreshed procedure.
	after := commands.New(store, refreshed, cal)
	after.Now, after.Logger = func() time.Time { return now }, slog.New(slog.DiscardHandler)
	d, _, err := after.Load(ctx, old.DossierID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Procedure.Days != 15 || !d.AppointmentDate.Equal(old.AppointmentDate) || !strings.HasPrefix(d.Procedure.Name, "Cấp giấy phép xây dựng mới") {
		t.Fatalf("the old dossier changed with the catalog: %+v, appointment %v (was %v)", d.Procedure, d.AppointmentDate, old.AppointmentDate)
	}
	fresh := receipt(after)
	if !fresh.AppointmentDate.After(old.AppointmentDate) {
		t.Fatalf("a new dossier's appointment %v is not later than the old one's %v", fresh.AppointmentDate, old.AppointmentDate)
	}

	// Again: nothing left but the new procedure to add by hand.
	if err := refresh(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String(), "changed") || strings.Contains(stdout.String(), "removed") || !strings.Contains(stdout.String(), "added    1.099999") {
		t.Fatalf("second refresh:\n%s", stdout.String())
	}

	// A time the province's workflow no longer fits is refused, and nothing is written.
	written, _ := os.ReadFile(catalogPath)
	shorter := portalListOf(refreshed)
	for i := range shorter {
		if shorter[i].MaTTHC == "1.001612" {
			shorter[i].ThoiHanGiaiQuyet.SoLuong = 1
		}
	}
	portal.set(shorter)
	err = refresh("--apply")
	if err == nil || !strings.Contains(err.Error(), "nothing written") {
		t.Fatalf("refresh to a time the workflow does not fit = %v", err)
	}
	if now, _ := os.ReadFile(catalogPath); string(now) != string(written) {
		t.Fatal("a refused refresh changed the catalog file")
	}
}
