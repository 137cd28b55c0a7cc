package domain

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// Rules is one set of the process rules' numbers, in force from a date: the law's time limits and
// the counts it allows, plus the forms they use. A dossier keeps the set in force when it was
// received (the Received event records it), so a change of law or configuration never changes a
// dossier's history or the rules its processing follows. docs/rules.md maps every field to its
// legal source; the JSON names are the rules file's configuration keys.
type Rules struct {
	Version       string    `json:"version"` // e.g. "nd118-2025"; "+<hash>" when a rules file changed the set
	EffectiveFrom time.Time `json:"effective_from"`
	Basis         string    `json:"basis"` // the legal texts the set follows

	// OnlineAcceptanceHours: an online dossier must be accepted, refused or sent back for completion
	// within this many working hours of its submission (counted from the next working moment).
	OnlineAcceptanceHours float64 `json:"online_acceptance_hours"`
	// TransferSameWorkingDay: a dossier received by the cut-off must reach the competent department
	// the same working day, one received later by the start of the next working day.
	TransferSameWorkingDay bool `json:"transfer_same_working_day"`
	// SupplementNoticeDays: when appraisal finds gaps after receipt, the applicant must be asked
	// within this many working days of the receipt (or of the last return of the completed dossier).
	SupplementNoticeDays int `json:"supplement_notice_days"`
	// ApologyNoticeDays: an apology with a new appointment date must be issued by the end of the
	// working day this many working days before the day of the appointment date in force (counted
	// in days, as NĐ 61 art. 19 says "01 ngày", not in working hours).
	ApologyNoticeDays int `json:"apology_notice_days"`
	// MaxApologies: how many times the appointment date may be moved by an apology.
	MaxApologies int `json:"max_apologies"`
	// ApologyMaxExtensionPercent: an apology may move the appointment date by at most this
	// percentage of the procedure's resolution time, in working time. The law names no bound; 0 (a
	// set recorded before the key existed) means 100.
	ApologyMaxExtensionPercent int `json:"apology_max_extension_percent,omitempty"`
	// AfterCutoffCountsFrom: where the working days of a dossier received on a working day after the
	// calendar's cut-off start: CountFromNextWorkingDay (practice; "" in sets recorded before the key
	// existed) or CountFromReceipt.
	AfterCutoffCountsFrom string `json:"after_cutoff_counts_from,omitempty"`
	// IndicatorMaxSupplementRequests: the national indicator counts a dossier with more supplement
	// requests than this as late, whatever its dates.
	IndicatorMaxSupplementRequests int `json:"indicator_max_supplement_requests"`

	Forms Forms `json:"forms"`
}

// Forms are the form numbers of the set's guiding circular, for documents and reports.
type Forms struct {
	Receipt         string `json:"receipt"`          // receipt with the appointment date
	Supplement      string `json:"supplement"`       // request to complete the dossier
	Refusal         string `json:"refusal"`          // refusal to receive
	Apology         string `json:"apology"`          // apology with a new appointment date
	StopNotice      string `json:"stop_notice"`      // notice of stopping processing; "" when the set has none
	ControlSheet    string `json:"control_sheet"`    // process-control sheet
	DossierRegister string `json:"dossier_register"` // dossier register
}

// Built-in rule set versions.
const (
	RulesND61  = "nd61-2018"
	RulesND118 = "nd118-2025"
)

// builtinRuleSets are the sets of regulations.md §3: Nghị định 61/2018 (with 107/2021) and Thông tư
// 01/2018 until 30/6/2025, Nghị định 118/2025 and Thông tư 03/2025 from 01/7/2025. The numbers are
// the same in both — NĐ 118 kept the shape of the process — while the legal basis and the forms
// differ; a rules file changes a number in one set without touching the other.
func builtinRuleSets() []Rules {
	nd61 := Rules{
		Version: RulesND61, EffectiveFrom: time.Date(2018, time.June, 21, 0, 0, 0, 0, VietnamTime),
		Basis:                 "Nghị định 61/2018/NĐ-CP (sửa đổi bởi Nghị định 107/2021/NĐ-CP); Thông tư 01/2018/TT-VPCP",
		OnlineAcceptanceHours: 8, TransferSameWorkingDay: true, SupplementNoticeDays: 3,
		ApologyNoticeDays: 1, MaxApologies: 1, ApologyMaxExtensionPercent: 100, IndicatorMaxSupplementRequests: 1,
		AfterCutoffCountsFrom: CountFromNextWorkingDay,
		Forms:                 Forms{Receipt: "01", Supplement: "02", Refusal: "03", Apology: "04", ControlSheet: "05", DossierRegister: "06"},
	}
	nd118 := nd61
	nd118.Version = RulesND118
	nd118.EffectiveFrom = time.Date(2025, time.July, 1, 0, 0, 0, 0, VietnamTime)
	nd118.Basis = "Nghị định 118/2025/NĐ-CP; Thông tư 03/2025/TT-VPCP"
	nd118.Forms = Forms{Receipt: "01", Supplement: "02", Refusal: "03", Apology: "04", StopNotice: "05", ControlSheet: "06", DossierRegister: "07"}
	return []Rules{nd61, nd118}
}

// RuleBook holds the rule sets by effective date. A nil *RuleBook is the built-in book. It is
// immutable and safe for concurrent use.
type RuleBook struct {
	sets []Rules // by EffectiveFrom, ascending
}

var defaultRuleBook = sync.OnceValue(func() *RuleBook { return &RuleBook{sets: builtinRuleSets()} })

// DefaultRuleBook returns the built-in sets: NĐ 61/2018 until 30/6/2025, NĐ 118/2025 from 01/7/2025.
func DefaultRuleBook() *RuleBook { return defaultRuleBook() }

func (b *RuleBook) book() *RuleBook {
	if b == nil {
		return DefaultRuleBook()
	}
	return b
}

// Sets lists the book's rule sets by effective date.
func (b *RuleBook) Sets() []Rules { return slices.Clone(b.book().sets) }

// At returns the set in force at t: the latest whose effective date is not after t's date in
// Vietnam. Before the first set's date, the first set applies.
func (b *RuleBook) At(t time.Time) Rules {
	sets := b.book().sets
	in := sets[0]
	for _, r := range sets[1:] {
		if !r.EffectiveFrom.After(t) {
			in = r
		}
	}
	return in
}

// ForDossier returns the set the dossier keeps: the one recorded at its receipt. A dossier recorded
// before rule sets were recorded gets the set in force at its receipt (or submission).
func (b *RuleBook) ForDossier(d Dossier) Rules {
	if d.Rules.Version != "" {
		return d.Rules
	}
	return b.At(firstNonZero(d.ReceivedAt, d.SubmittedAt))
}

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// TransferDeadline is when a dossier received at receivedAt must reach the competent department
// (NĐ 61/2018 art. 18, kept by NĐ 118): the end of the same working day when it was received on a
// working day by the cut-off, else the start of the next working day. It is zero when the set has
// no such rule.
func (r Rules) TransferDeadline(cal *calendar.Calendar, receivedAt time.Time) time.Time {
	if !r.TransferSameWorkingDay {
		return time.Time{}
	}
	local := receivedAt.In(VietnamTime)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, VietnamTime)
	nextMidnight := midnight.AddDate(0, 0, 1)
	if cal.IsWorkingDay(local) && local.Sub(midnight) <= cal.Cutoff() {
		if left := cal.WorkingTimeBetween(local, nextMidnight); left > 0 {
			return cal.AddWorkingTime(local, left) // the end of the day's last session
		}
	}
	return cal.NextWorkingMoment(nextMidnight)
}

// AcceptanceDeadline is when an online dossier filed at submittedAt must be accepted, refused or
// sent back; a submission outside working hours counts from the next working moment.
func (r Rules) AcceptanceDeadline(cal *calendar.Calendar, submittedAt time.Time) time.Time {
	return cal.AddWorkingTime(cal.NextWorkingMoment(submittedAt), hoursToDuration(r.OnlineAcceptanceHours))
}

// workingDays says "one working day" or "3 working days", for messages.
func workingDays(n int) string {
	if n == 1 {
		return "one working day"
	}
	return fmt.Sprintf("%d working days", n)
}

// ParseRulesConfig reads a rules file (JSON) and returns the built-in book with the file's changes:
//
//	{
//	  "sets": [
//	    {"version": "nd118-2025", "online_acceptance_hours": 4},
//	    {"version": "nd224-2026", "effective_from": "2026-07-01", "basis": "Nghị định 224/2026/NĐ-CP"}
//	  ]
//	}
//
// An entry naming a built-in set changes the keys it gives; the set's version then gains a
// "+<hash>" suffix so that events tell the changed numbers from the law's. An entry with a new version
// adds a set from effective_from (required), starting from the set in force the day before, or from
// "based_on". Keys: effective_from ("YYYY-MM-DD"), basis, online_acceptance_hours,
// transfer_same_working_day, supplement_notice_days, apology_notice_days, max_apologies,
// apology_max_extension_percent, after_cutoff_counts_from, indicator_max_supplement_requests, forms.
// Unknown keys are refused. Errors are EINVALID *Error.
func ParseRulesConfig(data []byte) (*RuleBook, error) {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	var file struct {
		Sets []ruleSetSpec `json:"sets"`
	}
	if err := decoder.Decode(&file); err != nil {
		return nil, fmt.Errorf("%w: %w", Errorf(EINVALID, "the rules file is not valid"), err)
	}
	if decoder.More() {
		return nil, Errorf(EINVALID, "the rules file has data after its JSON object")
	}
	book := RuleBook{sets: builtinRuleSets()}
	var v Validation
	for i, spec := range file.Sets {
		field := fmt.Sprintf("sets[%d]", i)
		if spec.Version == "" || strings.Contains(spec.Version, "+") {
			v.Add(field+".version", "is required and may not contain '+'")
			continue
		}
		index := slices.IndexFunc(book.sets, func(r Rules) bool { return baseVersion(r.Version) == spec.Version })
		var set Rules
		switch {
		case index >= 0 && spec.BasedOn != "":
			v.Add(field+".based_on", "applies to new sets only; %s exists", spec.Version)
			continue
		case index >= 0:
			set = book.sets[index]
		case spec.EffectiveFrom == "":
			v.Add(field+".effective_from", "is required for a new set")
			continue
		case spec.BasedOn != "":
			base := slices.IndexFunc(book.sets, func(r Rules) bool { return baseVersion(r.Version) == spec.BasedOn })
			if base < 0 {
				v.Add(field+".based_on", "%q is not a rule set defined before this one", spec.BasedOn)
				continue
			}
			set = book.sets[base]
		}
		if spec.EffectiveFrom != "" {
			from, err := time.ParseInLocation(time.DateOnly, spec.EffectiveFrom, VietnamTime)
			if err != nil {
				v.Add(field+".effective_from", "must be a date YYYY-MM-DD")
				continue
			}
			if index < 0 && spec.BasedOn == "" {
				set = book.At(from.AddDate(0, 0, -1))
			}
			set.EffectiveFrom = from
		}
		set.Version = spec.Version
		if !spec.apply(&v, field, &set) {
			continue
		}
		if index >= 0 {
			data, _ := json.Marshal(set) // strings, numbers, booleans and times cannot fail
			digest := sha256.Sum256(data)
			set.Version += "+" + hex.EncodeToString(digest[:4])
			book.sets[index] = set
		} else {
			book.sets = append(book.sets, set)
		}
		slices.SortStableFunc(book.sets, func(a, b Rules) int { return a.EffectiveFrom.Compare(b.EffectiveFrom) })
	}
	for i := 1; i < len(book.sets); i++ {
		if book.sets[i].EffectiveFrom.Equal(book.sets[i-1].EffectiveFrom) {
			v.Add("sets", "%s and %s take effect on the same day", book.sets[i-1].Version, book.sets[i].Version)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return &book, nil
}

// ruleSetSpec is one entry of a rules file; absent keys keep the set's numbers.
type ruleSetSpec struct {
	Version                        string   `json:"version"`
	EffectiveFrom                  string   `json:"effective_from"`
	BasedOn                        string   `json:"based_on"`
	Basis                          *string  `json:"basis"`
	OnlineAcceptanceHours          *float64 `json:"online_acceptance_hours"`
	TransferSameWorkingDay         *bool    `json:"transfer_same_working_day"`
	SupplementNoticeDays           *int     `json:"supplement_notice_days"`
	ApologyNoticeDays              *int     `json:"apology_notice_days"`
	MaxApologies                   *int     `json:"max_apologies"`
	ApologyMaxExtensionPercent     *int     `json:"apology_max_extension_percent"`
	AfterCutoffCountsFrom          *string  `json:"after_cutoff_counts_from"`
	IndicatorMaxSupplementRequests *int     `json:"indicator_max_supplement_requests"`
	Forms                          *Forms   `json:"forms"`
}

// apply writes the entry's keys into set, checking each; false when one is out of range.
func (s ruleSetSpec) apply(v *Validation, field string, set *Rules) bool {
	before := len(v.fields)
	if s.Basis != nil {
		set.Basis = *s.Basis
	}
	if s.OnlineAcceptanceHours != nil {
		v.Check(*s.OnlineAcceptanceHours > 0 && *s.OnlineAcceptanceHours <= 80, field+".online_acceptance_hours", "must be between 0 and 80 working hours")
		set.OnlineAcceptanceHours = *s.OnlineAcceptanceHours
	}
	if s.TransferSameWorkingDay != nil {
		set.TransferSameWorkingDay = *s.TransferSameWorkingDay
	}
	count := func(p *int, key string, low, high int, target *int) {
		if p == nil {
			return
		}
		v.Check(*p >= low && *p <= high, field+"."+key, "must be between %d and %d", low, high)
		*target = *p
	}
	count(s.SupplementNoticeDays, "supplement_notice_days", 1, 30, &set.SupplementNoticeDays)
	count(s.ApologyNoticeDays, "apology_notice_days", 0, 30, &set.ApologyNoticeDays)
	count(s.MaxApologies, "max_apologies", 0, 10, &set.MaxApologies)
	count(s.ApologyMaxExtensionPercent, "apology_max_extension_percent", 1, 200, &set.ApologyMaxExtensionPercent)
	if s.AfterCutoffCountsFrom != nil {
		from := *s.AfterCutoffCountsFrom
		v.Check(from == CountFromNextWorkingDay || from == CountFromReceipt, field+".after_cutoff_counts_from", "must be %q or %q", CountFromNextWorkingDay, CountFromReceipt)
		set.AfterCutoffCountsFrom = from
	}
	count(s.IndicatorMaxSupplementRequests, "indicator_max_supplement_requests", 0, 10, &set.IndicatorMaxSupplementRequests)
	if s.Forms != nil {
		set.Forms = *s.Forms
	}
	return len(v.fields) == before
}

// baseVersion is a set's version without the "+<hash>" a rules file's change adds.
func baseVersion(version string) string {
	base, _, _ := strings.Cut(version, "+")
	return base
}
