package portal_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/portal"
	"github.com/motcua/motcua/internal/outboxtest"
)

// BenchmarkPortalLatency measures the time from the append of a status change to the national
// portal's acknowledgement of its DongBoHoSoMC document, with everything as serve runs it (the
// consumer in the engine beside a read model, the dispatcher's default poll, SQLite's read-model
// pool; the client with its token over HTTP to the simulator, which validates every document
// against its schema) at 50 status changes a second for 10 s. It reports the p50, p99 and maximum
// over the documents, measured per delivery as the moment its row was marked sent minus the
// event's occurred_at.
//
//	go test -run '^$' -bench PortalLatency -benchtime 1x ./integrations/portal/
func BenchmarkPortalLatency(b *testing.B) {
	for _, d := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		b.Run(string(d), func(b *testing.B) {
			for range b.N {
				p50, p99, worst, n := outboxtest.MeasureLatency(b, d, 50, 10*time.Second, func(events *wiring.Events) delivery.Destination {
					_, server := startPortal(b)
					return &portal.Syncer{Store: events.Sealed, ResultLink: portal.LookupLink(publicURL),
						Portal: &portal.Client{BaseURL: server.URL, ClientID: clientID, ClientSecret: clientSecret}}
				}, func(i int, a *domain.Applicant) { a.Phone = fmt.Sprintf("0912%06d", i) })
				b.ReportMetric(p50.Seconds()*1000, "p50-ms")
				b.ReportMetric(p99.Seconds()*1000, "p99-ms")
				b.ReportMetric(worst.Seconds()*1000, "max-ms")
				b.ReportMetric(float64(n), "documents")
			}
		})
	}
}
