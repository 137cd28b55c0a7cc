package httpkit

import (
	"context"
	"net"
	"net/http"
	"net/netip"

	"github.com/go-chi/chi/v5/middleware"
)

// ClientAddress sets r.RemoteAddr to the client's address, which the rate limits key on. The
// forwarding headers (X-Forwarded-For, X-Real-IP, True-Client-IP) are anyone's to write: they are
// believed only from a trusted reverse proxy, reading X-Forwarded-For right to left past the trusted
// hops. Without trusted proxies the TCP peer is the client, so a lookup robot cannot give itself a
// fresh rate-limit bucket per request by inventing headers. Requests whose TCP peer is a trusted
// proxy are marked, so that X-Forwarded-Host and X-Forwarded-Proto are believed from it alone.
func ClientAddress(trustedProxies []string) func(http.Handler) http.Handler {
	if len(trustedProxies) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	var prefixes []netip.Prefix
	for _, p := range trustedProxies {
		if prefix, err := netip.ParsePrefix(p); err == nil {
			prefixes = append(prefixes, prefix.Masked())
		}
	}
	fromXFF := middleware.ClientIPFromXFF(trustedProxies...)
	return func(next http.Handler) http.Handler {
		return fromXFF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if peerIn(r.RemoteAddr, prefixes) {
				r = r.WithContext(context.WithValue(r.Context(), trustedProxyKey{}, true))
			}
			if ip := middleware.GetClientIP(r.Context()); ip != "" {
				r.RemoteAddr = net.JoinHostPort(ip, "0")
			}
			next.ServeHTTP(w, r)
		}))
	}
}

type trustedProxyKey struct{}

// ViaTrustedProxy tells whether the request reached us through a trusted reverse proxy.
func ViaTrustedProxy(r *http.Request) bool {
	trusted, _ := r.Context().Value(trustedProxyKey{}).(bool)
	return trusted
}

func peerIn(remoteAddr string, prefixes []netip.Prefix) bool {
	addrPort, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	addr := addrPort.Addr().Unmap()
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
