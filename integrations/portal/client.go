package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/motcua/motcua/integrations/delivery"
)

// The portal's paths under its base URL (the simulator serves the same).
const (
	TokenPath = "/oauth/token"
	// ServicePath is the path of a service: ServicePath + "DongBoHoSoMC".
	ServicePath = "/api/"
)

// Headers the portal honours.
const (
	// HeaderIdempotencyKey carries the delivery's key and the service: a document sent again under
	// the same key is acknowledged again, never applied twice.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderSequence carries the document's order among its dossier's documents of one service (the
	// dossier's stream version): a document older than one applied is acknowledged, not applied.
	HeaderSequence = "X-Sequence"
)

// Ack is the portal's answer to a document.
type Ack struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
	// Duplicate is true when the portal had acknowledged the same key before.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Client talks to the portal: it gets a token with the client-credentials grant, keeps it until
// it expires, and gets a new one once when the portal answers 401.
type Client struct {
	BaseURL string
	// TokenURL is the token endpoint; BaseURL + TokenPath when empty.
	TokenURL     string
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

var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Check reports a configuration that cannot work.
func (c *Client) Check() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("portal: the URL %q is not an http(s) URL", c.BaseURL)
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return errors.New("portal: a client id and a client secret are required")
	}
	return nil
}

// Post sends one document to service under key and sequence and returns the portal's
// acknowledgement. A refusal of the document (a 4xx other than 401, 408 and 429, or an
// error_code) is delivery.Permanent; everything else that fails is worth a retry.
func (c *Client) Post(ctx context.Context, service, key string, sequence uint64, body []byte) (Ack, error) {
	for attempt := 0; ; attempt++ {
		token, err := c.accessToken(ctx, attempt > 0)
		if err != nil {
			return Ack{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+ServicePath+service, bytes.NewReader(body))
		if err != nil {
			return Ack{}, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set(HeaderIdempotencyKey, key)
		req.Header.Set(HeaderSequence, strconv.FormatUint(sequence, 10))
		resp, err := c.http().Do(req)
		if err != nil {
			return Ack{}, fmt.Errorf("portal %s: %w", service, err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err != nil {
			return Ack{}, fmt.Errorf("portal %s: read the answer: %w", service, err)
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			c.forget(token) // the portal ended the token early: one new one, one more try
			continue
		}
		return answer(service, resp.StatusCode, raw)
	}
}

// answer reads the portal's answer to a document.
func answer(service string, status int, raw []byte) (Ack, error) {
	var ack Ack
	decodeErr := json.Unmarshal(raw, &ack)
	switch {
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status == http.StatusUnauthorized:
		return Ack{}, fmt.Errorf("portal %s: HTTP %d: %s", service, status, scrub(ack.Message))
	case status >= 400:
		return Ack{}, delivery.Permanent(fmt.Errorf("portal %s refused the document: HTTP %d: %s", service, status, scrub(ack.Message)))
	case status != http.StatusOK || decodeErr != nil:
		return Ack{}, fmt.Errorf("portal %s: unexpected answer (HTTP %d)", service, status)
	case ack.ErrorCode != 0:
		return Ack{}, delivery.Permanent(fmt.Errorf("portal %s refused the document: error %d: %s", service, ack.ErrorCode, scrub(ack.Message)))
	}
	return ack, nil
}

// tokenAnswer is the token endpoint's answer (RFC 6749 §5.1).
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Error       string `json:"error"`
}

// accessToken returns the cached token, or a new one when it expired, is about to, or fresh.
func (c *Client) accessToken(ctx context.Context, fresh bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A token is renewed 30 s before it ends, so that none expires on its way to the portal.
	if !fresh && c.token != "" && c.now().Add(30*time.Second).Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	tokenURL := c.TokenURL
	if tokenURL == "" {
		tokenURL = strings.TrimRight(c.BaseURL, "/") + TokenPath
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret)) // RFC 6749 §2.3.1
	resp, err := c.http().Do(req)
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
	c.token = t.AccessToken
	c.expires = c.now().Add(time.Duration(max(t.ExpiresIn, 60)) * time.Second)
	return c.token, nil
}

// forget drops token unless another request already replaced it.
func (c *Client) forget(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token = ""
	}
}

var (
	// longNumber matches identity, tax and phone numbers a portal may echo in its messages.
	longNumber = regexp.MustCompile(`\+?[0-9][0-9 .]{7,}[0-9]`)
	// quoted matches a quoted value in a message; fieldPath what may stay of one: a field's name
	// or a JSON pointer to it, which tell the operator where the refusal lies.
	quoted    = regexp.MustCompile(`'[^']*'|"[^"]*"`)
	fieldPath = regexp.MustCompile(`^(/[A-Za-z0-9_]*)+$|^[A-Za-z][A-Za-z0-9_]*$`)
)

// scrub removes what may be personal data from a message of the portal (it echoes the values it
// refuses), for the deliveries table and the log: quoted values other than field names and
// paths, long numbers and e-mail addresses.
func scrub(message string) string {
	message = quoted.ReplaceAllStringFunc(message, func(q string) string {
		if fieldPath.MatchString(q[1 : len(q)-1]) {
			return q
		}
		return "'…'"
	})
	return delivery.Scrub(longNumber.ReplaceAllString(message, "<số>"))
}
