package projections_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/l10n"
	"github.com/motcua/motcua/projections"
)

func checkRegisters(t *testing.T, s *scenario) {
	ctx := context.Background()
	for _, unit := range []string{centre, building, justice, land} {
		var want []*dossierBook
		for _, b := range s.Books {
			if b.ReceivingUnit == unit && !b.ReceivedAt.IsZero() {
				want = append(want, b)
			}
		}
		sort.SliceStable(want, func(i, j int) bool {
			if !want[i].ReceivedAt.Equal(want[j].ReceivedAt) {
				return want[i].ReceivedAt.Before(want[j].ReceivedAt)
			}
			return want[i].ID < want[j].ID
		})
		entries := registerPages(t, s, unit, 2026, 3)
		if len(entries) != len(want) || len(want) == 0 {
			t.Fatalf("register of %s: %d entries, want %d", unit, len(entries), len(want))
		}
		for i, b := range want {
			e := entries[i]
			var transferredAt time.Time
			var transferredTo string
			for _, h := range b.Handovers {
				if h.Kind == projections.HandoverTransfer || h.Kind == projections.HandoverInterAgency || h.Kind == projections.HandoverParallel {
					transferredAt, transferredTo = h.At, h.To.Unit
					break
				}
			}
			closed := ""
			switch {
			case !b.ReturnedAt.IsZero():
				closed = "returned"
			case !b.WithdrawnAt.IsZero():
				closed = "withdrawn"
			case b.Resolution == "rejected":
				closed = "rejected"
			}
			if e.Number != i+1 || e.Code != b.Code || e.ProcedureCode != b.Procedure.Code || e.ApplicantName != b.ApplicantName ||
				string(e.Channel) != string(b.Channel) || !e.ReceivedAt.Equal(b.ReceivedAt) || e.ReceivedBy != b.ReceivedBy ||
				!e.AppointmentDate.Equal(b.firstAppointment()) || !e.AppointmentInForce.Equal(b.appointment()) ||
				!e.TransferredAt.Equal(transferredAt) || e.TransferredTo != transferredTo || !e.ResolvedAt.Equal(b.ResolvedAt) ||
				e.Resolution != b.Resolution || !e.ReturnedAt.Equal(b.ReturnedAt) || e.Closed != closed || e.CompetentAgency != b.CompetentAgency {
				t.Errorf("register of %s, line %d:\n got %+v\nwant code %s received %v by %s, appointment %v→%v, transferred %v to %s, resolved %v (%s), returned %v, closed %q",
					unit, i+1, e, b.Code, b.ReceivedAt, b.ReceivedBy, b.firstAppointment(), b.appointment(), transferredAt, transferredTo,
					b.ResolvedAt, b.Resolution, b.ReturnedAt, closed)
			}
		}
		var records [][]string
		if err := projections.EachRegisterPage(ctx, s.db, unit, 2026, func(page []projections.RegisterEntry) error {
			records = append(records, projections.RegisterCSVRecords(page, l10n.VI)...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(records) != len(want) || len(records[0]) != len(l10n.VI.RegisterCSVHeader()) || records[0][1] != want[0].Code {
			t.Errorf("register of %s as CSV: %d rows of %d cells", unit, len(records), len(records[0]))
		}
		previous, err := projections.RegisterPageOf(ctx, s.db, unit, 2025, projections.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(previous.Items) != 0 || previous.Total != 0 || previous.Next != "" {
			t.Errorf("register of %s for 2025 lists %d dossiers received in 2026", unit, len(previous.Items))
		}
	}
}

// registerPages reads a unit's register for a year by chaining pages of size lines, and checks
// the pages: none longer than asked, each with the year's total, a next cursor exactly when more
// follow.
func registerPages(t *testing.T, s *scenario, unit string, year, size int) []projections.RegisterEntry {
	t.Helper()
	var all []projections.RegisterEntry
	req := projections.PageRequest{Limit: size}
	for pages := 1; ; pages++ {
		page, err := projections.RegisterPageOf(context.Background(), s.db, unit, year, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > size || (page.Next != "" && len(page.Items) != size) {
			t.Fatalf("register of %s, page %d: %d lines (next %q), asked for %d", unit, pages, len(page.Items), page.Next, size)
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			if len(all) != page.Total {
				t.Errorf("register of %s: %d lines over %d pages, total says %d", unit, len(all), pages, page.Total)
			}
			return all
		}
		if req.After, err = projections.DecodeCursor(page.Next); err != nil {
			t.Fatal(err)
		}
	}
}

// The register was a read model of its own ("register", table register_dossiers; before that
// "dossier_ledger" with table ledger_dossiers): a database that still holds their tables and
// checkpoints loses them when process control starts, and the register is read from process
// control's summary.
func TestProcessControlRetiresTheRegisterReadModel(t *testing.T) {
	t.Parallel()
	for _, open := range []func(testing.TB) backend{sqliteBackend, postgresBackend} {
		b := open(t)
		t.Run(string(b.dialect), func(t *testing.T) {
			ctx := context.Background()
			s := runScenario(t, b, 60, 5)
			if err := engine.MigrateCheckpoints(ctx, s.db); err != nil {
				t.Fatal(err)
			}
			for _, stmt := range []string{
				`CREATE TABLE ledger_dossiers (dossier_id TEXT PRIMARY KEY, code TEXT)`,
				`CREATE TABLE register_dossiers (dossier_id TEXT PRIMARY KEY, code TEXT)`,
				`INSERT INTO projection_checkpoints (name, commit_position, prepare_position, updated_at) VALUES ('dossier_ledger', 1, 1, '2026-01-01T00:00:00Z')`,
				`INSERT INTO projection_checkpoints (name, commit_position, prepare_position, updated_at) VALUES ('register', 1, 1, '2026-01-01T00:00:00Z')`,
			} {
				if _, err := s.db.ExecContext(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			s.feed(t, projections.ProcessControlView{})
			checkRegisters(t, s)
			var former int
			if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM projection_checkpoints WHERE name IN ('dossier_ledger', 'register')`).Scan(&former); err != nil {
				t.Fatal(err)
			}
			if former != 0 {
				t.Errorf("%d retired checkpoints are still there", former)
			}
			for _, table := range []string{"ledger_dossiers", "register_dossiers"} {
				if _, err := s.db.ExecContext(ctx, `SELECT count(*) FROM `+table); err == nil {
					t.Errorf("the retired %s is still there", table)
				}
			}
		})
	}
}

// TestRebuildingTheRegisterSaysWhereItWent checks that asking for the retired read model by name
// says where the register is now, rather than that no such read model exists.
func TestRebuildingTheRegisterSaysWhereItWent(t *testing.T) {
	for _, name := range []string{"register", "dossier_ledger"} {
		_, err := projections.Select(name)
		if err == nil || !strings.Contains(err.Error(), `rebuild "process_control"`) {
			t.Errorf("Select(%q): %v", name, err)
		}
	}
}

// TestRegisterCSVNoteNamesApologyAndClosure checks the register's note column: the read model holds
// the apology's date and reason and the closure as codes; the CSV says them in l10n's words.
func TestRegisterCSVNoteNamesApologyAndClosure(t *testing.T) {
	newDate := time.Date(2026, time.March, 12, 1, 0, 0, 0, time.UTC) // 08:00 on 12/03 in Vietnam
	records := projections.RegisterCSVRecords([]projections.RegisterEntry{
		{Number: 1, Code: "a", Channel: domain.ChannelDirect, ApologyNewDate: newDate, ApologyReason: "Chờ xác minh"},
		{Number: 2, Code: "b", Channel: domain.ChannelDirect, Closed: "withdrawn", Note: "Người nộp rút", ApologyNewDate: newDate, ApologyReason: "Chờ xác minh"},
		{Number: 3, Code: "c", Channel: domain.ChannelOnline},
	}, l10n.VI)
	note := len(l10n.VI.RegisterCSVHeader()) - 1
	for i, want := range []string{
		"Xin lỗi, hẹn lại ngày 12/03/2026: Chờ xác minh",
		"Đã rút hồ sơ. Người nộp rút Xin lỗi, hẹn lại ngày 12/03/2026: Chờ xác minh",
		"",
	} {
		if got := records[i][note]; got != want {
			t.Errorf("row %d note %q, want %q", i+1, got, want)
		}
	}
	if records[2][7] != "Trực tuyến" {
		t.Errorf("channel %q, want the catalogue's word", records[2][7])
	}
}
