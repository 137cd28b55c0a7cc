package projections

import (
	"fmt"
	"testing"
)

// TestSatisfactionGroupsAreCapped checks that a long list of groups keeps the
// SatisfactionGroupLimit groups with the most ratings (ties by key), in key order, and sums the
// others in one line that says how many it holds.
func TestSatisfactionGroupsAreCapped(t *testing.T) {
	t.Parallel()
	groups := tallyGroups{}
	total := int64(0)
	for i := range SatisfactionGroupLimit + 3 {
		var one ratingTally
		// Group k%03d has 1 + i%7 ratings: the three smallest are left out, ties broken by key.
		one[tallyRatings], one[tallyComplete], one[tallyPoints] = int64(1+i%7), int64(1+i%7), int64(18*(1+i%7))
		total += one[tallyRatings]
		groups.add(fmt.Sprintf("k%03d", i), "", "2026-04", &one)
	}
	list := groups.list(SatisfactionGroupLimit)
	if len(list) != SatisfactionGroupLimit+1 {
		t.Fatalf("%d lines, want %d and the others", len(list), SatisfactionGroupLimit)
	}
	others := list[len(list)-1]
	if others.Others != 3 || others.Key != "" || others.Ratings != 3 || others.AverageTotal != 18 {
		t.Errorf("the others' line: %+v, want the 3 groups of 1 rating with the highest keys", others)
	}
	sum := others.Ratings
	for i, g := range list[:len(list)-1] {
		sum += g.Ratings
		if i > 0 && g.Key <= list[i-1].Key {
			t.Errorf("line %d (%s) is not in key order after %s", i, g.Key, list[i-1].Key)
		}
		if g.Others != 0 {
			t.Errorf("line %s says it sums others", g.Key)
		}
	}
	if int64(sum) != total {
		t.Errorf("the lines sum %d ratings, want %d", sum, total)
	}
	for _, left := range []string{"k049", "k035", "k042"} { // 1 rating each, the highest keys among those
		for _, g := range list {
			if g.Key == left {
				t.Errorf("%s (1 rating) is listed, and a group of 1 rating with a lower key left out", left)
			}
		}
	}
	if short := groups.list(0); len(short) != SatisfactionGroupLimit+3 || short[len(short)-1].Others != 0 {
		t.Errorf("without a limit: %d lines", len(short))
	}
}
