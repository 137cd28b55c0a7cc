package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore/shred"
	"github.com/motcua/motcua/http/httpkit"
)

// DocumentsConfig turns the dossiers' files on (docs/documents.md): uploads at the desk, result
// files, downloads and previews. The per-file limit is the blob store's (blobstore.Options); the
// per-dossier one the use cases' (commands.App.MaxDossierBytes).
type DocumentsConfig struct {
	Blobs *blobstore.Store
	// Keys are the crypto-shredding keys every file is sealed with, the applicant's own.
	Keys shred.KeyStore
	// TransferTimeout is how long one upload or download may take, instead of the server's read
	// and write timeouts (a 20 MB scan over a slow line takes minutes); 0 keeps the server's.
	TransferTimeout time.Duration
}

// maxFormFieldBytes bounds a text field of an upload form (a component's name).
const maxFormFieldBytes = 4 << 10

// uploadOverhead is what a multipart body may hold beside its file: the fields and the parts'
// headers. The body as a whole is refused past the file limit plus this.
const uploadOverhead = 64 << 10

// documentRoutes are the files' routes, behind the officials' authentication. They are not behind
// the idempotency middleware, which holds a body in memory to fingerprint it: a file is streamed,
// and attaching the same file to the same component again records it once (commands.AttachDocument).
func (s *Server) documentRoutes(r chi.Router) {
	r.Post("/dossiers/{ref}/documents", s.attachDocument)
	r.Post("/dossiers/{ref}/result/file", s.markResultReadyWithFile)
	r.Get("/dossiers/{ref}/documents/{id}", s.downloadDocument)
}

// documentBody is a dossier's file as the API shows it.
type documentBody struct {
	ID         string    `json:"id"`
	Component  string    `json:"component,omitempty"`
	ResultCode string    `json:"result_code,omitempty"`
	Name       string    `json:"name"`
	MediaType  string    `json:"media_type"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	Origin     string    `json:"origin"`
	Digitised  bool      `json:"digitised"`
	Reused     bool      `json:"reused"`
	AttachedAt time.Time `json:"attached_at"`
}

func documentBodyOf(e domain.DocumentAttached) documentBody {
	return documentBody{ID: e.DocumentID, Component: e.Component, ResultCode: e.ResultCode, Name: e.Name(), MediaType: e.MediaType,
		Size: e.Size, SHA256: e.SHA256, Origin: string(e.Origin), Digitised: e.Origin.Digitised(), Reused: e.Origin.Reused(), AttachedAt: e.AttachedAt}
}

// upload is a multipart form whose text fields come first and whose file is the last part: the
// fields are read, the file is left to be streamed.
type upload struct {
	fields map[string]string
	file   *multipart.Part
	name   string // the file's name exactly as sent
}

// readUpload reads the form's fields up to its "file" part. Only the named fields are allowed, each
// at most once; the file's name is checked here (domain.CheckFileName) as the client sent it —
// multipart.Part.FileName would quietly strip a path, and a name with "../" must be refused.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request, fields ...string) (upload, error) {
	s.extendTransfer(w, true)
	r.Body = http.MaxBytesReader(w, r.Body, s.documents.Blobs.MaxSize()+uploadOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return upload{}, invalid("body", "must be multipart/form-data with the fields first and the file last")
	}
	up := upload{fields: map[string]string{}}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return upload{}, invalid("file", "is required")
		}
		if err != nil {
			return upload{}, invalid("body", "is not a well-formed multipart form")
		}
		name := part.FormName()
		if name == "" {
			// A Content-Disposition that does not parse: most often a file name holding a quote,
			// a line break or a control character sent raw instead of in RFC 2231 form.
			return upload{}, invalid("file", "has a malformed Content-Disposition: a file name must be sent quoted or RFC 2231-encoded")
		}
		if name == "file" {
			_, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			if err != nil {
				return upload{}, invalid("file", "has a malformed name")
			}
			if err := domain.CheckFileName(params["filename"]); err != nil {
				return upload{}, invalid("file", "name "+err.Error())
			}
			up.file, up.name = part, params["filename"]
			return up, nil
		}
		if _, seen := up.fields[name]; seen || !containsString(fields, name) {
			return upload{}, invalid(name, "is not a field of this form, or is repeated")
		}
		value, err := io.ReadAll(io.LimitReader(part, maxFormFieldBytes+1))
		if err != nil {
			return upload{}, invalid(name, "could not be read")
		}
		if len(value) > maxFormFieldBytes {
			return upload{}, invalid(name, fmt.Sprintf("is longer than %d bytes", maxFormFieldBytes))
		}
		up.fields[name] = string(value)
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// storeFile streams the upload's file into the blob store, sealed under target's key: its type
// decided by its content, within the per-file limit and the dossier's remaining budget. Whatever
// fails, nothing is stored (blobstore's guarantee) and the error names the field "file".
func (s *Server) storeFile(up upload, stored *domain.StoredFile) commands.StoreFile {
	return func(ctx context.Context, target commands.FileTarget) (domain.StoredFile, error) {
		typed, err := blobstore.Sniff(up.file)
		if err != nil {
			return domain.StoredFile{}, fileError(err, s.documents.Blobs.MaxSize(), target.Budget)
		}
		sealed, err := s.documents.Blobs.PutSealed(ctx, blobstore.MaxBytes(typed, target.Budget), s.documents.Keys, target.Subject)
		if err != nil {
			return domain.StoredFile{}, fileError(err, s.documents.Blobs.MaxSize(), target.Budget)
		}
		*stored = domain.StoredFile{Name: up.name, MediaType: typed.MediaType(), Size: sealed.Size, SHA256: sealed.Hash,
			Blob: sealed.Object.Hash, Sealed: true}
		return *stored, nil
	}
}

// fileError says what was wrong with an uploaded file, naming the field; an error of the
// connection or the store is returned as it is.
func fileError(err error, maxFile, budget int64) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, blobstore.ErrEmpty):
		return invalid("file", "is empty")
	case errors.Is(err, blobstore.ErrUnsupportedType):
		return invalid("file", "is not a PDF, JPEG or PNG file (its content decides, not its name)")
	case errors.Is(err, blobstore.ErrTruncated):
		return invalid("file", "is truncated: its end is missing")
	case errors.Is(err, blobstore.ErrTooLarge), errors.As(err, &tooBig):
		return invalid("file", fmt.Sprintf("is larger than allowed: %d bytes a file, %d bytes left for this dossier", maxFile, budget))
	}
	return err
}

// attachDocument is POST /api/v1/dossiers/{ref}/documents: multipart/form-data with "component"
// (its name in the procedure), optionally "origin" (desk_scan by default), then "file".
func (s *Server) attachDocument(w http.ResponseWriter, r *http.Request) {
	up, err := s.readUpload(w, r, "component", "origin")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	origin := domain.DocumentOrigin(up.fields["origin"])
	if origin == "" {
		origin = domain.OriginDeskScan
	}
	var stored domain.StoredFile
	in := commands.AttachDocumentInput{Component: up.fields["component"], Origin: origin}
	res, err := s.app.AttachDocument(r.Context(), callerOf(r.Context()), chi.URLParam(r, "ref"), in, s.storeFile(up, &stored))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	doc, _ := res.Dossier.AttachedAlready(in.Component, stored.SHA256)
	s.answerDocument(w, res, doc)
}

// markResultReadyWithFile is POST /api/v1/dossiers/{ref}/result/file: the result's file (the signed
// document) with optionally "document_number" and "document_hash" for a further result.
func (s *Server) markResultReadyWithFile(w http.ResponseWriter, r *http.Request) {
	ifMatch, err := parseIfMatch(r.Header.Get("If-Match"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	up, err := s.readUpload(w, r, "document_number", "document_hash")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var stored domain.StoredFile
	in := commands.MarkResultReadyInput{DocumentNumber: up.fields["document_number"], DocumentHash: up.fields["document_hash"]}
	res, err := s.app.MarkResultReadyWithFile(r.Context(), callerOf(r.Context()), chi.URLParam(r, "ref"), ifMatch, in, s.storeFile(up, &stored))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var doc domain.DocumentAttached
	if n := len(res.Dossier.Results); n > 0 {
		for _, d := range res.Dossier.Documents {
			if d.ResultCode == res.Dossier.Results[n-1].ResultCode {
				doc = d
			}
		}
	}
	s.answerDocument(w, res, doc)
}

func (s *Server) answerDocument(w http.ResponseWriter, res commands.Result, doc domain.DocumentAttached) {
	w.Header().Set("ETag", etag(res.Version))
	markReplayed(w, res.Replayed)
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]any{"id": res.DossierID, "code": res.Code, "status": res.Status, "version": res.Version,
		"events": res.Events, "document": documentBodyOf(doc)})
}

// downloadDocument is GET /api/v1/dossiers/{ref}/documents/{id}: the file streamed to an official
// who may read the dossier, as an attachment, or inline (?inline=1) for the preview of a PDF or an
// image. It is a read of the applicant's personal data, recorded in the access log first.
func (s *Server) downloadDocument(w http.ResponseWriter, r *http.Request) {
	d, _, err := s.app.LoadIfReadable(r.Context(), callerOf(r.Context()), chi.URLParam(r, "ref"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	doc, ok := d.Document(chi.URLParam(r, "id"))
	if !ok {
		s.writeError(w, r, domain.Errorf(domain.ENOTFOUND, "dossier %s has no document %s", d.Code, chi.URLParam(r, "id")))
		return
	}
	if err := s.recordDossierRead(r, d); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.serveDocument(w, r, doc, r.URL.Query().Get("inline") == "1")
}

// serveDocument streams doc: its type as recorded (decided by content at upload), its length, a
// file name that cannot break the header (RFC 6266 with RFC 8187 encoding), no sniffing, no cache.
func (s *Server) serveDocument(w http.ResponseWriter, r *http.Request, doc domain.DocumentAttached, inline bool) {
	var body io.ReadCloser
	var err error
	if doc.Sealed {
		body, err = s.documents.Blobs.GetSealed(r.Context(), doc.Blob, s.documents.Keys)
	} else {
		body, err = s.documents.Blobs.Get(r.Context(), doc.Blob)
	}
	switch {
	case errors.Is(err, blobstore.ErrErased):
		writeGone(w, r, "the file's applicant was erased on a legal request: it can no longer be read")
		return
	case errors.Is(err, blobstore.ErrNotFound):
		s.writeError(w, r, fmt.Errorf("document %s: blob %s is missing: %w", doc.DocumentID, doc.Blob, err))
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	defer body.Close()
	s.extendTransfer(w, false)
	w.Header().Set("Content-Type", doc.MediaType)
	w.Header().Set("Content-Length", strconv.FormatInt(doc.Size, 10))
	w.Header().Set("Content-Disposition", ContentDisposition(doc.Name(), inline))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Security-Policy", documentCSP(doc.MediaType))
	w.Header().Set("Cross-Origin-Resource-Policy", "same-origin")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if _, err := io.Copy(w, body); err != nil {
		// Headers are gone: cutting the connection is how the client learns that the file is
		// not whole (its length says so too).
		s.logger.ErrorContext(r.Context(), "document download failed", "document", doc.DocumentID, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// documentCSP is the policy a served file carries, should a browser open it as a document (a
// preview in the dossier page's frame, or the file opened in a tab): it loads nothing, runs nothing,
// submits nothing, and only motcua's own pages may frame it. An image is sandboxed as well; a PDF
// is not: a sandboxed document may not run plugins, which keeps the browser's PDF viewer out, and
// the type was decided by content (blobstore.Sniff), so the viewer only ever sees a PDF.
func documentCSP(mediaType string) string {
	policy := "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
	if mediaType != domain.MediaPDF {
		policy += "; sandbox"
	}
	return policy
}

// extendTransfer gives the request's file the configured time to arrive (reading) or to leave.
func (s *Server) extendTransfer(w http.ResponseWriter, reading bool) {
	if s.documents.TransferTimeout <= 0 {
		return
	}
	rc, deadline := http.NewResponseController(w), time.Now().Add(s.documents.TransferTimeout)
	if reading {
		_ = rc.SetReadDeadline(deadline)
	}
	_ = rc.SetWriteDeadline(deadline) // an upload's answer is written after its file was read
}

// ContentDisposition is the header of a download named name: inline or attachment, with the name
// in RFC 8187 form when it is not plain ASCII, never able to end the header or add a parameter.
func ContentDisposition(name string, inline bool) string {
	kind := "attachment"
	if inline {
		kind = "inline"
	}
	if v := mime.FormatMediaType(kind, map[string]string{"filename": name}); v != "" {
		return v
	}
	return kind
}

// writeGone answers 410: the resource existed and is gone for good.
func writeGone(w http.ResponseWriter, r *http.Request, detail string) {
	writeProblem(w, httpkit.Problem{Type: "https://motcua.vn/problems/erased", Title: "Đã xoá theo yêu cầu / Erased",
		Status: http.StatusGone, Detail: detail, Instance: r.URL.Path, Code: "erased"})
}
