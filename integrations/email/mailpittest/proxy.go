package mailpittest

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy stands between motcua and the mail server and misbehaves like a network and a
// server under stress: it refuses some connections outright, and on others lets the message reach
// the server but cuts the connection before the server's acceptance gets back, so that the sender
// believes it failed and sends again. It sees SMTP in clear: use it without TLS.
type Proxy struct {
	// Addr is where the proxy listens: give it to the sender instead of the server's address.
	Addr     string
	target   string
	listener net.Listener

	mu      sync.Mutex
	rng     *rand.Rand
	refuse  float64
	lostAck float64
	lost    int // acceptances cut off
}

// StartProxy runs a proxy to target until the test ends, refusing the share refuse of the
// connections and cutting the share lostAck of the others after their message's data.
func StartProxy(tb testing.TB, target string, refuse, lostAck float64) *Proxy {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Addr: l.Addr().String(), target: target, listener: l, rng: rand.New(rand.NewPCG(14, 2)), refuse: refuse, lostAck: lostAck}
	go p.serve()
	tb.Cleanup(func() { l.Close() })
	return p
}

// SetFaults changes the share of connections refused and of acceptances cut off.
func (p *Proxy) SetFaults(refuse, lostAck float64) {
	p.mu.Lock()
	p.refuse, p.lostAck = refuse, lostAck
	p.mu.Unlock()
}

// LostAcks is how many acceptances the proxy cut off.
func (p *Proxy) LostAcks() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lost
}

func (p *Proxy) serve() {
	for {
		client, err := p.listener.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse, cut := p.rng.Float64() < p.refuse, p.rng.Float64() < p.lostAck
		p.mu.Unlock()
		if refuse {
			client.Close()
			continue
		}
		go p.relay(client, cut)
	}
}

func (p *Proxy) relay(client net.Conn, cutAfterData bool) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	dataSent := make(chan struct{})
	go func() {
		// client → server, watching for the end of a message's data.
		var tail []byte
		buf := make([]byte, 32<<10)
		signalled := false
		for {
			n, err := client.Read(buf)
			if n > 0 {
				// Signal before forwarding: the server's answer must not slip through first.
				tail = append(tail, buf[:n]...)
				if !signalled && bytes.Contains(tail, []byte("\r\n.\r\n")) {
					signalled = true
					close(dataSent)
				}
				if len(tail) > 8 {
					tail = tail[len(tail)-8:]
				}
				if _, werr := server.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				server.Close()
				return
			}
		}
	}()
	if !cutAfterData {
		_, _ = io.Copy(client, server)
		return
	}
	buf := make([]byte, 32<<10)
	for {
		select {
		case <-dataSent:
			p.cut()
			return
		default:
		}
		_ = server.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, err := server.Read(buf)
		if n > 0 {
			select {
			case <-dataSent:
				p.cut()
				return
			default:
			}
			if _, err := client.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
	}
}

// cut lets the server take the message, then returns so that the line is cut before its "250"
// reaches the client (the caller closes both ends).
func (p *Proxy) cut() {
	time.Sleep(100 * time.Millisecond)
	p.mu.Lock()
	p.lost++
	p.mu.Unlock()
}
