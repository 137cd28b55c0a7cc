package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/phone"
)

// phoneFlags configure the applicants' notifications by SMS and Zalo ZNS. Like the mail flags,
// each defaults to an environment variable; the provider's secret and the Zalo access token are
// read from the environment or a file only, never a flag.
type phoneFlags struct {
	smsProvider, esmsURL, esmsAPIKey, esmsSecretFile, brandname string
	smsTemplates, agency                                        string
	unicode, sandbox                                            bool
	segments                                                    int
	znsURL, znsTokenFile, znsTemplates                          string
}

func addPhoneFlags(fs *flag.FlagSet) *phoneFlags {
	f := &phoneFlags{}
	env := func(name, fallback string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return fallback
	}
	fs.StringVar(&f.smsProvider, "sms-provider", env("MOTCUA_SMS_PROVIDER", ""), "SMS provider for the applicants' notifications: esms (eSMS.vn); none are sent when empty ($MOTCUA_SMS_PROVIDER)")
	fs.StringVar(&f.esmsURL, "esms-url", env("MOTCUA_ESMS_URL", phone.ESMSURL), "eSMS endpoint SendMultipleMessage_V4_post_json ($MOTCUA_ESMS_URL)")
	fs.StringVar(&f.esmsAPIKey, "esms-api-key", env("MOTCUA_ESMS_API_KEY", ""), "eSMS ApiKey; the SecretKey comes from $MOTCUA_ESMS_SECRET_KEY or --esms-secret-key-file ($MOTCUA_ESMS_API_KEY)")
	fs.StringVar(&f.esmsSecretFile, "esms-secret-key-file", env("MOTCUA_ESMS_SECRET_KEY_FILE", ""), "file holding the eSMS SecretKey ($MOTCUA_ESMS_SECRET_KEY_FILE)")
	fs.StringVar(&f.brandname, "sms-brandname", env("MOTCUA_SMS_BRANDNAME", ""), "the agency's registered SMS brandname ($MOTCUA_SMS_BRANDNAME)")
	fs.StringVar(&f.smsTemplates, "sms-templates", env("MOTCUA_SMS_TEMPLATES", ""), "directory of SMS texts (<kind>.txt) replacing the built-in ones (docs/integrations.md) ($MOTCUA_SMS_TEMPLATES)")
	fs.StringVar(&f.agency, "sms-agency", env("MOTCUA_SMS_AGENCY", ""), `the sender's name the texts and Zalo messages begin with, e.g. "TTPVHCC tinh" (default "Bộ phận Một cửa") ($MOTCUA_SMS_AGENCY)`)
	fs.BoolVar(&f.unicode, "sms-unicode", os.Getenv("MOTCUA_SMS_UNICODE") == "1", "send SMS with Vietnamese diacritics (Unicode, 70 characters a segment); default without, as GSM-7 ($MOTCUA_SMS_UNICODE=1)")
	fs.IntVar(&f.segments, "sms-segments", 0, "longest SMS, in segments of 153 GSM-7 or 67 Unicode characters (default 2 GSM-7, 4 Unicode)")
	fs.BoolVar(&f.sandbox, "esms-sandbox", os.Getenv("MOTCUA_ESMS_SANDBOX") == "1", "ask eSMS to check the requests without sending them ($MOTCUA_ESMS_SANDBOX=1)")
	fs.StringVar(&f.znsURL, "zns-url", env("MOTCUA_ZNS_URL", phone.ZNSURL), "Zalo ZNS endpoint message/template ($MOTCUA_ZNS_URL)")
	fs.StringVar(&f.znsTokenFile, "zns-token-file", env("MOTCUA_ZNS_TOKEN_FILE", ""), "file holding the Zalo official account's access token, read at every send (refreshed outside motcua) ($MOTCUA_ZNS_TOKEN_FILE)")
	fs.StringVar(&f.znsTemplates, "zns-templates", env("MOTCUA_ZNS_TEMPLATES", ""), "approved ZNS template id per kind, e.g. status_changed=7895417a7d3f9461cd2e,apology=…; Zalo messages are off when empty ($MOTCUA_ZNS_TEMPLATES)")
	return f
}

// destinations builds the SMS and Zalo notifiers configured (none by default).
func (f *phoneFlags) destinations(deployment *deployment, publicURL string, logger *slog.Logger) ([]delivery.Destination, error) {
	var out []delivery.Destination
	client := &http.Client{Timeout: phone.DefaultTimeout}
	templates := phone.Templates{Dir: f.smsTemplates, Unicode: f.unicode, Segments: f.segments}
	notifier := func(channel domain.NotifyChannel, provider phone.Provider) *phone.Notifier {
		// Through the sealed store, as the application reads: an erased applicant gets nothing.
		return &phone.Notifier{Channel: channel, Store: deployment.events.Sealed, Provider: provider, Templates: templates,
			Agency: f.agency, PublicURL: publicURL}
	}
	switch f.smsProvider {
	case "":
	case "esms":
		secret, err := secretFrom("MOTCUA_ESMS_SECRET_KEY", f.esmsSecretFile, "--esms-secret-key-file")
		if err != nil {
			return nil, err
		}
		if f.segments < 0 || f.segments > 10 {
			return nil, errors.New("--sms-segments must be between 1 and 10 (0: the default)")
		}
		provider := &phone.ESMS{URL: f.esmsURL, APIKey: f.esmsAPIKey, SecretKey: secret, Brandname: f.brandname,
			Unicode: f.unicode, Sandbox: f.sandbox, Client: client}
		if err := provider.Check(); err != nil {
			return nil, fmt.Errorf("--sms-provider esms: %w (--esms-api-key, $MOTCUA_ESMS_SECRET_KEY, --sms-brandname)", err)
		}
		if err := templates.Check(); err != nil {
			return nil, fmt.Errorf("--sms-templates: %w", err)
		}
		out = append(out, notifier(domain.NotifySMS, provider))
		logger.Info("SMS notifications on", "provider", "esms", "brandname", f.brandname, "unicode", f.unicode,
			"templates", orDefault(f.smsTemplates, "built-in"))
	default:
		return nil, fmt.Errorf("--sms-provider %q: the provider built in is esms", f.smsProvider)
	}
	if f.znsTemplates != "" {
		ids, err := parseTemplateIDs(f.znsTemplates)
		if err != nil {
			return nil, fmt.Errorf("--zns-templates: %w", err)
		}
		if f.znsTokenFile == "" {
			return nil, errors.New("--zns-templates needs --zns-token-file, the official account's access token")
		}
		if _, err := phone.TokenFile(f.znsTokenFile)(); err != nil {
			return nil, fmt.Errorf("--zns-token-file: %w", err)
		}
		provider := &phone.ZNS{URL: f.znsURL, AccessToken: phone.TokenFile(f.znsTokenFile), TemplateIDs: ids, Client: client}
		if err := provider.Check(); err != nil {
			return nil, fmt.Errorf("--zns-templates: %w", err)
		}
		out = append(out, notifier(domain.NotifyZalo, provider))
		logger.Info("Zalo ZNS notifications on", "kinds", len(ids))
	}
	return out, nil
}

// parseTemplateIDs reads "kind=id,kind=id".
func parseTemplateIDs(s string) (map[string]string, error) {
	ids := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		kind, id, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || strings.TrimSpace(kind) == "" || strings.TrimSpace(id) == "" {
			return nil, fmt.Errorf("%q is not kind=template_id", pair)
		}
		ids[strings.TrimSpace(kind)] = strings.TrimSpace(id)
	}
	return ids, nil
}

// secretFrom reads a secret from a file when one is named, else from the environment variable.
func secretFrom(envName, file, fileFlag string) (string, error) {
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", fileFlag, err)
		}
		return strings.TrimRight(string(raw), "\r\n"), nil
	}
	return os.Getenv(envName), nil
}
