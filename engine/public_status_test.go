package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/projections"
)

// The public status table answers anyone who holds a code: it keeps the applicant's masked name and
// none of the identity the dossier was received with, and the lookup still shows the masked name.
func TestPublicStatusKeepsNoIdentity(t *testing.T) {
	t.Parallel()
	store := openSQLite(t)
	db := store.DB()
	log := seedDossiers(t, store)
	feeder := engine.NewEngine(store, db, engine.SQLite, projections.PublicStatusView{})
	feeder.Logger = quiet
	stop := runEngine(t, feeder)
	defer stop()
	waitFor(t, feeder, log[len(log)-1].Position)

	checked := 0
	for _, re := range log {
		if re.Type != domain.TypeReceived {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		received := e.(domain.Received)
		var state string
		if err := db.QueryRow(`SELECT state_json FROM public_status WHERE code = $1`, string(received.Code)).Scan(&state); err != nil {
			t.Fatalf("%s: %v", received.Code, err)
		}
		a := received.Applicant
		for what, value := range map[string]string{"id number": a.IDNumber, "phone": a.Phone, "email": a.Email, "address": a.Address} {
			if value != "" && strings.Contains(state, value) {
				t.Errorf("%s: the public status row holds the applicant's %s", received.Code, what)
			}
		}
		if a.Type != domain.ApplicantOrganization && strings.Contains(state, a.Name) {
			t.Errorf("%s: the public status row holds the applicant's full name %q", received.Code, a.Name)
		}
		status, err := projections.LookupPublicStatus(context.Background(), db, string(received.Code), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if status.ApplicantMasked != a.MaskedName() || status.Code != string(received.Code) || status.ProcedureName == "" {
			t.Errorf("%s: lookup shows applicant %q (want %q), procedure %q", received.Code, status.ApplicantMasked, a.MaskedName(), status.ProcedureName)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("the log has no received dossier")
	}
}
