package projections

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
)

// SatisfactionView keeps the applicants' ratings (TT 01/2018 art. 13–15), who took part in handling
// each rated dossier (officials who acted on it, units it was handed to), and the per-dossier
// summary, so statistics can be cut by agency, department, procedure, official and period.
type SatisfactionView struct {
	Prefix string // table name prefix; empty for the serving tables
}

func (SatisfactionView) Name() string { return "satisfaction" }
func (SatisfactionView) Tables() []string {
	return []string{"satisfaction_dossiers", "satisfaction_ratings", "satisfaction_participants"}
}
func (SatisfactionView) SchemaVersion() int { return summarySchemaVersion + 1 } // the summary, the ratings and the participants
func (SatisfactionView) WithPrefix(prefix string) engine.Consumer {
	return SatisfactionView{Prefix: prefix}
}
func (v SatisfactionView) summary() dossierSummary {
	return dossierSummary{table: v.Prefix + "satisfaction_dossiers"}
}
func (v SatisfactionView) ratings() string      { return v.Prefix + "satisfaction_ratings" }
func (v SatisfactionView) participants() string { return v.Prefix + "satisfaction_participants" }

// criterionColumns are the ratings table's score columns, in the order of domain.Criteria.
var criterionColumns = func() []string {
	cols := make([]string, len(domain.Criteria))
	for i, c := range domain.Criteria {
		cols[i] = "score_" + string(c)
	}
	return cols
}()

func (v SatisfactionView) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	scores := make([]string, len(criterionColumns))
	for i, c := range criterionColumns {
		scores[i] = c + " INTEGER"
	}
	statements := append(v.summary().statements(d, summaryByCompetentAgency, summaryByReceivingUnit), createTable(d, v.ratings(), `
			dossier_id TEXT PRIMARY KEY,
			rated_at TEXT NOT NULL,
			`+strings.Join(scores, ",\n\t\t\t")+`,
			dissatisfied INTEGER NOT NULL`, "dossier_id", tableIndex{"_at", "rated_at"})...)
	return execAll(ctx, db, append(statements,
		`CREATE TABLE IF NOT EXISTS `+v.participants()+` (
			dossier_id TEXT NOT NULL,
			kind TEXT NOT NULL,
			key TEXT NOT NULL,
			name TEXT NOT NULL,
			PRIMARY KEY (dossier_id, kind, key))`))
}

// Apply folds a batch into the summary rows it touches (each read and written once) and
// records the participants and ratings it brings.
func (v SatisfactionView) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	// A dossier whose summary row the table did not hold has no participants or rating there yet:
	// its rows are new (written by COPY in a rebuild); the others may meet a stored row.
	var participants, newParticipants, ratings, newRatings [][]any
	seen := map[[3]string]bool{}
	rated := map[string]bool{}
	var row *summaryRow
	add := func(id, kind, key, name string) {
		if k := [3]string{id, kind, key}; !seen[k] {
			seen[k] = true
			if row.stored {
				participants = append(participants, []any{id, kind, key, name})
			} else {
				newParticipants = append(newParticipants, []any{id, kind, key, name})
			}
		}
	}
	err := foldBatch(ctx, tx, v.summary(), batch, batchHooks{each: func(id string, re eventstore.RecordedEvent, e domain.Event, summary *summaryRow) error {
		row = summary
		if actor := re.Metadata.Actor; actor.ID != "" && actor.Role != "applicant" && actor.Role != "system" {
			add(id, "official", actor.ID, actor.Name)
		}
		switch e := e.(type) {
		case domain.Transferred:
			add(id, "unit", e.To.Unit, "")
			if e.To.OfficialID != "" {
				add(id, "official", e.To.OfficialID, e.To.OfficialName)
			}
		case domain.InterAgencyTransferred:
			add(id, "unit", e.ToAgency, "")
		case domain.ParallelStepStarted:
			add(id, "unit", e.Coordinator.Unit, "")
			if e.Coordinator.OfficialID != "" {
				add(id, "official", e.Coordinator.OfficialID, e.Coordinator.OfficialName)
			}
			for _, part := range e.Parts {
				add(id, "unit", part.Unit, "")
			}
		case domain.Rated:
			switch {
			case row.stored:
				ratings = append(ratings, ratingValues(id, e, *row))
			case !rated[id]: // the first rating counts, as ON CONFLICT DO NOTHING keeps it
				newRatings = append(newRatings, ratingValues(id, e, *row))
			}
			rated[id] = true
		}
		return nil
	}})
	if err != nil {
		return err
	}
	participantColumns := []string{"dossier_id", "kind", "key", "name"}
	const participantConflict = `ON CONFLICT (dossier_id, kind, key) DO NOTHING`
	if err := insertNewRows(ctx, tx, batch, v.participants(), participantColumns, newParticipants, participantConflict); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, batch.Dialect, v.participants(), participantColumns, participants, participantConflict); err != nil {
		return err
	}
	columns := append(append([]string{"dossier_id", "rated_at"}, criterionColumns...), "dissatisfied")
	if err := insertNewRows(ctx, tx, batch, v.ratings(), columns, newRatings, `ON CONFLICT (dossier_id) DO NOTHING`); err != nil {
		return err
	}
	return insertRows(ctx, tx, batch.Dialect, v.ratings(), columns, ratings, `ON CONFLICT (dossier_id) DO NOTHING`)
}

// ratingValues is a rating's row: the dossier, when, each criterion's score (NULL when not
// rated), and whether the applicant was dissatisfied on any criterion. TT 01/2018 art. 13 scores
// the two time criteria from the facts — early 2, on time 1, late 0 — so they come from the
// dossier as resolved (the statutory due date; the slowest of its units' steps), not from what the
// applicant answered; the other seven are the applicant's perception.
func ratingValues(id string, e domain.Rated, d summaryRow) []any {
	values := []any{id, sqlTime(e.RatedAt)}
	dissatisfied := 0
	for _, c := range domain.Criteria {
		var score sql.NullInt64
		switch c {
		case domain.CriterionTotalTime:
			score = verdictScore(judge(d.ResolvedAt, d.ResolvedDueDate))
		case domain.CriterionUnitTime:
			score = verdictScore(Verdict(d.SlowestStep))
		default:
			level, rated := e.Scores[c]
			score = sql.NullInt64{Int64: int64(level.Score()), Valid: rated}
			if rated && level == domain.Dissatisfied {
				dissatisfied = 1
			}
		}
		values = append(values, score)
	}
	return append(values, dissatisfied)
}

// verdictScore is a time criterion's points under TT 01/2018 art. 13: early 2, on time 1, late 0;
// NULL when the verdict is unknown.
func verdictScore(v Verdict) sql.NullInt64 {
	switch v {
	case VerdictEarly:
		return sql.NullInt64{Int64: 2, Valid: true}
	case VerdictOnTime:
		return sql.NullInt64{Int64: 1, Valid: true}
	case VerdictLate:
		return sql.NullInt64{Int64: 0, Valid: true}
	}
	return sql.NullInt64{}
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

	totalPoints int
	points      []int
}

func newRatingStats() *RatingStats {
	s := &RatingStats{Criteria: make([]CriterionStats, len(domain.Criteria)), points: make([]int, len(domain.Criteria))}
	for i, c := range domain.Criteria {
		s.Criteria[i].Criterion = c
	}
	return s
}

func (s *RatingStats) add(r ratingRow) {
	s.Ratings++
	if r.dissatisfied {
		s.DissatisfiedRatings++
	}
	total, complete := 0, true
	for i, score := range r.scores {
		if !score.Valid {
			complete = false
			continue
		}
		switch score.Int64 {
		case 2:
			s.Criteria[i].VerySatisfied++
		case 1:
			s.Criteria[i].Satisfied++
		default:
			s.Criteria[i].Dissatisfied++
		}
		s.points[i] += int(score.Int64)
		total += int(score.Int64)
	}
	if complete {
		s.CompleteRatings++
		s.totalPoints += total
	}
}

func (s *RatingStats) finish() RatingStats {
	for i := range s.Criteria {
		c := &s.Criteria[i]
		if n := c.VerySatisfied + c.Satisfied + c.Dissatisfied; n > 0 {
			c.AverageScore = roundHours(float64(s.points[i]) / float64(n))
		}
	}
	if s.CompleteRatings > 0 {
		s.AverageTotal = roundHours(float64(s.totalPoints) / float64(s.CompleteRatings))
		s.Grade = GradeOf(float64(s.totalPoints) / float64(s.CompleteRatings))
	}
	return *s
}

// SatisfactionGroup is the rating statistics of one agency, department, procedure, official or month.
type SatisfactionGroup struct {
	Key  string `json:"key"`
	Name string `json:"name,omitempty"`
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
	// NotComputed lists the indicators our events do not let us compute, and why.
	NotComputed []UncomputedIndicator `json:"not_computed"`
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
	{Code: "digitisation", Group: "digitisation",
		Reason: "events list submitted components by name only, not whether they were digitised or reused from the data store"},
	{Code: "online_service_level", Group: "online_service",
		Reason: "the online level of a procedure is a catalog fact, not kept in the events; only dossier-level online submission and payment shares are computed"},
	{Code: "complaint_rate", Group: "satisfaction",
		Reason: "complaints and petitions (phản ánh, kiến nghị) are not recorded; the satisfaction rate counts dissatisfied ratings only"},
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

type ratingRow struct {
	dossierID, agency, procedureCode, procedureName string
	ratedAt                                         time.Time
	scores                                          []sql.NullInt64
	dissatisfied                                    bool
}

// SatisfactionOf returns the statistics of ratings given in period p (which must be bounded) on
// dossiers the agency received or decides. A rating counts for every department or
// agency the dossier was handed to (parts of parallel steps included) and every official who acted
// on it or was handed it. In a department's or agency's line, criterion 2 (each unit's time
// against its share) is that unit's own, read from the process-control sheet (ProcessControlView).
func SatisfactionOf(ctx context.Context, db *sql.DB, agency AgencyScope, p Period) (SatisfactionReport, error) {
	var c conditions
	c.agency("d", agency)
	c.within("r.rated_at", p)
	from := ` FROM satisfaction_ratings r JOIN satisfaction_dossiers d ON d.dossier_id = r.dossier_id` + c.where()
	rows, err := db.QueryContext(ctx, `SELECT r.dossier_id, d.competent_agency, d.procedure_code, d.procedure_name, r.rated_at, r.dissatisfied, `+
		strings.Join(criterionColumns, ", ")+from+` ORDER BY r.rated_at, r.dossier_id`, c.args...)
	if err != nil {
		return SatisfactionReport{}, err
	}
	var ratings []ratingRow
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			r := ratingRow{scores: make([]sql.NullInt64, len(criterionColumns))}
			var ratedAt sql.NullString
			var dissatisfied int
			dest := []any{&r.dossierID, &r.agency, &r.procedureCode, &r.procedureName, &ratedAt, &dissatisfied}
			for i := range r.scores {
				dest = append(dest, &r.scores[i])
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			r.ratedAt, r.dissatisfied = parseSQLTime(ratedAt), dissatisfied == 1
			ratings = append(ratings, r)
		}
		return rows.Err()
	}()
	if err != nil {
		return SatisfactionReport{}, err
	}
	type participant struct{ kind, key, name string }
	participants := map[string][]participant{}
	prow, err := db.QueryContext(ctx, `SELECT p.dossier_id, p.kind, p.key, p.name FROM satisfaction_participants p
		JOIN satisfaction_ratings r ON r.dossier_id = p.dossier_id
		JOIN satisfaction_dossiers d ON d.dossier_id = p.dossier_id`+c.where()+` ORDER BY p.dossier_id, p.kind, p.key`, c.args...)
	if err != nil {
		return SatisfactionReport{}, err
	}
	err = func() error {
		defer prow.Close()
		for prow.Next() {
			var id string
			var pt participant
			if err := prow.Scan(&id, &pt.kind, &pt.key, &pt.name); err != nil {
				return err
			}
			participants[id] = append(participants[id], pt)
		}
		return prow.Err()
	}()
	if err != nil {
		return SatisfactionReport{}, err
	}
	unitTimes, err := unitTimeScores(ctx, db, agency, p)
	if err != nil {
		return SatisfactionReport{}, err
	}

	overall := newRatingStats()
	agencies, departments, procedures, officials, months := groups[SatisfactionGroup]{}, groups[SatisfactionGroup]{},
		groups[SatisfactionGroup]{}, groups[SatisfactionGroup]{}, groups[SatisfactionGroup]{}
	fresh := func(key, name string) *SatisfactionGroup {
		return &SatisfactionGroup{Key: key, Name: name, RatingStats: *newRatingStats()}
	}
	for _, r := range ratings {
		overall.add(r)
		agencies.get(r.agency, "", fresh).add(r)
		procedures.get(r.procedureCode, r.procedureName, fresh).add(r)
		months.get(r.ratedAt.In(domain.VietnamTime).Format("2006-01"), "", fresh).add(r)
		for _, pt := range participants[r.dossierID] {
			if pt.kind == "unit" {
				departments.get(pt.key, "", fresh).add(r.withUnitTime(unitTimes[[2]string{r.dossierID, pt.key}]))
			} else {
				officials.get(pt.key, pt.name, fresh).add(r)
			}
		}
	}
	finished := func(m groups[SatisfactionGroup]) []SatisfactionGroup {
		for _, g := range m {
			g.RatingStats = g.finish()
		}
		return m.sorted()
	}
	report := SatisfactionReport{
		Agency: agency.Agency(), Period: p, Overall: overall.finish(), ByAgency: finished(agencies), ByDepartment: finished(departments),
		ByProcedure: finished(procedures), ByOfficial: finished(officials), ByMonth: finished(months),
	}
	if report.Indicators, err = indicators766(ctx, db, agency, p); err != nil {
		return SatisfactionReport{}, err
	}
	return report, nil
}

// unitTimeIndex is the position of TT 01/2018's criterion 2 in a rating's scores.
var unitTimeIndex = slices.Index(domain.Criteria, domain.CriterionUnitTime)

// withUnitTime returns the rating as one unit's statistics count it: criterion 2 is that unit's
// own time against its share (TT 01/2018 art. 13) when it has a judged step, the dossier's
// slowest unit otherwise.
func (r ratingRow) withUnitTime(score sql.NullInt64) ratingRow {
	if !score.Valid {
		return r
	}
	r.scores = slices.Clone(r.scores)
	r.scores[unitTimeIndex] = score
	return r
}

// unitTimeScores scores, for each dossier of the agency scope rated in p and each unit it
// was handed to, that unit's slowest step on the process-control sheet: early 2, on time 1, late 0.
func unitTimeScores(ctx context.Context, db *sql.DB, agency AgencyScope, p Period) (map[[2]string]sql.NullInt64, error) {
	var c conditions
	c.agency("d", agency)
	c.within("r.rated_at", p)
	c.add("h.kind <> '" + HandoverSubmission + "' AND h.ended_at IS NOT NULL AND h.deadline IS NOT NULL")
	rows, err := db.QueryContext(ctx, `SELECT h.dossier_id, h.to_unit, h.ended_at, h.deadline FROM control_handovers h
		JOIN satisfaction_ratings r ON r.dossier_id = h.dossier_id
		JOIN satisfaction_dossiers d ON d.dossier_id = h.dossier_id`+c.where(), c.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	slowest := map[[2]string]Verdict{}
	for rows.Next() {
		var id, unit string
		var ended, deadline sql.NullString
		if err := rows.Scan(&id, &unit, &ended, &deadline); err != nil {
			return nil, err
		}
		k := [2]string{id, unit}
		if v := judge(parseSQLTime(ended), parseSQLTime(deadline)); verdictRank[v] > verdictRank[slowest[k]] {
			slowest[k] = v
		}
	}
	scores := make(map[[2]string]sql.NullInt64, len(slowest))
	for k, v := range slowest {
		scores[k] = verdictScore(v)
	}
	return scores, rows.Err()
}

func indicators766(ctx context.Context, db *sql.DB, agency AgencyScope, p Period) (Indicators766, error) {
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
	var dissatisfied conditions
	dissatisfied.agency("d", agency)
	dissatisfied.within("d.resolved_at", p)
	dissatisfied.add("r.dissatisfied = 1")
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM satisfaction_dossiers d JOIN satisfaction_ratings r ON r.dossier_id = d.dossier_id`+
		dissatisfied.where(), dissatisfied.args...).Scan(&in.Dissatisfied); err != nil {
		return Indicators766{}, err
	}
	var paid conditions
	paid.agency("d", agency)
	paid.within("d.first_paid_at", p)
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(d.paid_online), 0) FROM satisfaction_dossiers d`+paid.where(),
		paid.args...).Scan(&in.PaidDossiers, &in.PaidOnline); err != nil {
		return Indicators766{}, err
	}
	in.OnTimeRate = percent(in.OnTime, in.Processed)
	in.LateRate = percent(in.Late, in.Processed)
	in.DissatisfiedShare = percent(in.Dissatisfied, in.Processed)
	if in.Processed > 0 {
		in.SatisfactionRate = roundHours(math.Max(0, 100-100*float64(in.Late+in.Dissatisfied)/float64(in.Processed)))
	}
	in.OnlineDossierRate = percent(in.ReceivedOnline, in.ReceivedInPeriod)
	in.OnlinePaymentRate = percent(in.PaidOnline, in.PaidDossiers)
	return in, nil
}

func percent(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return roundHours(100 * float64(part) / float64(whole))
}
