package domain

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// The catalog is data with a history (docs/catalog.md, "The catalog's history"): every publication,
// amendment and withdrawal of a procedure or an agency is an event of one stream, whose version is
// the catalog's revision. The catalog in force at a moment is the fold of the changes in force then.

// Wire names of the catalog's events.
const (
	TypeCatalogImported           = "catalog.imported.v1"
	TypeCatalogProcedurePublished = "catalog.procedure_published.v1"
	TypeCatalogProcedureWithdrawn = "catalog.procedure_withdrawn.v1"
	TypeCatalogAgencyPublished    = "catalog.agency_published.v1"
	TypeCatalogAgencyWithdrawn    = "catalog.agency_withdrawn.v1"
)

// CatalogAggregate is the catalog's one stream: one history for the whole province, so a revision
// number names one catalog and a dossier can record the one it was received under.
var CatalogAggregate = Aggregate{Name: "catalog", StreamPrefix: "catalog-", decoders: catalogDecoders}

// CatalogStream is the stream of every change of the catalog.
var CatalogStream = CatalogAggregate.StreamName("province")

// CatalogChange is what every change records besides its content: the decision of the province's
// People's Committee that publishes it (QĐ công bố danh mục TTHC, NĐ 63/2010 Art. 15 as amended by
// NĐ 92/2017) and when it applies. Who recorded it is the event's actor.
type CatalogChange struct {
	Basis string `json:"basis"` // the decision, e.g. "Quyết định 1234/QĐ-UBND ngày 01/3/2025 của Chủ tịch UBND tỉnh"
	// EffectiveFrom is the decision's date of effect (00:00 Vietnam time); zero for the demo's seed,
	// which has been in force for as long as motcua knows.
	EffectiveFrom time.Time `json:"effective_from,omitzero"`
	// InForceFrom is when motcua applies the change: the date of effect, or the recording when that
	// is later — a dossier already received keeps the version it was received under.
	InForceFrom time.Time `json:"in_force_from,omitzero"`
	RecordedAt  time.Time `json:"recorded_at,omitzero"` // zero on the history of a catalog without a stream
}

// CatalogImported: many procedures and agencies published or amended at once, and procedures
// withdrawn — the demo's seed file on first start, or an import of the national database's list.
type CatalogImported struct {
	Change     CatalogChange `json:"change"`
	Source     string        `json:"source"` // CatalogSourceSeed or CatalogSourceNationalPortal
	Agencies   []Agency      `json:"agencies,omitempty"`
	Procedures []Procedure   `json:"procedures,omitempty"`
	// WithdrawnProcedures are the codes the list no longer holds.
	WithdrawnProcedures []string `json:"withdrawn_procedures,omitempty"`
}

// Sources of an import.
const (
	CatalogSourceSeed           = "seed"
	CatalogSourceNationalPortal = "national_portal"
)

// CatalogProcedurePublished: a procedure published, or amended (Replaces is the revision of the
// version it replaces). It carries the whole procedure as it now stands.
type CatalogProcedurePublished struct {
	Change    CatalogChange `json:"change"`
	Procedure Procedure     `json:"procedure"`
	Replaces  uint64        `json:"replaces,omitempty"`
}

// CatalogProcedureWithdrawn: a procedure no longer received (bãi bỏ). Dossiers received under it
// keep what they recorded.
type CatalogProcedureWithdrawn struct {
	Change   CatalogChange `json:"change"`
	Code     string        `json:"code"`
	Replaces uint64        `json:"replaces"`
}

// CatalogAgencyPublished: an agency published or amended (Replaces as for procedures).
type CatalogAgencyPublished struct {
	Change   CatalogChange `json:"change"`
	Agency   Agency        `json:"agency"`
	Replaces uint64        `json:"replaces,omitempty"`
}

// CatalogAgencyWithdrawn: an agency removed from the catalog (an agency that merged into another
// is rather amended with succeeded_by, so its dossiers keep naming it).
type CatalogAgencyWithdrawn struct {
	Change   CatalogChange `json:"change"`
	Code     string        `json:"code"`
	Replaces uint64        `json:"replaces"`
}

func (CatalogImported) EventType() string           { return TypeCatalogImported }
func (CatalogProcedurePublished) EventType() string { return TypeCatalogProcedurePublished }
func (CatalogProcedureWithdrawn) EventType() string { return TypeCatalogProcedureWithdrawn }
func (CatalogAgencyPublished) EventType() string    { return TypeCatalogAgencyPublished }
func (CatalogAgencyWithdrawn) EventType() string    { return TypeCatalogAgencyWithdrawn }

var catalogDecoders = decoderTable(
	decoderOf[CatalogImported](), decoderOf[CatalogProcedurePublished](), decoderOf[CatalogProcedureWithdrawn](),
	decoderOf[CatalogAgencyPublished](), decoderOf[CatalogAgencyWithdrawn](),
)

// What a catalog version is of.
const (
	CatalogKindProcedure = "procedure"
	CatalogKindAgency    = "agency"
)

// CatalogVersion is one version of one procedure or agency: what a change made it from its moment
// in force. Withdrawn versions hold no content.
type CatalogVersion struct {
	Revision  uint64        `json:"revision"`
	Kind      string        `json:"kind"`
	Code      string        `json:"code"`
	EventType string        `json:"event"`
	Withdrawn bool          `json:"withdrawn,omitempty"`
	Replaces  uint64        `json:"replaces,omitempty"`
	Change    CatalogChange `json:"change"`
	Procedure *Procedure    `json:"procedure,omitempty"`
	Agency    *Agency       `json:"agency,omitempty"`
}

// CatalogHistory is the fold of the catalog's stream: every version of every procedure and agency,
// in revision order. A value is not shared while it evolves: Clone it first.
type CatalogHistory struct {
	Revision uint64 // the stream's version: the catalog's latest revision; 0 before the first change
	versions []CatalogVersion
	latest   map[string]int // kind/code → index of its last recorded version
}

// Clone returns a history that evolves without touching h.
func (h *CatalogHistory) Clone() *CatalogHistory {
	c := &CatalogHistory{Revision: h.Revision, versions: slices.Clone(h.versions), latest: make(map[string]int, len(h.latest))}
	for k, i := range h.latest {
		c.latest[k] = i
	}
	return c
}

func catalogKey(kind, code string) string { return kind + "/" + code }

// Evolve adds the versions of the event recorded at revision to h.
func (h *CatalogHistory) Evolve(revision uint64, e Event) {
	if h.latest == nil {
		h.latest = map[string]int{}
	}
	add := func(v CatalogVersion) {
		v.Revision, v.EventType = revision, e.EventType()
		h.latest[catalogKey(v.Kind, v.Code)] = len(h.versions)
		h.versions = append(h.versions, v)
	}
	switch e := e.(type) {
	case CatalogImported:
		for i := range e.Agencies {
			a := e.Agencies[i]
			add(CatalogVersion{Kind: CatalogKindAgency, Code: a.Code, Change: e.Change, Agency: &a, Replaces: h.latestRevision(CatalogKindAgency, a.Code)})
		}
		for i := range e.Procedures {
			p := e.Procedures[i]
			add(CatalogVersion{Kind: CatalogKindProcedure, Code: p.Code, Change: e.Change, Procedure: &p, Replaces: h.latestRevision(CatalogKindProcedure, p.Code)})
		}
		for _, code := range e.WithdrawnProcedures {
			add(CatalogVersion{Kind: CatalogKindProcedure, Code: code, Change: e.Change, Withdrawn: true, Replaces: h.latestRevision(CatalogKindProcedure, code)})
		}
	case CatalogProcedurePublished:
		p := e.Procedure
		add(CatalogVersion{Kind: CatalogKindProcedure, Code: p.Code, Change: e.Change, Procedure: &p, Replaces: e.Replaces})
	case CatalogProcedureWithdrawn:
		add(CatalogVersion{Kind: CatalogKindProcedure, Code: e.Code, Change: e.Change, Withdrawn: true, Replaces: e.Replaces})
	case CatalogAgencyPublished:
		a := e.Agency
		add(CatalogVersion{Kind: CatalogKindAgency, Code: a.Code, Change: e.Change, Agency: &a, Replaces: e.Replaces})
	case CatalogAgencyWithdrawn:
		add(CatalogVersion{Kind: CatalogKindAgency, Code: e.Code, Change: e.Change, Withdrawn: true, Replaces: e.Replaces})
	}
	h.Revision = max(h.Revision, revision)
}

func (h *CatalogHistory) latestRevision(kind, code string) uint64 {
	if v, ok := h.Latest(kind, code); ok {
		return v.Revision
	}
	return 0
}

// Latest is the last recorded version of a procedure or agency (which may not be in force yet).
func (h *CatalogHistory) Latest(kind, code string) (CatalogVersion, bool) {
	i, ok := h.latest[catalogKey(kind, code)]
	if !ok {
		return CatalogVersion{}, false
	}
	return h.versions[i], true
}

// VersionsOf lists the versions of one procedure or agency, oldest first.
func (h *CatalogHistory) VersionsOf(kind, code string) []CatalogVersion {
	var out []CatalogVersion
	for _, v := range h.versions {
		if v.Kind == kind && v.Code == code {
			out = append(out, v)
		}
	}
	return out
}

// Versions lists every version, oldest first. The slice is h's: do not change it.
func (h *CatalogHistory) Versions() []CatalogVersion { return h.versions }

// At is the catalog in force at moment t as revision upTo knew it: of each procedure and agency,
// the version InForce chooses. A dossier received at t under revision r keeps At(t, r) for life.
func (h *CatalogHistory) At(t time.Time, upTo uint64) *Catalog {
	candidates := map[string][]int{}
	var order []string
	for i, v := range h.versions {
		if v.Revision > upTo || v.Change.InForceFrom.After(t) {
			continue
		}
		k := catalogKey(v.Kind, v.Code)
		if _, seen := candidates[k]; !seen {
			order = append(order, k)
		}
		candidates[k] = append(candidates[k], i)
	}
	c := &Catalog{Agencies: []Agency{}, Procedures: []Procedure{}}
	for _, k := range order {
		v := h.versions[h.pick(candidates[k])]
		switch {
		case v.Withdrawn:
		case v.Agency != nil:
			a := *v.Agency
			if a.SucceededBy != nil {
				s := *a.SucceededBy // the check below sets its date: never on a version's own
				a.SucceededBy = &s
			}
			c.Agencies = append(c.Agencies, a)
		case v.Procedure != nil:
			c.Procedures = append(c.Procedures, *v.Procedure)
		}
	}
	_ = c.check(nil) // indexes it and fixes the successions' dates; each change was checked when decided
	return c
}

// pick chooses among the versions of one procedure or agency in force (indexes into h.versions)
// the one that applies: a version replaced by another one in force no longer applies — an amendment
// of a scheduled version supersedes it even when it comes into force first — and of the others the
// latest in force wins, the later revision when two start together.
func (h *CatalogHistory) pick(candidates []int) int {
	replaced := map[uint64]bool{}
	for _, i := range candidates {
		replaced[h.versions[i].Replaces] = true
	}
	chosen := -1
	for _, i := range candidates {
		v := h.versions[i]
		if replaced[v.Revision] {
			continue
		}
		if chosen < 0 || !v.Change.InForceFrom.Before(h.versions[chosen].Change.InForceFrom) {
			chosen = i
		}
	}
	if chosen < 0 { // each version replaces an earlier one, so one is always left; be safe
		chosen = candidates[len(candidates)-1]
	}
	return chosen
}

// InForce is the version of a procedure or agency that applies at moment t as revision upTo knew
// it (a withdrawal included: check Withdrawn), and whether there is one.
func (h *CatalogHistory) InForce(kind, code string, t time.Time, upTo uint64) (CatalogVersion, bool) {
	var candidates []int
	for i, v := range h.versions {
		if v.Kind == kind && v.Code == code && v.Revision <= upTo && !v.Change.InForceFrom.After(t) {
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		return CatalogVersion{}, false
	}
	return h.versions[h.pick(candidates)], true
}

// ProcedureAt is the procedure code as At(t, upTo) has it, without building the whole catalog.
func (h *CatalogHistory) ProcedureAt(code string, t time.Time, upTo uint64) (Procedure, bool) {
	v, ok := h.InForce(CatalogKindProcedure, code, t, upTo)
	if !ok || v.Procedure == nil {
		return Procedure{}, false
	}
	return *v.Procedure, true
}

// NextChangeAfter is the first moment after t at which a recorded version comes into force, or zero
// when none is scheduled: until then At(t, h.Revision) stays the same.
func (h *CatalogHistory) NextChangeAfter(t time.Time) time.Time {
	var next time.Time
	for _, v := range h.versions {
		if at := v.Change.InForceFrom; at.After(t) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next
}

// SeedCatalogHistory is the history of a catalog that has no stream yet: every agency and procedure
// of c in force since always, at revision 1 — the revision it takes when the stream is seeded with
// it (the first change of the catalog seeds it first), so what a dossier records meanwhile holds.
func SeedCatalogHistory(c *Catalog) *CatalogHistory {
	h := &CatalogHistory{}
	if c != nil {
		h.Evolve(1, CatalogImported{Source: CatalogSourceSeed, Agencies: c.Agencies, Procedures: c.Procedures})
	}
	return h
}

// CatalogCommand is an admin's change of the catalog, decided by DecideCatalog.
type CatalogCommand interface{ catalogCommand() }

// CatalogTerms are what every change states: its legal basis and date of effect, and when and
// under which calendar it is decided (the workflows' time check).
type CatalogTerms struct {
	Basis         string
	EffectiveFrom time.Time
	At            time.Time
	Calendar      *calendar.Calendar
}

// PublishProcedure publishes a new procedure (Replaces 0) or amends the version at Replaces.
type PublishProcedure struct {
	CatalogTerms
	Procedure Procedure
	Replaces  uint64
}

// WithdrawProcedure withdraws the procedure whose last version is at Replaces.
type WithdrawProcedure struct {
	CatalogTerms
	Code     string
	Replaces uint64
}

// PublishAgency publishes a new agency (Replaces 0) or amends the version at Replaces.
type PublishAgency struct {
	CatalogTerms
	Agency   Agency
	Replaces uint64
}

// WithdrawAgency withdraws the agency whose last version is at Replaces.
type WithdrawAgency struct {
	CatalogTerms
	Code     string
	Replaces uint64
}

// ImportCatalog publishes or amends many procedures and agencies and withdraws procedures at once.
// Seed is the demo's file on first start: in force since always, no basis needed.
type ImportCatalog struct {
	CatalogTerms
	Source              string
	Agencies            []Agency
	Procedures          []Procedure
	WithdrawnProcedures []string
}

func (PublishProcedure) catalogCommand()  {}
func (WithdrawProcedure) catalogCommand() {}
func (PublishAgency) catalogCommand()     {}
func (WithdrawAgency) catalogCommand()    {}
func (ImportCatalog) catalogCommand()     {}

// DecideCatalog decides an admin's change against the history: a change must name the version it
// replaces (another admin's change in between is a conflict), state its basis and date of effect,
// and leave a catalog that passes every check of a catalog file at the moment it comes into force
// and once every scheduled change is in force.
func DecideCatalog(h *CatalogHistory, cmd CatalogCommand) ([]Event, error) {
	var (
		terms   CatalogTerms
		event   Event
		v       Validation
		renamed = map[string]string{} // catalog check's prefix → the request's field
	)
	change := func(t CatalogTerms, seed bool) CatalogChange {
		terms = t
		if !seed {
			checkText(&v, "basis", t.Basis, true, 2000)
			v.Check(!t.EffectiveFrom.IsZero(), "effective_from", "is required: the decision's date of effect")
		}
		in := t.EffectiveFrom
		if in.Before(t.At) {
			in = t.At
		}
		if seed && t.EffectiveFrom.IsZero() {
			in = time.Time{}
		}
		return CatalogChange{Basis: t.Basis, EffectiveFrom: t.EffectiveFrom, InForceFrom: in, RecordedAt: t.At}
	}
	replacing := func(kind, code string, replaces uint64, withdraw bool) error {
		latest, exists := h.Latest(kind, code)
		live := exists && !latest.Withdrawn
		switch {
		case !exists && replaces == 0 && withdraw:
			return Errorf(ENOTFOUND, "%s %s is not in the catalog", kind, code)
		case !exists && replaces == 0:
			return nil
		case !exists:
			return Errorf(ECONFLICT, "%s %s has no version at revision %d: reload the catalog", kind, code, replaces)
		case latest.Revision != replaces:
			return Errorf(ECONFLICT, "%s %s was changed at revision %d after the version at revision %d you edited: reload it and try again",
				kind, code, latest.Revision, replaces)
		case withdraw && !live:
			return Errorf(ECONFLICT, "%s %s is already withdrawn (revision %d)", kind, code, latest.Revision)
		}
		return nil
	}
	switch cmd := cmd.(type) {
	case PublishProcedure:
		c := change(cmd.CatalogTerms, false)
		v.Check(cmd.Procedure.Code != "", "procedure.code", "is required")
		if err := v.Err(); err != nil {
			return nil, err
		}
		if err := replacing(CatalogKindProcedure, cmd.Procedure.Code, cmd.Replaces, false); err != nil {
			return nil, err
		}
		renamed["procedures["+cmd.Procedure.Code+"]"] = "procedure"
		event = CatalogProcedurePublished{Change: c, Procedure: cmd.Procedure, Replaces: cmd.Replaces}
	case WithdrawProcedure:
		c := change(cmd.CatalogTerms, false)
		if err := v.Err(); err != nil {
			return nil, err
		}
		if err := replacing(CatalogKindProcedure, cmd.Code, cmd.Replaces, true); err != nil {
			return nil, err
		}
		event = CatalogProcedureWithdrawn{Change: c, Code: cmd.Code, Replaces: cmd.Replaces}
	case PublishAgency:
		c := change(cmd.CatalogTerms, false)
		v.Check(cmd.Agency.Code != "", "agency.code", "is required")
		v.Check(strings.TrimSpace(cmd.Agency.Name) != "", "agency.name", "is required: dossiers, reports and the register name the agency by it")
		if err := v.Err(); err != nil {
			return nil, err
		}
		if err := replacing(CatalogKindAgency, cmd.Agency.Code, cmd.Replaces, false); err != nil {
			return nil, err
		}
		renamed["agencies["+cmd.Agency.Code+"]"] = "agency"
		event = CatalogAgencyPublished{Change: c, Agency: cmd.Agency, Replaces: cmd.Replaces}
	case WithdrawAgency:
		c := change(cmd.CatalogTerms, false)
		if err := v.Err(); err != nil {
			return nil, err
		}
		if err := replacing(CatalogKindAgency, cmd.Code, cmd.Replaces, true); err != nil {
			return nil, err
		}
		event = CatalogAgencyWithdrawn{Change: c, Code: cmd.Code, Replaces: cmd.Replaces}
	case ImportCatalog:
		seed := cmd.Source == CatalogSourceSeed
		if seed && h.Revision > 0 {
			return nil, Errorf(ECONFLICT, "the catalog already has a history (revision %d): a seed is for the first start only", h.Revision)
		}
		c := change(cmd.CatalogTerms, seed)
		if len(cmd.Agencies)+len(cmd.Procedures)+len(cmd.WithdrawnProcedures) == 0 {
			v.Add("procedures", "the import changes nothing")
		}
		for _, code := range cmd.WithdrawnProcedures {
			if latest, ok := h.Latest(CatalogKindProcedure, code); !ok || latest.Withdrawn {
				v.Add("withdrawn_procedures", "%s is not in the catalog", code)
			}
		}
		if err := v.Err(); err != nil {
			return nil, err
		}
		event = CatalogImported{Change: c, Source: cmd.Source, Agencies: cmd.Agencies, Procedures: cmd.Procedures,
			WithdrawnProcedures: cmd.WithdrawnProcedures}
	default:
		return nil, Errorf(EINVALID, "unknown catalog command %T", cmd)
	}
	if err := checkAfter(h, event, terms.Calendar, renamed); err != nil {
		return nil, err
	}
	return []Event{event}, nil
}

// checkAfter checks the catalog the change would leave, at the moment it comes into force and once
// every scheduled change is: a procedure whose competent agency is withdrawn, or a workflow longer
// than its statutory time, is refused with the field at fault.
func checkAfter(h *CatalogHistory, e Event, cal *calendar.Calendar, renamed map[string]string) error {
	next := h.Clone()
	next.Evolve(h.Revision+1, e)
	moments := []time.Time{inForce(e)}
	if last := lastInForce(next); last.After(moments[0]) {
		moments = append(moments, last)
	}
	for _, at := range moments {
		c := next.At(at, next.Revision)
		if err := c.check(cal); err != nil {
			return nameFields(err, c, renamed)
		}
	}
	return nil
}

func inForce(e Event) time.Time {
	switch e := e.(type) {
	case CatalogImported:
		return e.Change.InForceFrom
	case CatalogProcedurePublished:
		return e.Change.InForceFrom
	case CatalogProcedureWithdrawn:
		return e.Change.InForceFrom
	case CatalogAgencyPublished:
		return e.Change.InForceFrom
	case CatalogAgencyWithdrawn:
		return e.Change.InForceFrom
	}
	return time.Time{}
}

func lastInForce(h *CatalogHistory) time.Time {
	var last time.Time
	for _, v := range h.versions {
		last = maxTime(last, v.Change.InForceFrom)
	}
	return last
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

var listPlace = regexp.MustCompile(`^(procedures|agencies)\[(\d+)\]`)

// nameFields names the catalog check's fields by code rather than by place in the folded lists
// (procedures[1.013225].fees), and the changed procedure or agency by the request's own field
// (procedure.workflow[0].unit).
func nameFields(err error, c *Catalog, renamed map[string]string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	fields := make([]FieldError, len(e.Fields))
	for i, f := range e.Fields {
		if m := listPlace.FindStringSubmatch(f.Field); m != nil {
			var n int
			_, _ = fmt.Sscan(m[2], &n)
			code := ""
			if m[1] == "procedures" && n < len(c.Procedures) {
				code = c.Procedures[n].Code
			} else if m[1] == "agencies" && n < len(c.Agencies) {
				code = c.Agencies[n].Code
			}
			byCode := m[1] + "[" + code + "]"
			if to, ok := renamed[byCode]; ok {
				byCode = to
			}
			f.Field = byCode + strings.TrimPrefix(f.Field, m[0])
		}
		fields[i] = f
	}
	slices.SortStableFunc(fields, func(a, b FieldError) int { return cmp.Compare(a.Field, b.Field) })
	return &Error{Code: e.Code, Message: e.Message, Fields: fields}
}
