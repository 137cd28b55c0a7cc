package phone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/notification"
)

// ZNSURL is Zalo's published endpoint for a ZNS message to a phone number.
const ZNSURL = "https://business.openapi.zalo.me/message/template"

// ZNS sends Zalo Notification Service messages: a template the agency registered with Zalo and had
// approved, one per kind (TemplateIDs), filled with the kind's parameters (ZNSParams), to the Zalo
// account of the applicant's number. The delivery's tracking id is the message's tracking_id.
type ZNS struct {
	// URL is ZNSURL, or a simulator's.
	URL string
	// AccessToken returns the official account's access token, sent in the access_token header.
	// Zalo's tokens live 25 hours and are refreshed outside motcua (TokenFile reads the file an
	// outside refresher rewrites, at every send).
	AccessToken func() (string, error)
	// TemplateIDs maps a kind of notification to its approved ZNS template id. A kind without one
	// is not sent by Zalo (no delivery is planned).
	TemplateIDs map[string]string
	Client      *http.Client // http.DefaultClient when nil
}

// TokenFile returns an AccessToken reading the token from path at every call.
func TokenFile(path string) func() (string, error) {
	return func() (string, error) {
		raw, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("zns: access token: %w", err)
		}
		token := strings.TrimSpace(string(raw))
		if token == "" {
			return "", errors.New("zns: the access token file is empty")
		}
		return token, nil
	}
}

// Check reports an error in the configuration.
func (z *ZNS) Check() error {
	if z.URL == "" || z.AccessToken == nil {
		return errors.New("zns: the URL and the access token are required")
	}
	if len(z.TemplateIDs) == 0 {
		return errors.New("zns: no template id configured for any kind")
	}
	for kind := range z.TemplateIDs {
		if !isKind(kind) {
			return fmt.Errorf("zns: %q is not a kind of notification (%s)", kind, strings.Join(notification.Kinds, ", "))
		}
	}
	return nil
}

func isKind(kind string) bool {
	for _, k := range notification.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Handles reports whether a template id is configured for kind.
func (z *ZNS) Handles(kind string) bool { return z.TemplateIDs[kind] != "" }

// ZNSRequest is the body of Zalo's message/template (its member names).
type ZNSRequest struct {
	Phone        string            `json:"phone"`
	TemplateID   string            `json:"template_id"`
	TemplateData map[string]string `json:"template_data"`
	TrackingID   string            `json:"tracking_id"`
}

// ZNSResponse is Zalo's answer: error 0 and the message's id, or an error code.
type ZNSResponse struct {
	Error   int     `json:"error"`
	Message string  `json:"message"`
	Data    ZNSSent `json:"data,omitzero"`
}

// ZNSSent is what Zalo says of a message it accepted.
type ZNSSent struct {
	MsgID       string    `json:"msg_id"`
	SentTime    string    `json:"sent_time"`
	SendingMode string    `json:"sending_mode,omitempty"`
	Quota       *ZNSQuota `json:"quota,omitempty"`
}

// ZNSQuota is the official account's daily ZNS quota.
type ZNSQuota struct {
	DailyQuota     string `json:"dailyQuota"`
	RemainingQuota string `json:"remainingQuota"`
}

// Zalo's published ZNS error codes (zalo.cloud/zns/guidelines/handle-error-code) that end a delivery:
// the number, its Zalo account or the template's data, which no retry changes. Every other code
// (-100 unknown, -124 access token invalid or expired, the quota codes, the application's
// configuration) is retried until it passes or an operator repairs it.
var znsPermanent = map[int]string{
	-108: "phone number invalid",
	-109: "template id invalid",
	-111: "template data empty",
	-112: "template data invalid",
	-117: "the official account may not use this template",
	-118: "no Zalo account for this number",
	-119: "the account cannot receive ZNS",
	-139: "the user refused this kind of ZNS",
}

// Send posts m's kind's template with its parameters.
func (z *ZNS) Send(ctx context.Context, m Message) error {
	templateID := z.TemplateIDs[m.Kind]
	if templateID == "" {
		return delivery.Permanent(fmt.Errorf("zns: no template id configured for %s", m.Kind))
	}
	token, err := z.AccessToken()
	if err != nil {
		return err
	}
	header := http.Header{"access_token": {token}}
	body := ZNSRequest{Phone: m.Phone, TemplateID: templateID, TemplateData: m.Params, TrackingID: m.TrackingID}
	var answer ZNSResponse
	if err := postJSON(ctx, z.Client, z.URL, header, body, &answer, "zns"); err != nil {
		return err
	}
	if answer.Error == 0 {
		return nil
	}
	if why, ok := znsPermanent[answer.Error]; ok {
		return delivery.Permanent(fmt.Errorf("zns: refused (%d): %s", answer.Error, why))
	}
	return fmt.Errorf("zns: not accepted (%d): %s", answer.Error, Scrub(answer.Message))
}

// ZNSParamLimit is the longest a parameter's value may be: ZNS templates declare their
// parameters' lengths, 100 characters at most for the text types used here; longer values are cut.
const ZNSParamLimit = 100

// ZNSParams are the parameters each kind's ZNS template is registered with (docs/integrations.md
// lists them; the province registers its templates with these names).
func ZNSParams(kind string, data notification.Data) map[string]string {
	p := map[string]string{
		"customer_name":  data.ApplicantName,
		"dossier_code":   data.Code,
		"procedure_name": data.ProcedureName,
	}
	switch kind {
	case notification.KindStatusChanged:
		p["status"], p["event_time"], p["appointment_date"] = data.Status, data.EventTime, data.AppointmentDate
	case notification.KindSupplementRequested:
		p["missing_items"], p["reason"] = strings.Join(data.MissingItems, "; "), data.Reason
	case notification.KindApology:
		p["reason"], p["old_date"], p["new_date"] = data.Reason, data.OldAppointmentDate, data.NewAppointmentDate
	case notification.KindResultReady:
		p["document_number"] = data.DocumentNumber
	case notification.KindPaymentDue:
		p["fee_total"] = data.FeeTotal
	}
	p["lookup_url"] = data.LookupURL
	for name, value := range p {
		if value == "" {
			value = "-" // ZNS refuses an empty parameter (-112)
		}
		if utf8.RuneCountInString(value) > ZNSParamLimit {
			value = string([]rune(value)[:ZNSParamLimit-2]) + ".."
		}
		p[name] = value
	}
	return p
}
