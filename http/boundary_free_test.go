package http_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/internal/logtest"
)

// A boundary-free receipt through the real router, on SQLite and PostgreSQL: the Public Service
// Centre's territory is the land department only; the construction permit is listed boundary-free
// there. Receiving it records where the result is collected and the originals' forwarding step,
// which the control sheet shows and judges once the department confirms the arrival; a procedure
// the centre may not receive is refused with 409 naming the rule, and nothing is written.
func TestBoundaryFreeReceiptThroughTheAPI(t *testing.T) {
	for _, d := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		t.Run(string(d), func(t *testing.T) {
			x := newExportEnv(t, d)
			catalog := x.app.Catalog()
			for i := range catalog.Agencies {
				if catalog.Agencies[i].Code == centre {
					catalog.Agencies[i].Territory = []string{land}
				}
			}
			desk := x.token("tiepnhan1", centre, commands.RoleReception)
			head := x.token("truongphong1", building, commands.RoleHead)
			receipt := func(extra map[string]any) map[string]any {
				b := validReceipt()
				for k, v := range extra {
					b[k] = v
				}
				return b
			}

			// Not listed yet: outside the centre's territory, refused naming the rule.
			refused := x.expect(x.do("POST", "/api/v1/dossiers", desk, receipt(nil)), http.StatusConflict)
			if detail, _ := refused.body["detail"].(string); !strings.Contains(detail, domain.RuleBoundaryFree) || !strings.Contains(detail, "NĐ 118/2025") {
				t.Errorf("the refusal does not name the rule: %s", refused.raw)
			}
			x.sync()
			if n := len(logtest.Settled(t, x.events)); n != 0 {
				t.Fatalf("a refused receipt wrote %d events", n)
			}

			for i := range catalog.Procedures {
				if catalog.Procedures[i].Code == "1.009972" {
					catalog.Procedures[i].BoundaryFree = &domain.BoundaryFree{Centres: []string{centre}, ForwardingHours: 4}
				}
			}
			bad := x.expect(x.do("POST", "/api/v1/dossiers", desk, receipt(map[string]any{"collect_at": "000.00.99.H56"})), http.StatusBadRequest)
			if !slices.Contains(fieldsOf(bad), "collect_at") {
				t.Errorf("collecting at an unknown centre: %s", bad.raw)
			}
			// Monday 08:00: the originals must reach the department within 4 working hours — 3.5 in the
			// morning until 11:30, half an hour from 13:00 — by 13:30 (06:30 UTC).
			r := x.expect(x.do("POST", "/api/v1/dossiers", desk, receipt(map[string]any{"collect_at": land, "forward_originals": true})), http.StatusCreated)
			code := r.body["code"].(string)
			if events := r.body["events"].([]any); len(events) != 2 || events[1] != domain.TypeBoundaryFreeReceived {
				t.Errorf("a boundary-free receipt recorded %v", events)
			}
			x.sync()
			sheet := x.expect(x.do("GET", "/api/v1/dossiers/"+code+"/control-sheet", head, nil), http.StatusOK).body
			forwarding := handoverOfKind(sheet, "forwarding")
			if forwarding == nil || forwarding["ongoing"] != true || forwarding["deadline"] != "2026-03-02T06:30:00Z" {
				t.Fatalf("the control sheet's forwarding step: %v", forwarding)
			}

			// The originals arrive at 14:00, late; only the deciding department confirms it.
			x.clock.Advance(6 * time.Hour)
			x.expect(x.do("POST", "/api/v1/dossiers/"+code+"/originals-arrived", desk, map[string]any{}), http.StatusForbidden)
			x.expect(x.do("POST", "/api/v1/dossiers/"+code+"/originals-arrived", head, map[string]any{"note": "Nhận qua bưu điện"}), http.StatusOK)
			x.expect(x.do("POST", "/api/v1/dossiers/"+code+"/originals-arrived", head, map[string]any{}), http.StatusConflict)
			x.sync()
			sheet = x.expect(x.do("GET", "/api/v1/dossiers/"+code+"/control-sheet", head, nil), http.StatusOK).body
			if forwarding = handoverOfKind(sheet, "forwarding"); forwarding["verdict"] != "late" || forwarding["ended_by"] != "originals_arrived" {
				t.Errorf("the forwarding step after the arrival: %v", forwarding)
			}
			// The result waits where the applicant chose to collect it: the land department's desk
			// may hand it back.
			got := x.expect(x.do("GET", "/api/v1/dossiers/"+code, x.token("tn-desk", land, commands.RoleReception), nil), http.StatusOK).body
			if got["boundary_free"].(map[string]any)["collect_at"] != land {
				t.Errorf("the dossier does not say where the result is collected: %v", got["boundary_free"])
			}
		})
	}
}

func handoverOfKind(sheet map[string]any, kind string) map[string]any {
	for _, h := range sheet["handovers"].([]any) {
		if m := h.(map[string]any); m["kind"] == kind {
			return m
		}
	}
	return nil
}
