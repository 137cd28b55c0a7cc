package phone_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/demo"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/notification"
	"github.com/motcua/motcua/integrations/phone"
	"github.com/motcua/motcua/integrations/phone/phonesim"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/internal/outboxtest"
)

// The applicants' choices are honoured through the whole outbox, on SQLite and PostgreSQL, while
// both providers flap (5xx, lost answers, error codes) and motcua stops and starts again mid-storm:
// the demo's applicants, who stated no choice
// and gave a phone, get their notifications by SMS (the default) and none by Zalo; an applicant who
// chose only Zalo gets Zalo messages and no SMS; one who chose only SMS the reverse; one who chose
// nothing gets nothing; an applicant erased after the deliveries were recorded gets nothing (the
// deliveries are skipped). Each SMS and ZNS delivery reached its simulator exactly once by tracking
// id, and no phone number reached the logs or last_error.
func TestPhoneNotificationsFollowTheApplicantsChoice(t *testing.T) {
	for _, d := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		t.Run(string(d), func(t *testing.T) {
			events, db := outboxtest.OpenEvents(t, d)
			esmsSim := phonesim.StartESMS(t, "api-key", "secret", "UBND-TINH")
			sample := notification.SampleData()
			templates, ids := map[string][]string{}, map[string]string{}
			for _, kind := range notification.Kinds {
				id := "zns-" + kind
				ids[kind] = id
				for name := range phone.ZNSParams(kind, sample) {
					templates[id] = append(templates[id], name)
				}
			}
			znsSim := phonesim.StartZNS(t, "oa-token", templates)
			client := &httpClient
			sms := &phone.Notifier{Channel: domain.NotifySMS, Store: events.Sealed, PublicURL: "https://motcua.example.gov.vn",
				Provider: &phone.ESMS{URL: esmsSim.URL, APIKey: "api-key", SecretKey: "secret", Brandname: "UBND-TINH", Client: client}}
			zalo := &phone.Notifier{Channel: domain.NotifyZalo, Store: events.Sealed, PublicURL: "https://motcua.example.gov.vn",
				Provider: &phone.ZNS{URL: znsSim.URL, AccessToken: func() (string, error) { return "oa-token", nil }, TemplateIDs: ids, Client: client}}
			outboxtest.MigrateConsumer(t, db, d, sms, zalo)

			// Until the erasure, every request fails: the deliveries are recorded, none sent.
			esmsSim.Storm(1, phonesim.Fault{Status: 503})
			znsSim.Storm(1, phonesim.Fault{Status: 503})
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
			first := outboxtest.Start(t, events.Sealed, db, d, storm(logger), sms, zalo)
			outboxtest.Seed(t, events.Sealed)
			app, reception, procedure := receptionDesk(t, events.Sealed)
			receive := func(name, id, number string, notify ...string) string {
				applicant := domain.Applicant{Type: domain.ApplicantCitizen, Name: name, IDNumber: id, Phone: number,
					Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.vn", Notify: domain.ParseNotify(notify)}
				receipt, err := app.Receive(context.Background(), reception, commands.ReceiveInput{ProcedureCode: procedure.Code,
					Channel: domain.ChannelDirect, Applicant: applicant, Components: componentsOf(procedure)})
				if err != nil {
					t.Fatalf("receive %s: %v", name, err)
				}
				return "dossier-" + receipt.DossierID
			}
			zaloOnly := receive("Lê Văn Zalo", "038200000001", "0987 000 001", "zalo")
			// More applicants choosing Zalo, so that its provider's storm has requests to fail.
			mine := map[string]bool{zaloOnly: true}
			for i := range 6 {
				mine[receive("Vũ Thị Zalo", fmt.Sprintf("03820000010%d", i), fmt.Sprintf("0987 000 10%d", i), "zalo", "email")] = true
			}
			smsOnly := receive("Trần Thị Tin", "038200000002", "0987 000 002", "sms")
			nothing := receive("Phạm Không Nhận", "038200000003", "0987 000 003")
			erased := receive("Đỗ Sẽ Xoá", "038200000004", "0987 000 004", "sms", "zalo")
			mine[smsOnly], mine[nothing], mine[erased] = true, true, true
			log := logtest.Settled(t, events.Sealed)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := first.Engine.WaitFor(ctx, log[len(log)-1].Position); err != nil {
				t.Fatal(err)
			}
			first.Stop()
			if ok, err := events.Sealed.Erase(context.Background(), "038200000004"); err != nil || !ok {
				t.Fatalf("erase: %v, %v", ok, err)
			}

			// Then the providers flap: lost answers, 5xx, a low balance, an expired token.
			esmsSim.Storm(3, phonesim.Fault{LoseAnswer: true}, phonesim.Fault{Status: 500}, phonesim.Fault{Code: "103"})
			znsSim.Storm(3, phonesim.Fault{LoseAnswer: true}, phonesim.Fault{ZNSCode: -124}, phonesim.Fault{Status: 502})
			second := outboxtest.Start(t, events.Sealed, db, d, storm(logger), sms, zalo)
			outboxtest.Eventually(t, 2*time.Minute, "some went out", func() bool { return outboxtest.CountState(t, db, delivery.Sent) >= 20 })
			second.Stop() // motcua goes down mid-storm
			third := outboxtest.Start(t, events.Sealed, db, d, storm(logger), sms, zalo)
			outboxtest.Eventually(t, 3*time.Minute, "nothing is pending", func() bool { return outboxtest.CountState(t, db, delivery.Pending) == 0 })
			third.Stop()
			if dead := outboxtest.CountState(t, db, delivery.Dead); dead != 0 {
				t.Fatalf("%d deliveries dead", dead)
			}

			rows := phoneRows(t, db)
			byTracking := map[string]phoneRow{}
			perDossier := map[string]map[string]int{} // dossier → destination → sent
			for _, row := range rows {
				if perDossier[row.dossier] == nil {
					perDossier[row.dossier] = map[string]int{}
				}
				if row.state == delivery.Sent {
					byTracking[phone.TrackingID(row.key)] = row
					perDossier[row.dossier][row.destination]++
				}
			}
			if n := perDossier[zaloOnly]; n["zalo"] == 0 || n["sms"] != 0 {
				t.Fatalf("the applicant who chose only Zalo got %v", n)
			}
			for dossier := range mine {
				if n := perDossier[dossier]; n["email"] != 0 {
					t.Fatalf("%s: an e-mail delivery, with no e-mail destination", dossier)
				}
			}
			if n := perDossier[smsOnly]; n["sms"] == 0 || n["zalo"] != 0 {
				t.Fatalf("the applicant who chose only SMS got %v", n)
			}
			if n := perDossier[nothing]; len(n) != 0 {
				t.Fatalf("the applicant who chose nothing got %v", n)
			}
			skippedErased := 0
			for _, row := range rows {
				if row.dossier == erased {
					if row.state != delivery.Skipped {
						t.Fatalf("a delivery to the erased applicant is %s", row.state)
					}
					skippedErased++
				}
			}
			if skippedErased != 2 {
				t.Fatalf("%d deliveries to the erased applicant were skipped, want its SMS and Zalo", skippedErased)
			}
			demoSMS := 0
			for dossier, n := range perDossier {
				if !mine[dossier] {
					if n["zalo"] != 0 {
						t.Fatalf("%s: Zalo without the applicant's choice", dossier)
					}
					demoSMS += n["sms"]
				}
			}
			if demoSMS == 0 {
				t.Fatal("no SMS to the demo's applicants, who gave a phone and stated no choice")
			}

			// Each delivery reached its provider exactly once by tracking id, to the dossier's number.
			check := func(channel string, tracking []string, numbers []string) {
				seen := map[string]bool{}
				for i, id := range tracking {
					row, ok := byTracking[id]
					if !ok || row.destination != channel {
						t.Fatalf("%s took %s, which no sent %s delivery has", channel, id, channel)
					}
					if seen[id] {
						t.Fatalf("%s took %s twice", channel, id)
					}
					seen[id] = true
					if want := dossierNumber(t, log, row.dossier); numbers[i] != want {
						t.Fatalf("%s: %s went to another number than the dossier's", channel, id)
					}
				}
				sent := 0
				for _, row := range byTracking {
					if row.destination == channel {
						sent++
					}
				}
				if sent != len(seen) {
					t.Fatalf("%s: %d deliveries sent, the provider took %d", channel, sent, len(seen))
				}
			}
			var smsIDs, smsNumbers, znsIDs, znsNumbers []string
			for _, m := range esmsSim.Delivered() {
				smsIDs, smsNumbers = append(smsIDs, m.RequestID), append(smsNumbers, "84"+strings.TrimPrefix(m.Phone, "0"))
			}
			for _, m := range znsSim.Delivered() {
				znsIDs, znsNumbers = append(znsIDs, m.TrackingID), append(znsNumbers, m.Phone)
			}
			check("sms", smsIDs, smsNumbers)
			check("zalo", znsIDs, znsNumbers)
			if esmsSim.Requests() <= len(smsIDs) || znsSim.Requests() <= len(znsIDs) || len(znsIDs) < 7 {
				t.Fatal("the storm failed no request: it proved nothing")
			}

			numberLike := regexp.MustCompile(`\b(0987 ?000|8498700|09[0-9]{8}\b)`) // whole numbers: hex ids may hold such digits
			if at := numberLike.FindStringIndex(logs.String()); at != nil {
				text := logs.String()
				t.Fatalf("a phone number reached the logs: …%s…", text[max(0, at[0]-80):min(len(text), at[1]+20)])
			}
			for _, row := range rows {
				if numberLike.MatchString(row.lastError) {
					t.Fatalf("a phone number reached last_error: %q", row.lastError)
				}
			}
			t.Logf("%d SMS and %d ZNS delivered once each, %d SMS requests and %d ZNS requests in all",
				len(smsIDs), len(znsIDs), esmsSim.Requests(), znsSim.Requests())
		})
	}
}

var httpClient = http.Client{Timeout: 2 * time.Second}

type phoneRow struct {
	key, destination, dossier, lastError string
	state                                delivery.State
}

func phoneRows(t testing.TB, db *sql.DB) []phoneRow {
	t.Helper()
	rows, err := db.Query(`SELECT idempotency_key, destination, dossier_id, state, last_error FROM deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []phoneRow
	for rows.Next() {
		var row phoneRow
		var state string
		var lastError sql.NullString
		if err := rows.Scan(&row.key, &row.destination, &row.dossier, &state, &lastError); err != nil {
			t.Fatal(err)
		}
		row.state, row.lastError = delivery.State(state), lastError.String
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dossierNumber is the international number of the dossier's applicant, from the log.
func dossierNumber(t testing.TB, log []eventstore.RecordedEvent, stream string) string {
	t.Helper()
	var dossier domain.Dossier
	for _, re := range log {
		if re.Stream != stream {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		dossier = domain.Evolve(dossier, e)
	}
	number, _ := phone.International(dossier.Applicant.Phone)
	return number
}

// receptionDesk is an application over store, a reception official and a procedure to receive.
func receptionDesk(t testing.TB, store eventstore.Store) (*commands.App, commands.Caller, domain.Procedure) {
	t.Helper()
	cal := calendar.Default()
	app := commands.New(store, domaintest.Catalog(t, cal), cal)
	app.Logger = outboxtest.Quiet
	procedure := app.Catalog().Procedures[0]
	for _, o := range demo.Officials(app.Catalog()) {
		if o.Agency == procedure.CompetentAgency && o.Has(commands.RoleReception) {
			return app, o, procedure
		}
	}
	t.Fatal("no reception official for the procedure's agency")
	return nil, commands.Caller{}, procedure
}

func componentsOf(p domain.Procedure) []domain.Component {
	var out []domain.Component
	for _, c := range p.Components {
		out = append(out, domain.Component{Name: c.Name, Copies: max(c.Copies, 1)})
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

// storm is how the dispatcher runs in the storm: retried quickly, many times.
func storm(logger *slog.Logger) outboxtest.Dispatching {
	return outboxtest.Dispatching{Logger: logger,
		Policy: delivery.Policy{MaxAttempts: 1000, Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond}}
}
