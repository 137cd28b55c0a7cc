package http

import (
	"net/http"

	"github.com/motcua/motcua/docs"
)

// openAPI: GET /api/v1/openapi.json — the API's contract (docs/openapi.yaml) as JSON, for
// integrators' tools; public, like the catalog.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	body, err := docs.OpenAPIJSON()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(body)
}
