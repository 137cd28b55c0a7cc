package httpkit

import (
	"net"
	"net/http"
	"net/url"

	"github.com/motcua/motcua/domain"
)

// IsHTTPS tells whether the client reached us over TLS: directly, or through a trusted reverse
// proxy that says so (anyone else may write X-Forwarded-Proto).
func IsHTTPS(r *http.Request) bool {
	return r.TLS != nil || (ViaTrustedProxy(r) && r.Header.Get("X-Forwarded-Proto") == "https")
}

// SecureCookie says whether a session's cookie must be Secure: always, except on plain http to a
// loopback address — the demo on a laptop, where there is no certificate. A deployment reached
// over plain http elsewhere gets Secure cookies its browsers will not send back: sign-in fails
// rather than carry a session in clear. Citizens' and officials' sessions both follow it.
func SecureCookie(r *http.Request) bool {
	if IsHTTPS(r) {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// BaseURL is the scheme and host links printed on paper (QR codes) point to: configured, the
// public base URL; else the address the visitor reached us at.
func BaseURL(configured string, r *http.Request) string {
	if configured != "" {
		return configured
	}
	scheme := "http"
	if IsHTTPS(r) {
		scheme = "https"
	}
	host := r.Host
	// Only a trusted proxy may say which host the client asked for: from anyone else the header
	// would print a QR code leading to the sender's own site.
	if fwd := r.Header.Get("X-Forwarded-Host"); fwd != "" && ViaTrustedProxy(r) {
		host = fwd
	}
	return scheme + "://" + host
}

// LookupURL is the public lookup page of a dossier; with the receipt's secret it opens the rating form.
func LookupURL(base string, code domain.DossierCode, secret string) string {
	u := base + "/tra-cuu/" + url.PathEscape(string(code))
	if secret != "" {
		u += "?secret=" + url.QueryEscape(secret)
	}
	return u
}

// ResultURL is the page that verifies a result.
func ResultURL(base, resultCode string) string {
	return base + "/xac-thuc/" + url.PathEscape(resultCode)
}
