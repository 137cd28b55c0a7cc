package chain

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// Checkpoints live in the event store itself, so they work the same on every backend and travel with
// a backup or a migration: one summary event per checkpoint in CheckpointStream (small, so reading
// all of them stays cheap) and its detail — every covered event's hash — in a stream of its own named
// by the detail's hash, read only when a verifier needs it.
const (
	CheckpointStream   = "integrity-checkpoints"
	CheckpointType     = "integrity.checkpoint.v1"
	DetailType         = "integrity.checkpoint_detail.v1"
	detailStreamPrefix = "integrity-detail-"
	integrityPrefix    = "integrity-"
	// checkpointSigningDomain prefixes the signed message, so a checkpoint signature can never be
	// taken for a signature of anything else made with the same key.
	checkpointSigningDomain = "motcua.checkpoint.v1\n"
	rollingDomain           = "motcua.log.v1"
)

// IsIntegrityStream reports whether stream holds checkpoints rather than business events.
func IsIntegrityStream(stream string) bool { return strings.HasPrefix(stream, integrityPrefix) }

func detailStream(detailHash string) string { return detailStreamPrefix + detailHash }

// Checkpoint is the signed summary of the global log up to Through.
type Checkpoint struct {
	Sequence  uint64              `json:"sequence"` // 1, 2, …: its version in CheckpointStream
	Previous  string              `json:"previous"` // BodyHash of checkpoint Sequence-1; "" for the first
	After     eventstore.Position `json:"after"`    // it covers the events after After …
	Through   eventstore.Position `json:"through"`  // … through Through
	Events    uint64              `json:"events"`   // events in that range
	Total     uint64              `json:"total"`    // events from the start of the log through Through
	Rolling   string              `json:"rolling"`  // rolling hash of every event from the start through Through
	Detail    string              `json:"detail"`   // hex SHA-256 of the Detail document
	CreatedAt time.Time           `json:"created_at"`
}

// signedCheckpoint is a CheckpointStream event's data. The signature covers the body's exact bytes.
type signedCheckpoint struct {
	Body      json.RawMessage `json:"body"`
	KeyID     string          `json:"key_id"`
	Signature string          `json:"signature"` // base64 Ed25519 over checkpointSigningDomain + body
}

// Detail lists the hash of every event a checkpoint covers, by stream in order of first appearance.
// Within one range of the global log a stream's events are consecutive versions.
type Detail struct {
	Streams []Run `json:"streams"`
}

// Run is the hashes of versions From, From+1, … of one stream.
type Run struct {
	Stream string   `json:"stream"`
	From   uint64   `json:"from"`
	Hashes []string `json:"hashes"`
}

// roll extends the rolling hash of the global log by one event's hash.
func roll(rolling, eventHash string) string {
	sum := sha256.Sum256([]byte(rollingDomain + rolling + eventHash))
	return hex.EncodeToString(sum[:])
}

// rollingStart is the rolling hash of the empty log.
func rollingStart() string {
	sum := sha256.Sum256([]byte(rollingDomain))
	return hex.EncodeToString(sum[:])
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// KeyID names an Ed25519 public key: hex of the first 16 bytes of SHA-256 over its PKIX DER encoding.
func KeyID(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // an Ed25519 public key always marshals
	}
	return sha256Hex(der)[:32]
}

// Checkpointer writes signed checkpoints.
type Checkpointer struct {
	store  eventstore.Store
	signer crypto.Signer
	keyID  string
	// MaxEvents bounds the events one checkpoint covers (its detail stays well under a megabyte);
	// a backlog is covered by several checkpoints in a row. 5000 when zero.
	MaxEvents int
	Now       func() time.Time
	Logger    *slog.Logger

	mu    sync.Mutex // one checkpoint at a time from this process
	known *tip       // the newest checkpoint seen, so polls read only what is newer
}

// NewCheckpointer returns a Checkpointer that appends to store (normally the chain-wrapped store, so
// the checkpoints are linked too) and signs with signer, which must hold an Ed25519 key: the
// deployment's key file, or an HSM behind crypto.Signer.
func NewCheckpointer(store eventstore.Store, signer crypto.Signer) (*Checkpointer, error) {
	pub, ok := signer.Public().(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("chain: checkpoints are signed with Ed25519, not %T", signer.Public())
	}
	return &Checkpointer{store: store, signer: signer, keyID: KeyID(pub)}, nil
}

func (c *Checkpointer) maxEvents() int {
	if c.MaxEvents > 0 {
		return c.MaxEvents
	}
	return 5000
}

func (c *Checkpointer) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

func (c *Checkpointer) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// tip is where the checkpoints stand: the latest one, or the start of the log before the first.
type tip struct {
	sequence  uint64
	bodyHash  string
	through   eventstore.Position
	total     uint64
	rolling   string
	createdAt time.Time
}

// latest returns the newest checkpoint, reading only those written since the last call. The writer
// trusts it as it is: a forged or altered checkpoint is the verifier's to find.
func (c *Checkpointer) latest(ctx context.Context) (tip, error) {
	from := uint64(1)
	if c.known != nil {
		from = c.known.sequence + 1
	}
	events, err := c.store.ReadStream(ctx, CheckpointStream, from)
	if err != nil {
		return tip{}, err
	}
	if len(events) == 0 {
		if c.known != nil {
			return *c.known, nil
		}
		return tip{rolling: rollingStart()}, nil
	}
	last := events[len(events)-1]
	cp, _, bodyHash, err := decodeCheckpoint(last.Data)
	if err != nil {
		return tip{}, fmt.Errorf("chain: checkpoint at version %d: %w", last.Version, err)
	}
	c.known = &tip{sequence: last.Version, bodyHash: bodyHash, through: cp.Through, total: cp.Total, rolling: cp.Rolling, createdAt: cp.CreatedAt}
	return *c.known, nil
}

func decodeCheckpoint(data []byte) (Checkpoint, signedCheckpoint, string, error) {
	var signed signedCheckpoint
	if err := json.Unmarshal(data, &signed); err != nil {
		return Checkpoint{}, signed, "", err
	}
	var cp Checkpoint
	if err := json.Unmarshal(signed.Body, &cp); err != nil {
		return Checkpoint{}, signed, "", fmt.Errorf("body: %w", err)
	}
	return cp, signed, sha256Hex(signed.Body), nil
}

// pending returns up to limit events after t, and whether any of them is a business event (events
// of the checkpoints themselves alone do not call for a new checkpoint, or each would call the next).
func (c *Checkpointer) pending(ctx context.Context, t tip, limit int) ([]eventstore.RecordedEvent, bool, error) {
	var events []eventstore.RecordedEvent
	after := t.through
	for len(events) < limit {
		page, err := c.store.ReadAll(ctx, after, min(limit-len(events), 1000))
		if err != nil {
			return nil, false, err
		}
		if len(page) == 0 {
			break
		}
		events = append(events, page...)
		after = page[len(page)-1].Position
	}
	for _, e := range events {
		if !IsIntegrityStream(e.Stream) {
			return events, true, nil
		}
	}
	return events, false, nil
}

// ErrCheckpointRace: another writer appended a checkpoint first; try again.
var ErrCheckpointRace = errors.New("another checkpoint was written first")

// Checkpoint signs every event not yet covered, in as many checkpoints as MaxEvents requires, and
// returns what it wrote (nothing when no business event is new). When another process writes a
// checkpoint meanwhile it stops with ErrCheckpointRace.
func (c *Checkpointer) Checkpoint(ctx context.Context) ([]Checkpoint, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checkpoint(ctx)
}

func (c *Checkpointer) checkpoint(ctx context.Context) ([]Checkpoint, error) {
	t, err := c.latest(ctx)
	if err != nil {
		return nil, err
	}
	var written []Checkpoint
	for {
		events, due, err := c.pending(ctx, t, c.maxEvents())
		if err != nil || !due {
			return written, err
		}
		cp, next, err := c.write(ctx, t, events)
		if err != nil {
			return written, err
		}
		written = append(written, cp)
		t, c.known = next, &next
		if len(events) < c.maxEvents() {
			return written, nil
		}
	}
}

// write appends the checkpoint over events, which follow t: the detail first, then the summary with
// the expected version that makes two writers' checkpoints exclusive.
func (c *Checkpointer) write(ctx context.Context, t tip, events []eventstore.RecordedEvent) (Checkpoint, tip, error) {
	var (
		detail  Detail
		runs    = map[string]int{}
		rolling = t.rolling
	)
	for _, e := range events {
		h := recordedHash(e)
		rolling = roll(rolling, h)
		i, ok := runs[e.Stream]
		if !ok {
			i = len(detail.Streams)
			runs[e.Stream] = i
			detail.Streams = append(detail.Streams, Run{Stream: e.Stream, From: e.Version})
		}
		detail.Streams[i].Hashes = append(detail.Streams[i].Hashes, h)
	}
	detailData, err := json.Marshal(detail)
	if err != nil {
		return Checkpoint{}, tip{}, err
	}
	cp := Checkpoint{
		Sequence: t.sequence + 1, Previous: t.bodyHash, After: t.through, Through: events[len(events)-1].Position,
		Events: uint64(len(events)), Total: t.total + uint64(len(events)), Rolling: rolling,
		Detail: sha256Hex(detailData), CreatedAt: c.now(),
	}
	if err := c.appendDetail(ctx, cp.Detail, detailData); err != nil {
		return Checkpoint{}, tip{}, err
	}
	body, err := json.Marshal(cp)
	if err != nil {
		return Checkpoint{}, tip{}, err
	}
	signature, err := c.signer.Sign(rand.Reader, append([]byte(checkpointSigningDomain), body...), crypto.Hash(0))
	if err != nil {
		return Checkpoint{}, tip{}, fmt.Errorf("chain: sign checkpoint %d: %w", cp.Sequence, err)
	}
	data, err := json.Marshal(signedCheckpoint{Body: body, KeyID: c.keyID, Signature: base64.StdEncoding.EncodeToString(signature)})
	if err != nil {
		return Checkpoint{}, tip{}, err
	}
	_, err = c.store.Append(ctx, CheckpointStream, eventstore.Exact(t.sequence), integrityEvent(CheckpointType, data, cp.CreatedAt))
	if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		return Checkpoint{}, tip{}, fmt.Errorf("chain: checkpoint %d: %w", cp.Sequence, ErrCheckpointRace)
	}
	if err != nil {
		return Checkpoint{}, tip{}, fmt.Errorf("chain: append checkpoint %d: %w", cp.Sequence, err)
	}
	c.logger().InfoContext(ctx, "integrity checkpoint", "sequence", cp.Sequence, "events", cp.Events, "total", cp.Total, "through", cp.Through.String())
	return cp, tip{sequence: cp.Sequence, bodyHash: sha256Hex(body), through: cp.Through, total: cp.Total, rolling: rolling, createdAt: cp.CreatedAt}, nil
}

// appendDetail stores a detail document in the stream its hash names. The stream may exist already:
// a writer that lost the race for the same checkpoint wrote the same document, or someone planted a
// different one there; readers take the event whose data has the named hash, so ours is added unless
// it is already there.
func (c *Checkpointer) appendDetail(ctx context.Context, detailHash string, data []byte) error {
	stream := detailStream(detailHash)
	event := integrityEvent(DetailType, data, c.now())
	_, err := c.store.Append(ctx, stream, eventstore.NoStream, event)
	if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		return err
	}
	existing, err := c.store.ReadStream(ctx, stream, 1)
	if err != nil {
		return err
	}
	for _, e := range existing {
		if sha256Hex(e.Data) == detailHash {
			return nil
		}
	}
	_, err = c.store.Append(ctx, stream, eventstore.Any, event)
	return err
}

func integrityEvent(eventType string, data []byte, at time.Time) eventstore.EventData {
	return eventstore.EventData{
		ID: eventstore.NewEventID(), Type: eventType, Data: data,
		Metadata: eventstore.Metadata{Actor: eventstore.Actor{ID: "system", Name: "integrity checkpoints", Role: "system"}, OccurredAt: at},
	}
}

// Run writes a checkpoint whenever afterEvents business events are waiting or every interval when
// at least one is, polling every poll, until ctx ends. Failures are logged and retried at the next
// poll: a database hiccup must not stop the service.
func (c *Checkpointer) Run(ctx context.Context, interval time.Duration, afterEvents int, poll time.Duration) error {
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
		if err := c.checkpointIfDue(ctx, interval, afterEvents); err != nil && ctx.Err() == nil {
			c.logger().WarnContext(ctx, "integrity checkpoint failed", "err", err)
		}
	}
}

func (c *Checkpointer) checkpointIfDue(ctx context.Context, interval time.Duration, afterEvents int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := c.latest(ctx)
	if err != nil {
		return err
	}
	events, due, err := c.pending(ctx, t, afterEvents)
	if err != nil || !due {
		return err
	}
	if len(events) < afterEvents && c.now().Sub(t.createdAt) < interval {
		return nil
	}
	_, err = c.checkpoint(ctx)
	if errors.Is(err, ErrCheckpointRace) {
		return nil // another node checkpointed; the next poll continues from its checkpoint
	}
	return err
}
