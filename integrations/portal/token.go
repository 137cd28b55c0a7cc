package portal

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
// (RFC 6749 §4.4), the client id and secret in HTTP Basic (§2.3.1), and keeps it until 30 s
// before it expires. One serves every call motcua makes to the portal: the outbound sync
// (Client), the inbound feed (inbound.Poller) and the procedure list (motcua catalog refresh).
type TokenSource struct {
	URL          string // the token endpoint
	ClientID     string
	ClientSecret string
	// HTTP is the client used; one with a 30 s timeout when nil.
	HTTP *http.Client
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// tokenMargin is how long before its expiry a token is replaced, so that none expires on its way
// to the portal.
const tokenMargin = 30 * time.Second

// minTokenLife is the life assumed of a token whose answer gives none (expires_in is optional).
const minTokenLife = time.Minute

// tokenAnswer is the token endpoint's answer (RFC 6749 §5.1, §5.2).
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Error       string `json:"error"`
}

// Token returns the kept token, or a new one when it expired or is about to.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.now().Add(tokenMargin).Before(s.expires) {
		return s.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(s.ClientID), url.QueryEscape(s.ClientSecret)) // RFC 6749 §2.3.1
	resp, err := s.client().Do(req)
	if err != nil {
		return "", fmt.Errorf("portal token: %w", err)
	}
	defer resp.Body.Close()
	var t tokenAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&t); err != nil && resp.StatusCode == http.StatusOK {
		return "", fmt.Errorf("portal token: %w", err)
	}
	if resp.StatusCode != http.StatusOK || t.AccessToken == "" {
		// Wrong credentials are retried, then dead: the operator fixes the secret and retries.
		return "", fmt.Errorf("portal token: HTTP %d %s", resp.StatusCode, scrub(t.Error))
	}
	if !strings.EqualFold(t.TokenType, "bearer") {
		return "", fmt.Errorf("portal token: token type %q, want Bearer", scrub(t.TokenType))
	}
	s.token = t.AccessToken
	s.expires = s.now().Add(max(time.Duration(t.ExpiresIn)*time.Second, minTokenLife))
	return s.token, nil
}

// Forget drops token unless another request already replaced it: the portal refused it.
func (s *TokenSource) Forget(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == token {
		s.token = ""
	}
}

// Do sends the request newRequest builds, with the token as its bearer. When the portal answers
// 401 (it ended the token early) the token is dropped, and the request is built and sent once
// more with a new one; a second 401 is returned to the caller.
func (s *TokenSource) Do(ctx context.Context, client *http.Client, newRequest func(context.Context) (*http.Request, error)) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		token, err := s.Token(ctx)
		if err != nil {
			return nil, err
		}
		req, err := newRequest(ctx)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusUnauthorized {
			return resp, nil
		}
		s.Forget(token)
		if attempt > 0 {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
}

// Get fetches url as JSON through client: with the token as Do sends it, or without any when s
// is nil (a portal's endpoint that asks for none).
func (s *TokenSource) Get(ctx context.Context, client *http.Client, url string) (*http.Response, error) {
	newRequest := func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		return req, nil
	}
	if s == nil {
		req, err := newRequest(ctx)
		if err != nil {
			return nil, err
		}
		return client.Do(req)
	}
	return s.Do(ctx, client, newRequest)
}

func (s *TokenSource) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return defaultHTTP
}

func (s *TokenSource) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
