package timers

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"slices"
	"strings"
)

// Recipients are the officials' notification addresses. motcua keeps no directory of officials
// (they come in through tokens or the province's sign-in, which carry no address), so the
// addresses come from a file in configuration (--alarm-recipients), read at start:
//
//	{
//	  "officials": {"<official id>": "nguyen.van.a@tinh.gov.vn"},
//	  "units": {"<unit or agency code>": {"heads": ["truong.phong@…"], "desk": ["motcua@…"]}}
//	}
//
// A unit's heads are told of every alarm about a dossier the unit holds; when the file lists no
// one for the unit, the heads of its agency are told instead.
type Recipients struct {
	Officials map[string]string         `json:"officials"`
	Units     map[string]UnitRecipients `json:"units"`
}

// UnitRecipients are the addresses of a unit's heads and of its one-stop desk.
type UnitRecipients struct {
	Heads []string `json:"heads"`
	Desk  []string `json:"desk"`
}

// LoadRecipients reads and checks a recipients file.
func LoadRecipients(path string) (*Recipients, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("timers: recipients: %w", err)
	}
	return ParseRecipients(raw)
}

// ParseRecipients decodes and checks recipients: every address must parse, unknown keys are
// refused (a misspelt "heads" would silently tell no one).
func ParseRecipients(raw []byte) (*Recipients, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var r Recipients
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("timers: recipients: %w", err)
	}
	check := func(where, address string) error {
		if _, err := mail.ParseAddress(address); err != nil {
			return fmt.Errorf("timers: recipients: %s: not an e-mail address", where)
		}
		return nil
	}
	for id, address := range r.Officials {
		if err := check("officials."+id, address); err != nil {
			return nil, err
		}
	}
	for code, unit := range r.Units {
		for _, address := range slices.Concat(unit.Heads, unit.Desk) {
			if err := check("units."+code, address); err != nil {
				return nil, err
			}
		}
	}
	return &r, nil
}

// For returns the addresses told of an alarm, each once, in a stable order: the official, the
// desk when the alarm calls for it, and the heads (of the unit, or else of the agency).
func (r *Recipients) For(a Alarm) []mail.Address {
	if r == nil {
		return nil
	}
	var raw []string
	if address, ok := r.Officials[a.Official]; ok && a.Official != "" {
		raw = append(raw, address)
	}
	unit, ok := r.Units[a.Unit]
	if !ok || a.Unit == "" {
		unit = r.Units[a.Agency]
	}
	if a.Desk {
		raw = append(raw, unit.Desk...)
	}
	raw = append(raw, unit.Heads...)
	var out []mail.Address
	seen := map[string]bool{}
	for _, s := range raw {
		address, err := mail.ParseAddress(s)
		if err != nil || seen[strings.ToLower(address.Address)] {
			continue
		}
		seen[strings.ToLower(address.Address)] = true
		out = append(out, *address)
	}
	return out
}
