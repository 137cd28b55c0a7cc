package commands

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// PortalSubmission is a dossier a citizen filed on the National Public Service Portal (DVCQG), as the
// portal's webhook or feed brought it (integrations/portal/inbound checks its signature and fields).
type PortalSubmission struct {
	PortalID      string // the portal's own dossier id (MaHoSoQG)
	ProcedureCode string
	ReceivingUnit string
	SubmittedAt   time.Time // on the portal
	Applicant     domain.Applicant
	Components    []domain.Component
}

// PortalActor is who files the portal's dossiers in the log: the portal, acting at the desk of the
// receiving unit it named.
var PortalActor = Caller{ID: "dvcqg", Name: "Cổng Dịch vụ công quốc gia", Roles: []Role{RoleReception}}

// portalDossierNamespace derives a dossier's id from the portal's id (UUID v5), so that every arrival
// of one portal dossier — repeated webhooks, a pull after a webhook, two nodes at once — opens the
// same stream, and the store lets only the first open it.
var portalDossierNamespace = uuid.MustParse("6f1d3c52-7a0e-4d8b-9a61-3f2e5b7c9d14")

// PortalDossierID is the id of the dossier opened for the portal's dossier portalID.
func PortalDossierID(portalID string) string {
	return uuid.NewSHA1(portalDossierNamespace, []byte(portalID)).String()
}

// SubmitFromPortal records a dossier filed on the portal as submitted online, awaiting the receiving
// unit's acceptance, with the portal's id beside ours (external_code). It is idempotent on the
// portal's id: a second arrival answers with the dossier the first one opened (created false),
// whatever it carries.
//
// The acceptance window opens when the citizen filed on the portal (NgayNopHoSo), not when the
// dossier reached motcua: the portal is the citizen's front door (NĐ 224/2026 art. 14), and a late
// delivery must not lengthen the time the agency has to answer. A time after ours (the clocks
// differ) counts as now.
func (a *App) SubmitFromPortal(ctx context.Context, in PortalSubmission) (res Result, created bool, err error) {
	if err := domain.CheckTextFields(in); err != nil {
		return Result{}, false, err
	}
	if in.PortalID == "" {
		return Result{}, false, &domain.Error{Code: domain.EINVALID, Message: "invalid input",
			Fields: []domain.FieldError{{Field: "external_code", Message: "is required"}}}
	}
	id := PortalDossierID(in.PortalID)
	if res, found, err := a.existingPortalDossier(ctx, id); err != nil || found {
		return res, false, err
	}
	procedure, ok := a.Catalog().Procedure(in.ProcedureCode)
	if !ok {
		return Result{}, false, &domain.Error{Code: domain.EINVALID, Message: "invalid input",
			Fields: []domain.FieldError{{Field: "procedure_code", Message: "is not a procedure of the catalog"}}}
	}
	if _, ok := a.Catalog().Agency(in.ReceivingUnit); !ok {
		return Result{}, false, &domain.Error{Code: domain.EINVALID, Message: "invalid input",
			Fields: []domain.FieldError{{Field: "receiving_unit", Message: "is not an agency of the catalog"}}}
	}
	caller := PortalActor
	caller.Agency = in.ReceivingUnit
	role, err := authorize(caller, domain.ActionSubmit, domain.Dossier{})
	if err != nil {
		return Result{}, false, err
	}
	now := a.now()
	at := in.SubmittedAt.UTC()
	if at.IsZero() || at.After(now) {
		at = now
	}
	empty := domain.Dossier{Status: domain.StatusNew}
	events, err := domain.Decide(empty, domain.Submit{
		DossierID: id, ExternalCode: in.PortalID, Procedure: procedure, Applicant: in.Applicant.Normalize(),
		Components: in.Components, ReceivingUnit: in.ReceivingUnit, At: at, Calendar: a.Calendar, Rules: a.Rules,
	})
	if err != nil {
		return Result{}, false, err
	}
	res, err = a.append(ctx, caller.actor(role), empty, events, now)
	if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		// Another arrival of the same portal dossier opened the stream first: answer with its dossier.
		res, found, lookErr := a.existingPortalDossier(ctx, id)
		if lookErr != nil || !found {
			return Result{}, false, errors.Join(err, lookErr)
		}
		return res, false, nil
	}
	if err != nil {
		return Result{}, false, err
	}
	return res, true, nil
}

// existingPortalDossier returns the dossier already opened for a portal dossier, if there is one.
func (a *App) existingPortalDossier(ctx context.Context, id string) (Result, bool, error) {
	d, recorded, err := a.loadRecorded(ctx, id)
	if err != nil || !d.Exists() {
		return Result{}, false, err
	}
	last := recorded[len(recorded)-1]
	return Result{DossierID: d.ID, Code: string(d.Code), Status: d.Status, Version: d.Version, Dossier: d, Position: last.Position}, true, nil
}
