package domain

// Criterion is one of the nine criteria of TT 01/2018/TT-VPCP art. 13–15 on which a dossier's
// handling is evaluated.
type Criterion string

const (
	CriterionTotalTime         Criterion = "total_time"          // total time vs the legal limit
	CriterionUnitTime          Criterion = "unit_time"           // each unit's time vs its share
	CriterionContacts          Criterion = "contacts"            // how many times the applicant had to come
	CriterionBodiesContacted   Criterion = "bodies_contacted"    // how many bodies the applicant dealt with
	CriterionOneStopHandling   Criterion = "one_stop_handling"   // handled end to end at the one-stop desk
	CriterionProcedurePublic   Criterion = "procedure_publicity" // the procedure was publicly posted
	CriterionStaffAttitude     Criterion = "staff_attitude"
	CriterionComplaintHandling Criterion = "complaint_handling"
	CriterionOnlineService     Criterion = "online_service"
)

// Criteria lists the nine criteria in the order of TT 01/2018.
var Criteria = []Criterion{
	CriterionTotalTime, CriterionUnitTime, CriterionContacts, CriterionBodiesContacted, CriterionOneStopHandling,
	CriterionProcedurePublic, CriterionStaffAttitude, CriterionComplaintHandling, CriterionOnlineService,
}

// RatingLevel is the applicant's verdict on a criterion; its score is 2, 1 or 0 points.
type RatingLevel string

const (
	VerySatisfied RatingLevel = "very_satisfied"
	Satisfied     RatingLevel = "satisfied"
	Dissatisfied  RatingLevel = "dissatisfied"
)

// Score is the level's points under TT 01/2018 (2/1/0), or -1 for an unknown level.
func (l RatingLevel) Score() int {
	switch l {
	case VerySatisfied:
		return 2
	case Satisfied:
		return 1
	case Dissatisfied:
		return 0
	}
	return -1
}

// ValidCriterion reports whether c is one of the nine criteria.
func ValidCriterion(c Criterion) bool {
	for _, k := range Criteria {
		if k == c {
			return true
		}
	}
	return false
}
