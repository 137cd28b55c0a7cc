// Package phonesim simulates the two phone providers motcua sends through, as real HTTP servers
// speaking their published protocols: eSMS.vn's SendMultipleMessage_V4_post_json (ESMS) and Zalo's
// ZNS message/template (ZNS). They check credentials the way the providers do, deduplicate by the
// request id the providers document (eSMS's RequestId answers 124 when sent again; the ZNS
// simulator treats a tracking_id sent again as the same message), inject faults (HTTP 5xx, answers
// that never come, answers lost after the message was taken, error codes), and let tests read back
// what was delivered. See docs/integrations.md.
package phonesim

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Fault is what the simulator does instead of answering normally.
type Fault struct {
	// Status answers this HTTP status (5xx) without taking the message.
	Status int
	// Hang holds the request this long before answering 503 without taking it: the client's
	// timeout runs out first.
	Hang time.Duration
	// LoseAnswer takes the message, then answers 502 as a proxy that lost the provider's answer
	// would: the client must send again, and the provider must recognise the resend.
	LoseAnswer bool
	// Code answers this provider error code (eSMS CodeResult, ZNS error) without taking the message.
	Code string
	// ZNSCode is Code for ZNS (a negative number).
	ZNSCode int
}

// faults is the queue of faults to inject, and a rate of random ones.
type faults struct {
	mu      sync.Mutex
	queue   []Fault
	every   int // inject storm every n-th request (0: never)
	storm   []Fault
	counter int
}

// next returns the fault for this request, if any.
func (f *faults) next() (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counter++
	if len(f.queue) > 0 {
		fault := f.queue[0]
		f.queue = f.queue[1:]
		return fault, true
	}
	if f.every > 0 && f.counter%f.every == 0 && len(f.storm) > 0 {
		return f.storm[(f.counter/f.every)%len(f.storm)], true
	}
	return Fault{}, false
}

func (f *faults) push(fs ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, fs...)
}

func (f *faults) setStorm(every int, fs ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.every, f.storm = every, fs
}

// hang waits d or until the client goes away, then answers 503.
func hang(w http.ResponseWriter, r *http.Request, d time.Duration) {
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
	http.Error(w, "timeout", http.StatusServiceUnavailable)
}

func serve(t testing.TB, h http.Handler) *httptest.Server {
	server := httptest.NewServer(h)
	t.Cleanup(server.Close)
	return server
}
