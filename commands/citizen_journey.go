package commands

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/shred"
)

// The citizen's own journey online (docs/citizens.md): a signed-in citizen files a dossier with its
// files, answers a supplement request with the missing files, and reads their own dossiers. The
// citizen is identified by the 12-digit number the identity provider (VNeID) vouched for; a dossier
// is theirs when its applicant carries that number, which is also what binds it to their list
// (projections.CitizenDossiersView's keyed blind index of the applicant's number).

// Citizen is the signed-in citizen, as the identity provider named them.
type Citizen struct {
	IDNumber string // the personal identification number (12 digits)
	Name     string
	Phone    string
	Email    string
}

// CitizenFile is one file of a citizen's request, for Component: either a new file (Store streams
// it in) or one of the citizen's own earlier files reused by its SHA-256 (Reuse).
type CitizenFile struct {
	Component string
	Store     StoreFile
	Reuse     string
}

// CitizenFiles yields a request's files in the order they come; io.EOF after the last. The edge
// reads each file's component before its bytes, so a file for a component that is not asked for is
// refused before a byte of it is stored.
type CitizenFiles func() (CitizenFile, error)

// OwnFiles finds a file the citizen attached to one of their earlier dossiers, by its SHA-256: the
// personal data store of NĐ 107/2021 art. 14, kept to the citizen's own files. The edge gives it
// (it reads the citizen's list); Reusable checks what it found.
type OwnFiles func(ctx context.Context, sha256 string) (domain.StoredFile, bool, error)

// OnlineSubmission is what the citizen fills in: the procedure and the applicant's fields. The
// applicant's identification number is always the signed-in citizen's: a citizen files for
// themselves.
type OnlineSubmission struct {
	ProcedureCode string           `json:"procedure_code"`
	Applicant     domain.Applicant `json:"applicant"`
	// Key, when set, makes the filing idempotent: the form's own random key. The same key again
	// (a retry over a lost connection, a second click) answers with the dossier the first filed,
	// before any file is read.
	Key string `json:"-"`
}

// maxFilesPerRequest bounds the files of one citizen's request, so a request's decision stays
// bounded whatever the sizes (the bytes are bounded by the dossier's budget).
const maxFilesPerRequest = 50

// OnlineReceivingUnit is the agency that receives procedure p online: the unit of its workflow's
// first step (the reception, as the catalog names it) when that is an agency of the catalog —
// the one-stop centre of the province — else the competent agency itself.
func (a *App) OnlineReceivingUnit(p domain.Procedure) string {
	if len(p.Workflow) > 0 {
		if _, ok := a.Catalog().Agency(p.Workflow[0].Unit); ok {
			return p.Workflow[0].Unit
		}
	}
	return p.CompetentAgency
}

// SubmitOnline files a dossier for the citizen, with a file for each component the procedure asks
// for, in one append: dossier.submitted, then one dossier.document_attached per file. The dossier
// then waits for the reception's acceptance within the rule's working hours (Rules.
// OnlineAcceptanceHours, NĐ 61/2018 art. 15 as amended). Everything that needs no file is checked
// before the first file is read, so bad input stores nothing; a file refused after an earlier one
// was stored (its type, its size) leaves that earlier one unreferenced, never recorded.
func (a *App) SubmitOnline(ctx context.Context, citizen Citizen, in OnlineSubmission, files CitizenFiles, own OwnFiles) (Result, error) {
	if err := domain.CheckTextFields(in); err != nil {
		return Result{}, err
	}
	catalog, _, err := a.currentCatalog(ctx)
	if err != nil {
		return Result{}, err
	}
	procedure, ok := catalog.Procedure(in.ProcedureCode)
	if !ok {
		return Result{}, invalidField("procedure_code", "is not a procedure of the catalog")
	}
	now := a.now()
	// A reception unit that ceased (a merger) hands its online dossiers to its successor.
	unit := catalog.SuccessorAt(a.OnlineReceivingUnit(procedure), now)
	if procedure, err = a.successorOf(unit, procedure, now); err != nil {
		return Result{}, err
	}
	applicant := in.Applicant.Normalize()
	applicant.IDNumber = citizen.IDNumber
	if applicant.Type == "" {
		applicant.Type = domain.ApplicantCitizen
	}
	components := make([]domain.Component, len(procedure.Components))
	names := make([]string, len(procedure.Components))
	for i, c := range procedure.Components {
		components[i], names[i] = domain.Component{Name: c.Name, Copies: 1}, c.Name
	}
	id := uuid.Must(uuid.NewV7()).String()
	if in.Key != "" {
		id = keyedDossierID(applicantActor.ID+":"+citizen.IDNumber, Idempotency{Key: in.Key})
		if res, found, err := a.earlierFiling(ctx, citizen, id); err != nil || found {
			return res, err
		}
	}
	empty := domain.Dossier{Status: domain.StatusNew}
	submit := domain.Submit{DossierID: id, Procedure: procedure, Applicant: applicant, Components: components,
		ReceivingUnit: unit, At: now, Calendar: a.Calendar, Rules: a.Rules}
	submitted, err := domain.Decide(empty, submit)
	if err != nil {
		return Result{}, err
	}
	d := empty
	for _, e := range submitted {
		d = domain.Evolve(d, e)
	}
	attached, err := a.citizenFiles(ctx, citizen, d, names, files, own)
	if err != nil {
		return Result{}, err
	}
	var missing []string
	for _, name := range names {
		if !slices.ContainsFunc(attached, func(f attachedFile) bool { return f.component == name }) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return Result{}, invalidField("component", "a file is required for every component of the procedure; missing: %s", strings.Join(missing, "; "))
	}
	events, err := attachAll(d, attached, names, a.maxDossierBytes(), now)
	if err != nil {
		return Result{}, err
	}
	res, err := a.append(ctx, applicantActor, empty, append(submitted, events...), now)
	if errors.Is(err, eventstore.ErrWrongExpectedVersion) && in.Key != "" {
		// The same filing, sent twice at once, opened the stream first: answer with it.
		if res, found, lookErr := a.earlierFiling(ctx, citizen, id); lookErr != nil || found {
			return res, lookErr
		}
	}
	return res, err
}

// earlierFiling answers a keyed filing that ran already with the dossier it filed (Replayed).
func (a *App) earlierFiling(ctx context.Context, citizen Citizen, id string) (Result, bool, error) {
	d, recorded, err := a.loadRecorded(ctx, id)
	if err != nil || !d.Exists() {
		return Result{}, false, err
	}
	if !ownedBy(d, citizen) {
		return Result{}, false, notYours(id)
	}
	return Result{DossierID: d.ID, Code: string(d.Code), Status: d.Status, Version: d.Version, Dossier: d,
		Position: recorded[len(recorded)-1].Position, Replayed: true}, true, nil
}

// AnswerSupplement records the citizen's answer to the pending supplement request of their dossier
// ref: a file for every missing item, then dossier.supplemented with those items — in one append,
// on the same dossier and code, its history kept. The domain restarts the clock as the rules say:
// before receipt a new acceptance window; after it the resolution time from now (NĐ 61/2018
// art. 19) — decideSupplement.
func (a *App) AnswerSupplement(ctx context.Context, citizen Citizen, ref string, files CitizenFiles, own OwnFiles) (Result, error) {
	d, _, err := a.OwnDossier(ctx, citizen, ref)
	if err != nil {
		return Result{}, err
	}
	if d.Status != domain.StatusSupplementRequested || d.PendingSupplement == nil {
		return Result{}, &domain.TransitionError{Action: domain.ActionSupplement, Status: d.Status, Reason: "no supplement request awaits an answer"}
	}
	components, err := a.catalogComponents(ctx, d)
	if err != nil {
		return Result{}, err
	}
	attachable := d.AttachableComponents(components)
	attached, err := a.citizenFiles(ctx, citizen, d, attachable, files, own)
	if err != nil {
		return Result{}, err
	}
	request := d.PendingSupplement.RequestNumber
	return a.decideOnDossier(ctx, d.ID, "", nil, func(d domain.Dossier, now time.Time) (eventstore.Actor, []domain.Event, error) {
		if !ownedBy(d, citizen) {
			return eventstore.Actor{}, nil, notYours(ref)
		}
		if d.PendingSupplement == nil || d.PendingSupplement.RequestNumber != request {
			return eventstore.Actor{}, nil, domain.Errorf(domain.ECONFLICT, "the supplement request of dossier %s changed while the files were sent: reload it", ref)
		}
		var missing []string
		items := make([]domain.Component, 0, len(d.PendingSupplement.MissingItems))
		for _, item := range d.PendingSupplement.MissingItems {
			if !slices.ContainsFunc(attached, func(f attachedFile) bool { return f.component == item }) {
				missing = append(missing, item)
			}
			items = append(items, domain.Component{Name: item, Copies: 1})
		}
		if len(missing) > 0 {
			return eventstore.Actor{}, nil, invalidField("component", "a file is required for every missing item; missing: %s", strings.Join(missing, "; "))
		}
		events, err := attachAll(d, attached, components, a.maxDossierBytes(), now)
		if err != nil {
			return eventstore.Actor{}, nil, err
		}
		for _, e := range events {
			d = domain.Evolve(d, e)
		}
		supplemented, err := domain.Decide(d, domain.Supplement{Components: items, At: now, Calendar: a.Calendar, Rules: a.Rules})
		return applicantActor, append(events, supplemented...), err
	})
}

// OwnDossier loads the citizen's dossier ref (its code or id). Another person's dossier is not
// found, as one that does not exist: a citizen learns nothing of dossiers that are not theirs.
func (a *App) OwnDossier(ctx context.Context, citizen Citizen, ref string) (domain.Dossier, []eventstore.RecordedEvent, error) {
	d, recorded, err := a.Load(ctx, ref)
	if err != nil {
		return domain.Dossier{}, nil, err
	}
	if !ownedBy(d, citizen) {
		return domain.Dossier{}, nil, notYours(ref)
	}
	return d, recorded, nil
}

// ReusableFile returns the citizen's own earlier file with the given SHA-256 from their dossier
// dossierID, if it is there: the dossier must be theirs (an erased applicant's is nobody's) and
// the file a component's or a result's file sealed under their key.
func (a *App) ReusableFile(ctx context.Context, citizen Citizen, dossierID, sha256 string) (domain.StoredFile, bool, error) {
	d, _, err := a.OwnDossier(ctx, citizen, dossierID)
	if domain.ErrorCodeOf(err) == domain.ENOTFOUND {
		return domain.StoredFile{}, false, nil
	}
	if err != nil {
		return domain.StoredFile{}, false, err
	}
	for _, doc := range d.Documents {
		if doc.Sealed && strings.EqualFold(doc.SHA256, sha256) {
			return domain.StoredFile{Name: doc.Name(), MediaType: doc.MediaType, Size: doc.Size, SHA256: doc.SHA256, Blob: doc.Blob, Sealed: true}, true, nil
		}
	}
	return domain.StoredFile{}, false, nil
}

func ownedBy(d domain.Dossier, citizen Citizen) bool {
	return citizen.IDNumber != "" && subtle.ConstantTimeCompare([]byte(d.Applicant.IDNumber), []byte(citizen.IDNumber)) == 1
}

func notYours(ref string) error {
	return domain.Errorf(domain.ENOTFOUND, "dossier %s not found among your dossiers", ref)
}

// attachedFile is a file of a citizen's request, stored or found, for its component.
type attachedFile struct {
	component string
	file      domain.StoredFile
	origin    domain.DocumentOrigin
}

// citizenFiles reads the request's files for dossier d: each component must be one of allowed,
// each new file is stored under the applicant's key within what is left of the dossier's budget,
// each reused one must be the citizen's own.
func (a *App) citizenFiles(ctx context.Context, citizen Citizen, d domain.Dossier, allowed []string, files CitizenFiles, own OwnFiles) ([]attachedFile, error) {
	budget := a.maxDossierBytes() - d.DocumentBytes()
	subject := shred.SubjectOf(citizen.IDNumber)
	var out []attachedFile
	for {
		f, err := files()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if f.Component == "" || !slices.Contains(allowed, f.Component) {
			return nil, invalidField("component", "%q is not a component of procedure %s nor a missing item asked for", f.Component, d.Procedure.Code)
		}
		if len(out) == maxFilesPerRequest {
			return nil, invalidField("file", "at most %d files in one request", maxFilesPerRequest)
		}
		af := attachedFile{component: f.Component, origin: domain.OriginUpload}
		if f.Reuse != "" {
			found, ok, err := own(ctx, strings.ToLower(f.Reuse))
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, invalidField("reuse", "is not the SHA-256 of a file of one of your dossiers")
			}
			af.file, af.origin = found, domain.OriginCitizenStore
		} else {
			if budget <= 0 {
				return nil, invalidField("file", "the dossier's files already take the bytes allowed")
			}
			if af.file, err = f.Store(ctx, FileTarget{Subject: subject, Budget: budget}); err != nil {
				return nil, err
			}
		}
		budget -= af.file.Size
		out = append(out, af)
	}
}

// attachAll decides one dossier.document_attached per file on d, in order; the same file sent
// twice for one component is recorded once.
func attachAll(d domain.Dossier, files []attachedFile, components []string, maxBytes int64, now time.Time) ([]domain.Event, error) {
	var events []domain.Event
	for _, f := range files {
		if _, ok := d.AttachedAlready(f.component, f.file.SHA256); ok {
			continue
		}
		decided, err := domain.Decide(d, domain.AttachDocument{DocumentID: uuid.Must(uuid.NewV7()).String(), Component: f.component,
			File: f.file, Origin: f.origin, Components: components, MaxDossierBytes: maxBytes, At: now})
		if err != nil {
			return nil, err
		}
		for _, e := range decided {
			d = domain.Evolve(d, e)
		}
		events = append(events, decided...)
	}
	return events, nil
}
