package projections

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
)

// Every list a read model serves comes one page at a time, found by its key (keyset pagination):
// the query asks for the rows after the last one served, in the list's order, through an index
// whose columns are that order. Its cost is that of one page however long the list, where OFFSET
// would read and skip every row before the page.

// Page sizes: what a list answers without a limit, and the most it answers with one.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PageRequest asks for at most Limit rows after the position After (the first page when empty).
type PageRequest struct {
	Limit int
	After Cursor
}

// Cursor is a position in a list: the sort-key values of the last row served, in the order of the
// list's ORDER BY. Clients hold it as an opaque string (Encode); a list checks that it has as many
// values as its key before using it.
type Cursor []string

// Encode returns the cursor as an opaque URL-safe string; "" for the first page.
func (c Cursor) Encode() string {
	if len(c) == 0 {
		return ""
	}
	b, _ := json.Marshal([]string(c))
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadCursor is a cursor that no list handed out.
var ErrBadCursor = errors.New("is not a cursor this list handed out")

// DecodeCursor reads a cursor written by Encode; "" is the first page.
func DecodeCursor(s string) (Cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	var c []string
	if err := json.Unmarshal(b, &c); err != nil || len(c) == 0 || len(c) > 8 {
		return nil, ErrBadCursor
	}
	return c, nil
}

// ParsePageRequest reads the limit and after parameters of a request (both optional). It returns
// the field at fault and why when one is wrong.
func ParsePageRequest(limit, after string) (req PageRequest, field, problem string) {
	req.Limit = DefaultPageSize
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxPageSize {
			return PageRequest{}, "limit", "must be a whole number from 1 to " + strconv.Itoa(MaxPageSize)
		}
		req.Limit = n
	}
	c, err := DecodeCursor(after)
	if err != nil {
		return PageRequest{}, "after", err.Error()
	}
	req.After = c
	return req, "", ""
}

// Size is the page size asked for, within the bounds.
func (r PageRequest) Size() int {
	switch {
	case r.Limit <= 0:
		return DefaultPageSize
	case r.Limit > MaxPageSize:
		return MaxPageSize
	}
	return r.Limit
}

// Page is one page of a list. Next, when set, is the cursor of the page after it. Total counts the
// whole list when that costs no scan (a counter, or an index-only count bounded by the filter);
// otherwise it is an estimate and TotalEstimated says so.
type Page[T any] struct {
	Items          []T    `json:"items"`
	Next           string `json:"next,omitempty"`
	Total          int    `json:"total"`
	TotalEstimated bool   `json:"total_estimated,omitempty"`
}

// PageOf builds a page from up to size+1 rows fetched in list order (the extra row only says that
// another page follows) and the cursor of a row.
func PageOf[T any](rows []T, size int, cursorOf func(T) Cursor) Page[T] {
	p := Page[T]{Items: rows}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(rows) > size {
		p.Items = rows[:size]
		p.Next = cursorOf(rows[size-1]).Encode()
	}
	return p
}
