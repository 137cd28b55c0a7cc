package http

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/l10n"
	"github.com/motcua/motcua/projections"
)

// The citizen's journey online (docs/citizens.md "Filing online"): the procedures they can file,
// the submission with its files, their dossier with its files and results, the answer to a
// supplement request, and the download of their files. Every route is behind requireCitizen: the
// signed-in citizen's session cookie and nothing else.

// citizenJourneyRoutes are mounted beside /me and /me/dossiers.
func (s *Server) citizenJourneyRoutes(r chi.Router) {
	r.Get("/me/procedures", s.listOnlineProcedures)
	r.Get("/me/dossiers/{ref}", s.getMyDossier)
	if s.documents == nil {
		return
	}
	r.Post("/me/dossiers", s.submitMyDossier)
	r.Post("/me/dossiers/{ref}/supplement", s.answerMySupplement)
	r.Get("/me/dossiers/{ref}/documents/{id}", s.downloadMyDocument)
}

// citizenOwnRecent bounds the earlier dossiers searched for a file to reuse: the citizen's most
// recent ones, one page of the list at its largest.
const citizenOwnRecent = projections.MaxPageSize

// citizen is the signed-in citizen as the use cases know them.
func citizen(ctx context.Context) commands.Citizen {
	sess := citizenOf(ctx)
	return commands.Citizen{IDNumber: sess.Claims["id_number"], Name: sess.Claims["name"], Phone: sess.Claims["phone"], Email: sess.Claims["email"]}
}

// listOnlineProcedures is GET /api/v1/me/procedures: the catalog's procedures whose online_level
// lets a citizen file them online (full or partial), with the components to send a file for.
func (s *Server) listOnlineProcedures(w http.ResponseWriter, _ *http.Request) {
	out := httpkit.OnlineProcedures{Items: []httpkit.OnlineProcedure{}}
	for _, p := range s.app.Catalog().Procedures {
		if p.OnlineLevel != "full" && p.OnlineLevel != "partial" {
			continue
		}
		out.Items = append(out.Items, httpkit.OnlineProcedure{Code: p.Code, Name: p.Name, FieldName: p.Field.Name, OnlineLevel: p.OnlineLevel,
			ReceivingUnit: s.app.OnlineReceivingUnit(p), Resolution: p.ResolutionTime, Fees: p.Fees, Components: p.Components, ResultType: p.ResultType})
	}
	writeJSON(w, http.StatusOK, out)
}

// myDossierURL is the citizen's page of their dossier.
func myDossierURL(id string) string { return CitizenHomePath + "/ho-so/" + url.PathEscape(id) }

// getMyDossier is GET /api/v1/me/dossiers/{ref}: the citizen's own dossier, another's is 404.
func (s *Server) getMyDossier(w http.ResponseWriter, r *http.Request) {
	d, _, err := s.app.OwnDossier(r.Context(), citizen(r.Context()), chi.URLParam(r, "ref"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(d.Version))
	writeJSON(w, http.StatusOK, myDossierDetail(d))
}

func myDossierDetail(d domain.Dossier) httpkit.MyDossierDetail {
	out := httpkit.MyDossierDetail{DossierID: d.ID, Code: string(d.Code), Version: d.Version, Status: d.Status,
		StatusVI: l10n.VI.Status(d.Status), StatusEN: l10n.EN.Status(d.Status), ProcedureCode: d.Procedure.Code, ProcedureName: d.Procedure.Name,
		ApplicantName: d.Applicant.Name, SubmittedAt: d.SubmittedAt, ReceivedAt: d.ReceivedAt, AppointmentDate: d.AppointmentDate,
		Documents: []httpkit.MyDocument{}}
	if n := len(d.AcceptanceWindows); n > 0 && d.Status == domain.StatusSubmitted {
		out.AcceptanceDeadline = d.AcceptanceWindows[n-1].Deadline
	}
	if p := d.PendingSupplement; p != nil {
		out.Supplement = &httpkit.MySupplement{RequestNumber: p.RequestNumber, MissingItems: p.MissingItems, Reason: p.Reason, RequestedAt: p.RequestedAt}
	}
	files := "/api/v1/me/dossiers/" + url.PathEscape(d.ID) + "/documents/"
	for _, doc := range d.Documents {
		out.Documents = append(out.Documents, httpkit.MyDocument{ID: doc.DocumentID, Component: doc.Component, ResultCode: doc.ResultCode,
			Name: doc.Name(), MediaType: doc.MediaType, Size: doc.Size, SHA256: doc.SHA256, Origin: string(doc.Origin), Reused: doc.Origin.Reused(),
			AttachedAt: doc.AttachedAt, DownloadURL: files + url.PathEscape(doc.DocumentID)})
	}
	for _, res := range d.Results {
		item := httpkit.MyResult{ResultCode: res.ResultCode, DocumentNumber: res.DocumentNumber, DocumentHash: res.DocumentHash}
		for _, doc := range d.Documents {
			if doc.ResultCode == res.ResultCode {
				item.FileID, item.DownloadURL = doc.DocumentID, files+url.PathEscape(doc.DocumentID)
			}
		}
		out.Results = append(out.Results, item)
	}
	if d.Code != "" {
		out.StatusURL = "/tra-cuu/" + url.PathEscape(string(d.Code))
		out.EventsURL = "/api/v1/public/dossiers/" + url.PathEscape(string(d.Code)) + "/events"
	}
	return out
}

func (s *Server) answerCitizen(w http.ResponseWriter, status int, res commands.Result) {
	w.Header().Set("Location", "/api/v1/me/dossiers/"+url.PathEscape(res.DossierID))
	w.Header().Set("ETag", etag(res.Version))
	writeJSON(w, status, httpkit.MySubmitted{DossierID: res.DossierID, Code: res.Code, Status: res.Status, Version: res.Version, Events: res.Events,
		URL: myDossierURL(res.DossierID), Dossier: myDossierDetail(res.Dossier)})
}

// applicantFields are the applicant's fields a citizen fills in (prefilled from the identity
// claims); the identification number is the signed-in citizen's, not a field.
var applicantFields = []string{"name", "phone", "email", "address"}

// submitMyDossier is POST /api/v1/me/dossiers: multipart/form-data with procedure_code and the
// applicant's fields first, then for each file its "component" followed by the file ("file") or
// the SHA-256 of one of the citizen's earlier files ("reuse"). An Idempotency-Key header (or the
// form's "idempotency_key") makes it safe to send again: the same key answers 200 with the first
// dossier, Idempotent-Replayed: true, reading none of the files.
func (s *Server) submitMyDossier(w http.ResponseWriter, r *http.Request) {
	form, err := s.citizenForm(w, r, append([]string{"procedure_code", "idempotency_key"}, applicantFields...))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	me := citizen(r.Context())
	in := commands.OnlineSubmission{ProcedureCode: form.fields["procedure_code"], Applicant: domain.Applicant{Type: domain.ApplicantCitizen,
		Name: orDefault(form.fields["name"], me.Name), Phone: form.fields["phone"], Email: form.fields["email"], Address: form.fields["address"]},
	}
	if key := orDefault(r.Header.Get(idempotencyHeader), form.fields["idempotency_key"]); key != "" {
		if in.Key, err = parseIdempotencyKey(key); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	res, err := s.app.SubmitOnline(r.Context(), me, in, form.next, s.ownFiles(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusCreated
	if res.Replayed {
		markReplayed(w, true)
		status = http.StatusOK
	}
	s.answerCitizen(w, status, res)
}

// answerMySupplement is POST /api/v1/me/dossiers/{ref}/supplement: the files the pending supplement
// request asks for, each after its "component" (a missing item), as a file or a reuse.
func (s *Server) answerMySupplement(w http.ResponseWriter, r *http.Request) {
	form, err := s.citizenForm(w, r, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.app.AnswerSupplement(r.Context(), citizen(r.Context()), chi.URLParam(r, "ref"), form.next, s.ownFiles(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerCitizen(w, http.StatusOK, res)
}

// downloadMyDocument is GET /api/v1/me/dossiers/{ref}/documents/{id}: a file of the citizen's own
// dossier — a component they sent, or the signed result — streamed to its owner. It is the
// owner reading their own data, not recorded in the officials' access log.
func (s *Server) downloadMyDocument(w http.ResponseWriter, r *http.Request) {
	d, _, err := s.app.OwnDossier(r.Context(), citizen(r.Context()), chi.URLParam(r, "ref"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	doc, ok := d.Document(chi.URLParam(r, "id"))
	if !ok {
		s.writeError(w, r, domain.Errorf(domain.ENOTFOUND, "your dossier has no document %s", chi.URLParam(r, "id")))
		return
	}
	s.serveDocument(w, r, doc, r.URL.Query().Get("inline") == "1")
}

// ownFiles looks a reused file up among the citizen's most recent dossiers (their list, by the
// keyed blind index): the file must be on one of them and its blob still there.
func (s *Server) ownFiles(r *http.Request) commands.OwnFiles {
	me := citizen(r.Context())
	return func(ctx context.Context, sha256 string) (domain.StoredFile, bool, error) {
		if blobstore.CheckHash(sha256) != nil {
			return domain.StoredFile{}, false, nil
		}
		page, err := projections.CitizenDossiersOf(ctx, s.readDB, s.citizens.cfg.IndexKey.Of(me.IDNumber), projections.PageRequest{Limit: citizenOwnRecent}, s.now())
		if err != nil {
			return domain.StoredFile{}, false, err
		}
		for _, d := range page.Items {
			f, ok, err := s.app.ReusableFile(ctx, me, d.DossierID, sha256)
			if err != nil || !ok {
				if err != nil {
					return domain.StoredFile{}, false, err
				}
				continue
			}
			if exists, err := s.documents.Blobs.Exists(ctx, f.Blob); err != nil || !exists {
				return domain.StoredFile{}, false, err
			}
			return f, true, nil
		}
		return domain.StoredFile{}, false, nil
	}
}

func orDefault(v, fallback string) string {
	if strings.TrimSpace(v) == "" {
		return fallback
	}
	return v
}

// citizenUpload reads a citizen's multipart form: its leading fields, then pairs of a component
// and its file (or reuse), streamed one after the other — each file is stored before the next
// part is read.
type citizenUpload struct {
	s       *Server
	mr      *multipart.Reader
	fields  map[string]string
	pending *multipart.Part // a part read ahead, not consumed
}

// citizenForm reads the leading fields (only the named ones, each at most once) up to the first
// component.
func (s *Server) citizenForm(w http.ResponseWriter, r *http.Request, fields []string) (*citizenUpload, error) {
	s.extendTransfer(w, true)
	// The whole request may carry up to the dossier's budget of files, besides the fields.
	r.Body = http.MaxBytesReader(w, r.Body, s.app.DossierByteLimit()+uploadOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, invalid("body", "must be multipart/form-data: the fields first, then each component followed by its file")
	}
	u := &citizenUpload{s: s, mr: mr, fields: map[string]string{}}
	for {
		part, err := u.take()
		if errors.Is(err, io.EOF) {
			return u, nil
		}
		if err != nil {
			return nil, err
		}
		name := part.FormName()
		if name == "component" {
			u.pending = part
			return u, nil
		}
		if _, seen := u.fields[name]; seen || !containsString(fields, name) {
			return nil, invalid(orDefault(name, "file"), "is not a field of this form, or is repeated, or comes after a file")
		}
		if u.fields[name], err = readField(part); err != nil {
			return nil, err
		}
	}
}

func (u *citizenUpload) take() (*multipart.Part, error) {
	if p := u.pending; p != nil {
		u.pending = nil
		return p, nil
	}
	part, err := u.mr.NextPart()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, invalid("body", "is not a well-formed multipart form")
	}
	return part, nil
}

func readField(part *multipart.Part) (string, error) {
	value, err := io.ReadAll(io.LimitReader(part, maxFormFieldBytes+1))
	if err != nil {
		return "", invalid(part.FormName(), "could not be read")
	}
	if len(value) > maxFormFieldBytes {
		return "", invalid(part.FormName(), "is too long")
	}
	return string(value), nil
}

// next is the form's next file: a component, then an optional reuse, then an optional file part.
// A browser sends a file input left empty as a part with no name and no bytes: no file. A
// component with neither is skipped (the use case names what is missing).
func (u *citizenUpload) next() (commands.CitizenFile, error) {
	for {
		part, err := u.take()
		if err != nil {
			return commands.CitizenFile{}, err
		}
		if part.FormName() != "component" {
			return commands.CitizenFile{}, invalid(orDefault(part.FormName(), "file"), "out of order: each file comes after its component")
		}
		component, err := readField(part)
		if err != nil {
			return commands.CitizenFile{}, err
		}
		f := commands.CitizenFile{Component: domain.NormalizeText(component)}
		for {
			part, err := u.take()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return commands.CitizenFile{}, err
			}
			switch part.FormName() {
			case "reuse":
				if f.Reuse != "" || f.Store != nil {
					return commands.CitizenFile{}, invalid("reuse", "comes once, before the component's file")
				}
				if f.Reuse, err = readField(part); err != nil {
					return commands.CitizenFile{}, err
				}
				f.Reuse = strings.TrimSpace(f.Reuse)
				continue
			case "file":
				store, chosen, err := u.filePart(part)
				if err != nil {
					return commands.CitizenFile{}, err
				}
				if chosen && f.Reuse != "" {
					return commands.CitizenFile{}, invalid("file", "choose a new file or an earlier one for "+f.Component+", not both")
				}
				if chosen {
					f.Store = store
				}
			default:
				u.pending = part
			}
			break
		}
		if f.Store != nil || f.Reuse != "" {
			return f, nil
		}
	}
}

// filePart checks a file part's name and gives what stores it; an unnamed, empty part is a file
// input left empty (chosen false).
func (u *citizenUpload) filePart(part *multipart.Part) (commands.StoreFile, bool, error) {
	name := ""
	if cd := part.Header.Get("Content-Disposition"); cd != "" {
		_, params, err := mime.ParseMediaType(cd)
		if err != nil {
			return nil, false, invalid("file", "has a malformed name")
		}
		name = params["filename"]
	}
	if name == "" {
		var one [1]byte
		if n, _ := io.ReadFull(part, one[:]); n == 0 {
			return nil, false, nil
		}
	}
	if err := domain.CheckFileName(name); err != nil {
		return nil, false, invalid("file", "name "+err.Error())
	}
	var stored domain.StoredFile
	return u.s.storeFile(upload{file: part, name: name}, &stored), true, nil
}
