package domain

import (
	"encoding/json"
	"strings"
)

// NotifyChannel is a way the applicant asked to be told of their dossier's progress (Nghị định
// 224/2026 art. 15(1): every status change, at once). It is not the reception Channel.
type NotifyChannel string

const (
	NotifyEmail NotifyChannel = "email"
	NotifySMS   NotifyChannel = "sms"
	NotifyZalo  NotifyChannel = "zalo" // Zalo ZNS, to the phone number's Zalo account
)

// NotifyChannels is the set of channels the applicant chose, recorded with the applicant when the
// dossier is submitted or received. JSON: an array of channel names ([] for none).
type NotifyChannels struct {
	// Stated is false in events recorded before the choice existed: DefaultNotify applies to them.
	Stated           bool
	Email, SMS, Zalo bool
	unknown          string // a name that is no channel, reported by Validate
}

// DefaultNotify is the choice of an applicant who did not state one (docs/integrations.md): e-mail
// if they gave an address, SMS if they gave a phone number; Zalo only on request, since a message
// to a Zalo account needs its holder's consent to the agency's official account.
func DefaultNotify(hasEmail, hasPhone bool) NotifyChannels {
	return NotifyChannels{Stated: true, Email: hasEmail, SMS: hasPhone}
}

// ParseNotify reads channel names (as a form or the API gives them); a name that is no channel is
// kept for Validate to report.
func ParseNotify(names []string) NotifyChannels {
	c := NotifyChannels{Stated: true}
	for _, name := range names {
		switch NotifyChannel(strings.ToLower(strings.TrimSpace(name))) {
		case NotifyEmail:
			c.Email = true
		case NotifySMS:
			c.SMS = true
		case NotifyZalo:
			c.Zalo = true
		case "":
		default:
			if c.unknown == "" {
				c.unknown = name
			}
		}
	}
	return c
}

// Has reports whether ch was chosen.
func (c NotifyChannels) Has(ch NotifyChannel) bool {
	switch ch {
	case NotifyEmail:
		return c.Email
	case NotifySMS:
		return c.SMS
	case NotifyZalo:
		return c.Zalo
	}
	return false
}

// Names lists the chosen channels in a fixed order.
func (c NotifyChannels) Names() []string {
	names := []string{}
	for _, ch := range []NotifyChannel{NotifyEmail, NotifySMS, NotifyZalo} {
		if c.Has(ch) {
			names = append(names, string(ch))
		}
	}
	return names
}

// IsZero reports a choice not stated (omitted from the JSON: older events have none).
func (c NotifyChannels) IsZero() bool { return c == NotifyChannels{} }

func (c NotifyChannels) MarshalJSON() ([]byte, error) {
	if !c.Stated {
		return []byte("null"), nil
	}
	return json.Marshal(c.Names())
}

func (c *NotifyChannels) UnmarshalJSON(raw []byte) error {
	if string(raw) == "null" {
		*c = NotifyChannels{}
		return nil
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil {
		return err
	}
	*c = ParseNotify(names)
	return nil
}

// Notifications returns the applicant's choice, the default for an applicant recorded before
// choices existed.
func (a Applicant) Notifications() NotifyChannels {
	if a.Notify.Stated {
		return a.Notify
	}
	return DefaultNotify(a.Email != "", a.Phone != "")
}

func (c NotifyChannels) validate(v *Validation, field string, hasEmail, hasPhone bool) {
	v.Check(c.unknown == "", field, "must list only email, sms and zalo")
	v.Check(!c.Email || hasEmail, field, "email needs the applicant's e-mail address")
	v.Check(!c.SMS || hasPhone, field, "sms needs the applicant's phone number")
	v.Check(!c.Zalo || hasPhone, field, "zalo needs the applicant's phone number")
}
