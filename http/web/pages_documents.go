package web

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
)

// DocumentsAPI is the part of the JSON API the pages send files to. Each file is streamed from the
// visitor's request to the API's route (its checks, limits and problems), never held whole; w is
// the page's response, whose deadlines a long transfer extends.
type DocumentsAPI interface {
	// AttachDocument sends a file to POST /api/v1/dossiers/{ref}/documents as the signed-in official.
	AttachDocument(w http.ResponseWriter, r *http.Request, ref string, in AttachRequest, file FileUpload) (ActionDone, *httpkit.Problem, error)
	// MarkResultReadyWithFile sends the result's file to POST /api/v1/dossiers/{ref}/result/file;
	// version, when set, is the dossier version the form showed.
	MarkResultReadyWithFile(w http.ResponseWriter, r *http.Request, ref, version string, in ResultFileRequest, file FileUpload) (ActionDone, *httpkit.Problem, error)
	// VerifyResultFile sends a presented document to POST /api/v1/public/results/{resultCode}.
	VerifyResultFile(w http.ResponseWriter, r *http.Request, resultCode string, file FileUpload) (httpkit.ResultVerification, *httpkit.Problem, error)
}

// FileUpload is a file on its way from a page's form to the API: its name as the browser sent it
// and its bytes, read once.
type FileUpload struct {
	Name string
	Body io.Reader
}

// AttachRequest is the attach form's fields: the component and where the file comes from.
type AttachRequest struct {
	Component string
	Origin    string
}

// ResultFileRequest is the result form's fields when the result is given as its file.
type ResultFileRequest struct {
	DocumentNumber string
}

// maxStreamedField bounds one text field of a streamed form (a component's name, a number).
const maxStreamedField = 4 << 10

// streamedForm is a multipart form read up to its file: the text fields before it, and the file's
// part left unread for the API to stream.
type streamedForm struct {
	Values   url.Values
	File     *multipart.Part
	FileName string // exactly as sent: the API checks it (a name with "../" is refused, not cleaned)
}

// readStreamedForm reads r's multipart body up to the part named fileField. Only the named fields
// are taken, each at most once, each at most maxStreamedField bytes. When csrf is set, the first
// part must be the form's CSRF token, valid for the session, before anything else is read. The
// problem names the field at fault; nothing has been sent anywhere yet.
func (s *Pages) readStreamedForm(r *http.Request, csrf bool, fileField string, fields ...string) (streamedForm, *httpkit.Problem, bool) {
	form := streamedForm{Values: url.Values{}}
	mr, err := r.MultipartReader()
	if err != nil {
		return form, fieldProblem("body", "must be multipart/form-data"), true
	}
	for first := true; ; first = false {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, fieldProblem(fileField, "is required"), !(csrf && first)
		}
		if err != nil {
			return form, fieldProblem("body", "is not a well-formed multipart form"), !(csrf && first)
		}
		name := part.FormName()
		if csrf && first {
			value, err := readField(part)
			if name != "csrf" || err != nil || !s.pages.validCSRFValue(r, value) {
				return form, nil, false
			}
			continue
		}
		if name == fileField {
			_, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			if err != nil {
				return form, fieldProblem(fileField, "has a malformed name"), true
			}
			form.File, form.FileName = part, params["filename"]
			return form, nil, true
		}
		if !slices.Contains(fields, name) || form.Values.Has(name) {
			return form, fieldProblem(cmp.Or(name, "body"), "is not a field of this form, or is repeated"), true
		}
		value, err := readField(part)
		if err != nil {
			return form, fieldProblem(name, err.Error()), true
		}
		form.Values.Set(name, value)
	}
}

func readField(part *multipart.Part) (string, error) {
	value, err := io.ReadAll(io.LimitReader(part, maxStreamedField+1))
	if err != nil {
		return "", errors.New("could not be read")
	}
	if len(value) > maxStreamedField {
		return "", fmt.Errorf("is longer than %d bytes", maxStreamedField)
	}
	return string(value), nil
}

// fieldProblem is a 400 naming field, as the API would answer it.
func fieldProblem(field, message string) *httpkit.Problem {
	return &httpkit.Problem{Type: "https://motcua.vn/problems/invalid", Title: "Dữ liệu không hợp lệ / Invalid input", Status: http.StatusBadRequest,
		Code: domain.EINVALID, Errors: []domain.FieldError{{Field: field, Message: message}}}
}

// requireOfficialStreaming admits a signed-in official's form that carries a file, without reading
// its body: the handler checks the form's CSRF token, its first field, then streams the file to
// the API (requireOfficial would parse the whole form into memory and temporary files first).
func (s *Pages) requireOfficialStreaming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		signedIn, ok := s.signedInOfficial(w, r)
		if !ok {
			return
		}
		next.ServeHTTP(w, signedIn)
	})
}

// mountDocumentForms registers the officials' forms that send files.
func (s *Pages) mountDocumentForms(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.requireOfficialStreaming)
		r.Post("/can-bo/ho-so/{code}/tep", s.attachSubmit)
		r.Post("/can-bo/ho-so/{code}/"+string(domain.ActionMarkResultReady), s.resultSubmit)
	})
}

// attachView is the dossier page's form to attach a scanned component: the components a file may
// go to and where the file comes from.
type attachView struct {
	Components []string
	Origins    []domain.DocumentOrigin
}

// attachChoices is the attach form for caller on d, or nil when they may not attach a file now.
func attachChoices(caller commands.Caller, d domain.Dossier, p domain.Procedure) *attachView {
	if !mayAttach(caller, d) {
		return nil
	}
	names := make([]string, len(p.Components))
	for i, c := range p.Components {
		names[i] = c.Name
	}
	return &attachView{Components: d.AttachableComponents(names), Origins: []domain.DocumentOrigin{domain.OriginDeskScan, domain.OriginNationalDatabase}}
}

// mayAttach: caller's roles attach files, and d's status takes them (the API checks the agency).
func mayAttach(caller commands.Caller, d domain.Dossier) bool {
	return slices.Contains(domain.Allowed[domain.ActionAttachDocument], d.Status) && slices.ContainsFunc(commands.RolesFor(domain.ActionAttachDocument), caller.Has)
}

// attachSubmit is the dossier page's form attaching a file (a component scanned at the desk, by
// default): streamed to the API, then back to the dossier, or the form again with the API's words.
func (s *Pages) attachSubmit(w http.ResponseWriter, r *http.Request) {
	ref := chi.URLParam(r, "code")
	form, problem, ok := s.readStreamedForm(r, true, "file", "component", "origin")
	if !ok {
		s.renderError(w, r, http.StatusForbidden, "error.csrf")
		return
	}
	if problem == nil && form.FileName == "" {
		problem = fieldProblem("file", "is required: choose the scanned file")
	}
	var done ActionDone
	if problem == nil {
		var err error
		in := AttachRequest{Component: form.Values.Get("component"), Origin: cmp.Or(form.Values.Get("origin"), string(domain.OriginDeskScan))}
		done, problem, err = s.api.AttachDocument(w, r, ref, in, FileUpload{Name: form.FileName, Body: form.File})
		if err != nil {
			s.logger.ErrorContext(r.Context(), "attach a file", "ref", ref, "err", err)
			s.renderError(w, r, http.StatusInternalServerError, "error.internal")
			return
		}
	}
	s.afterFileForm(w, r, ref, domain.ActionAttachDocument, form.Values, done, problem, nil)
}

// resultSubmit is the "result ready" form. With a file, the file is stored as the result and the
// API refuses it (409, shown on the form) unless it is the document the signer signed; without
// one, the result is marked ready as the signed document alone.
func (s *Pages) resultSubmit(w http.ResponseWriter, r *http.Request) {
	ref := chi.URLParam(r, "code")
	form, problem, ok := s.readStreamedForm(r, true, "document", "version", httpkit.IdempotencyFormField, "document_number", "document_hash")
	if !ok {
		s.renderError(w, r, http.StatusForbidden, "error.csrf")
		return
	}
	var (
		done ActionDone
		err  error
	)
	version, number := form.Values.Get("version"), strings.TrimSpace(form.Values.Get("document_number"))
	switch {
	case problem != nil && problem.Errors[0].Field == "document":
		// No file part at all: the form without its file input.
		problem = nil
		fallthrough
	case problem == nil && form.FileName == "":
		// No file chosen: the browser sent an empty part.
		r.PostForm = url.Values{httpkit.IdempotencyFormField: {form.Values.Get(httpkit.IdempotencyFormField)}} // apiWrite's key
		done, problem, err = s.api.Act(r, ref, domain.ActionMarkResultReady, version,
			ActionRequest{DocumentNumber: number, DocumentHash: strings.ToLower(strings.TrimSpace(form.Values.Get("document_hash")))})
	case problem == nil:
		done, problem, err = s.api.MarkResultReadyWithFile(w, r, ref, version, ResultFileRequest{DocumentNumber: number},
			FileUpload{Name: form.FileName, Body: form.File})
	}
	if err != nil {
		s.logger.ErrorContext(r.Context(), "result with its file", "ref", ref, "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	// The API names the file "file"; on this form it is the input "document".
	s.afterFileForm(w, r, ref, domain.ActionMarkResultReady, form.Values, done, problem, map[string]string{"file": "document"})
}

// afterFileForm answers a file form: back to the dossier when the API took it, else the dossier
// page again with the form open, its values and the API's problem next to the fields (renamed
// as the form names them).
func (s *Pages) afterFileForm(w http.ResponseWriter, r *http.Request, ref string, action domain.Action, values url.Values,
	done ActionDone, problem *httpkit.Problem, rename map[string]string) {
	if problem == nil {
		http.Redirect(w, r, "/can-bo/ho-so/"+url.PathEscape(cmp.Or(done.Code, done.ID, ref))+"?da-lam="+url.QueryEscape(string(action)), http.StatusSeeOther)
		return
	}
	page, status := s.loadDossierPage(r, ref)
	if page == nil {
		s.renderError(w, r, status, errorKeyOf(status))
		return
	}
	errs := problem.FieldErrors()
	for from, to := range rename {
		if msg, ok := errs[from]; ok {
			errs[to] = msg
		}
	}
	page.Form = actionForm{Action: action, Values: values, Errors: errs, Problem: problem}
	l := langOf(w, r)
	s.render(w, r, problem.Status, "dossier", l.T("dossier.title")+" "+string(page.D.Code), page)
}

// resultFileSubmit is POST /xac-thuc/{resultCode}: the public verification of a presented document
// sent as a file (for a browser that cannot hash it itself, or without scripts). The file is
// hashed by the API as it arrives and kept nowhere.
func (s *Pages) resultFileSubmit(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	page := &resultView{ResultCode: chi.URLParam(r, "resultCode")}
	form, problem, _ := s.readStreamedForm(r, false, "file")
	if problem == nil && form.FileName == "" {
		problem = fieldProblem("file", "is required: choose the document's file")
	}
	var verification httpkit.ResultVerification
	if problem == nil {
		var err error
		verification, problem, err = s.api.VerifyResultFile(w, r, page.ResultCode, FileUpload{Name: form.FileName, Body: form.File})
		if err != nil {
			s.logger.ErrorContext(r.Context(), "result verification by file", "code", page.ResultCode, "err", err)
			s.renderError(w, r, http.StatusInternalServerError, "error.internal")
			return
		}
	}
	status := http.StatusOK
	if problem != nil {
		// The result itself is still shown: the file was the trouble, not the code.
		status = problem.Status
		if problem.Status != http.StatusNotFound {
			verification, _, _ = s.api.VerifyResult(r, page.ResultCode, "")
		}
		page.NotFound = problem.Status == http.StatusNotFound
	}
	page.V, page.Problem, page.Presented = verification, problem, verification.PresentedHash
	page.ByFile = problem == nil
	s.render(w, r, status, "result", l.T("result.title"), page)
}
