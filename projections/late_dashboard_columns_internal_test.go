package projections

import (
	"reflect"
	"testing"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// TestLateListsReadEveryColumnTheirItemsShow checks that each list's page reads every summary
// column its items are made of (lateListColumns): an item made from a row holding only those
// columns equals the one made from the whole row, for rows with every column set, each column in
// turn left empty, and every time the same (the late acceptances' responses compare times).
func TestLateListsReadEveryColumnTheirItemsShow(t *testing.T) {
	t.Parallel()
	cal := calendar.Default()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	items := map[string]func(d summaryRow) any{
		LateListOpenOverdue:     func(d summaryRow) any { return lateDossierOf(d, false, cal, now) },
		LateListResolvedLate:    func(d summaryRow) any { return lateDossierOf(d, true, cal, now) },
		LateListDueSoon:         func(d summaryRow) any { return dueDossierOf(d, cal, now) },
		LateListApologies:       func(d summaryRow) any { return apologyOf(d) },
		LateListLateAcceptances: func(d summaryRow) any { return lateAcceptanceOf(d, cal, now) },
	}
	// filled returns a row with every column set, times distinct or all the same, but the one
	// named empty.
	filled := func(sameTimes bool, empty string) summaryRow {
		var r summaryRow
		for i, c := range controlColumns {
			if c.name == empty {
				continue
			}
			switch f := c.field(&r).(type) {
			case *time.Time:
				*f = now.Add(-time.Duration(100-i) * time.Hour)
				if sameTimes {
					*f = now.Add(-48 * time.Hour)
				}
			case *string:
				*f = "v-" + c.name
				if c.name == "close_kind" {
					*f = "refused"
				}
			case *int:
				*f = i + 1
			case *bool:
				*f = true
			}
		}
		return r
	}
	var rows []summaryRow
	for _, same := range []bool{false, true} {
		rows = append(rows, filled(same, ""))
		for _, c := range controlColumns {
			rows = append(rows, filled(same, c.name))
		}
	}
	if len(items) != len(LateLists) {
		t.Fatalf("%d lists' items, want %d", len(items), len(LateLists))
	}
	for _, list := range LateLists {
		for _, whole := range rows {
			var read summaryRow
			for _, c := range lateListColumns[list] {
				reflect.ValueOf(c.field(&read)).Elem().Set(reflect.ValueOf(c.field(&whole)).Elem())
			}
			if got, want := items[list](read), items[list](whole); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: from the columns read\n %+v\nfrom the whole row\n %+v", list, got, want)
				break
			}
		}
	}
}
