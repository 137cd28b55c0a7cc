package domain

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// Agencies that cease to exist. The 2025 reorganisation (Luật Tổ chức chính quyền địa phương of
// 16/6/2025, in force 1/7/2025) abolished the district level and merged provinces; the resolution
// that abolishes or merges a body names its successor, which takes over its unfinished work. A
// dossier open at an abolished agency passes to the successor by an event in its own stream, so its
// history says when, on which basis, and from whom to whom (docs/rules.md, "Agencies that cease
// to exist").

// TypeAgencySucceeded is the wire name of AgencySucceeded.
const TypeAgencySucceeded = "dossier.agency_succeeded.v1"

// ActionSucceedAgency hands an open dossier of an abolished agency (or unit) to its successor.
const ActionSucceedAgency Action = "agency-succession"

// AgencySucceeded: the agency (or unit with its own QCVN 102 identifier) FromAgency ceased to exist
// and ToAgency took over this open dossier. It records what passed — the receiving unit, the
// competent agency, the holder, open parts of parallel steps — so a read model needs neither the
// catalog nor the decision to apply it.
type AgencySucceeded struct {
	FromAgency string `json:"from_agency"`
	ToAgency   string `json:"to_agency"`
	// Basis is the decision that abolished or merged the agency (e.g. "Nghị quyết 1686/NQ-UBTVQH15").
	Basis string `json:"basis"`
	// EffectiveDate is when that decision took effect; SucceededAt when this dossier passed.
	EffectiveDate time.Time `json:"effective_date"`
	SucceededAt   time.Time `json:"succeeded_at"`
	// Receiving and Competent say whether the dossier's receiving unit and competent agency passed.
	Receiving bool `json:"receiving,omitempty"`
	Competent bool `json:"competent,omitempty"`
	// FromHolder and ToHolder are who held the dossier before and after: the unit of the abolished
	// agency becomes the successor's (a department mapped by the command, else the successor
	// itself); the official stays named, for the successor's head to reassign if they did not move.
	FromHolder Handler `json:"from_holder"`
	ToHolder   Handler `json:"to_holder"`
	// Parts are the open parts of parallel steps the abolished agency was doing, by step name.
	Parts []string `json:"parts,omitempty"`
}

func (AgencySucceeded) EventType() string { return TypeAgencySucceeded }

// SucceedAgency hands the dossier from an abolished agency to its successor.
type SucceedAgency struct {
	From, To      string
	Basis         string
	EffectiveDate time.Time
	// Units maps units of the abolished agency (department codes, or its own code) to the
	// successor's units; a unit not mapped becomes the successor agency itself.
	Units map[string]string
	At    time.Time
}

func (SucceedAgency) Action() Action { return ActionSucceedAgency }

// CheckSuccession validates a succession's inputs, field by field, before any dossier is touched.
func CheckSuccession(c SucceedAgency) error {
	var v Validation
	v.Check(ValidUnitCode(c.From), "from", "%q is not a QCVN 102 identifier", c.From)
	v.Check(ValidUnitCode(c.To), "to", "%q is not a QCVN 102 identifier", c.To)
	v.Check(c.From == "" || c.From != c.To, "to", "must differ from the abolished agency")
	checkText(&v, "basis", c.Basis, true, 2000)
	v.Check(!c.EffectiveDate.IsZero(), "effective_date", "is required")
	v.Check(c.EffectiveDate.IsZero() || c.At.IsZero() || !c.EffectiveDate.After(c.At), "effective_date",
		"is in the future: dossiers pass to the successor once the decision is in force")
	units := make([]string, 0, len(c.Units))
	for from := range c.Units {
		units = append(units, from)
	}
	sort.Strings(units)
	for _, from := range units {
		checkText(&v, fmt.Sprintf("units[%s]", from), c.Units[from], true, 100)
	}
	checkMoment(&v, c.At)
	return v.Err()
}

func decideSucceedAgency(d Dossier, c SucceedAgency) ([]Event, error) {
	if err := CheckSuccession(c); err != nil {
		return nil, err
	}
	if !d.AgencyInvolved(c.From) {
		return nil, refuse(d, ActionSucceedAgency, "agency %s has no part in this dossier: nothing to hand over", c.From)
	}
	e := AgencySucceeded{FromAgency: c.From, ToAgency: c.To, Basis: c.Basis, EffectiveDate: c.EffectiveDate, SucceededAt: c.At,
		Receiving: d.ReceivingUnit == c.From, Competent: d.CompetentAgency == c.From, FromHolder: d.Holder, ToHolder: d.Holder}
	if d.ResponsibleAgency() == c.From || d.Holder.Unit == c.From {
		e.ToHolder.Unit = succeedUnit(c, d.Holder.Unit)
	}
	for _, p := range d.OpenParts {
		if p.Agency == c.From {
			e.Parts = append(e.Parts, p.Step)
		}
	}
	return []Event{e}, nil
}

// succeedUnit is the successor's unit for a unit of the abolished agency.
func succeedUnit(c SucceedAgency, unit string) string {
	if to, ok := c.Units[unit]; ok {
		return to
	}
	return c.To
}

// ResponsibleAgency is the agency whose officials the dossier waits on now: the holder's unit when
// it is an agency, the agency it was sent to for its part (inter-agency work), else the competent
// agency whose department holds it.
func (d Dossier) ResponsibleAgency() string {
	switch {
	case ValidUnitCode(d.Holder.Unit):
		return d.Holder.Unit
	case d.HolderAgency != "" && d.HolderAgency != d.ReceivingUnit:
		return d.HolderAgency
	case d.CompetentAgency != "":
		return d.CompetentAgency
	}
	return d.ReceivingUnit
}

// succeed applies an AgencySucceeded: every place the abolished agency held passes to its successor.
func (d Dossier) succeed(e AgencySucceeded) Dossier {
	swap := func(s string) string {
		if s == e.FromAgency {
			return e.ToAgency
		}
		return s
	}
	d.ReceivingUnit = swap(d.ReceivingUnit)
	d.CompetentAgency = swap(d.CompetentAgency)
	d.HolderAgency = swap(d.HolderAgency)
	d.Holder = e.ToHolder
	if d.BoundaryFree != nil && d.BoundaryFree.CollectAt == e.FromAgency {
		b := *d.BoundaryFree
		b.CollectAt = e.ToAgency
		d.BoundaryFree = &b
	}
	if len(e.Parts) > 0 {
		parts := slices.Clone(d.OpenParts)
		for i, p := range parts {
			if p.Agency == e.FromAgency {
				parts[i].Agency = e.ToAgency
				parts[i].Unit = swap(p.Unit)
			}
		}
		d.OpenParts = parts
	}
	return d
}
