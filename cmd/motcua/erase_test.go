package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/http/session"
	"github.com/motcua/motcua/projections"
)

const erasedApplicantName = "Đinh Thị Ngoạn"

// receiveAsServeDoes opens dataDir's store decorated as serve decorates it (chain, then personal
// data sealed outside it) and receives one dossier for the applicant.
func receiveAsServeDoes(t *testing.T, dataDir, name, idNumber string) string {
	t.Helper()
	ctx := context.Background()
	deployment, err := openDeployment(ctx, &storeFlags{dataDir: dataDir}, openOptions{migrateStore: true, migrateReadModels: true, personalData: true})
	if err != nil {
		t.Fatal(err)
	}
	defer deployment.Close()
	store := deployment.events.Sealed
	cal := calendar.Default()
	catalog := domaintest.Catalog(t, cal)
	app := commands.New(store, catalog, cal)
	app.Now = func() time.Time { return time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime) }
	receipt, err := app.Receive(ctx, commands.Caller{ID: "tn1", Name: "Lê Thị Tiếp", Roles: []commands.Role{commands.RoleReception}, Agency: "000.00.00.H56"},
		commands.ReceiveInput{ProcedureCode: "1.009972", Channel: domain.ChannelDirect, Components: []domain.Component{{Name: "Đơn", Copies: 1}},
			Applicant: domain.Applicant{Type: domain.ApplicantCitizen, Name: name, IDNumber: idNumber, Phone: "09" + idNumber[4:], Address: "9 Bà Triệu, Thanh Hóa"}})
	if err != nil {
		t.Fatal(err)
	}
	return receipt.DossierID
}

// readModelsHolding counts the rows of the read-model tables (everything but the event log) that
// hold text in clear.
func readModelsHolding(t *testing.T, dataDir, text string) int {
	t.Helper()
	b, err := openBackend(context.Background(), "", dataDir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rows, err := b.ReadDB.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('events', 'shred_keys')`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		_ = rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	found := 0
	for _, table := range tables {
		rows, err := b.ReadDB.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		columns, _ := rows.Columns()
		values := make([]any, len(columns))
		for i := range values {
			values[i] = new(sql.RawBytes)
		}
		for rows.Next() {
			if err := rows.Scan(values...); err != nil {
				t.Fatal(err)
			}
			for _, v := range values {
				if bytes.Contains(*v.(*sql.RawBytes), []byte(text)) {
					found++
				}
			}
		}
		rows.Close()
	}
	return found
}

// rebuildReadModels builds every read model as serve and `motcua projections rebuild` do: from
// the log read through the personal-data decorator.
func rebuildReadModels(t *testing.T, dataDir string) {
	t.Helper()
	ctx := context.Background()
	deployment, err := openDeployment(ctx, &storeFlags{dataDir: dataDir}, openOptions{personalData: true})
	if err != nil {
		t.Fatal(err)
	}
	defer deployment.Close()
	keyed, err := citizenReadModels(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	rebuilder := &engine.Rebuilder{Store: deployment.events.Sealed, DB: deployment.ReadDB, Dialect: deployment.Dialect(), Consumers: append(projections.All(), keyed...), Logger: slog.New(slog.DiscardHandler)}
	if _, err := rebuilder.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

func storedEvents(t *testing.T, dataDir string) []eventstore.RecordedEvent {
	t.Helper()
	b, err := openBackend(context.Background(), "", dataDir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	events, err := b.Store.ReadAll(context.Background(), eventstore.Start, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// `motcua erase` makes the applicant read as erased, rebuilds the read models that had copied their
// data, and leaves the stored events — and so `motcua verify` — untouched.
func TestEraseCommand(t *testing.T) {
	dataDir := t.TempDir()
	const idNumber = "038188776655"
	dossierID := receiveAsServeDoes(t, dataDir, erasedApplicantName, idNumber)
	const keptName = "Mai Văn Giữ"
	receiveAsServeDoes(t, dataDir, keptName, "038100000001") // someone else, who keeps their data

	var out, errOut bytes.Buffer
	// The read models are built through the same decorator: they hold the applicant in clear.
	rebuildReadModels(t, dataDir)
	if citizenDossiersOf(t, dataDir, idNumber) != 1 || citizenDossiersOf(t, dataDir, "038100000001") != 1 {
		t.Fatal("the citizens' index does not find each applicant's dossier before erasure")
	}
	if readModelsHolding(t, dataDir, erasedApplicantName) == 0 {
		t.Fatal("no read model holds the applicant's name before erasure: a rebuild read sealed data, or this test proves nothing")
	}
	for _, e := range storedEvents(t, dataDir) {
		if strings.Contains(string(e.Data), erasedApplicantName) || strings.Contains(string(e.Data), idNumber) {
			t.Fatalf("a stored event holds personal data in clear: %s", e.Data)
		}
	}
	before := storedEvents(t, dataDir)

	// The person is signed in as a citizen; so is someone else.
	sessionOf := func(number string) (*session.Store, string) {
		t.Helper()
		deployment, err := openDeployment(context.Background(), &storeFlags{dataDir: dataDir}, openOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { deployment.Close() })
		key, err := citizenIndexKey(dataDir)
		if err != nil {
			t.Fatal(err)
		}
		store, err := session.New(deployment.ReadDB, deployment.Dialect(), session.DefaultTimeouts)
		if err != nil {
			t.Fatal(err)
		}
		token, err := store.Create(context.Background(), session.Session{Kind: session.Citizen, Subject: number, Holder: key.Of(number)})
		if err != nil {
			t.Fatal(err)
		}
		return store, token
	}
	erasedSessions, erasedToken := sessionOf(idNumber)
	keptSessions, keptToken := sessionOf("038100000001")

	if err := run(context.Background(), []string{"erase", "--data", dataDir, "--id-number", idNumber}, &out, &errOut); err == nil {
		t.Fatal("an erasure without its legal basis was carried out")
	}
	out.Reset()
	if err := run(context.Background(), []string{"erase", "--data", dataDir, "--id-number", idNumber, "--basis", "Đơn số 15/2026"}, &out, &errOut); err != nil {
		t.Fatalf("erase: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "erased") {
		t.Fatalf("erase printed %q", out.String())
	}
	if n := readModelsHolding(t, dataDir, erasedApplicantName); n != 0 {
		t.Fatalf("%d read-model values still hold the erased name", n)
	}
	if n := readModelsHolding(t, dataDir, "09"+idNumber[4:]); n != 0 {
		t.Fatalf("%d read-model values still hold the erased phone number", n)
	}
	if readModelsHolding(t, dataDir, keptName) == 0 {
		t.Fatal("the erasure wiped another applicant from the read models")
	}
	if citizenDossiersOf(t, dataDir, idNumber) != 0 || citizenDossiersOf(t, dataDir, "038100000001") != 1 {
		t.Fatal("after erasure the citizens' index still finds the erased applicant's dossier, or lost another's")
	}
	if _, err := erasedSessions.Get(context.Background(), erasedToken, session.Citizen); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("the erased person's session lives on: %v", err)
	}
	if _, err := keptSessions.Get(context.Background(), keptToken, session.Citizen); err != nil {
		t.Errorf("another person's session ended with the erasure: %v", err)
	}
	after := storedEvents(t, dataDir)
	if len(after) != len(before) {
		t.Fatalf("%d stored events after, %d before", len(after), len(before))
	}
	for i := range before {
		if !bytes.Equal(before[i].Data, after[i].Data) || before[i].Metadata.PrevHash != after[i].Metadata.PrevHash {
			t.Fatalf("stored event %d changed", i)
		}
	}
	report, err := runVerifyCommand(t, "--data", dataDir)
	if err != nil {
		t.Fatalf("the hash chain is broken after erasure: %v\n%s", err, report)
	}

	// Reading the dossier shows the applicant erased.
	deployment, err := openDeployment(context.Background(), &storeFlags{dataDir: dataDir}, openOptions{personalData: true})
	if err != nil {
		t.Fatal(err)
	}
	defer deployment.Close()
	d, _, err := commands.New(deployment.events.Sealed, nil, nil).Load(context.Background(), dossierID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Applicant.Name != "[đã xoá]" || d.Applicant.Phone != "" || d.Applicant.Address != "" {
		t.Fatalf("applicant after erasure: %+v", d.Applicant)
	}
	out.Reset()
	if err := run(context.Background(), []string{"erase", "--data", dataDir, "--id-number", idNumber, "--basis", "Đơn số 15/2026"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "nothing erased") {
		t.Fatalf("second erasure: %v %q", err, out.String())
	}
}

// citizenDossiersOf counts the dossiers the citizens' index finds for an identification number.
func citizenDossiersOf(t *testing.T, dataDir, idNumber string) int {
	t.Helper()
	key, err := citizenIndexKey(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	deployment, err := openDeployment(context.Background(), &storeFlags{dataDir: dataDir}, openOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer deployment.Close()
	var n int
	if err := deployment.ReadDB.QueryRow(`SELECT COUNT(*) FROM citizen_dossiers WHERE applicant = $1`, key.Of(idNumber)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
