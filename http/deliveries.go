package http

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/l10n"
	"github.com/motcua/motcua/projections"
)

// DeliveriesConfig shows the outbox (integrations/delivery, in the read models' database): to
// admins, who see and retry deliveries (GET /api/v1/admin/deliveries, …/status, POST …/retry, and
// their page), and to the public lookup, which says which notifications a dossier's applicant was
// sent. The deliveries table may be absent (notifications never turned on): the admins then see
// the configured destinations with nothing in them, the lookup nothing.
type DeliveriesConfig struct {
	Dialect engine.Dialect
	// Destinations are the destinations configured, listed even when they hold no delivery.
	Destinations []string
}

// deliveries is the server's view of the outbox.
type deliveries struct {
	DeliveriesConfig
	sent *delivery.SentLog
}

func newDeliveries(cfg *DeliveriesConfig, s *Server) *deliveries {
	if cfg == nil || s.readDB == nil {
		return nil
	}
	return &deliveries{DeliveriesConfig: *cfg, sent: delivery.NewSentLog(s.readDB, cfg.Dialect)}
}

func (s *Server) deliveryRoutes(r chi.Router) {
	r.Get("/admin/deliveries", s.listDeliveries)
	r.Get("/admin/deliveries/status", s.deliveriesStatus)
	r.Post("/admin/deliveries/retry", s.retryDeliveries)
}

// requireAdmin answers 403 unless the caller is a system administrator, the one role that sees
// and repairs what motcua sends outside (docs/security.md).
func (s *Server) requireAdmin(w http.ResponseWriter, r *http.Request) (commands.Caller, bool) {
	caller := callerOf(r.Context())
	if !caller.Has(commands.RoleAdmin) {
		s.writeError(w, r, domain.Errorf(domain.EFORBIDDEN, "only a system administrator (admin) may see and retry deliveries"))
		return caller, false
	}
	return caller, true
}

// deliveriesTableReady reports whether the deliveries table exists; without it every list is empty.
func (s *Server) deliveriesTableReady(ctx context.Context) (bool, error) {
	return delivery.TableExists(ctx, s.readDB, s.deliveries.Dialect)
}

// deliveryStatuses returns every destination's counts: the configured ones and those holding deliveries.
func (s *Server) deliveryStatuses(ctx context.Context) ([]delivery.DestinationStatus, error) {
	ready, err := s.deliveriesTableReady(ctx)
	if err != nil || !ready {
		out := []delivery.DestinationStatus{}
		for _, name := range s.deliveries.Destinations {
			out = append(out, delivery.DestinationStatus{Destination: name})
		}
		return out, err
	}
	return delivery.Status(ctx, s.readDB, s.now(), s.deliveries.Destinations...)
}

// deliveriesStatus: GET /api/v1/admin/deliveries/status — per destination, the deliveries pending
// (failing among them), dead, skipped and sent, and the age of the oldest pending one.
func (s *Server) deliveriesStatus(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.requireAdmin(w, r); !ok {
		return
	}
	statuses, err := s.deliveryStatuses(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := httpkit.DeliveriesStatus{Destinations: []httpkit.DeliveryStatus{}}
	for _, st := range statuses {
		out.Destinations = append(out.Destinations, httpkit.DeliveryStatus{Destination: st.Destination, Pending: st.Pending,
			Failing: st.Failing, Dead: st.Dead, Skipped: st.Skipped, Sent: st.Sent, OldestPendingSeconds: int64(st.OldestPending / time.Second)})
	}
	writeJSON(w, http.StatusOK, out)
}

// deliveryStates are the states a list of deliveries may be filtered by.
var deliveryStates = []string{"pending", "failing", "dead", "sent", "skipped"}

// listDeliveries: GET /api/v1/admin/deliveries[?state=&destination=&limit=&after=] — the
// deliveries in id order (log order), a page at a time.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.requireAdmin(w, r); !ok {
		return
	}
	q := r.URL.Query()
	var v domain.Validation
	state, destination := q.Get("state"), q.Get("destination")
	v.Check(state == "" || slices.Contains(deliveryStates, state), "state", "must be one of %v", deliveryStates)
	v.Check(len(destination) <= 64, "destination", "is too long")
	req, field, problem := projections.ParsePageRequest(q.Get("limit"), q.Get("after"))
	if field != "" {
		v.Check(false, field, "%s", problem)
	}
	var afterID int64
	if len(req.After) > 0 {
		id, err := strconv.ParseInt(req.After[0], 10, 64)
		v.Check(err == nil && id > 0 && len(req.After) == 1, "after", "%s", projections.ErrBadCursor.Error())
		afterID = id
	}
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	page := httpkit.DeliveryPage{Items: []httpkit.Delivery{}}
	ready, err := s.deliveriesTableReady(ctx)
	if err != nil || !ready {
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, page)
		return
	}
	size := req.Size()
	// One row beyond the page says another page follows; List answers 500 at most, so a page of
	// 500 full says so by being full.
	rows, err := delivery.List(ctx, s.readDB, delivery.ListOptions{State: state, Destination: destination, Limit: size + 1, AfterID: afterID})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(rows) > size || len(rows) == projections.MaxPageSize {
		rows = rows[:size]
		page.Next = projections.Cursor{strconv.FormatInt(rows[len(rows)-1].ID, 10)}.Encode()
	}
	streams := make([]string, len(rows))
	for i, d := range rows {
		streams[i] = d.DossierID
	}
	codes, err := delivery.DossierCodes(ctx, s.readDB, streams)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, d := range rows {
		item := httpkit.Delivery{ID: d.ID, Destination: d.Destination, Key: d.Key, DossierID: d.DossierID, DossierCode: codes[d.DossierID],
			EventType: d.EventType, Kind: d.Kind, State: string(d.State), Attempts: d.Attempts, LastError: d.LastError, CreatedAt: d.CreatedAt}
		if d.State == delivery.Pending {
			item.NextAttemptAt = d.NextAttemptAt
		}
		page.Items = append(page.Items, item)
	}
	// The total from the counts per destination and state (an index-only count).
	statuses, err := delivery.Status(ctx, s.readDB, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, st := range statuses {
		if destination != "" && st.Destination != destination {
			continue
		}
		switch state {
		case "":
			page.Total += int(st.Pending + st.Dead + st.Sent + st.Skipped)
		case "pending":
			page.Total += int(st.Pending)
		case "failing":
			page.Total += int(st.Failing)
		case "dead":
			page.Total += int(st.Dead)
		case "sent":
			page.Total += int(st.Sent)
		case "skipped":
			page.Total += int(st.Skipped)
		}
	}
	writeJSON(w, http.StatusOK, page)
}

// maxRetryIDs bounds the ids one retry names: a page of the list.
const maxRetryIDs = projections.MaxPageSize

// retryDeliveries: POST /api/v1/admin/deliveries/retry — makes deliveries due now: the ones named
// ({"ids": [...]}), or every dead one ({"dead": true}) or every failing one ({"failing": true}),
// of one destination when "destination" is given. A dead delivery comes back with a fresh count
// of attempts. Who retried what is logged (the caller's id, the delivery ids: no personal data).
func (s *Server) retryDeliveries(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.requireAdmin(w, r)
	if !ok {
		return
	}
	var in httpkit.RetryRequest
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	var v domain.Validation
	chosen := 0
	for _, set := range []bool{len(in.IDs) > 0, in.Dead, in.Failing} {
		if set {
			chosen++
		}
	}
	switch {
	case chosen == 0:
		v.Check(false, "ids", "is required: the ids of the deliveries to retry, or dead: true, or failing: true")
	case len(in.IDs) > 0 && chosen > 1:
		v.Check(false, "ids", "cannot be given with dead or failing")
	case in.Dead && in.Failing:
		v.Check(false, "failing", "cannot be given with dead")
	}
	v.Check(len(in.IDs) <= maxRetryIDs, "ids", "holds %d ids; at most %d at once", len(in.IDs), maxRetryIDs)
	for i, id := range in.IDs {
		v.Check(id > 0, fmt.Sprintf("ids[%d]", i), "must be a delivery id (a positive number)")
	}
	if in.Destination != "" {
		v.Check(len(in.IDs) == 0, "destination", "applies to dead or failing, not to ids")
		statuses, err := s.deliveryStatuses(ctx)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var known []string
		for _, st := range statuses {
			known = append(known, st.Destination)
		}
		v.Check(slices.Contains(known, in.Destination), "destination", "is not one of %v", known)
	}
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	var retried int64
	ready, err := s.deliveriesTableReady(ctx)
	if err == nil && ready {
		if len(in.IDs) > 0 {
			retried, err = delivery.RetryIDs(ctx, s.readDB, s.now(), in.IDs)
		} else {
			retried, err = delivery.Retry(ctx, s.readDB, s.now(), delivery.RetryOptions{Dead: in.Dead, Destination: in.Destination})
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The audit trail of a repair: who, which deliveries, how many came back. Delivery ids and
	// destinations are no personal data; the official's id is how every event names its actor.
	s.logger.InfoContext(ctx, "deliveries retried", "by", caller.ID, "role", string(commands.RoleAdmin), "ids", in.IDs,
		"dead", in.Dead, "failing", in.Failing, "destination", in.Destination, "retried", retried)
	writeJSON(w, http.StatusOK, httpkit.RetryDone{Retried: retried})
}

// sentNotifications returns the notifications sent about the dossier (its id), newest first, at
// most delivery.MaxSentShown, in words; none when the outbox is not shown or holds none. A failure
// to read them is logged and shows none: the lookup's answer does not depend on the outbox.
func (s *Server) sentNotifications(ctx context.Context, dossierID string) []httpkit.SentNotification {
	if s.deliveries == nil || dossierID == "" {
		return nil
	}
	sent, err := s.deliveries.sent.Latest(ctx, commands.StreamName(dossierID))
	if err != nil {
		s.logger.WarnContext(ctx, "public lookup: the notifications sent could not be read", "dossier", dossierID, "err", err)
		return nil
	}
	var out []httpkit.SentNotification
	for _, d := range sent {
		out = append(out, httpkit.SentNotification{Channel: d.Destination, ChannelVI: l10n.VI.Destination(d.Destination), ChannelEN: l10n.EN.Destination(d.Destination),
			Kind: d.Kind, KindVI: l10n.VI.NotificationKind(d.Kind), KindEN: l10n.EN.NotificationKind(d.Kind), SentAt: d.SentAt})
	}
	return out
}
