// Package portalsim simulates the National Public Service Portal's (DVCQG) side of the outbound
// sync, for tests: the token endpoint (OAuth2 client credentials), and the DongBoHoSoMC and
// CapNhatTienDoHoSoMC services. Every document is validated against a JSON Schema (schema/); the
// latest accepted document of each service is kept per dossier code (MaHoSo). It honours the
// Idempotency-Key header (a key seen before is acknowledged again, never applied twice) and the
// X-Sequence header (a document older than the one applied for its dossier and service is
// acknowledged but not applied: nothing regresses). Faults are injected on request: 5xx answers,
// time-outs, dropped connections, acknowledgements lost after the document was applied (so the
// same document comes again and is acknowledged twice), and documents applied late and out of
// order. Mount Server.Handler in an httptest.Server. See docs/integrations.md.
package portalsim

import (
	"bytes"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schema/*.json
var schemaFiles embed.FS

// Services the simulator serves.
const (
	ServiceSync     = "DongBoHoSoMC"
	ServiceProgress = "CapNhatTienDoHoSoMC"
)

// Faults are the chances (0 to 1) of each fault on a service request; the token endpoint never
// fails.
type Faults struct {
	ServerError float64 // answer 503 without looking at the document
	Timeout     float64 // hold the request for TimeoutDelay (or until the client gives up), apply nothing, answer 504
	Drop        float64 // close the connection without an answer, apply nothing
	AckLost     float64 // apply the document, then close the connection without an answer
	Reorder     float64 // acknowledge at once, apply after ReorderDelay (a later document may be applied first)
	// TimeoutDelay is how long a timed-out request is held; 2 s when zero.
	TimeoutDelay time.Duration
	// ReorderDelay is how long a reordered document waits; 50 ms when zero.
	ReorderDelay time.Duration
}

// Stats counts what the simulator saw.
type Stats struct {
	Requests, Applied, Duplicates, Superseded, Refused, Unauthorized int
	Faults                                                           int
}

// Server is the simulated portal.
type Server struct {
	ClientID, ClientSecret string
	// TokenTTL is how long a token lives; 1 h when zero.
	TokenTTL time.Duration
	Logger   *slog.Logger

	schemas map[string]*jsonschema.Schema

	mu       sync.Mutex
	faults   Faults
	tokens   map[string]time.Time
	acks     map[string]seen
	applied  map[string]int // per idempotency key: how many times its document was applied (or deferred to be)
	dossiers map[string]*Dossier
	created  map[string]bool // codes a create was accepted for
	pending  sync.WaitGroup  // reordered documents not applied yet
	stats    Stats
	issued   int
}

type seen struct {
	hash string
	ack  ack
}

// Dossier is what the portal holds of one dossier: the latest applied document of each service
// (the data item as it was sent) and its sequence.
type Dossier struct {
	Sync, Progress                 json.RawMessage
	SyncSequence, ProgressSequence uint64
	// Created is true when the portal accepted a create (isUpdating false) for the code.
	Created bool
}

type ack struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// New returns a simulator that accepts the client id and secret.
func New(clientID, clientSecret string) (*Server, error) {
	s := &Server{ClientID: clientID, ClientSecret: clientSecret, schemas: map[string]*jsonschema.Schema{},
		tokens: map[string]time.Time{}, acks: map[string]seen{}, applied: map[string]int{}, dossiers: map[string]*Dossier{}, created: map[string]bool{}}
	compiler := jsonschema.NewCompiler()
	for _, service := range []string{ServiceSync, ServiceProgress} {
		raw, err := schemaFiles.ReadFile("schema/" + service + ".json")
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("portalsim: schema %s: %w", service, err)
		}
		// Named by a URL of no host, so that messages do not carry a path of this machine.
		location := "https://portal.invalid/schema/" + service + ".json"
		if err := compiler.AddResource(location, doc); err != nil {
			return nil, err
		}
		schema, err := compiler.Compile(location)
		if err != nil {
			return nil, fmt.Errorf("portalsim: schema %s: %w", service, err)
		}
		s.schemas[service] = schema
	}
	return s, nil
}

// Validate checks a request body of service against its schema.
func (s *Server) Validate(service string, body []byte) error {
	schema, ok := s.schemas[service]
	if !ok {
		return fmt.Errorf("no service %q", service)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return schema.Validate(doc)
}

// SetFaults changes the faults injected from now on.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// RevokeTokens ends every token issued, as a portal restart would: the next request with one gets 401.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
}

// TokensIssued counts the tokens the token endpoint gave.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// Settle waits until every reordered document has been applied.
func (s *Server) Settle() { s.pending.Wait() }

// Stats returns the counts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Applied returns, per idempotency key, how many times its document was accepted for applying.
func (s *Server) Applied() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.applied))
	for k, v := range s.applied {
		out[k] = v
	}
	return out
}

// Dossier returns what the portal holds under the code.
func (s *Server) Dossier(code string) (Dossier, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dossiers[code]
	if !ok {
		return Dossier{}, false
	}
	held := *d
	held.Created = s.created[code]
	return held, true
}

// Codes lists the dossier codes the portal holds.
func (s *Server) Codes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.dossiers))
	for code := range s.dossiers {
		out = append(out, code)
	}
	return out
}

// Handler serves the token endpoint and the services.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("POST /api/{service}", s.service)
	return mux
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	id, secret, basic := r.BasicAuth()
	if basic { // RFC 6749 §2.3.1: both form-urlencoded inside the Basic credentials
		var idErr, secretErr error
		id, idErr = url.QueryUnescape(id)
		secret, secretErr = url.QueryUnescape(secret)
		if idErr != nil || secretErr != nil {
			id = ""
		}
	} else {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if r.PostFormValue("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	if id != s.ClientID || secret != s.ClientSecret || s.ClientID == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	raw := make([]byte, 24)
	if _, err := cryptorand.Read(raw); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ttl := s.TokenTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	token := hex.EncodeToString(raw)
	s.mu.Lock()
	s.tokens[token] = time.Now().Add(ttl)
	s.issued++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": int64(ttl / time.Second)})
}

// fault draws the fault of one request ("" for none).
func (s *Server) fault() (string, Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	x := rand.Float64()
	for _, c := range []struct {
		name   string
		chance float64
	}{{"5xx", f.ServerError}, {"timeout", f.Timeout}, {"drop", f.Drop}, {"acklost", f.AckLost}, {"reorder", f.Reorder}} {
		if x < c.chance {
			s.stats.Faults++
			return c.name, f
		}
		x -= c.chance
	}
	return "", f
}

func (s *Server) service(w http.ResponseWriter, r *http.Request) {
	service := r.PathValue("service")
	s.mu.Lock()
	s.stats.Requests++
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	expires, ok := s.tokens[token]
	authorized := ok && time.Now().Before(expires)
	if !authorized {
		s.stats.Unauthorized++
	}
	s.mu.Unlock()
	if !authorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, ack{ErrorCode: -1, Message: "token không hợp lệ hoặc đã hết hạn"})
		return
	}
	if _, known := s.schemas[service]; !known {
		writeJSON(w, http.StatusNotFound, ack{ErrorCode: -1, Message: "không có dịch vụ " + service})
		return
	}
	fault, faults := s.fault()
	switch fault {
	case "5xx":
		writeJSON(w, http.StatusServiceUnavailable, ack{ErrorCode: -1, Message: "hệ thống đang bận"})
		return
	case "timeout":
		delay := faults.TimeoutDelay
		if delay <= 0 {
			delay = 2 * time.Second
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
		writeJSON(w, http.StatusGatewayTimeout, ack{ErrorCode: -1, Message: "quá thời gian xử lý"})
		return
	case "drop":
		hangUp(w)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	sequence, seqErr := strconv.ParseUint(r.Header.Get("X-Sequence"), 10, 64)
	if key == "" || seqErr != nil {
		s.refuse(w, "thiếu Idempotency-Key hoặc X-Sequence")
		return
	}
	if err := s.Validate(service, body); err != nil {
		s.logger().Warn("portalsim: document refused by the schema", "service", service, "error", err)
		// The validator's detailed form names each field at fault (and echoes its value, as portals do).
		detail := strings.Join(strings.Fields(strings.ReplaceAll(fmt.Sprintf("%v", err), "\n", " ; ")), " ")
		s.refuse(w, "tài liệu không hợp lệ: "+detail)
		return
	}
	var envelope struct {
		IsUpdating bool              `json:"isUpdating"`
		Data       []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		s.refuse(w, "tài liệu không hợp lệ")
		return
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])

	s.mu.Lock()
	if prior, ok := s.acks[key]; ok {
		s.mu.Unlock()
		if prior.hash != hash {
			s.refuse(w, "Idempotency-Key đã dùng cho một tài liệu khác")
			return
		}
		s.mu.Lock()
		s.stats.Duplicates++
		s.mu.Unlock()
		again := prior.ack
		again.Duplicate = true
		writeJSON(w, http.StatusOK, again)
		return
	}
	answer := ack{ErrorCode: 0, Message: "Đồng bộ thành công"}
	s.acks[key] = seen{hash: hash, ack: answer}
	s.applied[key]++
	if service == ServiceSync && !envelope.IsUpdating {
		for _, item := range envelope.Data {
			s.created[maHoSo(item)] = true
		}
	}
	apply := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, item := range envelope.Data {
			s.applyLocked(service, sequence, item)
		}
	}
	if fault == "reorder" {
		delay := faults.ReorderDelay
		if delay <= 0 {
			delay = 50 * time.Millisecond
		}
		s.pending.Add(1)
		time.AfterFunc(delay, func() { defer s.pending.Done(); apply() })
		s.mu.Unlock()
	} else {
		s.mu.Unlock()
		apply()
	}
	if fault == "acklost" {
		hangUp(w)
		return
	}
	writeJSON(w, http.StatusOK, answer)
}

// maHoSo is the dossier code of a document's data item (the schema checked it has one).
func maHoSo(item json.RawMessage) string {
	var head struct {
		MaHoSo string `json:"MaHoSo"`
	}
	_ = json.Unmarshal(item, &head)
	return head.MaHoSo
}

// applyLocked keeps item as its dossier's latest document of service unless a later one is kept.
func (s *Server) applyLocked(service string, sequence uint64, item json.RawMessage) {
	code := maHoSo(item)
	d, ok := s.dossiers[code]
	if !ok {
		d = &Dossier{}
		s.dossiers[code] = d
	}
	switch service {
	case ServiceSync:
		if d.Sync != nil && sequence < d.SyncSequence {
			s.stats.Superseded++
			return
		}
		d.Sync, d.SyncSequence = item, sequence
	case ServiceProgress:
		if d.Progress != nil && sequence < d.ProgressSequence {
			s.stats.Superseded++
			return
		}
		d.Progress, d.ProgressSequence = item, sequence
	}
	s.stats.Applied++
}

func (s *Server) refuse(w http.ResponseWriter, message string) {
	s.mu.Lock()
	s.stats.Refused++
	s.mu.Unlock()
	writeJSON(w, http.StatusBadRequest, ack{ErrorCode: -1, Message: message})
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
