package http

import (
	"net/http"
	"sync/atomic"
)

// Starting is what a node answers while it cannot serve yet — its store unreachable at start, its
// schema being migrated: GET /healthz 200 (the process lives), everything else, GET /readyz
// included, 503 problem+json with Retry-After, so a load balancer and clients try elsewhere or
// later.
func Starting() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
			return
		}
		writeUnavailable(w, r)
	})
}

// Switch is a handler that hands every request to the handler set last: the wiring serves
// Starting on its listener at once and switches to the server when it is built.
type Switch struct{ current atomic.Pointer[http.Handler] }

// NewSwitch returns a switch handing requests to h.
func NewSwitch(h http.Handler) *Switch {
	s := &Switch{}
	s.Set(h)
	return s
}

// Set hands the requests from now on to h.
func (s *Switch) Set(h http.Handler) { s.current.Store(&h) }

func (s *Switch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.current.Load()).ServeHTTP(w, r)
}

// HTTPServerFor is the http.Server that serves h within limits (Server.HTTPServer's settings).
func HTTPServerFor(h http.Handler, limits ConnectionLimits) *http.Server {
	limits = limits.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: limits.ReadHeaderTimeout,
		ReadTimeout:       limits.ReadTimeout,
		WriteTimeout:      limits.WriteTimeout,
		IdleTimeout:       limits.IdleTimeout,
		MaxHeaderBytes:    limits.MaxHeaderBytes,
	}
}
