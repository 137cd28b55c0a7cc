package http

import "net/http"

// WrapPagesAPI puts wrap around the API as the pages call it; before the server serves.
func (s *Server) WrapPagesAPI(wrap func(http.Handler) http.Handler) { s.api = wrap(s.api) }
