package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/motcua/motcua/domain"
)

// DestinationStatus is what an operator sees of one destination's deliveries.
type DestinationStatus struct {
	Destination string `json:"destination"`
	// Pending counts the deliveries waiting to be sent, Failing among them.
	Pending int64 `json:"pending"`
	// Failing counts the pending deliveries that failed at least once.
	Failing int64 `json:"failing"`
	Dead    int64 `json:"dead"`
	Sent    int64 `json:"sent"`
	Skipped int64 `json:"skipped"`
	// OldestPending is the age of the oldest pending delivery (0 when none is pending).
	OldestPending time.Duration `json:"oldest_pending_ns"`
}

// Status counts the deliveries per destination and state, listing every one of known (the
// configured destinations) even when it has no delivery yet. The counts read the (destination,
// state) index only; the failing count and the oldest age read the pending rows only.
func Status(ctx context.Context, db *sql.DB, now time.Time, known ...string) ([]DestinationStatus, error) {
	byName := map[string]*DestinationStatus{}
	get := func(name string) *DestinationStatus {
		s, ok := byName[name]
		if !ok {
			s = &DestinationStatus{Destination: name}
			byName[name] = s
		}
		return s
	}
	for _, name := range known {
		get(name)
	}
	rows, err := db.QueryContext(ctx, `SELECT destination, state, COUNT(*) FROM `+deliveriesTable+` GROUP BY destination, state`)
	if err != nil {
		return nil, fmt.Errorf("deliveries: status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var destination, state string
		var count int64
		if err := rows.Scan(&destination, &state, &count); err != nil {
			return nil, err
		}
		s := get(destination)
		switch State(state) {
		case Pending:
			s.Pending = count
		case Sent:
			s.Sent = count
		case Dead:
			s.Dead = count
		case Skipped:
			s.Skipped = count
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	pending, err := db.QueryContext(ctx, `SELECT destination, SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), MIN(created_at)
		FROM `+deliveriesTable+` WHERE state = 'pending' GROUP BY destination`)
	if err != nil {
		return nil, fmt.Errorf("deliveries: status: %w", err)
	}
	defer pending.Close()
	for pending.Next() {
		var destination string
		var failing, oldest int64
		if err := pending.Scan(&destination, &failing, &oldest); err != nil {
			return nil, err
		}
		s := get(destination)
		s.Failing, s.OldestPending = failing, max(now.Sub(time.UnixMilli(oldest)), 0)
	}
	if err := pending.Err(); err != nil {
		return nil, err
	}
	out := make([]DestinationStatus, 0, len(byName))
	for _, s := range byName {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b DestinationStatus) int { return strings.Compare(a.Destination, b.Destination) })
	return out, nil
}

// RetryOptions chooses the deliveries Retry makes due now.
type RetryOptions struct {
	// Dead brings dead deliveries back, with a fresh count of attempts; otherwise the failing
	// ones (pending, failed at least once) are made due now instead of at their next attempt.
	Dead bool
	// Destination, when set, limits the retry to one destination.
	Destination string
}

// Retry makes the chosen deliveries due now and returns how many it changed. A dead delivery
// comes back with its attempts counted from zero; its last error stays until the next attempt.
func Retry(ctx context.Context, db *sql.DB, now time.Time, opts RetryOptions) (int64, error) {
	query := `UPDATE ` + deliveriesTable + ` SET next_attempt_at = $1 WHERE state = 'pending' AND attempts > 0`
	if opts.Dead {
		query = `UPDATE ` + deliveriesTable + ` SET state = 'pending', attempts = 0, next_attempt_at = $1, lease_until = 0, done_at = 0
			WHERE state = 'dead'`
	}
	args := []any{now.UnixMilli()}
	if opts.Destination != "" {
		query += ` AND destination = $2`
		args = append(args, opts.Destination)
	}
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("deliveries: retry: %w", err)
	}
	return res.RowsAffected()
}

// ListOptions chooses the deliveries List returns.
type ListOptions struct {
	// State is pending, failing (pending, failed at least once), dead, sent or skipped; every
	// state when empty.
	State       string
	Destination string
	// Limit bounds the answer (50 when zero, 500 at most); AfterID continues after the last id
	// of the previous page.
	Limit   int
	AfterID int64
}

// List returns deliveries in the chosen state, oldest first: for an operator looking for a stuck
// one. Rows hold no personal data (the dossier's stream, the event, the scrubbed last error).
func List(ctx context.Context, db *sql.DB, opts ListOptions) ([]Delivery, error) {
	state, failing := opts.State, false
	if state == "failing" {
		state, failing = string(Pending), true
	}
	switch State(state) {
	case Pending, Sent, Dead, Skipped, "":
	default:
		return nil, fmt.Errorf("deliveries: unknown state %q (want pending, failing, dead, sent or skipped)", opts.State)
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	query := `SELECT ` + deliveryColumns + ` FROM ` + deliveriesTable + ` d WHERE d.id > $1`
	args := []any{opts.AfterID}
	if state != "" {
		args = append(args, state)
		query += fmt.Sprintf(` AND d.state = $%d`, len(args))
	}
	if failing {
		query += ` AND d.attempts > 0`
	}
	if opts.Destination != "" {
		args = append(args, opts.Destination)
		query += fmt.Sprintf(` AND d.destination = $%d`, len(args))
	}
	query += fmt.Sprintf(` ORDER BY d.id LIMIT %d`, limit)
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("deliveries: list: %w", err)
	}
	return scanDeliveries(rows)
}

// Collector exports the deliveries' state as Prometheus gauges, read from the table at each scrape.
type Collector struct {
	DB           *sql.DB
	Destinations []string
	count        *prometheus.Desc
	oldest       *prometheus.Desc
	up           *prometheus.Desc
}

// NewCollector returns the collector of the deliveries in db, listing destinations even when they
// have none.
func NewCollector(db *sql.DB, destinations ...string) *Collector {
	return &Collector{DB: db, Destinations: destinations,
		count: prometheus.NewDesc("motcua_deliveries", "Deliveries per destination and state (pending includes failing).",
			[]string{"destination", "state"}, nil),
		oldest: prometheus.NewDesc("motcua_delivery_oldest_pending_seconds", "Age of the oldest delivery waiting to be sent; alert when it grows.",
			[]string{"destination"}, nil),
		up: prometheus.NewDesc("motcua_deliveries_status_up", "1 when the deliveries table could be read at this scrape.", nil, nil),
	}
}

func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.count
	ch <- c.oldest
	ch <- c.up
}

func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	statuses, err := Status(ctx, c.DB, time.Now(), c.Destinations...)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, s := range statuses {
		for state, n := range map[string]int64{"pending": s.Pending, "failing": s.Failing, "dead": s.Dead, "sent": s.Sent, "skipped": s.Skipped} {
			ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(n), s.Destination, state)
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.OldestPending.Seconds(), s.Destination)
	}
}

// FoldedDossiers pages through the dossiers the consumer has folded (all of them, from before the
// origin too), by stream name after the given one: their state without the applicant's identity.
func FoldedDossiers(ctx context.Context, db *sql.DB, after string, limit int) ([]string, []domain.Dossier, error) {
	rows, err := db.QueryContext(ctx, `SELECT dossier_id, state_json FROM `+dossiersTable+` WHERE dossier_id > $1 ORDER BY dossier_id LIMIT $2`, after, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("deliveries: folded dossiers: %w", err)
	}
	defer rows.Close()
	var (
		streams  []string
		dossiers []domain.Dossier
	)
	for rows.Next() {
		var stream, raw string
		if err := rows.Scan(&stream, &raw); err != nil {
			return nil, nil, err
		}
		var state folded
		if err := json.Unmarshal([]byte(raw), &state); err != nil {
			return nil, nil, fmt.Errorf("deliveries: decode the state of %s: %w", stream, err)
		}
		streams, dossiers = append(streams, stream), append(dossiers, state.Dossier)
	}
	return streams, dossiers, rows.Err()
}
