package http

import (
	"net"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"
)

// clientAddress sets r.RemoteAddr to the client's address, which the rate limits key on. The
// forwarding headers (X-Forwarded-For, X-Real-IP, True-Client-IP) are anyone's to write: they are
// believed only from a trusted reverse proxy, reading X-Forwarded-For right to left past the trusted
// hops. Without trusted proxies the TCP peer is the client, so a lookup robot cannot give itself a
// fresh rate-limit bucket per request by inventing headers.
func clientAddress(trustedProxies []string) func(http.Handler) http.Handler {
	if len(trustedProxies) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	fromXFF := middleware.ClientIPFromXFF(trustedProxies...)
	return func(next http.Handler) http.Handler {
		return fromXFF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ip := middleware.GetClientIP(r.Context()); ip != "" {
				r.RemoteAddr = net.JoinHostPort(ip, "0")
			}
			next.ServeHTTP(w, r)
		}))
	}
}
