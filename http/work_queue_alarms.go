package http

import (
	"context"

	"github.com/motcua/motcua/http/web"
	"github.com/motcua/motcua/projections"
	"github.com/motcua/motcua/timers"
)

// queueItem is a work-queue row with its dossier's alarms (docs/timers.md).
type queueItem struct {
	projections.WorkItem
	Alarms []timers.QueueAlarm `json:"alarms,omitempty"`
}

// withAlarms adds to each row of a work-queue page its dossier's armed and fired alarms, read for
// the page's rows only, when the timers run.
func (s *Server) withAlarms(ctx context.Context, page projections.Page[projections.WorkItem]) (projections.Page[queueItem], error) {
	out := projections.Page[queueItem]{Next: page.Next, Total: page.Total, TotalEstimated: page.TotalEstimated, Items: []queueItem{}}
	var alarms map[string][]timers.QueueAlarm
	if s.alarms && len(page.Items) > 0 {
		ids := make([]string, len(page.Items))
		for i, it := range page.Items {
			ids[i] = it.DossierID
		}
		var err error
		if alarms, err = timers.AlarmsOf(ctx, s.readDB, ids); err != nil {
			return out, err
		}
	}
	for _, it := range page.Items {
		out.Items = append(out.Items, queueItem{WorkItem: it, Alarms: alarms[it.DossierID]})
	}
	return out, nil
}

// pageAlarms gives the pages the alarms of a page's dossiers, or nil when the timers do not run.
func (s *Server) pageAlarms() func(ctx context.Context, dossierIDs []string) (map[string][]web.QueueAlarm, error) {
	if !s.alarms {
		return nil
	}
	return func(ctx context.Context, dossierIDs []string) (map[string][]web.QueueAlarm, error) {
		alarms, err := timers.AlarmsOf(ctx, s.readDB, dossierIDs)
		if err != nil {
			return nil, err
		}
		out := make(map[string][]web.QueueAlarm, len(alarms))
		for id, list := range alarms {
			for _, a := range list {
				out[id] = append(out[id], web.QueueAlarm{Kind: string(a.Kind), Fired: a.State == timers.StateFired, Due: a.Due, Deadline: a.Deadline})
			}
		}
		return out, nil
	}
}
