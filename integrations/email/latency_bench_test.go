package email_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/email"
	"github.com/motcua/motcua/integrations/email/mailpittest"
	"github.com/motcua/motcua/internal/outboxtest"
)

// BenchmarkNotificationLatency measures the time from the append of a status change to the mail
// server's acceptance of its notification, with everything as serve runs it (the consumer in the
// engine beside a read model, the dispatcher's default poll, SQLite's read-model pool; STARTTLS
// and authentication to a real Mailpit) at 50 status changes a second (dossiers received) for 10 s.
// It reports the p50, p99 and maximum over the notifications, measured per delivery as the moment
// its row was marked sent minus the event's occurred_at.
//
//	go test -run '^$' -bench NotificationLatency -benchtime 1x ./integrations/email/
func BenchmarkNotificationLatency(b *testing.B) {
	for _, d := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		b.Run(string(d), func(b *testing.B) {
			for range b.N {
				p50, p99, worst, n := outboxtest.MeasureLatency(b, d, 50, 10*time.Second, func(events *wiring.Events) delivery.Destination {
					server := mailpittest.Start(b, mailpittest.Options{StartTLS: true, Username: "motcua", Password: "bí-mật"})
					return &email.Notifier{Store: events.Sealed, From: from,
						Sender: &email.SMTP{Addr: server.SMTPAddr, Security: email.StartTLS, RootCAs: server.RootCAs, Username: "motcua", Password: "bí-mật"}}
				}, func(i int, a *domain.Applicant) { a.Email = fmt.Sprintf("ben%d@example.vn", i) })
				b.ReportMetric(p50.Seconds()*1000, "p50-ms")
				b.ReportMetric(p99.Seconds()*1000, "p99-ms")
				b.ReportMetric(worst.Seconds()*1000, "max-ms")
				b.ReportMetric(float64(n), "notifications")
			}
		})
	}
}
