package http

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/http/web"
)

func (a pagesAPI) AttachDocument(w http.ResponseWriter, r *http.Request, ref string, in web.AttachRequest, file web.FileUpload) (web.ActionDone, *httpkit.Problem, error) {
	var done web.ActionDone
	res, err := a.s.apiUpload(w, r, "/api/v1/dossiers/"+url.PathEscape(ref)+"/documents", nil,
		[][2]string{{"component", in.Component}, {"origin", in.Origin}}, file)
	if err != nil {
		return done, nil, err
	}
	problem, err := res.decode(&done)
	return done, problem, err
}

func (a pagesAPI) MarkResultReadyWithFile(w http.ResponseWriter, r *http.Request, ref, version string, in web.ResultFileRequest, file web.FileUpload) (web.ActionDone, *httpkit.Problem, error) {
	headers := map[string]string{}
	if version != "" {
		headers["If-Match"] = `"` + version + `"`
	}
	var fields [][2]string
	if in.DocumentNumber != "" {
		fields = append(fields, [2]string{"document_number", in.DocumentNumber})
	}
	var done web.ActionDone
	res, err := a.s.apiUpload(w, r, "/api/v1/dossiers/"+url.PathEscape(ref)+"/result/file", headers, fields, file)
	if err != nil {
		return done, nil, err
	}
	problem, err := res.decode(&done)
	return done, problem, err
}

func (a pagesAPI) VerifyResultFile(w http.ResponseWriter, r *http.Request, resultCode string, file web.FileUpload) (httpkit.ResultVerification, *httpkit.Problem, error) {
	var v httpkit.ResultVerification
	res, err := a.s.apiUpload(w, r, "/api/v1/public/results/"+url.PathEscape(resultCode), nil, nil, file)
	if err != nil {
		return v, nil, err
	}
	problem, err := res.decode(&v)
	return v, problem, err
}

// errAnswered ends the stream of a page's file once the API has answered (it may answer before
// reading the whole file: a refusal, a file over the limit).
var errAnswered = errors.New("the API answered")

// apiUpload sends a page's file to an API route through the router, as the page's visitor: a
// multipart body of fields, then the file, written as the file is read from the page's own
// request, so no more than a copy buffer of it is ever held. The page's read and write deadlines
// become the file transfer's.
func (s *Server) apiUpload(w http.ResponseWriter, r *http.Request, path string, headers map[string]string, fields [][2]string, file web.FileUpload) (apiResult, error) {
	if s.documents != nil {
		s.extendTransfer(w, true)
	}
	body, stream := io.Pipe()
	mw := multipart.NewWriter(stream)
	written := make(chan struct{})
	go func() {
		defer close(written)
		stream.CloseWithError(writeUpload(mw, fields, file))
	}()
	routed := asPageOfficial(context.WithValue(r.Context(), chi.RouteCtxKey, nil), r)
	req, err := http.NewRequestWithContext(routed, http.MethodPost, path, body)
	if err != nil {
		body.CloseWithError(err)
		<-written
		return apiResult{}, err
	}
	req.RemoteAddr = r.RemoteAddr
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Correlation-ID", commands.CorrelationID(r.Context()).String())
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res := s.route(req)
	// The writer may be blocked on a file the API did not read to its end: release it, and wait,
	// since it reads the page's request, which must not be read once the page has answered.
	body.CloseWithError(errAnswered)
	<-written
	return res, nil
}

// writeUpload writes the form: its fields, then the file under its name as sent (RFC 2231-encoded
// when it needs to be, so the API sees and checks exactly that name).
func writeUpload(mw *multipart.Writer, fields [][2]string, file web.FileUpload) error {
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return err
		}
	}
	h := textproto.MIMEHeader{}
	disposition := mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": file.Name})
	if disposition == "" {
		disposition = `form-data; name="file"` // a name that cannot be written: the API asks for one
	}
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Type", "application/octet-stream")
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, file.Body); err != nil {
		return err
	}
	return mw.Close()
}
