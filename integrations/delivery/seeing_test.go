package delivery_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/internal/outboxtest"
)

// insertDelivery writes a delivery row as the consumer and the dispatcher leave it.
func insertDelivery(t *testing.T, db *sql.DB, stream, state string, attempts int, doneAt int64) int64 {
	t.Helper()
	key := fmt.Sprintf("email:%s:%d:%s", stream, doneAt, state)
	if _, err := db.Exec(`INSERT INTO deliveries (destination, idempotency_key, dossier_id, event_id, event_type, kind, stream_version,
			commit_position, prepare_position, occurred_at, state, attempts, next_attempt_at, created_at, done_at, lease_until)
		VALUES ('email', $1, $2, $1, 'received', 'status_changed', 1, 0, 0, 0, $3, $4, 0, 0, $5, $6)`,
		key, stream, state, attempts, doneAt, doneAt); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := db.QueryRow(`SELECT id FROM deliveries WHERE idempotency_key = $1`, key).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// The public lookup's read: nothing (and no error) while the table does not exist; then the
// latest sent notifications of one dossier, newest first, at most MaxSentShown (the portal's sync
// is none).
func TestSentLogReadsTheLatestSentOfOneDossier(t *testing.T) {
	for _, d := range backends {
		t.Run(string(d), func(t *testing.T) {
			_, db := outboxtest.OpenStore(t, d)
			ctx := context.Background()
			if sent, err := delivery.NewSentLog(db, d).Latest(ctx, "dossier-a"); err != nil || sent != nil {
				t.Fatalf("without the table: %v, %v", sent, err)
			}
			if err := delivery.Migrate(ctx, db, d); err != nil {
				t.Fatal(err)
			}
			for i := range 25 {
				insertDelivery(t, db, "dossier-a", "sent", 1, int64(1000+i))
			}
			insertDelivery(t, db, "dossier-a", "dead", 30, 5000)
			insertDelivery(t, db, "dossier-b", "sent", 1, 6000)
			// The national portal's sync, the newest sent of all, tells a system, not the applicant.
			if _, err := db.Exec(`INSERT INTO deliveries (destination, idempotency_key, dossier_id, event_id, event_type, kind,
					stream_version, commit_position, prepare_position, occurred_at, state, attempts, next_attempt_at, created_at, done_at)
				VALUES ('dvcqg', 'dvcqg:e:update', 'dossier-a', 'e', 'received', 'update', 1, 0, 0, 0, 'sent', 1, 0, 0, 7000)`); err != nil {
				t.Fatal(err)
			}
			sent, err := delivery.NewSentLog(db, d).Latest(ctx, "dossier-a")
			if err != nil || len(sent) != delivery.MaxSentShown {
				t.Fatalf("sent: %d, %v", len(sent), err)
			}
			if sent[0].SentAt.UnixMilli() != 1024 || sent[19].SentAt.UnixMilli() != 1005 || sent[0].Destination != "email" || sent[0].Kind != "status_changed" {
				t.Fatalf("sent: first %+v, last %+v", sent[0], sent[19])
			}
		})
	}
}

// RetryIDs brings a dead delivery back with a fresh count, makes a failing one due now keeping
// its count, and leaves the sent and the never tried alone.
func TestRetryIDsRetriesTheDeadAndTheFailingOnly(t *testing.T) {
	for _, d := range backends {
		t.Run(string(d), func(t *testing.T) {
			_, db := outboxtest.OpenStore(t, d)
			ctx := context.Background()
			if err := delivery.Migrate(ctx, db, d); err != nil {
				t.Fatal(err)
			}
			dead := insertDelivery(t, db, "dossier-a", "dead", 30, 100)
			failing := insertDelivery(t, db, "dossier-b", "pending", 3, 200)
			sent := insertDelivery(t, db, "dossier-c", "sent", 1, 300)
			fresh := insertDelivery(t, db, "dossier-d", "pending", 0, 400)
			now := time.UnixMilli(9000)
			n, err := delivery.RetryIDs(ctx, db, now, []int64{dead, failing, sent, fresh, 999})
			if err != nil || n != 2 {
				t.Fatalf("retried %d, %v", n, err)
			}
			want := map[int64][4]any{dead: {"pending", 0, int64(9000), int64(0)}, failing: {"pending", 3, int64(9000), int64(200)},
				sent: {"sent", 1, int64(0), int64(300)}, fresh: {"pending", 0, int64(0), int64(400)}}
			for id, w := range want {
				var state string
				var attempts int
				var next, lease int64
				if err := db.QueryRow(`SELECT state, attempts, next_attempt_at, lease_until FROM deliveries WHERE id = $1`, id).Scan(&state, &attempts, &next, &lease); err != nil {
					t.Fatal(err)
				}
				if got := [4]any{state, attempts, next, lease}; got != w {
					t.Errorf("delivery %d: %v, want %v", id, got, w)
				}
			}
		})
	}
}
