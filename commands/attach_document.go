package commands

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/shred"
)

// DefaultMaxDossierBytes bounds the sum of one dossier's files when App.MaxDossierBytes is unset:
// 100 MB (docs/documents.md).
const DefaultMaxDossierBytes = 100 << 20

// FileTarget is what the edge needs to store an upload for a dossier: whose key seals it (the
// applicant's, docs/documents.md "Files holding personal data") and how many bytes the dossier may
// still take.
type FileTarget struct {
	Subject shred.Subject
	Budget  int64
}

// StoreFile streams the request's file into the blob store for target and reports what it kept.
// It is called only once the caller may attach a file to the dossier, so nothing of a refused
// upload is read; its errors (a file over the limit, of the wrong type, cut short) are returned
// as they are — the edge makes them EINVALID naming its field.
type StoreFile func(ctx context.Context, target FileTarget) (domain.StoredFile, error)

// AttachDocumentInput attaches one file to a component of the dossier.
type AttachDocumentInput struct {
	Component string                `json:"component"`
	Origin    domain.DocumentOrigin `json:"origin"`
}

// AttachDocument stores the caller's file (store) and records it on the dossier ref: an official at
// the desk attaching a scanned component (origin desk_scan), or a file reused from a store. The
// checks that need no file — who may act, the dossier's status, the component, the dossier's
// remaining budget — come first, so a refused upload stores nothing. A file stored and then
// refused by the decision (the dossier moved on meanwhile) is left unreferenced, never recorded.
func (a *App) AttachDocument(ctx context.Context, caller Caller, ref string, in AttachDocumentInput, store StoreFile) (Result, error) {
	return a.attachDocument(ctx, ref, caller.ID, in, store, func(d domain.Dossier) (eventstore.Actor, error) {
		role, err := authorize(caller, domain.ActionAttachDocument, d)
		return caller.actor(role), err
	})
}

// attachDocument is the use case of one file attached on its own: act says who acts on d, or
// refuses; repeatOf is the actor id an idempotency key's earlier run is looked up under. (A
// citizen's files come with their submission or supplement answer instead: citizen_journey.go.)
func (a *App) attachDocument(ctx context.Context, ref, repeatOf string, in AttachDocumentInput, store StoreFile,
	act func(d domain.Dossier) (eventstore.Actor, error)) (Result, error) {
	if err := domain.CheckTextFields(in); err != nil {
		return Result{}, err
	}
	d, _, err := a.Load(ctx, ref)
	if err != nil {
		return Result{}, err
	}
	if _, err := act(d); err != nil {
		return Result{}, err
	}
	components, err := a.catalogComponents(ctx, d)
	if err != nil {
		return Result{}, err
	}
	budget := a.maxDossierBytes() - d.DocumentBytes()
	var v domain.Validation
	if !slices.Contains(domain.Allowed[domain.ActionAttachDocument], d.Status) {
		return Result{}, &domain.TransitionError{Action: domain.ActionAttachDocument, Status: d.Status}
	}
	v.Check(in.Component != "" && slices.Contains(d.AttachableComponents(components), in.Component), "component",
		"%q is not a component of procedure %s", in.Component, d.Procedure.Code)
	v.Check(in.Origin.Valid() && in.Origin != domain.OriginResult, "origin", "must be desk_scan, upload, citizen_store or national_database")
	v.Check(budget > 0, "file", "the dossier's files already take the %d bytes allowed", a.maxDossierBytes())
	if err := v.Err(); err != nil {
		return Result{}, err
	}
	file, err := store(ctx, FileTarget{Subject: shred.SubjectOf(d.Applicant.IDNumber), Budget: budget})
	if err != nil {
		return Result{}, err
	}
	documentID := uuid.Must(uuid.NewV7()).String()
	res, err := a.decideOnDossier(ctx, ref, repeatOf, nil, func(d domain.Dossier, now time.Time) (eventstore.Actor, []domain.Event, error) {
		actor, err := act(d)
		if err != nil {
			return eventstore.Actor{}, nil, err
		}
		if _, ok := d.AttachedAlready(in.Component, file.SHA256); ok {
			return eventstore.Actor{}, nil, errAttachedAlready
		}
		events, err := domain.Decide(d, domain.AttachDocument{DocumentID: documentID, Component: in.Component, File: file,
			Origin: in.Origin, Components: components, MaxDossierBytes: a.maxDossierBytes(), At: now})
		return actor, events, err
	})
	if errors.Is(err, errAttachedAlready) {
		// A retried upload: the file is on the component already; answer as the first run did.
		d, _, err := a.Load(ctx, ref)
		if err != nil {
			return Result{}, err
		}
		return Result{DossierID: d.ID, Code: string(d.Code), Status: d.Status, Version: d.Version, Dossier: d, Replayed: true}, nil
	}
	return res, err
}

// errAttachedAlready stops the decision on a file the component holds already.
var errAttachedAlready = errors.New("commands: the component holds this file already")

// MarkResultReadyWithFile marks the result ready with its electronic file: store streams it in,
// sealed under the applicant's key, and the decision refuses it (ECONFLICT) unless its digest is
// the result's — the document_hash the signer signed, for the first result.
func (a *App) MarkResultReadyWithFile(ctx context.Context, caller Caller, ref string, ifMatch *uint64, in MarkResultReadyInput, store StoreFile) (Result, error) {
	if err := domain.CheckTextFields(in); err != nil {
		return Result{}, err
	}
	d, _, err := a.Load(ctx, ref)
	if err != nil {
		return Result{}, err
	}
	if _, err := authorize(caller, domain.ActionMarkResultReady, d); err != nil {
		return Result{}, err
	}
	if !slices.Contains(domain.Allowed[domain.ActionMarkResultReady], d.Status) {
		return Result{}, &domain.TransitionError{Action: domain.ActionMarkResultReady, Status: d.Status}
	}
	if d.Signature == nil {
		return Result{}, &domain.TransitionError{Action: domain.ActionMarkResultReady, Status: d.Status, Reason: "the result has not been signed"}
	}
	file, err := store(ctx, FileTarget{Subject: shred.SubjectOf(d.Applicant.IDNumber), Budget: a.maxDossierBytes()})
	if err != nil {
		return Result{}, err
	}
	in.file, in.documentID = &file, uuid.Must(uuid.NewV7()).String()
	return a.Execute(ctx, caller, ref, ifMatch, in)
}

// DossierByteLimit is the most one dossier's files may take together (App.MaxDossierBytes, or
// the default): the edge bounds a request carrying several files by it.
func (a *App) DossierByteLimit() int64 { return a.maxDossierBytes() }

func (a *App) maxDossierBytes() int64 {
	if a.MaxDossierBytes > 0 {
		return a.MaxDossierBytes
	}
	return DefaultMaxDossierBytes
}

// catalogComponents are the component names d's procedure asks for, as the catalog had it when
// the dossier was received.
func (a *App) catalogComponents(ctx context.Context, d domain.Dossier) ([]string, error) {
	if a.Catalog() == nil {
		return nil, nil
	}
	p, ok, err := a.ProcedureOf(ctx, d)
	if err != nil || !ok {
		return nil, err
	}
	names := make([]string, len(p.Components))
	for i, c := range p.Components {
		names[i] = c.Name
	}
	return names, nil
}
