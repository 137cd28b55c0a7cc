package http

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/blobstore"
)

// publicFileRoutes are the public routes that take a file: streamed, within the public budget.
func (s *Server) publicFileRoutes(r chi.Router) {
	r.Post("/results/{resultCode}", s.verifyResultFile)
}

// verifyResultFile: POST /api/v1/public/results/{resultCode} — multipart/form-data with one part,
// "file": the document someone was handed as the result. It answers as GET with ?hash= of that
// file: whether it is the signed document (its SHA-256 against the result's recorded
// document_hash), who signed it, whether the agency's signature and the dossier's history hold.
// The file is hashed as it arrives and kept nowhere (no blob, no event, not in memory); it is
// bounded by the per-file limit. The result is looked up first, so an unknown code reads nothing.
func (s *Server) verifyResultFile(w http.ResponseWriter, r *http.Request) {
	d, n, err := s.loadResult(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := int64(blobstore.DefaultMaxSize)
	if s.documents != nil {
		limit = s.documents.Blobs.MaxSize()
		s.extendTransfer(w, true)
	}
	presented, err := hashUploadedFile(w, r, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerResultVerification(w, r, d, n, presented)
}

// hashUploadedFile reads a multipart body whose only part is "file" and returns the hex SHA-256 of
// that file, refusing an empty file, one over limit bytes and any other field (400 naming it).
func hashUploadedFile(w http.ResponseWriter, r *http.Request, limit int64) (string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit+uploadOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return "", invalid("body", "must be multipart/form-data holding the file")
	}
	part, err := mr.NextPart()
	if errors.Is(err, io.EOF) {
		return "", invalid("file", "is required")
	}
	if err != nil {
		return "", invalid("body", "is not a well-formed multipart form")
	}
	if name := part.FormName(); name != "file" {
		return "", invalid(cmp.Or(name, "file"), "is not a field of this form: send the document as the part \"file\"")
	}
	digest := sha256.New()
	size, err := io.Copy(digest, io.LimitReader(part, limit+1))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || size > limit:
		return "", invalid("file", fmt.Sprintf("is larger than the largest document accepted (%d bytes)", limit))
	case err != nil:
		return "", invalid("file", "could not be read whole")
	case size == 0:
		return "", invalid("file", "is empty")
	}
	return hex.EncodeToString(digest.Sum(nil)), nil
}
