package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/http/httpkit"
)

// historyView is the inspectors' page of a dossier: every event with who recorded it, in which
// role and when, the event's payload and what it changed in the dossier; and the dossier's state as
// of any moment, folded from the events up to then.
type historyView struct {
	D         domain.Dossier
	Entries   []historyRow
	AsOfInput string
	AsOf      time.Time
	AsOfState *domain.Dossier
	AsOfCount int
	Problem   string
	// Integrity is the verification API's verdict on the history and the agency signatures.
	Integrity        httpkit.DossierVerification
	IntegrityProblem *httpkit.Problem
}

type historyRow struct {
	Version       uint64
	Type          string
	OccurredAt    time.Time
	RecordedAt    time.Time
	Actor         eventstore.Actor
	CorrelationID string
	Payload       string
	Changes       []stateChange
	CorrectedBy   []int // approved corrections that later changed what the event recorded
}

// stateChange is one field of the dossier's state that an event changed.
type stateChange struct {
	Field, Before, After string
}

func (s *Pages) historyPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	d, recorded, ok := s.loadReadable(w, r, chi.URLParam(r, "code"))
	if !ok {
		return
	}
	page := &historyView{D: d, AsOfInput: r.URL.Query().Get("luc")}
	if page.AsOfInput != "" {
		at, err := time.ParseInLocation("2006-01-02T15:04", page.AsOfInput, domain.VietnamTime)
		if err != nil {
			page.Problem = "history.bad_moment"
		} else {
			// The moment is inclusive of its whole minute, as the input shows minutes only.
			page.AsOf = at.Add(time.Minute - time.Nanosecond)
		}
	}
	state := domain.Dossier{Status: domain.StatusNew}
	var events []domain.Event
	for _, e := range recorded {
		event, err := domain.DecodeEvent(e.Type, e.Data)
		if err != nil {
			s.logger.ErrorContext(r.Context(), "decode event", "stream", e.Stream, "version", e.Version, "err", err)
			s.renderError(w, r, http.StatusInternalServerError, "error.internal")
			return
		}
		events = append(events, event)
		before := state
		state = domain.Evolve(state, event)
		state.Version = e.Version
		if !page.AsOf.IsZero() && !e.Metadata.OccurredAt.After(page.AsOf) {
			asOf := state
			page.AsOfState, page.AsOfCount = &asOf, int(e.Version)
		}
		page.Entries = append(page.Entries, historyRow{
			Version: e.Version, Type: e.Type, OccurredAt: e.Metadata.OccurredAt, RecordedAt: e.RecordedAt,
			Actor: e.Metadata.Actor, CorrelationID: e.Metadata.CorrelationID.String(),
			Payload: prettyJSON(e.Data), Changes: stateDiff(before, state),
		})
	}
	for i, numbers := range domain.CorrectedBy(events) {
		page.Entries[i].CorrectedBy = numbers
	}
	integrity, problem, err := s.api.VerifyDossier(r, d.ID)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "dossier verification", "dossier", d.ID, "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	page.Integrity, page.IntegrityProblem = integrity, problem
	s.render(w, r, http.StatusOK, "history", l.T("history.title")+" "+string(d.Code), page)
}

func prettyJSON(data []byte) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "  "); err != nil {
		return string(data)
	}
	return buf.String()
}

// stateDiff lists the fields of the dossier's state that differ, by JSON path.
func stateDiff(before, after domain.Dossier) []stateChange {
	a, b := flatten(before), flatten(after)
	var out []stateChange
	for k, v := range b {
		if k == "version" {
			continue
		}
		if a[k] != v {
			out = append(out, stateChange{Field: k, Before: a[k], After: v})
		}
	}
	for k, v := range a {
		if _, ok := b[k]; !ok {
			out = append(out, stateChange{Field: k, Before: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// flatten maps each leaf of v's JSON form to its path ("holder.unit", "components[1].name").
func flatten(v any) map[string]string {
	data, _ := json.Marshal(v)
	var tree any
	_ = json.Unmarshal(data, &tree)
	out := map[string]string{}
	var walk func(prefix string, node any)
	walk = func(prefix string, node any) {
		switch n := node.(type) {
		case map[string]any:
			for k, child := range n {
				walk(strings.TrimPrefix(prefix+"."+k, "."), child)
			}
		case []any:
			for i, child := range n {
				walk(fmt.Sprintf("%s[%d]", prefix, i), child)
			}
		case nil:
		default:
			text, _ := json.Marshal(n)
			out[prefix] = strings.Trim(string(text), `"`)
		}
	}
	walk("", tree)
	return out
}
