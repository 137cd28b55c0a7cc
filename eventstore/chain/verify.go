package chain

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// Kind says what happened to an event.
type Kind string

const (
	KindAltered    Kind = "altered"    // its content is not what was linked or signed
	KindRemoved    Kind = "removed"    // it was linked or signed and is gone
	KindReordered  Kind = "reordered"  // it is at another version or place in the log than it was
	KindInserted   Kind = "inserted"   // it sits in a signed range of the log that did not hold it
	KindCheckpoint Kind = "checkpoint" // a checkpoint is forged, altered, missing or out of sequence
)

// Finding is one thing verification found wrong.
type Finding struct {
	Kind       Kind   `json:"kind"`
	Stream     string `json:"stream,omitempty"`
	Version    uint64 `json:"version,omitempty"`
	EventID    string `json:"event_id,omitempty"`
	Checkpoint uint64 `json:"checkpoint,omitempty"`
	Detail     string `json:"detail"`
}

func (f Finding) String() string {
	where := f.Stream
	switch {
	case f.Stream == "":
		where = fmt.Sprintf("checkpoint %d", f.Checkpoint)
	case f.Version > 0:
		where = fmt.Sprintf("%s@%d", f.Stream, f.Version)
	}
	if f.EventID != "" {
		where += " (event " + f.EventID + ")"
	}
	return fmt.Sprintf("%s: %s: %s", f.Kind, where, f.Detail)
}

// CheckpointInfo identifies a checkpoint for a report.
type CheckpointInfo struct {
	Sequence  uint64              `json:"sequence"`
	Hash      string              `json:"hash"` // SHA-256 of its signed body: what to keep outside the database
	Through   eventstore.Position `json:"through"`
	Total     uint64              `json:"total"`
	KeyID     string              `json:"key_id"`
	CreatedAt time.Time           `json:"created_at"`
}

// Report is the verification of a whole store.
type Report struct {
	Events       uint64          `json:"events"`
	Streams      int             `json:"streams"`
	Checkpoints  int             `json:"checkpoints"`         // validly signed checkpoints
	Checkpointed uint64          `json:"checkpointed_events"` // events whose hash a valid checkpoint signed
	Unlinked     uint64          `json:"unlinked_events"`     // events after the first of a stream with no prev_hash (appended before the chain)
	Latest       *CheckpointInfo `json:"latest_checkpoint,omitempty"`
	Findings     []Finding       `json:"findings"`
}

// Intact reports whether nothing was found wrong.
func (r Report) Intact() bool { return len(r.Findings) == 0 }

// StreamReport is the verification of one stream.
type StreamReport struct {
	Stream       string          `json:"stream"`
	Events       int             `json:"events"`
	Checkpointed int             `json:"checkpointed_events"`
	Unlinked     int             `json:"unlinked_events"`
	Latest       *CheckpointInfo `json:"latest_checkpoint,omitempty"` // the newest checkpoint covering one of its events
	Findings     []Finding       `json:"findings"`
}

// Intact reports whether nothing was found wrong.
func (r StreamReport) Intact() bool { return len(r.Findings) == 0 }

// loadedCheckpoint is a checkpoint whose signature verified.
type loadedCheckpoint struct {
	Checkpoint
	bodyHash string
	keyID    string
}

func (c *loadedCheckpoint) info() *CheckpointInfo {
	return &CheckpointInfo{Sequence: c.Sequence, Hash: c.bodyHash, Through: c.Through, Total: c.Total, KeyID: c.keyID, CreatedAt: c.CreatedAt}
}

// covers reports whether p is in the checkpoint's range of the log.
func (c *loadedCheckpoint) covers(p eventstore.Position) bool {
	return c.After.Less(p) && !c.Through.Less(p)
}

// detailIndex is a checkpoint's Detail, indexed.
type detailIndex struct {
	hashes map[eventKey]string
	runs   map[string]Run
}

type eventKey struct {
	stream  string
	version uint64
}

// maxCachedDetails bounds the detail documents a Verifier keeps (each up to MaxEvents hashes).
const maxCachedDetails = 16

// Verifier checks streams and the whole store against their links and the signed checkpoints. It
// keeps the checkpoints it has read, so checking one dossier after another reads only new ones.
type Verifier struct {
	store eventstore.Store
	keys  map[string]ed25519.PublicKey

	mu          sync.Mutex
	read        uint64              // versions of CheckpointStream read so far
	checkpoints []*loadedCheckpoint // the validly signed ones, by sequence
	problems    []Finding           // what is wrong with the checkpoint stream itself
	details     map[string]*detailIndex
}

// NewVerifier returns a Verifier of store that trusts checkpoints signed by keys: the deployment's
// key and any retired ones.
func NewVerifier(store eventstore.Store, keys ...ed25519.PublicKey) *Verifier {
	v := &Verifier{store: store, keys: map[string]ed25519.PublicKey{}, details: map[string]*detailIndex{}}
	for _, k := range keys {
		v.keys[KeyID(k)] = k
	}
	return v
}

// refresh reads the checkpoints written since the last call.
func (v *Verifier) refresh(ctx context.Context) error {
	events, err := v.store.ReadStream(ctx, CheckpointStream, v.read+1)
	if err != nil {
		return err
	}
	for _, e := range events {
		for missing := v.read + 1; missing < e.Version; missing++ {
			v.problems = append(v.problems, Finding{Kind: KindCheckpoint, Stream: CheckpointStream, Version: missing, Checkpoint: missing,
				Detail: "the checkpoint is missing: it was removed"})
		}
		v.read = e.Version
		if f, ok := v.load(e); !ok {
			v.problems = append(v.problems, f)
		}
	}
	return nil
}

// load checks one CheckpointStream event: its signature, then that it follows the checkpoint before.
// A checkpoint that verifies is kept as a reference even when it does not follow on, because only
// the key's holder could have signed it.
func (v *Verifier) load(e eventstore.RecordedEvent) (Finding, bool) {
	bad := func(format string, args ...any) (Finding, bool) {
		return Finding{Kind: KindCheckpoint, Stream: CheckpointStream, Version: e.Version, EventID: e.ID.String(), Checkpoint: e.Version,
			Detail: fmt.Sprintf(format, args...)}, false
	}
	cp, signed, bodyHash, err := decodeCheckpoint(e.Data)
	if err != nil {
		return bad("unreadable checkpoint: %v", err)
	}
	key, ok := v.keys[signed.KeyID]
	if !ok {
		return bad("signed by key %q, which is not trusted", signed.KeyID)
	}
	signature, err := base64.StdEncoding.DecodeString(signed.Signature)
	if err != nil || !ed25519.Verify(key, append([]byte(checkpointSigningDomain), signed.Body...), signature) {
		return bad("the signature does not verify: the checkpoint was altered or forged")
	}
	loaded := &loadedCheckpoint{Checkpoint: cp, bodyHash: bodyHash, keyID: signed.KeyID}
	if cp.Sequence != e.Version {
		return bad("signed as checkpoint %d but stored as %d: checkpoints were reordered", cp.Sequence, e.Version)
	}
	var previous *loadedCheckpoint
	if n := len(v.checkpoints); n > 0 {
		previous = v.checkpoints[n-1]
	}
	v.checkpoints = append(v.checkpoints, loaded)
	switch {
	case previous == nil && cp.Sequence == 1 && (cp.Previous != "" || cp.After != eventstore.Start):
		return bad("the first checkpoint does not start at the beginning of the log")
	case previous != nil && previous.Sequence == cp.Sequence-1 && (cp.Previous != previous.bodyHash || cp.After != previous.Through):
		return bad("does not follow checkpoint %d", previous.Sequence)
	}
	return Finding{}, true
}

// covering returns the valid checkpoint whose range holds p, or nil.
func (v *Verifier) covering(p eventstore.Position) *loadedCheckpoint {
	i := sort.Search(len(v.checkpoints), func(i int) bool { return !v.checkpoints[i].Through.Less(p) })
	if i < len(v.checkpoints) && v.checkpoints[i].covers(p) {
		return v.checkpoints[i]
	}
	return nil
}

// detail returns the checkpoint's detail, or nil when no stored document has the signed hash.
func (v *Verifier) detail(ctx context.Context, cp *loadedCheckpoint) (*detailIndex, error) {
	if d, ok := v.details[cp.Detail]; ok {
		return d, nil
	}
	events, err := v.store.ReadStream(ctx, detailStream(cp.Detail), 1)
	if err != nil {
		return nil, err
	}
	var index *detailIndex
	for _, e := range events {
		var d Detail
		if sha256Hex(e.Data) != cp.Detail || json.Unmarshal(e.Data, &d) != nil {
			continue
		}
		index = &detailIndex{hashes: map[eventKey]string{}, runs: map[string]Run{}}
		for _, run := range d.Streams {
			index.runs[run.Stream] = run
			for i, h := range run.Hashes {
				index.hashes[eventKey{run.Stream, run.From + uint64(i)}] = h
			}
		}
		break
	}
	if len(v.details) >= maxCachedDetails {
		clear(v.details)
	}
	v.details[cp.Detail] = index
	return index, nil
}

// VerifyStream checks one stream: that its versions follow on, that its events are in the global
// log's order, that each event's link names its predecessor, and that every event a valid checkpoint
// covers has the hash the checkpoint signed. Removing the stream's last events is found here when a
// checkpoint covering a remaining event signed them; VerifyAll finds it in every case.
func (v *Verifier) VerifyStream(ctx context.Context, stream string) (StreamReport, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.refresh(ctx); err != nil {
		return StreamReport{}, err
	}
	events, err := v.store.ReadStream(ctx, stream, 1)
	if err != nil {
		return StreamReport{}, err
	}
	report := StreamReport{Stream: stream, Events: len(events)}
	var findings findingSet
	confirmed, err := v.checkAgainstCheckpoints(ctx, stream, events, &report, &findings)
	if err != nil {
		return StreamReport{}, err
	}
	report.Unlinked = checkLinks(stream, events, confirmed, &findings)
	report.Findings = findings.sorted()
	return report, nil
}

// checkAgainstCheckpoints compares each event of stream with the checkpoint covering its position and
// returns the versions a checkpoint confirmed.
func (v *Verifier) checkAgainstCheckpoints(ctx context.Context, stream string, events []eventstore.RecordedEvent, report *StreamReport, findings *findingSet) (map[uint64]bool, error) {
	confirmed := map[uint64]bool{}
	present := map[uint64]bool{}
	for _, e := range events {
		present[e.Version] = true
	}
	used := map[uint64]*loadedCheckpoint{}
	for _, e := range events {
		cp := v.covering(e.Position)
		if cp == nil {
			continue
		}
		report.Latest = cp.info()
		index, err := v.detail(ctx, cp)
		if err != nil {
			return nil, err
		}
		if index == nil {
			findings.add(Finding{Kind: KindCheckpoint, Stream: CheckpointStream, Version: cp.Sequence, Checkpoint: cp.Sequence,
				Detail: "the checkpoint's detail (the hash of each event it covers) is missing or altered"})
			continue
		}
		used[cp.Sequence] = cp
		h := recordedHash(e)
		want, signed := index.hashes[eventKey{stream, e.Version}]
		if signed && want == h {
			confirmed[e.Version] = true
			report.Checkpointed++
			continue
		}
		f, _ := judge(e, index, cp.Sequence, signed)
		findings.add(f)
	}
	// Versions a checkpoint signed that the stream no longer has.
	for _, cp := range used {
		index, err := v.detail(ctx, cp)
		if err != nil {
			return nil, err
		}
		run := index.runs[stream]
		for i := range run.Hashes {
			if version := run.From + uint64(i); !present[version] {
				findings.add(Finding{Kind: KindRemoved, Stream: stream, Version: version, Checkpoint: cp.Sequence,
					Detail: fmt.Sprintf("checkpoint %d signed this event and it is gone", cp.Sequence)})
			}
		}
	}
	return confirmed, nil
}

// judge explains why e does not match what checkpoint sequence signed for its place: it is the event
// signed for another version of its stream (reordered), it was signed with different content
// (altered), or it was not signed at all although its position is in the checkpoint's range
// (inserted). It also returns the signed entry e stands for, if any, which is therefore not missing.
func judge(e eventstore.RecordedEvent, index *detailIndex, sequence uint64, signed bool) (Finding, *eventKey) {
	f := Finding{Stream: e.Stream, Version: e.Version, EventID: e.ID.String(), Checkpoint: sequence}
	run := index.runs[e.Stream]
	for i, h := range run.Hashes {
		if other := run.From + uint64(i); other != e.Version && Hash(e.Stream, other, e.EventData) == h {
			f.Kind, f.Detail = KindReordered, fmt.Sprintf("checkpoint %d signed this event as version %d", sequence, other)
			return f, &eventKey{e.Stream, other}
		}
	}
	if signed {
		f.Kind, f.Detail = KindAltered, fmt.Sprintf("its content differs from what checkpoint %d signed", sequence)
		return f, &eventKey{e.Stream, e.Version}
	}
	f.Kind, f.Detail = KindInserted, fmt.Sprintf("checkpoint %d covers its place in the log and did not sign it", sequence)
	return f, nil
}

// checkLinks checks a stream's events, in version order, among themselves: versions follow on, the
// global order agrees with the versions, and each link names the hash of the event before. A broken
// link accuses the event before it unless a checkpoint confirmed that event, in which case the link
// itself was altered. It returns how many events after the first have no link.
func checkLinks(stream string, events []eventstore.RecordedEvent, confirmed map[uint64]bool, findings *findingSet) int {
	reordered := map[uint64]bool{}
	for i := 1; i < len(events); i++ {
		if prev, e := events[i-1], events[i]; !prev.Position.Less(e.Position) {
			reordered[prev.Version], reordered[e.Version] = true, true
			for _, r := range []eventstore.RecordedEvent{prev, e} {
				findings.add(Finding{Kind: KindReordered, Stream: stream, Version: r.Version, EventID: r.ID.String(),
					Detail: fmt.Sprintf("versions %d and %d are not in the order the log recorded them", prev.Version, e.Version)})
			}
		}
	}
	unlinked := 0
	prevVersion, prevHash := uint64(0), StreamSeed(stream)
	for _, e := range events {
		contiguous := e.Version == prevVersion+1
		for missing := prevVersion + 1; missing < e.Version; missing++ {
			findings.add(Finding{Kind: KindRemoved, Stream: stream, Version: missing,
				Detail: fmt.Sprintf("the stream goes from version %d to %d", prevVersion, e.Version)})
		}
		switch {
		case e.Metadata.PrevHash == "":
			if e.Version > 1 {
				unlinked++
			}
		case !contiguous || reordered[e.Version] || reordered[prevVersion] || e.Metadata.PrevHash == prevHash:
		case prevVersion > 0 && !confirmed[prevVersion]:
			findings.add(Finding{Kind: KindAltered, Stream: stream, Version: prevVersion,
				Detail: fmt.Sprintf("version %d records a different hash for it (or that link was altered)", e.Version)})
		default:
			findings.add(Finding{Kind: KindAltered, Stream: stream, Version: e.Version, EventID: e.ID.String(),
				Detail: "its prev_hash does not name the event before it"})
		}
		prevVersion, prevHash = e.Version, recordedHash(e)
	}
	return unlinked
}

// findingSet collects findings once each.
type findingSet struct {
	seen map[findingKey]bool
	list []Finding
}

// findingKey identifies a finding about an event, or about a checkpoint's range when it names no stream.
type findingKey struct {
	kind       Kind
	stream     string
	version    uint64
	checkpoint uint64
}

func (s *findingSet) add(f Finding) {
	if s.seen == nil {
		s.seen = map[findingKey]bool{}
	}
	k := findingKey{f.Kind, f.Stream, f.Version, 0}
	if f.Stream == "" {
		k.checkpoint = f.Checkpoint
	}
	if s.seen[k] {
		return
	}
	s.seen[k] = true
	s.list = append(s.list, f)
}

func (s *findingSet) sorted() []Finding {
	list := slices.Clone(s.list)
	slices.SortStableFunc(list, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Stream, b.Stream), cmp.Compare(a.Version, b.Version), cmp.Compare(a.Kind, b.Kind))
	})
	if list == nil {
		list = []Finding{}
	}
	return list
}

// VerifyAll checks the whole store: every checkpoint's signature and sequence; the global log against
// each checkpoint's rolling hash and per-event hashes, which names every event altered, removed,
// inserted or reordered in a signed range; and every stream's versions and links. Streams whose links
// or versions look wrong are then checked one by one, as VerifyStream does. It holds one piece of
// state per stream in memory.
func (v *Verifier) VerifyAll(ctx context.Context) (Report, error) {
	v.mu.Lock()
	if err := v.refresh(ctx); err != nil {
		v.mu.Unlock()
		return Report{}, err
	}
	var findings findingSet
	for _, f := range v.problems {
		findings.add(f)
	}
	report := Report{Checkpoints: len(v.checkpoints)}
	if n := len(v.checkpoints); n > 0 {
		report.Latest = v.checkpoints[n-1].info()
	}
	pass := logPass{v: v, findings: &findings, report: &report, streams: map[string]*streamTip{}, suspects: map[string]bool{},
		rolling: rollingStart()}
	err := pass.run(ctx)
	v.mu.Unlock()
	if err != nil {
		return Report{}, err
	}
	report.Streams = len(pass.streams)
	suspects := make([]string, 0, len(pass.suspects))
	for s := range pass.suspects {
		suspects = append(suspects, s)
	}
	slices.Sort(suspects)
	for _, stream := range suspects {
		sr, err := v.VerifyStream(ctx, stream)
		if err != nil {
			return Report{}, err
		}
		for _, f := range sr.Findings {
			findings.add(f)
		}
	}
	report.Findings = findings.sorted()
	return report, nil
}

// logPass is one read of the global log by VerifyAll.
type logPass struct {
	v        *Verifier
	findings *findingSet
	report   *Report
	streams  map[string]*streamTip
	suspects map[string]bool

	rolling   string
	total     uint64
	next      int          // index in v.checkpoints of the next range to close
	index     *detailIndex // detail of checkpoint next, once an event of its range was read
	matched   map[eventKey]bool
	explained bool // an event of the range was named as altered, inserted or reordered
}

type streamTip struct {
	version uint64
	hash    string
}

const pageSize = 1000

func (p *logPass) run(ctx context.Context) error {
	after := eventstore.Start
	for {
		page, err := p.v.store.ReadAll(ctx, after, pageSize)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := p.event(ctx, e); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].Position
	}
	for p.next < len(p.v.checkpoints) {
		if err := p.closeRange(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (p *logPass) event(ctx context.Context, e eventstore.RecordedEvent) error {
	for p.next < len(p.v.checkpoints) && p.v.checkpoints[p.next].Through.Less(e.Position) {
		if err := p.closeRange(ctx); err != nil {
			return err
		}
	}
	h := recordedHash(e)
	p.report.Events++
	p.total++
	p.rolling = roll(p.rolling, h)

	tip := p.streams[e.Stream]
	if tip == nil {
		tip = &streamTip{hash: StreamSeed(e.Stream)}
		p.streams[e.Stream] = tip
	}
	switch {
	case e.Version != tip.version+1:
		p.suspects[e.Stream] = true
	case e.Metadata.PrevHash == "" && e.Version > 1:
		p.report.Unlinked++
	case e.Metadata.PrevHash != "" && e.Metadata.PrevHash != tip.hash:
		p.suspects[e.Stream] = true
	}
	tip.version, tip.hash = max(tip.version, e.Version), h

	if p.next >= len(p.v.checkpoints) || !p.v.checkpoints[p.next].covers(e.Position) {
		return nil
	}
	cp := p.v.checkpoints[p.next]
	if p.index == nil {
		index, err := p.v.detail(ctx, cp)
		if err != nil {
			return err
		}
		if index == nil {
			return nil // reported when the range closes, from the rolling hash
		}
		p.index, p.matched = index, map[eventKey]bool{}
	}
	key := eventKey{e.Stream, e.Version}
	want, signed := p.index.hashes[key]
	if signed && want == h {
		p.matched[key] = true
		p.report.Checkpointed++
		return nil
	}
	f, standsFor := judge(e, p.index, cp.Sequence, signed)
	if standsFor != nil {
		p.matched[*standsFor] = true
	}
	p.findings.add(f)
	p.explained = true
	return nil
}

// closeRange compares the log read so far with checkpoint next: every event its detail lists must have
// been read in its range, and the rolling hash and count must be the signed ones. After a mismatch the
// pass goes on from the signed values, so each range is judged on its own.
func (p *logPass) closeRange(ctx context.Context) error {
	cp := p.v.checkpoints[p.next]
	index := p.index
	if index == nil {
		var err error
		if index, err = p.v.detail(ctx, cp); err != nil {
			return err
		}
	}
	if index != nil {
		for key, h := range index.hashes {
			if !p.matched[key] {
				p.explained = true
				p.findings.add(Finding{Kind: KindRemoved, Stream: key.stream, Version: key.version, Checkpoint: cp.Sequence,
					Detail: fmt.Sprintf("checkpoint %d signed this event (hash %s…) and its range of the log no longer holds it", cp.Sequence, h[:16])})
			}
		}
	} else {
		p.findings.add(Finding{Kind: KindCheckpoint, Stream: CheckpointStream, Version: cp.Sequence, Checkpoint: cp.Sequence,
			Detail: "the checkpoint's detail (the hash of each event it covers) is missing or altered"})
	}
	if (p.rolling != cp.Rolling || p.total != cp.Total) && !p.explained {
		p.findings.add(Finding{Kind: KindAltered, Checkpoint: cp.Sequence,
			Detail: fmt.Sprintf("the log through %s differs from what checkpoint %d signed (%d events signed, %d read), and no single event could be named", cp.Through, cp.Sequence, cp.Total, p.total)})
	}
	p.rolling, p.total = cp.Rolling, cp.Total
	p.next++
	p.index, p.matched, p.explained = nil, nil, false
	return nil
}
