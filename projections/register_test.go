package projections_test

import (
	"context"
	"sort"
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
			return want[i].Code < want[j].Code
		})
		register, err := projections.RegisterOf(ctx, s.db, unit, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if len(register.Entries) != len(want) || len(want) == 0 {
			t.Fatalf("register of %s: %d entries, want %d", unit, len(register.Entries), len(want))
		}
		for i, b := range want {
			e := register.Entries[i]
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
		records := register.CSVRecords(l10n.VI)
		if len(records) != len(want) || len(records[0]) != len(l10n.VI.RegisterCSVHeader()) || records[0][1] != want[0].Code {
			t.Errorf("register of %s as CSV: %d rows of %d cells", unit, len(records), len(records[0]))
		}
		previous, err := projections.RegisterOf(ctx, s.db, unit, 2025)
		if err != nil {
			t.Fatal(err)
		}
		if len(previous.Entries) != 0 {
			t.Errorf("register of %s for 2025 lists %d dossiers received in 2026", unit, len(previous.Entries))
		}
	}
}

// The register was called the ledger ("dossier_ledger", table ledger_dossiers) before: a database
// that still holds the ledger's table and checkpoint gets the register under its new name, filled
// from the log, and keeps nothing of the former name.
func TestRegisterReplacesTheFormerLedger(t *testing.T) {
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
				`INSERT INTO projection_checkpoints (name, commit_position, prepare_position, updated_at) VALUES ('dossier_ledger', 1, 1, '2026-01-01T00:00:00Z')`,
			} {
				if _, err := s.db.ExecContext(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			s.feed(t, projections.RegisterView{})
			checkRegisters(t, s)
			var former int
			if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM projection_checkpoints WHERE name = 'dossier_ledger'`).Scan(&former); err != nil {
				t.Fatal(err)
			}
			if former != 0 {
				t.Error("the ledger's checkpoint is still there")
			}
			if _, err := s.db.ExecContext(ctx, `SELECT count(*) FROM ledger_dossiers`); err == nil {
				t.Error("the ledger's table is still there")
			}
		})
	}
}

// TestRegisterCSVNoteNamesApologyAndClosure checks the register's note column: the read model holds
// the apology's date and reason and the closure as codes; the CSV says them in l10n's words.
func TestRegisterCSVNoteNamesApologyAndClosure(t *testing.T) {
	newDate := time.Date(2026, time.March, 12, 1, 0, 0, 0, time.UTC) // 08:00 on 12/03 in Vietnam
	register := projections.Register{Entries: []projections.RegisterEntry{
		{Number: 1, Code: "a", Channel: domain.ChannelDirect, ApologyNewDate: newDate, ApologyReason: "Chờ xác minh"},
		{Number: 2, Code: "b", Channel: domain.ChannelDirect, Closed: "withdrawn", Note: "Người nộp rút", ApologyNewDate: newDate, ApologyReason: "Chờ xác minh"},
		{Number: 3, Code: "c", Channel: domain.ChannelOnline},
	}}
	records := register.CSVRecords(l10n.VI)
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
