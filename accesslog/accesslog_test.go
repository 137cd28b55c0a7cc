package accesslog_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/accesslog"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/projections"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var indexKey = []byte("0123456789abcdef0123456789abcdef")

// forEachDatabase runs test on a SQLite file and on a PostgreSQL database.
func forEachDatabase(t *testing.T, test func(t *testing.T, db *sql.DB, dialect engine.Dialect)) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := sql.Open("sqlite", sqlite.ReadModelDSN(filepath.Join(t.TempDir(), "readmodels.db")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		test(t, db, engine.SQLite)
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := sql.Open("pgx", pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		test(t, db, engine.PostgreSQL)
	})
}

func TestTheLogRefusesUpdateDeleteAndTruncate(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *sql.DB, dialect engine.Dialect) {
		ctx := context.Background()
		log, err := accesslog.New(db, dialect, indexKey)
		if err != nil {
			t.Fatal(err)
		}
		if err := log.Record(ctx, accesslog.Read{OfficialID: "cb1", Roles: []string{"specialist"}, Agency: "A", Route: "GET /x",
			DossierID: "d1", ApplicantIDNumber: "038012345678"}); err != nil {
			t.Fatal(err)
		}
		refused := []string{
			`UPDATE access_log SET official_id = 'someone else'`,
			`DELETE FROM access_log`,
			`DELETE FROM access_log WHERE seq = 1`,
		}
		if dialect == engine.PostgreSQL {
			refused = append(refused, `TRUNCATE access_log`)
		}
		for _, stmt := range refused {
			if _, err := db.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want refused as append-only", stmt, err)
			}
		}
		page, err := log.List(ctx, accesslog.Query{}, projections.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Items[0].OfficialID != "cb1" {
			t.Fatalf("the entry changed: %+v", page.Items)
		}
		// A second Migrate (another node starting) keeps the table and the triggers.
		again, _ := accesslog.New(db, dialect, indexKey)
		if err := again.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM access_log`); err == nil {
			t.Fatal("delete allowed after a second migration")
		}
	})
}

func TestListPagesNewestFirstByDossierAndByApplicant(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *sql.DB, dialect engine.Dialect) {
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		log, err := accesslog.New(db, dialect, indexKey)
		if err != nil {
			t.Fatal(err)
		}
		log.WithClock(func() time.Time { at = at.Add(time.Minute); return at })
		// 7 reads of d1 (applicant A), 3 of d2 (applicant B), one list.
		for i := range 10 {
			read := accesslog.Read{OfficialID: "cb" + string(rune('0'+i)), Route: "GET /api/v1/dossiers/{ref}", DossierID: "d1", ApplicantIDNumber: "038012345678"}
			if i >= 7 {
				read.DossierID, read.ApplicantIDNumber = "d2", "001099000111"
			}
			if err := log.Record(ctx, read); err != nil {
				t.Fatal(err)
			}
		}
		if err := log.Record(ctx, accesslog.Read{OfficialID: "cb", Route: "GET /api/v1/work-queue", List: "work_queue", Filter: "agency=A"}); err != nil {
			t.Fatal(err)
		}
		walk := func(q accesslog.Query, limit int) (ids []string, total int) {
			req := projections.PageRequest{Limit: limit}
			for {
				page, err := log.List(ctx, q, req)
				if err != nil {
					t.Fatal(err)
				}
				total = page.Total
				for _, e := range page.Items {
					ids = append(ids, e.OfficialID)
				}
				if page.Next == "" {
					return ids, total
				}
				if req.After, err = projections.DecodeCursor(page.Next); err != nil {
					t.Fatal(err)
				}
			}
		}
		ids, total := walk(accesslog.Query{DossierID: "d1"}, 3)
		if strings.Join(ids, " ") != "cb6 cb5 cb4 cb3 cb2 cb1 cb0" || total != 7 {
			t.Errorf("dossier d1: %v (total %d)", ids, total)
		}
		// The applicant as typed with spaces around finds the same index.
		ids, total = walk(accesslog.Query{ApplicantIDNumber: " 001099000111 "}, 2)
		if strings.Join(ids, " ") != "cb9 cb8 cb7" || total != 3 {
			t.Errorf("applicant B: %v (total %d)", ids, total)
		}
		if ids, _ := walk(accesslog.Query{ApplicantIDNumber: "[đã xoá]"}, 5); len(ids) != 0 {
			t.Errorf("a placeholder found entries: %v", ids)
		}
		ids, total = walk(accesslog.Query{}, 4)
		if len(ids) != 11 || ids[0] != "cb" || total != 11 {
			t.Errorf("every entry: %v (total %d)", ids, total)
		}
		if _, err := log.List(ctx, accesslog.Query{}, projections.PageRequest{After: projections.Cursor{"x"}}); err != projections.ErrBadCursor {
			t.Errorf("a foreign cursor: %v", err)
		}
		// The table holds no identity number, only the keyed index; another key gives another index.
		var clear int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_log WHERE applicant LIKE '%038012345678%'`).Scan(&clear); err != nil || clear != 0 {
			t.Errorf("identity number in clear: %d %v", clear, err)
		}
		other, _ := accesslog.New(db, dialect, []byte(strings.Repeat("k", 32)))
		if other.ApplicantIndex("038012345678") == log.ApplicantIndex("038012345678") {
			t.Error("the index does not depend on the key")
		}
	})
}

func TestAShortIndexKeyIsRefused(t *testing.T) {
	if _, err := accesslog.New(nil, engine.SQLite, make([]byte, 31)); err != accesslog.ErrIndexKey {
		t.Fatalf("31-byte key: %v", err)
	}
}
