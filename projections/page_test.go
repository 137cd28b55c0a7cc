package projections

import "testing"

func TestCursorRoundTripsAndRefusesForgeries(t *testing.T) {
	c := Cursor{"2026-01-02T03:04:05Z", "dossier-1"}
	got, err := DecodeCursor(c.Encode())
	if err != nil || len(got) != 2 || got[0] != c[0] || got[1] != c[1] {
		t.Fatalf("round trip: %v %v", got, err)
	}
	for _, bad := range []string{"!!", "bm90IGpzb24", "W10"} { // not base64, not JSON, empty list
		if _, err := DecodeCursor(bad); err == nil {
			t.Errorf("DecodeCursor(%q) accepted", bad)
		}
	}
	if _, field, _ := ParsePageRequest("501", ""); field != "limit" {
		t.Errorf("limit 501: field %q", field)
	}
	if _, field, _ := ParsePageRequest("0", ""); field != "limit" {
		t.Errorf("limit 0: field %q", field)
	}
	req, field, _ := ParsePageRequest("", "")
	if field != "" || req.Size() != DefaultPageSize {
		t.Errorf("default: %+v %q", req, field)
	}
}

func TestPageOfCutsAtTheSizeAndPointsAfterTheLastRowServed(t *testing.T) {
	rows := []int{1, 2, 3}
	p := PageOf(rows, 2, func(n int) Cursor { return Cursor{string(rune('0' + n))} })
	if len(p.Items) != 2 || p.Next != (Cursor{"2"}).Encode() {
		t.Fatalf("page: %+v", p)
	}
	if p := PageOf(rows[:2], 2, func(int) Cursor { return nil }); p.Next != "" || len(p.Items) != 2 {
		t.Fatalf("last page: %+v", p)
	}
}
