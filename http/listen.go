package http

import (
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// ConnectionLimits bound what one client connection may hold of the server, so slow or idle
// clients cannot exhaust its file descriptors. The live feed lifts the read and write timeouts
// for its own streams; the feed limits (Limits) bound those.
type ConnectionLimits struct {
	// ReadHeaderTimeout is the time to send the request's headers; 0 means 10 s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout is the time to send the whole request, body included; 0 means 30 s. A client
	// trickling a body a byte at a time is cut off when it runs out.
	ReadTimeout time.Duration
	// WriteTimeout is the time to answer, from the end of the request's headers; 0 means 60 s.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection left idle this long; 0 means 60 s.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers; 0 means 64 KiB.
	MaxHeaderBytes int
	// MaxConnections caps the connections served at once; further clients wait in the listen
	// queue until one closes. 0 means 4096. Keep it well under the process's descriptor limit.
	MaxConnections int
}

func (l ConnectionLimits) withDefaults() ConnectionLimits {
	if l.ReadHeaderTimeout == 0 {
		l.ReadHeaderTimeout = 10 * time.Second
	}
	if l.ReadTimeout == 0 {
		l.ReadTimeout = 30 * time.Second
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = 60 * time.Second
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = 60 * time.Second
	}
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = 64 << 10
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = 4096
	}
	return l
}

// HTTPServer is the http.Server that serves s with limits; serve it on Listener(l, limits).
func (s *Server) HTTPServer(limits ConnectionLimits) *http.Server {
	return HTTPServerFor(s, limits)
}

// Listener caps the connections accepted from l at limits.MaxConnections.
func Listener(l net.Listener, limits ConnectionLimits) net.Listener {
	return netutil.LimitListener(l, limits.withDefaults().MaxConnections)
}
