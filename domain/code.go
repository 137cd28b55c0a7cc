package domain

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// unitCodePattern is an agency identifier under QCVN 102:2016/BTTTT: four dot-separated groups from
// the lowest level to the top, the top group a letter and two digits (H = province, G = ministry).
var unitCodePattern = regexp.MustCompile(`^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9]{2}$`)

var dossierCodePattern = regexp.MustCompile(`^([0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9]{2})-([0-9]{6})-([0-9]{4})$`)

// ValidUnitCode reports whether s is a well-formed QCVN 102 agency identifier, e.g. "000.00.06.H56".
func ValidUnitCode(s string) bool { return unitCodePattern.MatchString(s) }

// MaxDailySequence is the largest sequence a four-digit NNNN can hold.
const MaxDailySequence = 9999

// DossierCode is the public code of a dossier, `<receiving unit>-<YYMMDD>-<NNNN>` (NĐ 61 art. 26,
// TT 01/2018 art. 19): the receiving unit's identifier, the receipt date in Vietnam time and that
// unit's sequence number for the day, from 0001.
type DossierCode string

// NewDossierCode builds the code of the seq-th dossier received by unit on the Vietnam-time date of at.
func NewDossierCode(unit string, at time.Time, seq int) (DossierCode, error) {
	if !ValidUnitCode(unit) {
		return "", Errorf(EINVALID, "receiving unit %q is not a QCVN 102 identifier", unit)
	}
	if seq < 1 || seq > MaxDailySequence {
		return "", Errorf(ECONFLICT, "unit %s has used all %d dossier codes of the day", unit, MaxDailySequence)
	}
	return DossierCode(fmt.Sprintf("%s-%s-%04d", unit, DayKey(at), seq)), nil
}

// DayKey is the YYMMDD of at in Vietnam time, the middle part of a dossier code.
func DayKey(at time.Time) string { return at.In(VietnamTime).Format("060102") }

// VietnamTime is UTC+7, the zone of every date the law speaks of (calendar.VietnamTime, named here
// because dossier codes and the rules count dates in it too).
var VietnamTime = calendar.VietnamTime

// DossierCodeParts is a checked dossier code and what it is made of.
type DossierCodeParts struct {
	Code DossierCode
	Unit string // the receiving unit's code, e.g. 000.00.06.H56
	Day  string // YYMMDD of receipt in Vietnam time (DayKey)
	Seq  int    // the dossier's number in the unit's day, from 1
}

// ParseDossierCode checks s and returns its parts.
func ParseDossierCode(s string) (DossierCodeParts, error) {
	m := dossierCodePattern.FindStringSubmatch(s)
	if m == nil {
		return DossierCodeParts{}, Errorf(EINVALID, "%q is not a dossier code (expected <unit>-<YYMMDD>-<NNNN>, e.g. 000.00.06.H56-231027-0361)", s)
	}
	if _, err := time.Parse("060102", m[2]); err != nil {
		return DossierCodeParts{}, Errorf(EINVALID, "%q has no valid date", s)
	}
	seq, _ := strconv.Atoi(m[3])
	if seq == 0 {
		return DossierCodeParts{}, Errorf(EINVALID, "%q has sequence 0000; sequences start at 0001", s)
	}
	return DossierCodeParts{Code: DossierCode(s), Unit: m[1], Day: m[2], Seq: seq}, nil
}

// ResultCode is `<dossier code>-KQ<n>`, the code of the n-th result of a dossier.
func ResultCode(code DossierCode, n int) string { return fmt.Sprintf("%s-KQ%d", code, n) }

// ParseResultCode splits a result code into its dossier code and index.
func ParseResultCode(s string) (DossierCode, int, error) {
	i := strings.LastIndex(s, "-KQ")
	if i < 0 {
		return "", 0, Errorf(EINVALID, "%q is not a result code (expected <dossier code>-KQ<n>)", s)
	}
	parsed, err := ParseDossierCode(s[:i])
	if err != nil {
		return "", 0, err
	}
	// One result, one spelling: "KQ01" and "KQ+1" are not result 1.
	n, err := strconv.Atoi(s[i+3:])
	if err != nil || n < 1 || strconv.Itoa(n) != s[i+3:] {
		return "", 0, Errorf(EINVALID, "%q has no valid result number", s)
	}
	return parsed.Code, n, nil
}
