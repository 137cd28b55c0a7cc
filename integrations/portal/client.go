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

// Client talks to the portal: its token source (TokenSource, from TokenURL, ClientID and
// ClientSecret) gets a token with the client-credentials grant, keeps it until it is about to
// expire, and gets a new one once when the portal answers 401.
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

	tokensOnce sync.Once
	tokens     *TokenSource
}

var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

// tokenSource is the client's token source, made at its first use from its fields.
func (c *Client) tokenSource() *TokenSource {
	c.tokensOnce.Do(func() {
		tokenURL := c.TokenURL
		if tokenURL == "" {
			tokenURL = strings.TrimRight(c.BaseURL, "/") + TokenPath
		}
		c.tokens = &TokenSource{URL: tokenURL, ClientID: c.ClientID, ClientSecret: c.ClientSecret, HTTP: c.HTTP, Now: c.Now}
	})
	return c.tokens
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
	resp, err := c.tokenSource().Do(ctx, c.http(), func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+ServicePath+service, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderIdempotencyKey, key)
		req.Header.Set(HeaderSequence, strconv.FormatUint(sequence, 10))
		return req, nil
	})
	if err != nil {
		return Ack{}, fmt.Errorf("portal %s: %w", service, err)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err != nil {
		return Ack{}, fmt.Errorf("portal %s: read the answer: %w", service, err)
	}
	return answer(service, resp.StatusCode, raw)
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
