package inbound

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TokenSource obtains the portal's access token with the OAuth 2.0 client-credentials grant
// (RFC 6749 §4.4) and keeps it until shortly before it expires.
type TokenSource struct {
	URL          string // the portal's token endpoint
	ClientID     string
	ClientSecret string
	Client       *http.Client // http.DefaultClient when nil
	Now          func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// tokenMargin is how long before its expiry a token is replaced, so a request does not set out with
// a token that expires on the way.
const tokenMargin = 30 * time.Second

// Token returns a valid access token, asking the endpoint for one when needed.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if s.token != "" && now.Before(s.expires) {
		return s.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(s.ClientID), url.QueryEscape(s.ClientSecret))
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("portal token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return "", fmt.Errorf("portal token: the endpoint answered %s", resp.Status)
	}
	var answer struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&answer); err != nil || answer.AccessToken == "" {
		return "", fmt.Errorf("portal token: the answer holds no access token")
	}
	if !strings.EqualFold(answer.TokenType, "bearer") {
		return "", fmt.Errorf("portal token: token type %q, want Bearer", answer.TokenType)
	}
	s.token = answer.AccessToken
	s.expires = now.Add(time.Duration(answer.ExpiresIn)*time.Second - tokenMargin)
	return s.token, nil
}

// Forget drops the kept token: the portal refused it.
func (s *TokenSource) Forget() {
	s.mu.Lock()
	s.token = ""
	s.mu.Unlock()
}
