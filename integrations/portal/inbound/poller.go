package inbound

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/integrations/portal"
)

// Recorder records a verified dossier from the portal and says whether it opened a new dossier
// (false: the portal's id had already opened one). It must be idempotent on Submission.PortalID.
// A domain EINVALID error means the dossier is refused for good (the poller parks it); any other
// error is a failure to record that is tried again.
type Recorder func(ctx context.Context, s Submission) (dossierID string, created bool, err error)

// The feed the poller pulls (the portal's side is simulated by feedsim):
//
//	GET <feed URL>?ViTri=<cursor>&SoLuong=<n>     Authorization: Bearer <token>
//	200 {"DanhSach": [{"ViTri": "<cursor of this item>", "HoSo": {…Document…}}, …]}
//
// Items come in the portal's order, after the cursor given (from the start when empty); an empty
// list means nothing new. A cursor is opaque to motcua.
type feedPage struct {
	DanhSach []feedItem `json:"DanhSach"`
}

type feedItem struct {
	ViTri string          `json:"ViTri"`
	HoSo  json.RawMessage `json:"HoSo"`
}

// Poller pulls the portal's feed of dossiers filed there and records each with Record. The cursor
// (the last item recorded or parked) is kept in DB and moved only after its item is recorded, so a
// crash repeats at most the items since the last move — which Record's idempotency absorbs: at
// least once pulled, exactly once recorded. An item refused for good is parked (kept in
// portal_inbound_parked with the fields at fault, counted, logged) and the feed goes on.
type Poller struct {
	FeedURL  string
	Client   *http.Client        // http.DefaultClient when nil; give it a timeout
	Token    *portal.TokenSource // nil: the feed asks for no token
	DB       *sql.DB
	Dialect  engine.Dialect
	Catalog  func() *domain.Catalog // the catalog in force now (it changes while serve runs)
	Record   Recorder
	Interval time.Duration // between polls when the feed is drained; 30 s when 0
	PageSize int           // 100 when 0
	Logger   *slog.Logger
	Now      func() time.Time

	stats Stats
}

// Stats counts what the poller did since it started, for /metrics.
type Stats struct {
	Recorded            atomic.Int64 // dossiers opened
	Repeated            atomic.Int64 // items whose portal id had already opened a dossier
	Parked              atomic.Int64 // items refused for good
	Failures            atomic.Int64 // polls that failed (the portal or the store unreachable)
	ConsecutiveFailures atomic.Int64
	LastSuccess         atomic.Int64 // Unix seconds of the last poll that reached the end of the feed
}

// Stats returns the poller's counters.
func (p *Poller) Stats() *Stats { return &p.stats }

const (
	cursorTable = "portal_inbound_cursor"
	parkedTable = "portal_inbound_parked"
	feedName    = "dvcqg"
)

// Migrate creates the poller's tables (the cursor and the parked items) in db.
func Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	if err := d.Check(); err != nil {
		return err
	}
	for _, s := range []string{
		`CREATE TABLE IF NOT EXISTS ` + cursorTable + ` (feed TEXT PRIMARY KEY, position TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + parkedTable + ` (feed TEXT NOT NULL, position TEXT NOT NULL, portal_id TEXT NOT NULL,
			problem TEXT NOT NULL, parked_at BIGINT NOT NULL, PRIMARY KEY (feed, position))`,
	} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("portal inbound: migrate: %w", err)
		}
	}
	return nil
}

// Run polls until ctx ends. A failed poll is tried again after a growing wait (up to ten
// intervals), so an outage of the portal is ridden out without hammering it.
func (p *Poller) Run(ctx context.Context) error {
	if err := Migrate(ctx, p.DB, p.Dialect); err != nil {
		return err
	}
	interval := p.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	for {
		wait := interval
		if err := p.Poll(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			n := p.stats.ConsecutiveFailures.Load()
			wait = min(interval<<min(n, 4), 10*interval)
			wait = wait/2 + rand.N(wait/2+1)
			p.logger().WarnContext(ctx, "portal feed poll failed; trying again later", "err", err, "consecutive_failures", n, "retry_in", wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Poll pulls the feed from the stored cursor to its end, recording each item. It stops at the first
// failure to fetch or record, leaving the cursor after the last item done.
func (p *Poller) Poll(ctx context.Context) error {
	err := p.poll(ctx)
	if err != nil {
		p.stats.Failures.Add(1)
		p.stats.ConsecutiveFailures.Add(1)
		return err
	}
	p.stats.ConsecutiveFailures.Store(0)
	p.stats.LastSuccess.Store(p.now().Unix())
	return nil
}

func (p *Poller) poll(ctx context.Context) error {
	cursor, err := p.cursor(ctx)
	if err != nil {
		return err
	}
	for {
		page, err := p.fetch(ctx, cursor)
		if err != nil {
			return err
		}
		if len(page.DanhSach) == 0 {
			return nil
		}
		for _, item := range page.DanhSach {
			if item.ViTri == "" {
				return errors.New("portal feed: an item without its position (ViTri)")
			}
			if err := p.take(ctx, item); err != nil {
				return err
			}
			cursor = item.ViTri
		}
	}
}

// take records or parks one item, then moves the cursor past it.
func (p *Poller) take(ctx context.Context, item feedItem) error {
	sub, err := Parse(item.HoSo, p.Catalog(), p.now())
	var dossierID string
	var created bool
	if err == nil {
		dossierID, created, err = p.Record(ctx, sub)
	}
	if err != nil {
		if domain.ErrorCodeOf(err) != domain.EINVALID {
			return fmt.Errorf("portal feed: record item %s: %w", item.ViTri, err)
		}
		return p.park(ctx, item, err)
	}
	if created {
		p.stats.Recorded.Add(1)
		p.logger().InfoContext(ctx, "portal dossier recorded", "portal_id", sub.PortalID, "dossier", dossierID, "position", item.ViTri)
	} else {
		p.stats.Repeated.Add(1)
	}
	return p.advance(ctx, nil, item.ViTri)
}

// park keeps a refused item's position, portal id and fields at fault — not its content, which is
// personal data and stays on the portal — and moves the cursor past it, in one transaction.
func (p *Poller) park(ctx context.Context, item feedItem, refusal error) error {
	portalID := PortalIDOf(item.HoSo)
	problem := describe(refusal)
	tx, err := p.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO `+parkedTable+` (feed, position, portal_id, problem, parked_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (feed, position) DO NOTHING`, feedName, item.ViTri, portalID, problem, p.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("portal feed: park item %s: %w", item.ViTri, err)
	}
	if err := p.advance(ctx, tx, item.ViTri); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	p.stats.Parked.Add(1)
	p.logger().ErrorContext(ctx, "portal dossier parked: refused for good, the feed goes on", "portal_id", portalID, "position", item.ViTri, "problem", problem)
	return nil
}

// describe names the fields at fault and why; the messages quote no values.
func describe(err error) string {
	var de *domain.Error
	if !errors.As(err, &de) || len(de.Fields) == 0 {
		if de != nil {
			return de.Message
		}
		return "refused"
	}
	parts := make([]string, len(de.Fields))
	for i, f := range de.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return strings.Join(parts, "; ")
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (p *Poller) advance(ctx context.Context, tx execer, position string) error {
	if tx == nil {
		tx = p.DB
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO `+cursorTable+` (feed, position, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (feed) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`, feedName, position, p.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("portal feed: store the cursor: %w", err)
	}
	return nil
}

func (p *Poller) cursor(ctx context.Context) (string, error) {
	return Cursor(ctx, p.DB)
}

// Cursor returns the position of the last item of the portal's feed recorded or parked ("" before
// the first).
func Cursor(ctx context.Context, db *sql.DB) (string, error) {
	var position string
	err := db.QueryRowContext(ctx, `SELECT position FROM `+cursorTable+` WHERE feed = $1`, feedName).Scan(&position)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("portal feed: read the cursor: %w", err)
	}
	return position, nil
}

// ParkedItem is an item of the feed refused for good.
type ParkedItem struct {
	Position string    `json:"position"`
	PortalID string    `json:"portal_id"`
	Problem  string    `json:"problem"`
	ParkedAt time.Time `json:"parked_at"`
}

// Parked lists the parked items, oldest first, at most limit of them.
func Parked(ctx context.Context, db *sql.DB, limit int) ([]ParkedItem, error) {
	rows, err := db.QueryContext(ctx, `SELECT position, portal_id, problem, parked_at FROM `+parkedTable+`
		WHERE feed = $1 ORDER BY parked_at, position LIMIT $2`, feedName, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var items []ParkedItem
	for rows.Next() {
		var it ParkedItem
		var at int64
		if err := rows.Scan(&it.Position, &it.PortalID, &it.Problem, &at); err != nil {
			return nil, err
		}
		it.ParkedAt = time.UnixMilli(at).UTC()
		items = append(items, it)
	}
	return items, rows.Err()
}

// maxFeedPageBytes bounds one page of the feed.
const maxFeedPageBytes = 32 << 20

func (p *Poller) fetch(ctx context.Context, cursor string) (feedPage, error) {
	u, err := url.Parse(p.FeedURL)
	if err != nil {
		return feedPage{}, fmt.Errorf("portal feed URL: %w", err)
	}
	q := u.Query()
	q.Set("ViTri", cursor)
	q.Set("SoLuong", strconv.Itoa(cmp.Or(p.PageSize, 100)))
	u.RawQuery = q.Encode()
	resp, err := p.Token.Get(ctx, p.client(), u.String())
	if err != nil {
		return feedPage{}, fmt.Errorf("portal feed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return feedPage{}, fmt.Errorf("portal feed: answered %s", resp.Status)
	}
	var page feedPage
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxFeedPageBytes)).Decode(&page); err != nil {
		return feedPage{}, fmt.Errorf("portal feed: the page is not the feed's JSON: %w", err)
	}
	return page, nil
}

func (p *Poller) client() *http.Client {
	if p.Client != nil {
		return p.Client
	}
	return http.DefaultClient
}

func (p *Poller) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
