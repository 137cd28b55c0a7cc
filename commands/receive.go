package commands

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// ReceiveInput is a dossier brought to the desk (direct, postal) or filed online.
type ReceiveInput struct {
	ProcedureCode string             `json:"procedure_code"`
	Channel       domain.Channel     `json:"channel"`
	Applicant     domain.Applicant   `json:"applicant"`
	Components    []domain.Component `json:"components"`
	ExternalCode  string             `json:"external_code,omitempty"`
	// A boundary-free receipt (NĐ 118/2025) only: the centre where the applicant will collect the
	// result (default: this one), and whether the paper originals travel to the competent agency.
	CollectAt        string `json:"collect_at,omitempty"`
	ForwardOriginals bool   `json:"forward_originals,omitempty"`
}

// Receipt is what the applicant takes home (form 01): the code, the appointment date and the secret
// that lets them rate the service later. The secret is shown once and kept only as a hash.
type Receipt struct {
	Result
	ReceivedAt      time.Time `json:"received_at,omitzero"`
	AppointmentDate time.Time `json:"appointment_date,omitzero"`
	RatingSecret    string    `json:"rating_secret,omitempty"`
}

// provisionalCode stands in for the real code while an input is validated, so that bad input is
// refused before a code is spent.
const provisionalCode domain.DossierCode = "000.00.00.A00-000101-0001"

// Receive records a new dossier: received with a fresh code when brought to the desk or by post,
// submitted (awaiting acceptance) when filed online. The receiving unit is the caller's agency.
// It does not go through decideOnDossier's retry loop: it opens a new stream, which no other action
// can change first, so a lost append is only a keyed repeat (lostKeyedRace answers it) and re-deciding
// would spend another code. Accepting a dossier filed online is an action on its stream (AcceptInput).
func (a *App) Receive(ctx context.Context, caller Caller, in ReceiveInput) (Receipt, error) {
	if err := domain.CheckTextFields(in); err != nil {
		return Receipt{}, err
	}
	action := domain.ActionReceive
	if in.Channel == domain.ChannelOnline {
		action = domain.ActionSubmit
	}
	role, err := authorize(caller, action, domain.Dossier{})
	if err != nil {
		return Receipt{}, err
	}
	catalog, revision, err := a.currentCatalog(ctx)
	if err != nil {
		return Receipt{}, err
	}
	procedure, ok := catalog.Procedure(in.ProcedureCode)
	if !ok {
		return Receipt{}, &domain.Error{Code: domain.EINVALID, Message: "invalid input",
			Fields: []domain.FieldError{{Field: "procedure_code", Message: "is not a procedure of the catalog"}}}
	}
	now := a.now()
	if procedure, err = a.successorOf(caller.Agency, procedure, now); err != nil {
		return Receipt{}, err
	}
	id := uuid.Must(uuid.NewV7()).String()
	if idem, ok := idempotencyOf(ctx); ok {
		id = keyedDossierID(caller.ID, idem)
		if receipt, found, err := a.earlierReceipt(ctx, caller, id); err != nil || found {
			return receipt, err
		}
	}
	empty := domain.Dossier{Status: domain.StatusNew}
	if action == domain.ActionSubmit {
		events, err := domain.Decide(empty, domain.Submit{
			DossierID: id, Procedure: procedure, Applicant: in.Applicant, Components: in.Components,
			ReceivingUnit: caller.Agency, At: now, Calendar: a.Calendar, Rules: a.Rules,
		})
		if err != nil {
			return Receipt{}, err
		}
		res, err := a.append(ctx, caller.actor(role), empty, events, now)
		if err != nil {
			return a.lostKeyedRace(ctx, caller, id, err)
		}
		return Receipt{Result: res}, nil
	}
	secret := newRatingSecret()
	cmd := domain.Receive{
		DossierID: id, Code: provisionalCode, ExternalCode: in.ExternalCode, Procedure: procedure, Applicant: in.Applicant,
		Channel: in.Channel, Components: in.Components, ReceivingUnit: caller.Agency,
		RatingSecretHash: domain.HashRatingSecret(secret), At: now, Calendar: a.Calendar, Rules: a.Rules,
		CatalogRevision: revision,
	}
	if cmd.BoundaryFree, err = a.boundaryFreeTerms(caller, procedure, in); err != nil {
		return Receipt{}, err
	}
	if _, err := domain.Decide(empty, cmd); err != nil {
		return Receipt{}, err
	}
	cmd.Code, err = a.codes.allocate(ctx, caller.Agency, now, id, caller.actor(role))
	if err != nil {
		return Receipt{}, err
	}
	events, err := domain.Decide(empty, cmd)
	if err != nil {
		return Receipt{}, err
	}
	res, err := a.append(ctx, caller.actor(role), empty, events, now)
	if err != nil {
		return a.lostKeyedRace(ctx, caller, id, err)
	}
	return Receipt{Result: res, ReceivedAt: res.Dossier.ReceivedAt, AppointmentDate: res.Dossier.AppointmentDate, RatingSecret: secret}, nil
}

// earlierReceipt answers a repeated keyed receipt from the dossier the first run opened. The rating
// secret is kept only as a hash, so this answer lacks it: the first answer, which the HTTP layer
// replays while it has it, is the only one that carries it.
func (a *App) earlierReceipt(ctx context.Context, caller Caller, id string) (Receipt, bool, error) {
	_, recorded, err := a.loadRecorded(ctx, id)
	if err != nil || len(recorded) == 0 {
		return Receipt{}, false, err
	}
	upTo, names, found, err := earlierRun(ctx, caller.ID, recorded)
	if err != nil {
		return Receipt{}, false, err
	}
	if !found {
		// The key's window has passed: the same request again is a client error, not a new dossier.
		return Receipt{}, false, domain.Errorf(domain.EIDEMPOTENCY, "Idempotency-Key %q already opened dossier %s: send a new key", recorded[0].Metadata.IdempotencyKey, id)
	}
	res, err := replayResult(upTo, names)
	if err != nil {
		return Receipt{}, false, err
	}
	return Receipt{Result: res, ReceivedAt: res.Dossier.ReceivedAt, AppointmentDate: res.Dossier.AppointmentDate}, true, nil
}

// lostKeyedRace turns the failed append of a keyed receipt into the answer of the repeat that won
// the race to open the same dossier; any other failure is returned as it is.
func (a *App) lostKeyedRace(ctx context.Context, caller Caller, id string, err error) (Receipt, error) {
	if _, keyed := idempotencyOf(ctx); !keyed || !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		return Receipt{}, err
	}
	receipt, found, lookErr := a.earlierReceipt(ctx, caller, id)
	if lookErr != nil || !found {
		return Receipt{}, errors.Join(err, lookErr)
	}
	return receipt, nil
}

// AcceptInput accepts a dossier submitted online; after Execute, RatingSecret is the receipt's secret.
type AcceptInput struct {
	Components []domain.Component `json:"components,omitempty"`
	secret     string
}

func (*AcceptInput) Action() domain.Action { return domain.ActionReceive }

// RatingSecret is the secret printed on the receipt of the accepted dossier.
func (in *AcceptInput) RatingSecret() string { return in.secret }

func (in *AcceptInput) command(ctx context.Context, a *App, caller Caller, d domain.Dossier, now time.Time) (domain.Command, error) {
	catalog, revision, err := a.currentCatalog(ctx)
	if err != nil {
		return nil, err
	}
	procedure, ok := catalog.Procedure(d.Procedure.Code)
	if !ok {
		return nil, domain.Errorf(domain.ECONFLICT, "procedure %s is no longer in the catalog", d.Procedure.Code)
	}
	cmd := domain.Receive{
		Code: provisionalCode, Procedure: procedure, Components: in.Components,
		RatingSecretHash: "pending", At: now, Calendar: a.Calendar, Rules: a.Rules, CatalogRevision: revision,
	}
	if _, err := domain.Decide(d, cmd); err != nil {
		return nil, err
	}
	role, _ := roleFor(caller, domain.ActionReceive)
	cmd.Code, err = a.codes.allocate(ctx, d.ReceivingUnit, now, d.ID, caller.actor(role))
	if err != nil {
		return nil, err
	}
	in.secret = newRatingSecret()
	cmd.RatingSecretHash = domain.HashRatingSecret(in.secret)
	return cmd, nil
}

// newRatingSecret returns 10 random base32 characters (50 bits): short enough to type from a
// receipt, long enough not to be guessed under the lookup rate limit.
func newRatingSecret() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)[:10]
}
