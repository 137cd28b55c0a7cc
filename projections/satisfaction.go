package projections

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
)

// SatisfactionView counts the applicants' ratings (TT 01/2018 art. 13–15) and what the Quyết định
// 766 indicators need beyond the resolution report, in counters per Vietnam civil day and per
// month (docs/projections.md, "Satisfaction counters"): a report sums the month rows of the whole
// months of its period and the day rows of the days at its edges, whatever the number of dossiers.
// Between receipt and rating (or a close that rules a rating out) it keeps each dossier's slim
// state — who received and decides it, its procedure, its due date and verdict at resolution, the
// units it was handed to with each one's slowest step, the officials who acted on it — so that a
// rating is counted, once, with the facts as they stand when it is given; then it forgets the
// dossier.
type SatisfactionView struct {
	Prefix string // table name prefix; empty for the serving tables
}

func (SatisfactionView) Name() string { return "satisfaction" }
func (SatisfactionView) Tables() []string {
	return []string{"satisfaction_dossiers", "satisfaction_counts", "satisfaction_indicators"}
}

// SchemaVersion 3: counters and slim dossier state replace the copy of the summary, the ratings
// and the participants (2 and below).
// 4: its tables WITHOUT ROWID on SQLite; 5: the digitisation counters (QĐ 766 4.1–4.3).
func (SatisfactionView) SchemaVersion() int { return 5 }
func (SatisfactionView) WithPrefix(prefix string) engine.Consumer {
	return SatisfactionView{Prefix: prefix}
}
func (v SatisfactionView) dossiers() string   { return v.Prefix + "satisfaction_dossiers" }
func (v SatisfactionView) counts() string     { return v.Prefix + "satisfaction_counts" }
func (v SatisfactionView) indicators() string { return v.Prefix + "satisfaction_indicators" }

// Grains of the counters: a Vietnam civil day (span YYYY-MM-DD) and its month's roll-up (YYYY-MM).
const (
	grainDay   = 0
	grainMonth = 1
)

// A rating counts in three kinds of line: its procedure's (which also makes the agency, month and
// overall lines), each unit's it was handed to, each official's who acted on it or was handed it.
const (
	countProcedure = "procedure"
	countUnit      = "unit"
	countOfficial  = "official"
	// countMonth marks the report's sums of a month's procedure lines: a kind SatisfactionOf reads,
	// never one stored.
	countMonth = "month"
)

// ratingTally is what a counter row adds up over its ratings: how many, how many complete (all nine
// criteria), the points of the complete ones, how many dissatisfied, then for each criterion of
// domain.Criteria the ratings that scored it 2, 1 and 0.
type ratingTally [tallyLevels + 3*9]int64

const (
	tallyRatings = iota
	tallyComplete
	tallyPoints
	tallyDissatisfied
	tallyLevels
)

// levelIndex is the position in a tally of the ratings scoring criterion i with points.
func levelIndex(i int, points int64) int { return tallyLevels + 3*i + 2 - int(points) }

var tallyColumns = func() []string {
	cols := []string{"ratings", "complete_ratings", "total_points", "dissatisfied_ratings"}
	for _, c := range domain.Criteria {
		cols = append(cols, "score_"+string(c)+"_2", "score_"+string(c)+"_1", "score_"+string(c)+"_0")
	}
	if len(cols) != len(ratingTally{}) {
		panic("satisfaction: a tally column for each count")
	}
	return cols
}()

// indicatorTally is what the Quyết định 766 counters add up beyond the ratings: dossiers first paid
// on the day, those of them paid online (at any payment), and dossiers resolved on the day whose
// applicant was dissatisfied on a criterion they judge; then the digitisation group's (4.1–4.3):
// dossiers whose first result was ready on the day, those of them whose result carried its file,
// those whose every component and result were files, those whose every component was a file.
type indicatorTally [7]int64

var indicatorColumns = []string{"paid_dossiers", "paid_online", "dissatisfied_resolved",
	"resulted", "result_file", "components_and_result_files", "components_files"}

// Positions of the digitisation counters in an indicatorTally.
const (
	indicatorResulted = 3 + iota
	indicatorResultFile
	indicatorAllFiles
	indicatorComponentFiles
)

// countKey is a counter row's key. name is the procedure's or official's name as recorded: part of
// the key so that rows only ever add, whatever order their dossiers are folded in.
type countKey struct {
	grain                          int
	span, receivingUnit, competent string
	kind, key, name                string
}

type indicatorKey struct {
	grain                          int
	span, receivingUnit, competent string
}

var countKeyColumns = []string{"grain", "span", "receiving_unit", "competent_agency", "kind", "key", "name"}
var indicatorKeyColumns = []string{"grain", "span", "receiving_unit", "competent_agency"}

func (v SatisfactionView) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	counters := func(cols []string) string {
		defs := make([]string, len(cols))
		for i, c := range cols {
			defs[i] = c + " INTEGER NOT NULL DEFAULT 0"
		}
		return strings.Join(defs, ", ")
	}
	statements := []string{createKeyTable(d, v.dossiers(), `dossier_id TEXT NOT NULL PRIMARY KEY,
			receiving_unit TEXT NOT NULL,
			competent_agency TEXT NOT NULL,
			procedure_code TEXT NOT NULL,
			procedure_name TEXT NOT NULL,
			due_date TEXT,
			resolved_on TEXT NOT NULL,
			resolved_verdict TEXT NOT NULL,
			first_paid_on TEXT NOT NULL,
			paid_online INTEGER NOT NULL,
			handling TEXT NOT NULL`)}
	statements = append(statements, createKeyTable(d, v.counts(), `grain INTEGER NOT NULL,
			span TEXT NOT NULL,
			receiving_unit TEXT NOT NULL,
			competent_agency TEXT NOT NULL,
			kind TEXT NOT NULL,
			key TEXT NOT NULL,
			name TEXT NOT NULL, `+counters(tallyColumns[:])+`,
			PRIMARY KEY (`+strings.Join(countKeyColumns, ", ")+`)`))
	statements = append(statements, createKeyTable(d, v.indicators(), `grain INTEGER NOT NULL,
			span TEXT NOT NULL,
			receiving_unit TEXT NOT NULL,
			competent_agency TEXT NOT NULL, `+counters(indicatorColumns)+`,
			PRIMARY KEY (`+strings.Join(indicatorKeyColumns, ", ")+`)`))
	if v.Prefix == "" {
		// The tables of schema 2 and below, which no read model lists any more.
		statements = append(statements, `DROP TABLE IF EXISTS satisfaction_ratings`, `DROP TABLE IF EXISTS satisfaction_participants`)
	}
	return execAll(ctx, db, statements)
}

// Apply is a fold of the batch alone (engine.Folding): one implementation for every path.
func (v SatisfactionView) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	return engine.ApplyFold(ctx, tx, batch, v.NewFold(false))
}

// NewFold starts folding onto the tables as they stand; fresh when they are empty.
func (v SatisfactionView) NewFold(fresh bool) engine.Fold {
	return &satisfactionFold{v: v, fresh: fresh, dossiers: map[string]*satisfactionDossier{},
		counts: map[countKey]*ratingTally{}, indicators: map[indicatorKey]*indicatorTally{}}
}

// satisfactionFold holds the dossiers' slim state and the counters' increments since the last flush.
type satisfactionFold struct {
	v     SatisfactionView
	fresh bool
	// forgot says dossiers that can still be rated were written and forgotten: a fresh fold reads
	// back from then on.
	forgot     bool
	dossiers   map[string]*satisfactionDossier
	counts     map[countKey]*ratingTally
	indicators map[indicatorKey]*indicatorTally
	added      int                 // events folded so far
	prepared   *satisfactionWrites // what the next flush writes, when PrepareFlush worked it out
}

// satisfactionDossier is a dossier's slim state, from its submission or receipt until it is rated
// or closed without a result.
type satisfactionDossier struct {
	id string
	// known: the dossier was submitted or received and can still be rated (events before and after
	// that change nothing); stored: the table holds its row; dirty: the row changed since the last
	// flush; done: rated or closed without a result, its row goes.
	known, stored, dirty, done bool
	touched                    int // the fold's event count when an event last moved it

	receivingUnit, competentAgency, procedureCode, procedureName string
	// dueDate is the statutory due date in force (restarted by a completed supplement, moved by a
	// resumption, never by an apology); at the first result or rejection, resolvedOn is the civil
	// day and resolvedVerdict the verdict against it (TT 01/2018 criterion 1).
	dueDate         time.Time
	resolvedOn      string
	resolvedVerdict Verdict
	firstPaidOn     string
	paidOnline      bool
	handling        satisfactionHandling
}

// satisfactionHandling is who handled the dossier, as the process-control sheet records it: the
// step under way, the open parts of a parallel step, every unit a step went to with its slowest
// ended step, and the officials who acted on it or were handed it.
type satisfactionHandling struct {
	Step      satisfactionStep     `json:"step"`
	Parts     []satisfactionStep   `json:"parts,omitempty"`
	Units     []satisfactionUnit   `json:"units,omitempty"`
	Officials []satisfactionPerson `json:"officials,omitempty"`
	// Components are the names of the dossier's components as the domain keeps them (the
	// submission's or the receipt's, then each supplement's added), Filed those carrying a file,
	// ResultFiled the results whose file is attached: what the digitisation indicators read at
	// the first result. Kept here, in the handling's JSON, to need no column of their own.
	Components  []string `json:"components,omitempty"`
	Filed       []string `json:"filed,omitempty"`
	ResultFiled []string `json:"result_filed,omitempty"`
}

// allFiled reports whether every component of the dossier carries a file (and there is one).
func (h *satisfactionHandling) allFiled() bool {
	for _, c := range h.Components {
		if !slices.Contains(h.Filed, c) {
			return false
		}
	}
	return len(h.Components) > 0
}

func componentNames(cs []domain.Component) []string {
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		if !slices.Contains(names, c.Name) {
			names = append(names, c.Name)
		}
	}
	return names
}

// satisfactionStep is a step under way: the unit it was handed to, its deadline (none for the
// result's way back to the desk), and for a part of a parallel step its name.
type satisfactionStep struct {
	Name     string    `json:"name,omitempty"`
	Unit     string    `json:"unit,omitempty"`
	Deadline time.Time `json:"deadline,omitzero"`
	Open     bool      `json:"open,omitempty"`
}

// satisfactionUnit is a unit steps went to: its slowest ended step, and whether the dossier was
// handed to it (a transfer, an inter-agency transfer, a parallel step's coordinator or part) —
// the units a department line counts the rating for; the desk's own reception step judges it
// without making it one.
type satisfactionUnit struct {
	Unit    string  `json:"unit"`
	Slowest Verdict `json:"slowest,omitempty"`
	Handed  bool    `json:"handed,omitempty"`
}

type satisfactionPerson struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

func (f *satisfactionFold) Held() int { return len(f.dossiers) + len(f.counts) + len(f.indicators) }

func (f *satisfactionFold) Add(ctx context.Context, q engine.Querier, batch engine.Batch) error {
	decoded, err := batch.DossierEvents()
	if err != nil {
		return err
	}
	var missing []string
	for i := range batch.Events {
		if decoded[i] == nil {
			continue
		}
		id := strings.TrimPrefix(batch.Events[i].Stream, "dossier-")
		if _, held := f.dossiers[id]; !held {
			f.dossiers[id] = &satisfactionDossier{id: id}
			// A stream's first event opens the dossier: no row exists before it.
			if batch.Events[i].Version > 1 {
				missing = append(missing, id)
			}
		}
	}
	// Fresh tables hold only what this fold wrote and then forgot.
	if len(missing) > 0 && (!f.fresh || f.forgot) {
		if err := f.load(ctx, q, batch.Dialect, missing); err != nil {
			return err
		}
	}
	for i := range batch.Events {
		if decoded[i] != nil {
			re := &batch.Events[i]
			s := f.dossiers[strings.TrimPrefix(re.Stream, "dossier-")]
			f.added++
			s.touched = f.added
			f.fold(s, re, decoded[i])
		}
	}
	return nil
}

var satisfactionDossierColumns = []string{"dossier_id", "receiving_unit", "competent_agency", "procedure_code", "procedure_name",
	"due_date", "resolved_on", "resolved_verdict", "first_paid_on", "paid_online", "handling"}

// load reads back the state of the dossiers ids holds no row for.
func (f *satisfactionFold) load(ctx context.Context, q engine.Querier, d engine.Dialect, ids []string) error {
	for start := 0; start < len(ids); start += maxParameters {
		chunk := ids[start:min(start+maxParameters, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT `+strings.Join(satisfactionDossierColumns, ", ")+` FROM `+f.v.dossiers()+
			` WHERE dossier_id IN (`+d.Placeholders(len(chunk), 1, 1)+`)`, engine.StringArgs(chunk)...)
		if err != nil {
			return err
		}
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				var id, verdict, handling string
				var due sql.NullString
				var paidOnline int64
				s := &satisfactionDossier{known: true, stored: true}
				if err := rows.Scan(&id, &s.receivingUnit, &s.competentAgency, &s.procedureCode, &s.procedureName, &due, &s.resolvedOn,
					&verdict, &s.firstPaidOn, &paidOnline, &handling); err != nil {
					return err
				}
				s.id, s.dueDate, s.resolvedVerdict, s.paidOnline = id, parseSQLTime(due), Verdict(verdict), paidOnline == 1
				if err := json.Unmarshal([]byte(handling), &s.handling); err != nil {
					return fmt.Errorf("satisfaction: dossier %s: %w", id, err)
				}
				f.dossiers[id] = s
			}
			return rows.Err()
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// fold applies one event of the dossier's stream to its state, and a rating or a payment to the
// counters. Times come from the events' payloads (the facts the domain decided).
func (f *satisfactionFold) fold(s *satisfactionDossier, re *eventstore.RecordedEvent, e domain.Event) {
	if s.done {
		return // rated or closed: nothing counts any more, a second rating least of all
	}
	switch e := e.(type) {
	case domain.Submitted:
		if s.known {
			return
		}
		s.known, s.dirty = true, true
		s.receivingUnit, s.competentAgency, s.procedureCode, s.procedureName = e.ReceivingUnit, e.CompetentAgency, e.Procedure.Code, e.Procedure.Name
		s.handling.Components = componentNames(e.Components)
	case domain.Received:
		s.known, s.dirty = true, true
		s.receivingUnit, s.competentAgency, s.procedureCode, s.procedureName = e.ReceivingUnit, e.CompetentAgency, e.Procedure.Code, e.Procedure.Name
		s.dueDate = e.AppointmentDate
		s.handling.Components = componentNames(e.Components)
		// The reception step lasts until the dossier reaches the department; the online
		// submission's wait for acceptance is no unit's share of the resolution time.
		s.handling.Step = satisfactionStep{Unit: e.ReceivingUnit, Deadline: e.TransferDeadline, Open: true}
	}
	if !s.known {
		return
	}
	s.dirty = true
	h := &s.handling
	// The administrator who hands a dossier to a successor agency did not handle it.
	if _, succession := e.(domain.AgencySucceeded); !succession {
		if actor := re.Metadata.Actor; actor.ID != "" && actor.Role != "applicant" && actor.Role != "system" {
			h.official(actor.ID, actor.Name)
		}
	}
	switch e := e.(type) {
	case domain.Supplemented:
		if !e.NewAppointmentDate.IsZero() {
			s.dueDate = e.NewAppointmentDate // NĐ 61 art. 19: the time limit restarts
		}
		for _, name := range componentNames(e.Components) {
			if !slices.Contains(h.Components, name) {
				h.Components = append(h.Components, name)
			}
		}
	case domain.DocumentAttached:
		switch {
		case e.ResultCode != "" && !slices.Contains(h.ResultFiled, e.ResultCode):
			h.ResultFiled = append(h.ResultFiled, e.ResultCode)
		case e.Component != "" && !slices.Contains(h.Filed, e.Component):
			h.Filed = append(h.Filed, e.Component)
		}
	case domain.Resumed:
		// Events recorded before the due dates were kept moved only the appointment date.
		s.dueDate = cmp.Or(e.NewDueDate, e.NewAppointmentDate)
	case domain.Transferred:
		h.nextStep(e.TransferredAt, satisfactionStep{Unit: e.To.Unit, Deadline: e.StepDeadline, Open: true})
		h.unit(e.To.Unit).Handed = true
		if e.To.OfficialID != "" {
			h.official(e.To.OfficialID, e.To.OfficialName)
		}
	case domain.InterAgencyTransferred:
		h.nextStep(e.TransferredAt, satisfactionStep{Unit: e.ToAgency, Deadline: e.StepDeadline, Open: true})
		h.unit(e.ToAgency).Handed = true
	case domain.ParallelStepStarted:
		c := e.Coordinator
		h.nextStep(e.StartedAt, satisfactionStep{Unit: c.Unit, Deadline: e.StepDeadline, Open: true})
		h.unit(c.Unit).Handed = true
		if c.OfficialID != "" {
			h.official(c.OfficialID, c.OfficialName)
		}
		for _, p := range e.Parts {
			h.Parts = append(h.Parts, satisfactionStep{Name: p.Step, Unit: p.Unit, Deadline: p.StepDeadline, Open: true})
			h.unit(p.Unit).Handed = true
		}
	case domain.PartCompleted:
		// The domain completes the first open part of that name, as the control sheet ends it.
		if i := slices.IndexFunc(h.Parts, func(p satisfactionStep) bool { return p.Name == e.Step }); i >= 0 {
			h.judge(h.Parts[i], e.CompletedAt)
			h.Parts = slices.Delete(h.Parts, i, i+1)
		}
	case domain.Paid:
		online := e.Channel == domain.PaymentOnline
		if s.firstPaidOn == "" {
			s.firstPaidOn = civilDate(e.PaidAt)
			f.addIndicator(s, s.firstPaidOn, 0)
		}
		if online && !s.paidOnline {
			f.addIndicator(s, s.firstPaidOn, 1)
		}
		s.paidOnline = s.paidOnline || online
	case domain.ResultReady:
		if e.Index > 1 {
			return // a further result: the first is the moment that counts
		}
		if s.resolvedOn == "" {
			s.resolvedOn, s.resolvedVerdict = civilDate(e.ReadyAt), judge(e.ReadyAt, s.dueDate)
			f.countDigitisation(s, e.ResultCode)
		}
		h.nextStep(e.ReadyAt, satisfactionStep{Unit: s.receivingUnit, Open: true})
	case domain.ResultReturned:
		// Only the rating can follow: the steps under way are of no more use.
		h.nextStep(e.ReturnedAt, satisfactionStep{})
		h.Parts = nil
	case domain.BoundaryFreeReceived:
		// The originals' way to the competent agency is the receiving centre's share of the time.
		if e.ForwardOriginals {
			h.Parts = append(h.Parts, satisfactionStep{Name: StepForwarding, Unit: e.ReceivingCentre, Deadline: e.ForwardingDeadline, Open: true})
		}
	case domain.OriginalsArrived:
		if i := slices.IndexFunc(h.Parts, func(p satisfactionStep) bool { return p.Name == StepForwarding }); i >= 0 {
			h.judge(h.Parts[i], e.ArrivedAt)
			h.Parts = slices.Delete(h.Parts, i, i+1)
		}
	case domain.AgencySucceeded:
		// A rating given from now counts for the successor; those given before stay where they were
		// counted. The step under way is finished, and answered for, by the successor's unit.
		s.receivingUnit, s.competentAgency = succeeded(s.receivingUnit, e), succeeded(s.competentAgency, e)
		if h.Step.Open && h.Step.Unit == e.FromHolder.Unit && e.ToHolder.Unit != e.FromHolder.Unit {
			h.Step.Unit = e.ToHolder.Unit
			h.unit(e.ToHolder.Unit).Handed = true
		}
		for i, p := range h.Parts {
			if p.Unit == e.FromAgency {
				h.Parts[i].Unit = e.ToAgency
				h.unit(e.ToAgency).Handed = true
			}
		}
	case domain.ReceptionRefused, domain.Withdrawn, domain.Rejected:
		s.done = true // no result to rate
	case domain.Rated:
		f.rate(s, e)
		s.done = true // the first rating counts; the domain allows no other
	}
}

// countDigitisation counts a dossier whose first result is ready in the digitisation group of
// QĐ 766 (docs/documents.md, "Indicators"), on the day of the result: 4.1 its result carries its
// file (attached with it, in the same append), 4.3 each of its components carries a file, 4.2 both.
func (f *satisfactionFold) countDigitisation(s *satisfactionDossier, resultCode string) {
	h := &s.handling
	resultFile, components := slices.Contains(h.ResultFiled, resultCode), h.allFiled()
	f.addIndicator(s, s.resolvedOn, indicatorResulted)
	if resultFile {
		f.addIndicator(s, s.resolvedOn, indicatorResultFile)
	}
	if components {
		f.addIndicator(s, s.resolvedOn, indicatorComponentFiles)
	}
	if resultFile && components {
		f.addIndicator(s, s.resolvedOn, indicatorAllFiles)
	}
}

// nextStep ends the step under way at `at`, judging it against its deadline for its unit, and
// starts next.
func (h *satisfactionHandling) nextStep(at time.Time, next satisfactionStep) {
	if h.Step.Open {
		h.judge(h.Step, at)
	}
	h.Step = next
}

// judge keeps, for the step's unit, the worst verdict on its ended steps.
func (h *satisfactionHandling) judge(step satisfactionStep, endedAt time.Time) {
	if v := judge(endedAt, step.Deadline); v != "" {
		if u := h.unit(step.Unit); stepRank(v) > stepRank(u.Slowest) {
			u.Slowest = v
		}
	}
}

func (h *satisfactionHandling) unit(unit string) *satisfactionUnit {
	for i := range h.Units {
		if h.Units[i].Unit == unit {
			return &h.Units[i]
		}
	}
	h.Units = append(h.Units, satisfactionUnit{Unit: unit})
	return &h.Units[len(h.Units)-1]
}

// official records an official who acted on the dossier or was handed it, under the first name
// recorded for them on it.
func (h *satisfactionHandling) official(id, name string) {
	for _, o := range h.Officials {
		if o.ID == id {
			return
		}
	}
	h.Officials = append(h.Officials, satisfactionPerson{ID: id, Name: name})
}

// slowest is the worst verdict on the dossier's ended steps (TT 01/2018 criterion 2 for the
// dossier as a whole).
func (h *satisfactionHandling) slowest() Verdict {
	var worst Verdict
	for _, u := range h.Units {
		if stepRank(u.Slowest) > stepRank(worst) {
			worst = u.Slowest
		}
	}
	return worst
}

// unitTimeIndex is the position of TT 01/2018's criterion 2 in domain.Criteria.
var unitTimeIndex = slices.Index(domain.Criteria, domain.CriterionUnitTime)

// rate counts a rating in the counters of the day and month it was given. TT 01/2018 art. 13 scores
// the two time criteria from the facts — early 2, on time 1, late 0 — so they come from the dossier
// as it stands (the resolution against the statutory due date in force then; the slowest of its
// steps, a unit's own in that unit's line), not from what the applicant answered; the other seven
// are the applicant's perception, and a dissatisfied answer on one makes the rating dissatisfied.
func (f *satisfactionFold) rate(s *satisfactionDossier, e domain.Rated) {
	var t ratingTally
	t[tallyRatings] = 1
	var total int64
	complete, dissatisfied := true, false
	unitTime := int64(-1)
	for i, c := range domain.Criteria {
		points := int64(-1)
		switch c {
		case domain.CriterionTotalTime:
			points = verdictPoints(s.resolvedVerdict)
		case domain.CriterionUnitTime:
			points = verdictPoints(s.handling.slowest())
			unitTime = points
		default:
			if level, rated := e.Scores[c]; rated && level.Score() >= 0 {
				points = int64(level.Score())
				dissatisfied = dissatisfied || level == domain.Dissatisfied
			}
		}
		if points < 0 {
			complete = false
			continue
		}
		t[levelIndex(i, points)]++
		total += points
	}
	if complete {
		t[tallyComplete], t[tallyPoints] = 1, total
	}
	if dissatisfied {
		t[tallyDissatisfied] = 1
		if s.resolvedOn != "" {
			f.addIndicator(s, s.resolvedOn, 2)
		}
	}
	day := civilDate(e.RatedAt)
	f.addRating(s, day, countProcedure, s.procedureCode, s.procedureName, &t)
	for _, u := range s.handling.Units {
		if !u.Handed {
			continue
		}
		ut := t
		if own := verdictPoints(u.Slowest); own >= 0 && unitTime >= 0 {
			// The unit's line scores criterion 2 by the unit's own steps.
			ut.rescoreUnitTime(unitTime, own)
		}
		f.addRating(s, day, countUnit, u.Unit, "", &ut)
	}
	for _, o := range s.handling.Officials {
		f.addRating(s, day, countOfficial, o.ID, o.Name, &t)
	}
}

// rescoreUnitTime moves a one-rating tally's criterion 2 from the dossier's points to the unit's
// own, keeping the total in step. A unit with a verdict of its own gives the dossier one, so the
// dossier's points are there to move.
func (t *ratingTally) rescoreUnitTime(had, points int64) {
	t[levelIndex(unitTimeIndex, had)]--
	t[levelIndex(unitTimeIndex, points)]++
	if t[tallyComplete] == 1 {
		t[tallyPoints] += points - had
	}
}

// stepRank orders verdicts from none to late: a unit's slowest step is the highest.
func stepRank(v Verdict) int {
	if v == "" {
		return 0
	}
	return 3 - int(verdictPoints(v)) // early 1, on time 2, late 3
}

// verdictPoints is a time criterion's points under TT 01/2018 art. 13: early 2, on time 1, late 0;
// -1 when there is no verdict.
func verdictPoints(v Verdict) int64 {
	switch v {
	case VerdictEarly:
		return 2
	case VerdictOnTime:
		return 1
	case VerdictLate:
		return 0
	}
	return -1
}

func (f *satisfactionFold) addRating(s *satisfactionDossier, day, kind, key, name string, t *ratingTally) {
	for _, k := range []countKey{
		{grainDay, day, s.receivingUnit, s.competentAgency, kind, key, name},
		{grainMonth, day[:7], s.receivingUnit, s.competentAgency, kind, key, name},
	} {
		sum := f.counts[k]
		if sum == nil {
			sum = &ratingTally{}
			f.counts[k] = sum
		}
		for i, n := range t {
			sum[i] += n
		}
	}
}

// addIndicator adds one to the column-th indicator counter of the day and its month.
func (f *satisfactionFold) addIndicator(s *satisfactionDossier, day string, column int) {
	for _, k := range []indicatorKey{
		{grainDay, day, s.receivingUnit, s.competentAgency},
		{grainMonth, day[:7], s.receivingUnit, s.competentAgency},
	} {
		sum := f.indicators[k]
		if sum == nil {
			sum = &indicatorTally{}
			f.indicators[k] = sum
		}
		sum[column]++
	}
}

// satisfactionWrites are the rows a flush writes, worked out before its transaction opens.
type satisfactionWrites struct {
	fresh, stored, counts, indicators [][]any
	finished                          []string
}

// PrepareFlush works out the rows the next flush writes outside the flush's transaction
// (engine.FlushPreparer): at a million dossiers, marshalling each dossier's handling and sorting
// the rows took longer than PostgreSQL lets a transaction sit idle, and a 1 M rebuild of every read
// model fell back to applying satisfaction's events a page at a time (docs/benchmarks.md, session 16).
func (f *satisfactionFold) PrepareFlush(context.Context) error {
	w, err := f.changedRows()
	f.prepared = w
	return err
}

// changedRows works out the dossiers' rows that changed, those to delete (rated or closed) and
// the counters' increments, each in key order: the same statements whatever the maps' order.
func (f *satisfactionFold) changedRows() (*satisfactionWrites, error) {
	w := &satisfactionWrites{}
	for id, s := range f.dossiers {
		switch {
		case !s.dirty:
		case s.done:
			if s.stored {
				w.finished = append(w.finished, id)
			}
		case s.known:
			row, err := s.values()
			if err != nil {
				return nil, err
			}
			if s.stored {
				w.stored = append(w.stored, row)
			} else {
				w.fresh = append(w.fresh, row)
			}
		}
	}
	byID := func(a, b []any) int { return strings.Compare(a[0].(string), b[0].(string)) }
	slices.SortFunc(w.fresh, byID)
	slices.SortFunc(w.stored, byID)
	slices.Sort(w.finished)
	w.counts, w.indicators = f.countRows(), f.indicatorRows()
	return w, nil
}

// Flush writes the dossiers' rows that changed (deleting those rated or closed) and adds the
// counters' increments to their rows, then forgets the counters and the finished dossiers.
//
// Counter rows sum many dossiers, so they are written as increments (INSERT … ON CONFLICT DO
// UPDATE adding), never by COPY and never as totals: addition commutes, so a PostgreSQL rebuild's
// concurrent shares of dossiers (engine/rebuild.go) add up to what one pass writes, and each
// flush writes its rows in key order, so two shares lock the rows they both touch in the same
// order and cannot deadlock.
func (f *satisfactionFold) Flush(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	w, err := takePrepared(&f.prepared, f.changedRows)
	if err != nil {
		return err
	}
	upsert := replacingUpsert("dossier_id", satisfactionDossierColumns[1:])
	if err := insertNewRows(ctx, tx, batch, f.v.dossiers(), satisfactionDossierColumns, w.fresh, upsert); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, batch, f.v.dossiers(), satisfactionDossierColumns, w.stored, upsert); err != nil {
		return err
	}
	if err := deleteByID(ctx, tx, batch.Dialect, f.v.dossiers(), w.finished, maxParameters); err != nil {
		return err
	}
	if err := addCounters(ctx, tx, batch, f.v.counts(), countKeyColumns, nil, tallyColumns, w.counts, nil, ""); err != nil {
		return err
	}
	if err := addCounters(ctx, tx, batch, f.v.indicators(), indicatorKeyColumns, nil, indicatorColumns, w.indicators, nil, ""); err != nil {
		return err
	}
	// Keep the dossiers that can still be rated and that an event moved within the last
	// foldForgetAfter events: one idle longer is read back if it moves again, so what a fold holds
	// stays bounded by the dossiers active in that span, not by every open one (by events, not
	// flushes: a catch-up flushes every few seconds).
	for id, s := range f.dossiers {
		if s.done || !s.known || f.added-s.touched > foldForgetAfter {
			delete(f.dossiers, id)
			f.forgot = f.forgot || (s.known && !s.done)
			continue
		}
		s.stored, s.dirty = true, false
	}
	clear(f.counts)
	clear(f.indicators)
	return nil
}

// values is the dossier's row in the order of satisfactionDossierColumns.
func (s *satisfactionDossier) values() ([]any, error) {
	handling, err := json.Marshal(s.handling)
	if err != nil {
		return nil, err
	}
	paidOnline := 0
	if s.paidOnline {
		paidOnline = 1
	}
	return []any{s.id, s.receivingUnit, s.competentAgency, s.procedureCode, s.procedureName, sqlTime(s.dueDate), s.resolvedOn,
		string(s.resolvedVerdict), s.firstPaidOn, paidOnline, string(handling)}, nil
}

// countRows are the rating counters' increments, in key order.
func (f *satisfactionFold) countRows() [][]any {
	keys := make([]countKey, 0, len(f.counts))
	for k := range f.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b countKey) int {
		return cmp.Or(cmp.Compare(a.grain, b.grain), strings.Compare(a.span, b.span), strings.Compare(a.receivingUnit, b.receivingUnit),
			strings.Compare(a.competent, b.competent), strings.Compare(a.kind, b.kind), strings.Compare(a.key, b.key), strings.Compare(a.name, b.name))
	})
	rows := make([][]any, len(keys))
	for i, k := range keys {
		row := make([]any, 0, len(countKeyColumns)+len(tallyColumns))
		row = append(row, k.grain, k.span, k.receivingUnit, k.competent, k.kind, k.key, k.name)
		for _, n := range f.counts[k] {
			row = append(row, n)
		}
		rows[i] = row
	}
	return rows
}

// indicatorRows are the QĐ 766 indicators' increments, in key order.
func (f *satisfactionFold) indicatorRows() [][]any {
	keys := make([]indicatorKey, 0, len(f.indicators))
	for k := range f.indicators {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b indicatorKey) int {
		return cmp.Or(cmp.Compare(a.grain, b.grain), strings.Compare(a.span, b.span), strings.Compare(a.receivingUnit, b.receivingUnit),
			strings.Compare(a.competent, b.competent))
	})
	rows := make([][]any, len(keys))
	for i, k := range keys {
		row := []any{k.grain, k.span, k.receivingUnit, k.competent}
		for _, n := range f.indicators[k] {
			row = append(row, n)
		}
		rows[i] = row
	}
	return rows
}

// Grade is an agency's grade by the average total of its ratings (TT 01/2018 art. 15).
type Grade string

const (
	GradeExcellent Grade = "excellent" // ≥ 15 points
	GradeGood      Grade = "good"      // ≥ 12
	GradeFair      Grade = "fair"      // ≥ 9
	GradeAverage   Grade = "average"   // ≥ 6
	GradeWeak      Grade = "weak"      // < 6
)

// GradeOf grades an average total out of 18.
func GradeOf(averageTotal float64) Grade {
	switch {
	case averageTotal >= 15:
		return GradeExcellent
	case averageTotal >= 12:
		return GradeGood
	case averageTotal >= 9:
		return GradeFair
	case averageTotal >= 6:
		return GradeAverage
	}
	return GradeWeak
}

// CriterionStats counts the levels given on one criterion. On the two time criteria the levels
// are the facts' scores: very satisfied is early (2), satisfied on time (1), dissatisfied late (0).
type CriterionStats struct {
	Criterion     domain.Criterion `json:"criterion"`
	VerySatisfied int              `json:"very_satisfied"`
	Satisfied     int              `json:"satisfied"`
	Dissatisfied  int              `json:"dissatisfied"`
	AverageScore  float64          `json:"average_score"` // 0–2 over the ratings that scored it
}

// RatingStats summarises a set of ratings.
type RatingStats struct {
	Ratings int `json:"ratings"`
	// CompleteRatings scored all nine criteria; only they have a total out of 18, so only they
	// make the average total and the grade.
	CompleteRatings     int              `json:"complete_ratings"`
	DissatisfiedRatings int              `json:"dissatisfied_ratings"` // the applicant was dissatisfied on a criterion
	Criteria            []CriterionStats `json:"criteria"`
	AverageTotal        float64          `json:"average_total"`
	Grade               Grade            `json:"grade,omitempty"`       // empty without complete ratings
	GradeLabel          string           `json:"grade_label,omitempty"` // the grade's words: the API fills them (l10n)
}

// statsOf turns a counter tally into statistics.
func statsOf(t *ratingTally) RatingStats {
	s := RatingStats{Ratings: int(t[tallyRatings]), CompleteRatings: int(t[tallyComplete]), DissatisfiedRatings: int(t[tallyDissatisfied]),
		Criteria: make([]CriterionStats, len(domain.Criteria))}
	for i, c := range domain.Criteria {
		very, satisfied, dissatisfied := t[levelIndex(i, 2)], t[levelIndex(i, 1)], t[levelIndex(i, 0)]
		s.Criteria[i] = CriterionStats{Criterion: c, VerySatisfied: int(very), Satisfied: int(satisfied), Dissatisfied: int(dissatisfied)}
		if n := very + satisfied + dissatisfied; n > 0 {
			s.Criteria[i].AverageScore = roundHours(float64(2*very+satisfied) / float64(n))
		}
	}
	if s.CompleteRatings > 0 {
		average := float64(t[tallyPoints]) / float64(s.CompleteRatings)
		s.AverageTotal, s.Grade = roundHours(average), GradeOf(average)
	}
	return s
}

// SatisfactionGroup is the rating statistics of one agency, department, procedure, official or month.
// The line of the others (Others > 0) sums the groups left out of a list capped at
// SatisfactionGroupLimit, and has no key.
type SatisfactionGroup struct {
	Key    string `json:"key"`
	Name   string `json:"name,omitempty"`
	Others int    `json:"others,omitempty"`
	RatingStats
}

// Indicators766 are the service-quality indicators of Quyết định 766/QĐ-TTg that our data allows,
// for the report's agency and period (percentages; 0 when there is nothing to divide by).
type Indicators766 struct {
	// Progress group: dossiers resolved early or on time in the period or still within time at its
	// end, over dossiers resolved in it or in progress at its end — judged by the indicator's own
	// rule (Dossier.IndicatorVerdict): its due date leaves out the time spent waiting for the
	// applicant instead of restarting, and a dossier sent back for completion more often than the
	// rules allow counts as late.
	Processed  int     `json:"processed"`
	OnTime     int     `json:"on_time"`
	OnTimeRate float64 `json:"on_time_rate"`
	// Satisfaction with handling = 100% − (late rate + share of dissatisfied ratings), over the
	// same processed dossiers; dissatisfied counts dossiers resolved in the period whose applicant
	// (whenever they rated) was dissatisfied on a criterion they judge — lateness is in the late
	// rate already.
	Late              int     `json:"late"`
	LateRate          float64 `json:"late_rate"`
	Dissatisfied      int     `json:"dissatisfied"`
	DissatisfiedShare float64 `json:"dissatisfied_share"`
	SatisfactionRate  float64 `json:"satisfaction_rate"`
	// Online service group: dossiers received online in the period, and dossiers whose fees were
	// first paid in the period with an online payment among them.
	ReceivedInPeriod  int     `json:"received_in_period"`
	ReceivedOnline    int     `json:"received_online"`
	OnlineDossierRate float64 `json:"online_dossier_rate"`
	PaidDossiers      int     `json:"paid_dossiers"`
	PaidOnline        int     `json:"paid_online"`
	OnlinePaymentRate float64 `json:"online_payment_rate"`
	// Digitisation group, over the dossiers whose first result was ready in the period (Resulted):
	// 4.1 those whose result carried its electronic file, 4.2 those whose every component and the
	// result were files, 4.3 those whose every component was a file (scanned at the desk, sent
	// online or reused) — docs/documents.md, "Indicators".
	Resulted                 int     `json:"resulted"`
	ResultFiles              int     `json:"result_files"`
	ResultFileRate           float64 `json:"result_file_rate"`
	ComponentsAndResultFiles int     `json:"components_and_result_files"`
	ComponentsAndResultRate  float64 `json:"components_and_result_rate"`
	ComponentFiles           int     `json:"component_files"`
	DigitisedRate            float64 `json:"digitised_rate"`
	// ComplainedDossiers counts the dossiers first named by a complaint (phản ánh) received in the
	// period; ComplaintShare is their share of the processed dossiers. The satisfaction rate takes
	// them with the dissatisfied ratings (regulations.md §7), capped at the processed dossiers: a
	// dossier both complained about and rated dissatisfied counts twice, since the counters cannot
	// join them (docs/rules.md).
	ComplainedDossiers int     `json:"complained_dossiers"`
	ComplaintShare     float64 `json:"complaint_share"`
	// Feedback group (group 5, PAKN): the share of each act done within its limit, over the acts
	// done in the period and the feedback still waiting for it past the limit at the period's end.
	Feedback []FeedbackIndicator `json:"feedback"`
	// NotComputed lists the indicators our events do not let us compute, and why.
	NotComputed []UncomputedIndicator `json:"not_computed"`
}

// FeedbackIndicator is one QĐ 766 group 5 indicator: Code 5.1 routing or refusing within 2
// working days (by the receiving agency, and refusals by the responsible agency), 5.2 asking for
// more within 5, 5.3 answering within 15, 5.4 publishing within 2.
type FeedbackIndicator struct {
	Code    string          `json:"code"`
	Stages  []FeedbackStage `json:"stages"`
	Done    int             `json:"done"`
	OnTime  int             `json:"on_time"`
	Late    int             `json:"late"`
	Overdue int             `json:"overdue"`
	Rate    float64         `json:"rate"`
}

// feedbackIndicators are the group 5 indicators and the stages each counts.
var feedbackIndicators = []FeedbackIndicator{
	{Code: "5.1", Stages: []FeedbackStage{FeedbackStageRoute, FeedbackStageRefuse}},
	{Code: "5.2", Stages: []FeedbackStage{FeedbackStageAsk}},
	{Code: "5.3", Stages: []FeedbackStage{FeedbackStageAnswer}},
	{Code: "5.4", Stages: []FeedbackStage{FeedbackStagePublish}},
}

// feedbackIndicatorsOf computes the group 5 indicators from the feedback dashboard.
func feedbackIndicatorsOf(d FeedbackDashboard) []FeedbackIndicator {
	out := make([]FeedbackIndicator, len(feedbackIndicators))
	for i, in := range feedbackIndicators {
		in.Stages = slices.Clone(in.Stages)
		for _, stage := range in.Stages {
			s := d.Stage(stage)
			in.Done, in.OnTime, in.Late, in.Overdue = in.Done+s.Done, in.OnTime+s.OnTime, in.Late+s.Late, in.Overdue+s.Overdue
		}
		in.Rate = percent(in.OnTime, in.Done+in.Overdue)
		out[i] = in
	}
	return out
}

// UncomputedIndicator names an indicator we cannot compute: Code is the indicator's code (l10n names
// it, Lang.Indicator); the API and the pages put its name in Indicator.
type UncomputedIndicator struct {
	Code      string `json:"-"`
	Indicator string `json:"indicator"`
	Group     string `json:"group"`
	Reason    string `json:"reason"`
}

// UncomputedIndicators are the Quyết định 766 indicators outside our data.
var UncomputedIndicators = []UncomputedIndicator{
	{Code: "publication", Group: "transparency",
		Reason: "publication of procedures and synchronisation with the national portal are not recorded in the dossier events"},
	{Code: "digitisation_reuse", Group: "digitisation",
		Reason: "4.4 and 4.5: a file's reuse from a national database is recorded (origin national_database) but no national database is connected yet, and citizens' VNeID sign-in is not recorded in the events"},
	{Code: "online_service_level", Group: "online_service",
		Reason: "the online level of a procedure is a catalog fact, not kept in the events; only dossier-level online submission and payment shares are computed"},
}

// SatisfactionReport is the rating statistics and Quyết định 766 indicators for an agency and period.
type SatisfactionReport struct {
	Agency       string              `json:"agency,omitempty"`
	Period       Period              `json:"period"`
	Overall      RatingStats         `json:"overall"`
	ByAgency     []SatisfactionGroup `json:"by_agency"`
	ByDepartment []SatisfactionGroup `json:"by_department"`
	ByProcedure  []SatisfactionGroup `json:"by_procedure"`
	ByOfficial   []SatisfactionGroup `json:"by_official"`
	ByMonth      []SatisfactionGroup `json:"by_month"`
	Indicators   Indicators766       `json:"indicators_766"`
}

// SatisfactionGroupLimit caps the lines by agency, department, procedure and official: a report
// lists the groups with the most ratings (ties by key) in key order, then one line summing the
// others. A province has hundreds of communes, procedures and officials; one screenful of each is
// what a report shows, and a narrower scope (one agency) lists that agency's own. The lines by
// month are bounded by the period (at most ten years).
const SatisfactionGroupLimit = 50

// ErrPeriodNotWholeDays is a period that does not run from a Vietnam midnight to a later one: the
// statistics count whole civil days.
var ErrPeriodNotWholeDays = errors.New("satisfaction: the period must run from a Vietnam midnight to another")

// countSpan is a range [from, to) of counter rows of one grain, added (sign 1) or taken away (-1).
type countSpan struct {
	grain    int
	from, to string
	sign     int64
}

// periodSpans splits a period of whole Vietnam civil days into the counter rows that sum it: the
// month rows of its whole months and, for each month it covers in part, either the day rows of the
// days it covers or — when it covers most of the month — the month row less the day rows of the
// days it leaves out. A year then sums at most fourteen months' rows and thirty days'.
func periodSpans(p Period) ([]countSpan, error) {
	from, to := p.From.In(domain.VietnamTime), p.To.In(domain.VietnamTime)
	midnight := func(t time.Time) bool {
		return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
	}
	if p.From.IsZero() || p.To.IsZero() || !midnight(from) || !midnight(to) || to.Before(from) {
		return nil, ErrPeriodNotWholeDays
	}
	var spans []countSpan
	for month := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, domain.VietnamTime); month.Before(to); month = month.AddDate(0, 1, 0) {
		next := month.AddDate(0, 1, 0)
		first, end := latest(month, from), earliest(next, to)
		if first.Before(end) {
			spans = append(spans, monthSpans(month, next, first, end)...)
		}
	}
	return mergeSpans(spans), nil
}

// mergeSpans joins the spans that abut, of one grain and sign, into one range: a year's report
// reads its eleven or twelve whole months as one range of month rows, one query where it was a
// query a month — each a round trip and, on PostgreSQL, a plan of its three dozen sums.
func mergeSpans(spans []countSpan) []countSpan {
	var out []countSpan
next:
	for _, s := range spans {
		for i := range out {
			if out[i].grain == s.grain && out[i].sign == s.sign && out[i].to == s.from {
				out[i].to = s.to
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// monthSpans sums the days [first, end) of the month [month, next) at the least cost, a month row
// counting as two days' rows.
func monthSpans(month, next, first, end time.Time) []countSpan {
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	days := func(a, b time.Time) int { return int(b.Sub(a).Hours()+12) / 24 }
	whole := countSpan{grainMonth, month.Format("2006-01"), next.Format("2006-01"), 1}
	if first.Equal(month) && end.Equal(next) {
		return []countSpan{whole}
	}
	if days(month, first)+days(end, next)+2 >= days(first, end) {
		return []countSpan{{grainDay, day(first), day(end), 1}}
	}
	spans := []countSpan{whole}
	if month.Before(first) {
		spans = append(spans, countSpan{grainDay, day(month), day(first), -1})
	}
	if end.Before(next) {
		spans = append(spans, countSpan{grainDay, day(end), day(next), -1})
	}
	return spans
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// eachCounterRow runs scan on every row selected from the rows of table within the spans and the
// agency scope: columns, then suffix (a GROUP BY: SQLite sums the rows faster than they are
// scanned one by one into Go).
func eachCounterRow(ctx context.Context, db *sql.DB, table, columns, suffix string, agency AgencyScope, spans []countSpan,
	scan func(rows *sql.Rows, sign int64) error) error {
	return eachCounterStatement(ctx, db, func(where string) string { return `SELECT ` + columns + ` FROM ` + table + ` c` + where + suffix },
		agency, spans, scan)
}

// eachCounterStatement is eachCounterRow for a statement of its own, made of the conditions
// selecting a range's rows (which it may use more than once).
func eachCounterStatement(ctx context.Context, db *sql.DB, statement func(where string) string, agency AgencyScope, spans []countSpan,
	scan func(rows *sql.Rows, sign int64) error) error {
	for _, s := range spans {
		var c conditions
		c.add("c.grain = ?", s.grain)
		c.add("c.span >= ?", s.from)
		c.add("c.span < ?", s.to)
		c.agency("c", agency)
		rows, err := db.QueryContext(ctx, statement(c.where()), c.args...)
		if err != nil {
			return err
		}
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				if err := scan(rows, s.sign); err != nil {
					return err
				}
			}
			return rows.Err()
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// SatisfactionOf returns the statistics of ratings given in period p — whole Vietnam civil days —
// on dossiers the agency received or decides, summed from the counters. A rating counts for every
// department or agency the dossier was handed to (parts of parallel steps included) and every
// official who acted on it or was handed it; in a department's or agency's line, criterion 2 (each
// unit's time against its share) is that unit's own, its slowest step on the process-control sheet.
// Its cost is that of the counter rows of the period's whole months and edge days, however many
// dossiers they count.
func SatisfactionOf(ctx context.Context, db *sql.DB, agency AgencyScope, p Period) (SatisfactionReport, error) {
	spans, err := periodSpans(p)
	if err != nil {
		return SatisfactionReport{}, err
	}
	var overall ratingTally
	agencies, departments, procedures, officials, months := tallyGroups{}, tallyGroups{}, tallyGroups{}, tallyGroups{}, tallyGroups{}
	// One line per agency and counted line, with the latest span it was counted in (whose name the
	// report shows), then one per month summing the procedures' lines: a year's report grouped the
	// procedures' lines by month too, twelve times the lines to return (3,774 rows at 100,000
	// dossiers), to sum the months from them.
	sums := "SUM(c." + strings.Join(tallyColumns, "), SUM(c.") + ")"
	err = eachCounterStatement(ctx, db, func(where string) string {
		return `SELECT '', c.competent_agency, c.kind, c.key, c.name, MAX(c.span), ` + sums + ` FROM satisfaction_counts c` + where +
			` GROUP BY c.competent_agency, c.kind, c.key, c.name UNION ALL SELECT substr(c.span, 1, 7), '', '` + countMonth + `', '', '', MAX(c.span), ` +
			sums + ` FROM satisfaction_counts c` + where + ` AND c.kind = '` + countProcedure + `' GROUP BY substr(c.span, 1, 7)`
	}, agency, spans, func(rows *sql.Rows, sign int64) error {
		var month, competent, kind, key, name, span string
		var t ratingTally
		dest := []any{&month, &competent, &kind, &key, &name, &span}
		for i := range t {
			dest = append(dest, &t[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if sign < 0 {
			t.negate()
			span = "" // the name shown is one counted in the period
		}
		switch kind {
		case countProcedure:
			overall.add(&t)
			agencies.add(competent, "", span, &t)
			procedures.add(key, name, span, &t)
		case countMonth:
			months.add(month, "", span, &t)
		case countUnit:
			departments.add(key, "", span, &t)
		case countOfficial:
			officials.add(key, name, span, &t)
		}
		return nil
	})
	if err != nil {
		return SatisfactionReport{}, err
	}
	report := SatisfactionReport{
		Agency: agency.Agency(), Period: p, Overall: statsOf(&overall),
		ByAgency: agencies.list(SatisfactionGroupLimit), ByDepartment: departments.list(SatisfactionGroupLimit),
		ByProcedure: procedures.list(SatisfactionGroupLimit), ByOfficial: officials.list(SatisfactionGroupLimit), ByMonth: months.list(0),
	}
	if report.Indicators, err = indicators766(ctx, db, agency, p, spans); err != nil {
		return SatisfactionReport{}, err
	}
	return report, nil
}

func (t *ratingTally) negate() {
	for i := range t {
		t[i] = -t[i]
	}
}

func (t *ratingTally) add(u *ratingTally) {
	for i, n := range u {
		t[i] += n
	}
}

// tallyGroup is one line being summed: its name is the one recorded last in the period.
type tallyGroup struct {
	key, name, nameSpan string
	tally               ratingTally
}

type tallyGroups map[string]*tallyGroup

func (m tallyGroups) add(key, name, span string, t *ratingTally) {
	g := m[key]
	if g == nil {
		g = &tallyGroup{key: key}
		m[key] = g
	}
	if span > g.nameSpan || (span == g.nameSpan && name > g.name) {
		g.name, g.nameSpan = name, span
	}
	g.tally.add(t)
}

// list returns the lines in key order; with a limit, the limit lines with the most ratings, then
// one line summing the others.
func (m tallyGroups) list(limit int) []SatisfactionGroup {
	all := make([]*tallyGroup, 0, len(m))
	for _, g := range m {
		if g.tally[tallyRatings] > 0 { // a month's line less its days outside the period may be empty
			all = append(all, g)
		}
	}
	byKey := func(a, b *tallyGroup) int { return strings.Compare(a.key, b.key) }
	var others *SatisfactionGroup
	if limit > 0 && len(all) > limit {
		slices.SortFunc(all, func(a, b *tallyGroup) int {
			return cmp.Or(cmp.Compare(b.tally[tallyRatings], a.tally[tallyRatings]), byKey(a, b))
		})
		var rest ratingTally
		for _, g := range all[limit:] {
			rest.add(&g.tally)
		}
		others = &SatisfactionGroup{Others: len(all) - limit, RatingStats: statsOf(&rest)}
		all = all[:limit]
	}
	slices.SortFunc(all, byKey)
	out := make([]SatisfactionGroup, 0, len(all)+1)
	for _, g := range all {
		out = append(out, SatisfactionGroup{Key: g.key, Name: g.name, RatingStats: statsOf(&g.tally)})
	}
	if others != nil {
		out = append(out, *others)
	}
	return out
}

func indicators766(ctx context.Context, db *sql.DB, agency AgencyScope, p Period, spans []countSpan) (Indicators766, error) {
	resolution, err := resolutionReport(ctx, db, agency, p, ruleIndicator)
	if err != nil {
		return Indicators766{}, err
	}
	t := resolution.Total
	in := Indicators766{
		Processed: t.ResolvedTotal + t.InProgressTotal,
		OnTime:    t.ResolvedEarly + t.ResolvedOnTime + t.InProgressWithinTime,
		Late:      t.ResolvedLate + t.InProgressOverdue,
		// Dossiers received in the period: those carried over from before are not new receipts.
		ReceivedInPeriod: t.ReceivedOnline + t.ReceivedInPersonOrPostal,
		ReceivedOnline:   t.ReceivedOnline,
		NotComputed:      slices.Clone(UncomputedIndicators), // the API names them in place
	}
	err = eachCounterRow(ctx, db, "satisfaction_indicators", "COALESCE(SUM(c."+strings.Join(indicatorColumns, "), 0), COALESCE(SUM(c.")+"), 0)", "",
		agency, spans, func(rows *sql.Rows, sign int64) error {
			var sums indicatorTally
			targets := make([]any, len(sums))
			for i := range sums {
				targets[i] = &sums[i]
			}
			if err := rows.Scan(targets...); err != nil {
				return err
			}
			for i, add := range []*int{&in.PaidDossiers, &in.PaidOnline, &in.Dissatisfied,
				&in.Resulted, &in.ResultFiles, &in.ComponentsAndResultFiles, &in.ComponentFiles} {
				*add += int(sign * sums[i])
			}
			return nil
		})
	if err != nil {
		return Indicators766{}, err
	}
	// The feedback's limits passed by the period's end count as missed, or by now when the period
	// has not ended: what is not due yet is not late.
	feedback, err := FeedbackDashboardOf(ctx, db, agency, p, time.Now())
	if err != nil {
		return Indicators766{}, err
	}
	in.Feedback = feedbackIndicatorsOf(feedback)
	in.ComplainedDossiers = feedback.ComplainedDossiers
	in.OnTimeRate = percent(in.OnTime, in.Processed)
	in.LateRate = percent(in.Late, in.Processed)
	in.DissatisfiedShare = percent(in.Dissatisfied, in.Processed)
	in.ComplaintShare = percent(in.ComplainedDossiers, in.Processed)
	if in.Processed > 0 {
		unsatisfied := min(in.Processed, in.Dissatisfied+in.ComplainedDossiers)
		in.SatisfactionRate = roundHours(math.Max(0, 100-100*float64(in.Late+unsatisfied)/float64(in.Processed)))
	}
	in.OnlineDossierRate = percent(in.ReceivedOnline, in.ReceivedInPeriod)
	in.OnlinePaymentRate = percent(in.PaidOnline, in.PaidDossiers)
	in.ResultFileRate = percent(in.ResultFiles, in.Resulted)
	in.ComponentsAndResultRate = percent(in.ComponentsAndResultFiles, in.Resulted)
	in.DigitisedRate = percent(in.ComponentFiles, in.Resulted)
	return in, nil
}

func percent(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return roundHours(100 * float64(part) / float64(whole))
}
