package email_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/email"
	"github.com/motcua/motcua/integrations/email/mailpittest"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/internal/outboxtest"
)

var from = mail.Address{Name: "Trung tâm Phục vụ hành chính công tỉnh", Address: "khong-tra-loi@motcua.example.gov.vn"}

// The storm: the demo's dossier histories recorded while the mail server refuses a fifth of the
// recipients (Mailpit's chaos), the line to it refuses connections and cuts some acceptances off
// before they reach motcua, the mail server itself is restarted, and motcua is stopped and started
// again half-way. Afterwards Mailpit, which keeps one message per Message-ID as a receiver that
// recognises a message sent again does, holds exactly one message for every delivery the log calls
// for — none missing, none other — each dossier's messages arrived in log order, and every row is
// sent. Same on SQLite and PostgreSQL.
func TestEveryNotificationArrivesOncePerKeyThroughAStorm(t *testing.T) {
	for _, d := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		t.Run(string(d), func(t *testing.T) {
			events, db := outboxtest.OpenEvents(t, d)
			server := mailpittest.Start(t, mailpittest.Options{Chaos: "Recipient:451:20", IgnoreDuplicateIDs: true})
			proxy := mailpittest.StartProxy(t, server.SMTPAddr, 0.2, 0.15)
			notifier := &email.Notifier{Store: events.Sealed, From: from, PublicURL: "https://motcua.example.gov.vn",
				Sender: &email.SMTP{Addr: proxy.Addr, Security: email.Plain, Timeout: 2 * time.Second}}
			outboxtest.MigrateConsumer(t, db, d, notifier)

			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
			first := start(t, events, db, d, logger, notifier)
			seeded := make(chan struct{})
			go func() { defer close(seeded); outboxtest.Seed(t, events.Sealed) }()
			outboxtest.Eventually(t, 2*time.Minute, "some mail went out", func() bool { return outboxtest.CountState(t, db, delivery.Sent) >= 10 })
			first.Stop() // motcua goes down mid-storm
			server.Restart(t)

			second := start(t, events, db, d, logger, notifier)
			<-seeded
			log := logtest.Settled(t, events.Sealed)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := second.Engine.WaitFor(ctx, log[len(log)-1].Position); err != nil {
				t.Fatal(err)
			}
			outboxtest.Eventually(t, 3*time.Minute, "nothing is pending", func() bool { return outboxtest.CountState(t, db, delivery.Pending) == 0 })
			second.Stop()

			// What the log calls for, computed here from the events themselves.
			wantKinds := outboxtest.ExpectedEmails(t, log)
			rows := sentRows(t, db)
			if len(rows) != len(wantKinds) || outboxtest.CountState(t, db, delivery.Dead) != 0 {
				t.Fatalf("%d deliveries sent (%d dead); the log calls for %d", len(rows), outboxtest.CountState(t, db, delivery.Dead), len(wantKinds))
			}
			byMessageID := map[string]sentRow{}
			for key, row := range rows {
				if wantKinds[key] != row.kind {
					t.Fatalf("%s: sent as %q, the log calls for %q", key, row.kind, wantKinds[key])
				}
				byMessageID[email.MessageID(key, from.Address)] = row
			}
			messages := server.Messages(t)
			seen := map[string]int{}
			lastVersion := map[string]uint64{}
			for _, m := range messages {
				id := "<" + strings.Trim(m.MessageID, "<>") + ">"
				row, ok := byMessageID[id]
				if !ok {
					t.Fatalf("Mailpit holds %s, which no delivery sent", id)
				}
				seen[id]++
				if seen[id] > 1 {
					continue // the same message again after a lost acceptance: the receiver sees one
				}
				if row.version <= lastVersion[row.dossier] {
					t.Fatalf("%s: message for version %d arrived after version %d", row.dossier, row.version, lastVersion[row.dossier])
				}
				lastVersion[row.dossier] = row.version
			}
			if len(seen) != len(rows) || len(messages) != len(rows) {
				t.Fatalf("Mailpit holds %d messages, %d distinct Message-IDs; %d deliveries were sent", len(messages), len(seen), len(rows))
			}
			if proxy.LostAcks() == 0 {
				t.Fatal("the storm cut no acceptance off: the test proved nothing about sending twice")
			}
			if strings.Contains(logs.String(), "@example.vn") {
				t.Fatal("an applicant's e-mail address reached the logs")
			}
			t.Logf("%d notifications, %d messages held (%d acceptances cut off and sent again with the same Message-ID)",
				len(rows), len(messages), proxy.LostAcks())
		})
	}
}

type sentRow struct {
	dossier, kind string
	version       uint64
}

// sentRows returns the sent deliveries by idempotency key.
func sentRows(t testing.TB, db *sql.DB) map[string]sentRow {
	t.Helper()
	rows, err := db.Query(`SELECT idempotency_key, dossier_id, kind, stream_version FROM deliveries WHERE state = 'sent'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]sentRow{}
	for rows.Next() {
		var key string
		var row sentRow
		var version int64
		if err := rows.Scan(&key, &row.dossier, &row.kind, &version); err != nil {
			t.Fatal(err)
		}
		row.version = uint64(version)
		out[key] = row
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// lockedWriter serialises writes from the dispatcher's workers.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
