package domain

import (
	"fmt"
	"slices"
	"time"
)

// Boundary-free procedures (thủ tục hành chính không phụ thuộc vào địa giới hành chính, NĐ
// 118/2025/NĐ-CP): the province lists procedures that one-stop centres outside the competent
// agency's territory may receive. The receiving centre gives the code; the competent agency decides;
// paper originals may have to travel to it; the applicant chooses where to collect the result
// (docs/rules.md, "Boundary-free procedures").

// Wire names of the boundary-free events.
const (
	TypeBoundaryFreeReceived = "dossier.boundary_free_received.v1"
	TypeOriginalsArrived     = "dossier.originals_arrived.v1"
)

// ActionOriginalsArrived records that the paper originals of a boundary-free receipt reached the
// competent agency.
const ActionOriginalsArrived Action = "originals-arrived"

// DefaultForwardingHours is the forwarding step's time when the catalog gives none: one working
// day, the time NĐ 118 art. 18 gives a centre to hand a dossier on.
const DefaultForwardingHours = 8

// BoundaryFree is a procedure's boundary-free listing in the catalog: the centres that may receive
// it whatever the territory ("*": every centre), and the working hours paper originals have to
// reach the competent agency.
type BoundaryFree struct {
	Centres         []string `json:"centres"`
	ForwardingHours float64  `json:"forwarding_hours,omitempty"`
}

// allows reports whether the listing lets centre receive the procedure.
func (b *BoundaryFree) allows(centre string) bool {
	return b != nil && (slices.Contains(b.Centres, "*") || slices.Contains(b.Centres, centre))
}

// ReceiptRule says how unit may receive procedure p: within the boundary (false), boundary-free
// (true), or not at all — an ECONFLICT naming the rule. A unit that declares no territory receives
// as before any rule existed: for every agency.
func (c *Catalog) ReceiptRule(unit string, p Procedure) (boundaryFree bool, err error) {
	a := c.agencies[unit]
	if unit == p.CompetentAgency || a == nil || a.Territory == nil || slices.Contains(a.Territory, p.CompetentAgency) {
		return false, nil
	}
	if p.BoundaryFree.allows(unit) {
		return true, nil
	}
	return false, Errorf(ECONFLICT, "rule %q (NĐ 118/2025/NĐ-CP): procedure %s, decided by %s, is outside the territory of %s, "+
		"and the province does not list it as boundary-free (phi địa giới) at that centre", RuleBoundaryFree, p.Code, p.CompetentAgency, unit)
}

// RuleBoundaryFree names the rule a refused receipt breaks.
const RuleBoundaryFree = "phi-dia-gioi"

// checkBoundaryFree checks the catalog's territories and boundary-free listings.
func (c *Catalog) checkBoundaryFree(v *Validation) {
	for i, a := range c.Agencies {
		for j, code := range a.Territory {
			v.Check(c.agencies[code] != nil, fmt.Sprintf("agencies[%d].territory[%d]", i, j), "%q is not a catalog agency", code)
		}
	}
	for i, p := range c.Procedures {
		if p.BoundaryFree == nil {
			continue
		}
		at := fmt.Sprintf("procedures[%d].boundary_free", i)
		v.Check(len(p.BoundaryFree.Centres) > 0, at+".centres", "list the centres, or \"*\" for every centre")
		for j, code := range p.BoundaryFree.Centres {
			v.Check(code == "*" || c.agencies[code] != nil, fmt.Sprintf("%s.centres[%d]", at, j), "%q is not a catalog agency", code)
		}
		v.Check(p.BoundaryFree.ForwardingHours >= 0 && p.BoundaryFree.ForwardingHours <= 80, at+".forwarding_hours", "must be between 0 and 80 working hours")
	}
}

// BoundaryFreeTerms are what a boundary-free receipt adds to a receipt: where the applicant
// collects the result, whether paper originals travel to the competent agency, and in how long.
type BoundaryFreeTerms struct {
	CollectAt        string
	ForwardOriginals bool
	ForwardingHours  float64 // 0: DefaultForwardingHours
}

// BoundaryFreeReceived: the dossier was received at a centre outside the competent agency's
// territory under the province's boundary-free listing. Appended with its Received.
type BoundaryFreeReceived struct {
	ReceivingCentre string `json:"receiving_centre"`
	CompetentAgency string `json:"competent_agency"`
	// CollectAt is the centre where the applicant will collect the result.
	CollectAt string `json:"collect_at"`
	// ForwardOriginals: the paper originals travel to the competent agency, a step of its own
	// with ForwardingHours and its ForwardingDeadline; absent when nothing travels.
	ForwardOriginals   bool      `json:"forward_originals,omitempty"`
	ForwardingHours    float64   `json:"forwarding_hours,omitempty"`
	ForwardingDeadline time.Time `json:"forwarding_deadline,omitzero"`
	ReceivedAt         time.Time `json:"received_at"`
	CalendarVersion    string    `json:"calendar_version,omitempty"`
}

// OriginalsArrived: the paper originals of a boundary-free receipt reached the competent agency.
type OriginalsArrived struct {
	By                 Handler   `json:"by"`
	ArrivedAt          time.Time `json:"arrived_at"`
	ForwardingDeadline time.Time `json:"forwarding_deadline"` // to judge the step without the calendar
	Note               string    `json:"note,omitempty"`
}

func (BoundaryFreeReceived) EventType() string { return TypeBoundaryFreeReceived }
func (OriginalsArrived) EventType() string     { return TypeOriginalsArrived }

// RecordOriginalsArrived is the competent agency's confirmation that the originals arrived.
type RecordOriginalsArrived struct {
	By   Handler
	Note string
	At   time.Time
}

func (RecordOriginalsArrived) Action() Action { return ActionOriginalsArrived }

// boundaryFreeReceipt is the event a boundary-free receipt adds to e, or nil for an ordinary one.
func boundaryFreeReceipt(c Receive, e Received, v *Validation) *BoundaryFreeReceived {
	t := c.BoundaryFree
	if t == nil {
		return nil
	}
	v.Check(ValidUnitCode(t.CollectAt), "collect_at", "%q is not a QCVN 102 identifier", t.CollectAt)
	v.Check(t.ForwardingHours >= 0 && t.ForwardingHours <= 80, "forwarding_hours", "must be between 0 and 80 working hours")
	b := &BoundaryFreeReceived{ReceivingCentre: e.ReceivingUnit, CompetentAgency: e.CompetentAgency, CollectAt: t.CollectAt,
		ReceivedAt: c.At}
	if t.ForwardOriginals && c.Calendar != nil {
		b.ForwardOriginals, b.ForwardingHours = true, t.ForwardingHours
		if b.ForwardingHours == 0 {
			b.ForwardingHours = DefaultForwardingHours
		}
		b.ForwardingDeadline = c.Calendar.AddWorkingTime(c.At, time.Duration(b.ForwardingHours*float64(time.Hour)))
		b.CalendarVersion = c.Calendar.Version()
	}
	return b
}

func decideOriginalsArrived(d Dossier, c RecordOriginalsArrived) ([]Event, error) {
	if !d.OriginalsOnTheirWay() {
		return nil, refuse(d, ActionOriginalsArrived, "no paper originals are on their way to the competent agency")
	}
	var v Validation
	checkText(&v, "note", c.Note, false, 2000)
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{OriginalsArrived{By: c.By, ArrivedAt: c.At, ForwardingDeadline: d.BoundaryFree.ForwardingDeadline, Note: c.Note}}, nil
}

// OriginalsOnTheirWay reports whether paper originals of a boundary-free receipt are travelling
// to the competent agency and have not arrived.
func (d Dossier) OriginalsOnTheirWay() bool {
	return d.BoundaryFree != nil && d.BoundaryFree.ForwardOriginals && d.OriginalsArrivedAt.IsZero()
}

// ReturnUnit is the centre that hands the result back: the one the applicant chose at a
// boundary-free receipt, else the receiving unit.
func (d Dossier) ReturnUnit() string {
	if d.BoundaryFree != nil && d.BoundaryFree.CollectAt != "" {
		return d.BoundaryFree.CollectAt
	}
	return d.ReceivingUnit
}
