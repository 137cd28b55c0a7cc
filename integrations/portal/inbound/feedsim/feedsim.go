// Package feedsim simulates the national portal's (DVCQG) sending side for tests: its token endpoint
// (OAuth 2.0 client credentials), the feed of dossiers filed there that motcua pulls, and the
// webhook calls it makes, signed as inbound.Verifier expects. It implements the protocol documented
// in docs/integrations.md, and can be taken down or made to cut its connections.
package feedsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/motcua/motcua/integrations/portal/inbound"
)

// Fault is how the simulated portal misbehaves.
type Fault int

const (
	Healthy     Fault = iota
	Unavailable       // every request answered 503
	CutOff            // every connection closed without an answer
)

// Portal is the simulated portal.
type Portal struct {
	ClientID, ClientSecret string

	mu     sync.Mutex
	items  []item
	tokens map[string]time.Time
	fault  Fault
	pulls  int
	issued int
}

type item struct {
	position string
	document json.RawMessage
}

// New returns a portal that issues tokens to the given client.
func New(clientID, clientSecret string) *Portal {
	return &Portal{ClientID: clientID, ClientSecret: clientSecret, tokens: map[string]time.Time{}}
}

// Add puts a dossier at the end of the feed (any JSON: the tests send bad ones too) and returns its
// position.
func (p *Portal) Add(document []byte) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	position := fmt.Sprintf("%012d", len(p.items)+1)
	p.items = append(p.items, item{position: position, document: append(json.RawMessage(nil), document...)})
	return position
}

// SetFault makes the portal misbehave from now on (Healthy to stop).
func (p *Portal) SetFault(f Fault) {
	p.mu.Lock()
	p.fault = f
	p.mu.Unlock()
}

// RevokeTokens ends every token issued so far, as a portal may before they expire.
func (p *Portal) RevokeTokens() {
	p.mu.Lock()
	clear(p.tokens)
	p.mu.Unlock()
}

// TokensIssued counts the tokens issued.
func (p *Portal) TokensIssued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issued
}

// Pulls counts the feed requests answered.
func (p *Portal) Pulls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pulls
}

// Handler serves POST /token and GET /hoso (the feed).
func (p *Portal) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /hoso", p.feed)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		fault := p.fault
		p.mu.Unlock()
		switch fault {
		case Unavailable:
			http.Error(w, "bảo trì hệ thống", http.StatusServiceUnavailable)
			return
		case CutOff:
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
				return
			}
			panic(http.ErrAbortHandler)
		}
		mux.ServeHTTP(w, r)
	})
}

// token is the client-credentials grant: the client authenticates with HTTP Basic, its id and
// secret form-encoded first (RFC 6749 §2.3.1).
func (p *Portal) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	id, idErr := url.QueryUnescape(id)
	secret, secretErr := url.QueryUnescape(secret)
	ok = ok && idErr == nil && secretErr == nil
	if !ok || r.FormValue("grant_type") != "client_credentials" || id != p.ClientID || secret != p.ClientSecret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	p.mu.Lock()
	p.tokens[token] = time.Now().Add(5 * time.Minute)
	p.issued++
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 300})
}

// feed answers the items after ViTri, at most SoLuong (1–100) of them.
func (p *Portal) feed(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	token, ok := bytes.CutPrefix([]byte(r.Header.Get("Authorization")), []byte("Bearer "))
	if expires, known := p.tokens[string(token)]; !ok || !known || time.Now().After(expires) {
		http.Error(w, "token không hợp lệ", http.StatusUnauthorized)
		return
	}
	limit, err := strconv.Atoi(r.URL.Query().Get("SoLuong"))
	if err != nil || limit < 1 || limit > 100 {
		http.Error(w, "SoLuong: 1–100", http.StatusBadRequest)
		return
	}
	after := r.URL.Query().Get("ViTri")
	start := 0
	if after != "" {
		n, err := strconv.Atoi(after)
		if err != nil || n < 0 || n > len(p.items) {
			http.Error(w, "ViTri không hợp lệ", http.StatusBadRequest)
			return
		}
		start = n
	}
	type feedItem struct {
		ViTri string          `json:"ViTri"`
		HoSo  json.RawMessage `json:"HoSo"`
	}
	page := struct {
		DanhSach []feedItem `json:"DanhSach"`
	}{DanhSach: []feedItem{}}
	for _, it := range p.items[start:min(start+limit, len(p.items))] {
		page.DanhSach = append(page.DanhSach, feedItem{ViTri: it.position, HoSo: it.document})
	}
	p.pulls++
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}

// Push delivers a dossier to motcua's webhook as the portal does, signed with secret now.
func Push(ctx context.Context, client *http.Client, webhookURL string, secret, document []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(document))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	inbound.Sign(req.Header, secret, document, time.Now())
	return client.Do(req)
}
