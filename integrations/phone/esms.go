package phone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/motcua/motcua/integrations/delivery"
)

// ESMSURL is eSMS.vn's published endpoint for one message to one number (SendMultipleMessage_V4,
// JSON body): https://developers.esms.vn/en/esms-api/send-sms-api/send-otp-customer-care-message.
const ESMSURL = "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/"

// ESMS sends brandname SMS through eSMS.vn's API: a customer-care message (SmsType 2) from the
// agency's registered brandname, with the delivery's tracking id as RequestId, which eSMS refuses
// to send twice within 24 hours (answer 124): a resend after a lost answer is recognised.
type ESMS struct {
	// URL is ESMSURL, or a simulator's.
	URL               string
	APIKey, SecretKey string
	Brandname         string
	// SMSType is "2" (customer care, the type for notices of a service used), the default.
	SMSType string
	// Unicode sends the text with diacritics (IsUnicode 1): say so only when Templates.Unicode is on.
	Unicode bool
	// Sandbox asks eSMS to check the request without sending or charging it.
	Sandbox bool
	Client  *http.Client // http.DefaultClient when nil; the send's context bounds it
}

// Check reports an error in the configuration.
func (e *ESMS) Check() error {
	if e.URL == "" || e.APIKey == "" || e.SecretKey == "" || e.Brandname == "" {
		return errors.New("esms: the URL, API key, secret key and brandname are required")
	}
	return nil
}

// Handles: a text is rendered for every kind.
func (e *ESMS) Handles(string) bool { return true }

// ESMSRequest is the body eSMS's SendMultipleMessage_V4_post_json takes (its member names).
type ESMSRequest struct {
	APIKey    string `json:"ApiKey"`
	SecretKey string `json:"SecretKey"`
	Content   string `json:"Content"`
	Phone     string `json:"Phone"`
	Brandname string `json:"Brandname"`
	SMSType   string `json:"SmsType"`
	IsUnicode string `json:"IsUnicode"`
	Sandbox   string `json:"Sandbox"`
	RequestID string `json:"RequestId"`
}

// ESMSResponse is eSMS's answer.
type ESMSResponse struct {
	CodeResult      string `json:"CodeResult"`
	CountRegenerate int    `json:"CountRegenerate"`
	SMSID           string `json:"SMSID,omitempty"`
	ErrorMessage    string `json:"ErrorMessage,omitempty"`
}

// eSMS's CodeResult values (developers.esms.vn, "Table of error codes") that decide what happens.
const (
	ESMSAccepted         = "100" // the request reached eSMS
	ESMSDuplicateRequest = "124" // this RequestId was accepted already: the resend of a delivery
)

// esmsPermanent are the answers about the message itself that no retry cures: a blocked number
// (99), a number in a wrong format (108), a text that does not match the brandname's registered
// customer-care template (146), a carrier the brandname is not registered with (177). Any other
// answer (wrong keys 101, no price list 102, balance 103, unknown brandname 104, IP not listed
// 140, …) is the agency's account: retried until an operator repairs it.
var esmsPermanent = map[string]string{
	"99":  "the number is blocked",
	"108": "the number is not in a valid format",
	"146": "the text does not match the brandname's registered template",
	"177": "the brandname is not registered with the recipient's carrier",
}

// Send posts m as one SMS.
func (e *ESMS) Send(ctx context.Context, m Message) error {
	body := ESMSRequest{APIKey: e.APIKey, SecretKey: e.SecretKey, Content: m.Text, Phone: National(m.Phone),
		Brandname: e.Brandname, SMSType: orString(e.SMSType, "2"), IsUnicode: flag(e.Unicode), Sandbox: flag(e.Sandbox),
		RequestID: m.TrackingID}
	var answer ESMSResponse
	if err := postJSON(ctx, e.Client, e.URL, nil, body, &answer, "esms"); err != nil {
		return err
	}
	switch answer.CodeResult {
	case ESMSAccepted, ESMSDuplicateRequest:
		return nil
	}
	if why, ok := esmsPermanent[answer.CodeResult]; ok {
		return delivery.Permanent(fmt.Errorf("esms: refused (%s): %s", answer.CodeResult, why))
	}
	return fmt.Errorf("esms: not accepted (CodeResult %s): %s", answer.CodeResult, Scrub(answer.ErrorMessage))
}

// postJSON posts body and decodes the answer. A 5xx, 408 or 429 answer and a failed connection are
// retried; any other answer that is not 2xx is a refusal of the request itself (permanent).
func postJSON(ctx context.Context, client *http.Client, url string, header http.Header, body, answer any, who string) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%s: %w", who, err)
	}
	req.Header.Set("Content-Type", "application/json")
	for name, values := range header {
		req.Header[name] = values
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL error names the URL only: no number is in it.
		return fmt.Errorf("%s: %w", who, err)
	}
	defer resp.Body.Close()
	payload, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: read the answer: %w", who, err)
	}
	if resp.StatusCode/100 != 2 {
		err := fmt.Errorf("%s: HTTP %d", who, resp.StatusCode)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests {
			return err
		}
		return delivery.Permanent(err)
	}
	if err := json.Unmarshal(payload, answer); err != nil {
		return fmt.Errorf("%s: the answer is not the documented JSON: %w", who, err)
	}
	return nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func orString(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// DefaultTimeout bounds one request to a provider when the client has none.
const DefaultTimeout = 15 * time.Second
