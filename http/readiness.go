package http

import (
	"context"
	"net/http"
	"time"
)

// ReadinessCheck reports whether this node can serve: its stores reachable and their schemas
// current. GET /readyz answers 503 while it fails, so a load balancer sends traffic elsewhere
// (GET /healthz says only that the process runs).
type ReadinessCheck func(ctx context.Context) error

// readyTimeout bounds a readiness check: a store that does not answer within it is not ready.
const readyTimeout = 2 * time.Second

// readyz: GET /readyz — 200 when the node can serve, else 503 with Retry-After. Without a
// configured check it asks the read database only.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	check := s.ready
	if check == nil {
		check = func(ctx context.Context) error { return s.readDB.PingContext(ctx) }
	}
	w.Header().Set("Cache-Control", "no-store")
	if err := check(ctx); err != nil {
		// The reason goes to the log: it may name hosts and databases.
		s.logger.WarnContext(r.Context(), "not ready", "err", err)
		writeUnavailable(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
