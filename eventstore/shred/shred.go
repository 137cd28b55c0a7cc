// Package shred crypto-shreds personal data inside events: an eventstore.Store decorator that
// encrypts each applicant's identity data (name, identity number, phone, e-mail, address) with a key
// of its own on Append and decrypts it on every read. A legal erasure request (Law 91/2025/QH15 on
// personal data protection and NĐ 356/2025/NĐ-CP from 1/1/2026; NĐ 13/2023 art. 16 before) deletes
// the applicant's key: from then on every read shows the applicant as erased, while the stored
// event bytes — and so any hash chain over them — stay exactly as they were.
//
// Wrap it outside any store decorator that must see the stored bytes (the tamper-evident chain), so
// that the chain hashes the ciphertext:
//
//	store = shred.Wrap(chain.Wrap(backend), keys, personal) // as cmd/motcua/wiring.Decorate does
package shred

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/motcua/motcua/eventstore/jsonscan"

	"github.com/motcua/motcua/eventstore"
)

// algorithm names the cipher of a sealed applicant, so a later change of cipher stays readable.
const algorithm = "A256GCM"

// PersonalData says where events carry an applicant's identity data and what it reads as once
// erased. The domain knows its events (domain.ApplicantFields, domain.ErasedName) and the wiring
// passes them in, so this package names no event type and depends on nothing of the domain.
type PersonalData struct {
	// Fields names, per event type, the top-level JSON member holding an applicant: an object whose
	// "id_number" chooses the key and whose "type" stays in clear.
	Fields map[string]string
	// Erased is what an erased applicant's name and identity number read as.
	Erased string
	// SubjectMembers names, per event type, a top-level string member of the payload whose value
	// chooses the key when the personal value carries no "id_number": a complaint's sender need
	// give none, and one key shared by every such sender would erase them all at once. The member
	// stays in clear (a lookup code, not personal data), so an erasure can name it.
	SubjectMembers map[string]string
}

// Subject identifies whose key encrypts a piece of personal data: the SHA-256 of the applicant's
// identity number, so the key table never holds the number itself.
type Subject string

// SubjectOf returns the subject of an applicant's identity number (citizen ID or tax code).
func SubjectOf(idNumber string) Subject {
	sum := sha256.Sum256([]byte("motcua/shred/subject/v1\x00" + strings.TrimSpace(idNumber)))
	return Subject(hex.EncodeToString(sum[:]))
}

// Key is one subject's AES-256 data key.
type Key struct {
	ID     string // random; stored beside the ciphertext, never derived from the subject
	Secret []byte // 32 bytes
}

// ErrNoKey is returned by KeyStore.Key for a key that does not exist: erased, or never made.
var ErrNoKey = errors.New("no such key")

// KeyStore keeps one data key per subject.
type KeyStore interface {
	// KeyFor returns subject's key, making one when it has none.
	KeyFor(ctx context.Context, subject Subject) (Key, error)
	// Key returns the key with the given id, or ErrNoKey.
	Key(ctx context.Context, id string) (Key, error)
	// Erase deletes subject's key and reports whether it had one.
	Erase(ctx context.Context, subject Subject) (bool, error)
}

// KeysByID is implemented by key stores that read many keys in one go: those of ids that exist
// (an erased or unknown id is left out). A read of a page of the log decrypts with it.
type KeysByID interface {
	KeysByID(ctx context.Context, ids []string) (map[string]Key, error)
}

// ErasureCounter is implemented by key stores that count every deletion or change of an existing
// key, made by any process (SQLKeys: a trigger counts in the same transaction). With it, the
// decorator keeps keys between reads (openedKeys); without it, each read asks for its keys anew.
type ErasureCounter interface {
	Erasures(ctx context.Context) (int64, error)
}

// Store encrypts personal data on Append and decrypts it on reads; see the package comment.
type Store struct {
	inner    eventstore.Store
	keys     KeyStore
	personal PersonalData
	erasures ErasureCounter // nil when keys counts none
	opened   openedKeys
}

var _ eventstore.Store = (*Store)(nil)

// Unwrap returns the store this decorates (eventstore.Wrapper): the same events, sealed.
func (s *Store) Unwrap() eventstore.Store { return s.inner }

// Wrap returns inner with the applicant data of new events, found where personal says, encrypted
// under keys. Events stored before (plain applicant data) read as they are.
func Wrap(inner eventstore.Store, keys KeyStore, personal PersonalData) *Store {
	s := &Store{inner: inner, keys: keys, personal: personal}
	s.erasures, _ = keys.(ErasureCounter)
	return s
}

// Erase deletes the key of the applicant with the given identity number, so that every event about
// them reads as erased from now on. It reports whether there was a key to delete.
func (s *Store) Erase(ctx context.Context, idNumber string) (bool, error) {
	return s.keys.Erase(ctx, SubjectOf(idNumber))
}

// sealed is what an applicant field holds once encrypted. Type (citizen or organisation) stays in
// clear: it is no personal data and statistics count by it.
type sealed struct {
	Type   json.RawMessage `json:"type,omitempty"`
	Sealed *envelope       `json:"sealed"`
}

type envelope struct {
	Algorithm  string `json:"alg"`
	KeyID      string `json:"kid"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ct"`
	Object     bool   `json:"object,omitempty"` // the clear value was a JSON object (it reads erased as one)
}

// Append encrypts the personal data of events and appends them to the inner store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	sealedEvents := make([]eventstore.EventData, len(events))
	for i, e := range events {
		data, err := s.seal(ctx, e)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		e.Data = data
		sealedEvents[i] = e
	}
	return s.inner.Append(ctx, stream, expected, sealedEvents...)
}

// seal replaces the personal field's value with its envelope, leaving every other byte of the
// payload as it was.
func (s *Store) seal(ctx context.Context, e eventstore.EventData) ([]byte, error) {
	field, ok := s.personal.Fields[e.Type]
	if !ok {
		return e.Data, nil
	}
	spans, err := fieldValues(e.Data, field)
	if err != nil {
		return e.Data, nil // not a JSON object: the inner store refuses it or keeps it as it is
	}
	data := e.Data
	for _, sp := range slices.Backward(spans) {
		plain := data[sp.start:sp.end]
		if isNull(plain) || isSealed(plain) {
			continue
		}
		var applicant struct {
			Type     json.RawMessage `json:"type"`
			IDNumber string          `json:"id_number"`
		}
		isObject := json.Unmarshal(plain, &applicant) == nil
		subject := applicant.IDNumber
		if strings.TrimSpace(subject) == "" {
			subject = s.subjectMember(e)
		}
		key, err := s.keys.KeyFor(ctx, SubjectOf(subject))
		if err != nil {
			return nil, fmt.Errorf("shred: key for event %s: %w", e.ID, err)
		}
		env, err := encrypt(key, plain, associatedData(e.ID.String(), e.Type))
		if err != nil {
			return nil, err
		}
		env.Object = isObject
		replacement, err := json.Marshal(sealed{Type: applicant.Type, Sealed: env})
		if err != nil {
			return nil, err
		}
		data = splice(data, sp, replacement)
	}
	return data, nil
}

// subjectMember is the value of the event type's subject member (PersonalData.SubjectMembers),
// or "" when it has none.
func (s *Store) subjectMember(e eventstore.EventData) string {
	member, ok := s.personal.SubjectMembers[e.Type]
	if !ok {
		return ""
	}
	spans, err := fieldValues(e.Data, member)
	if err != nil || len(spans) == 0 {
		return ""
	}
	var value string
	if json.Unmarshal(e.Data[spans[0].start:spans[0].end], &value) != nil {
		return ""
	}
	return value
}

// span is the byte range of a value inside a payload.
type span struct{ start, end int }

// fieldValues finds the values of every top-level member named field of a JSON object (a payload
// could repeat a name; each occurrence is handled). It tokenises with jsontext, which reads each
// value's bytes in place: encoding/json's Token and Decode copied every member and were a
// twentieth of a catch-up's CPU, which opens every event it reads.
func fieldValues(data []byte, field string) ([]span, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, errors.New("not a JSON object")
	}
	var spans []span
	for dec.PeekKind() != '}' {
		key, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		if key.Kind() != '"' {
			return nil, errors.New("not a JSON object")
		}
		if key.String() != field {
			if err := dec.SkipValue(); err != nil {
				return nil, err
			}
			continue
		}
		value, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		sp := span{start: end - len(value), end: end}
		if sp.start < 0 || !bytes.Equal(data[sp.start:sp.end], value) {
			return nil, errors.New("value out of place")
		}
		spans = append(spans, sp)
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	return spans, nil
}

func splice(data []byte, sp span, value []byte) []byte {
	out := make([]byte, 0, len(data)-(sp.end-sp.start)+len(value))
	out = append(out, data[:sp.start]...)
	out = append(out, value...)
	return append(out, data[sp.end:]...)
}

func isNull(raw []byte) bool { return string(raw) == "null" }

// hasSealedMember reports whether raw is a JSON object with a non-null "sealed" member, whatever
// that member holds.
func hasSealedMember(raw []byte) bool {
	if !bytes.HasPrefix(raw, []byte("{")) {
		return false
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return false
	}
	value, ok := members["sealed"]
	return ok && !isNull(value)
}

func isSealed(raw []byte) bool {
	var value sealed
	return bytes.HasPrefix(raw, []byte("{")) && json.Unmarshal(raw, &value) == nil && value.Sealed != nil
}

// associatedData binds a ciphertext to its event, so an envelope copied into another event does
// not decrypt there.
func associatedData(eventID, eventType string) []byte {
	return []byte("motcua/shred/v1\x00" + eventID + "\x00" + eventType)
}

func encrypt(key Key, plain, aad []byte) (*envelope, error) {
	aead, err := newAEAD(key.Secret)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("shred: nonce: %w", err)
	}
	return &envelope{Algorithm: algorithm, KeyID: key.ID, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plain, aad)}, nil
}

func newAEAD(secret []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, fmt.Errorf("shred: key: %w", err)
	}
	return cipher.NewGCM(block)
}

// open returns e with its personal data decrypted — the payload byte for byte as appended — or
// marked erased when its key is gone. A ciphertext that does not decrypt under its key was altered:
// that is an error, never "erased".
func (s *Store) open(ctx context.Context, e eventstore.RecordedEvent) (eventstore.RecordedEvent, error) {
	values, err := s.sealedValues(e)
	if err != nil || len(values) == 0 {
		return e, err
	}
	keys := s.keyring(ctx, nil)
	return s.openWith(e, values, keys)
}

// sealedValue is an applicant value of an event found sealed, and where it lies in the payload.
type sealedValue struct {
	span  span
	value sealed
}

// sealedValues returns the sealed applicant values of e, last first (so splicing each in turn
// leaves the spans before it in place); none when e carries no sealed value.
func (s *Store) sealedValues(e eventstore.RecordedEvent) ([]sealedValue, error) {
	field, ok := s.personal.Fields[e.Type]
	if !ok || !bytes.Contains(e.Data, []byte(`"sealed"`)) {
		return nil, nil
	}
	spans, err := fieldValues(e.Data, field)
	if err != nil {
		return nil, nil
	}
	var values []sealedValue
	for _, sp := range slices.Backward(spans) {
		raw := e.Data[sp.start:sp.end]
		if value, ok := canonicalSealed(raw); ok {
			values = append(values, sealedValue{span: sp, value: value})
			continue
		}
		if !hasSealedMember(raw) {
			continue // a clear value (from before shredding was switched on)
		}
		var value sealed
		if err := json.Unmarshal(raw, &value); err != nil || value.Sealed == nil {
			// An envelope that no longer parses was tampered with; passing it through as
			// "clear" would hide that.
			return nil, fmt.Errorf("shred: %s v%d: personal data was altered: malformed envelope", e.Stream, e.Version)
		}
		values = append(values, sealedValue{span: sp, value: value})
	}
	return values, nil
}

// canonicalSealed reads raw when it is laid out exactly as seal writes an envelope —
// {"type":"…","sealed":{"alg":"…","kid":"…","nonce":"…","ct":"…","object":true}}, "type" and
// "object" optional, every string valid UTF-8 without escapes or control characters — and says
// false for anything else, which hasSealedMember and encoding/json read as before. It gives what
// they give: reading the envelope's generic way (a map of members, then the struct) was half of
// unsealing a catch-up's events (FuzzCanonicalSealedReadsAsDecoded).
func canonicalSealed(raw []byte) (sealed, bool) {
	var value sealed
	r := raw
	if !jsonscan.Consume(&r, `{`) {
		return sealed{}, false
	}
	if jsonscan.Consume(&r, `"type":`) {
		typ, ok := jsonscan.String(true, &r)
		if !ok || !jsonscan.Consume(&r, `,`) {
			return sealed{}, false
		}
		// The member as it stands, quotes included: what encoding/json gives a RawMessage.
		value.Type = append(append(append(json.RawMessage(nil), '"'), typ...), '"')
	}
	env := &envelope{}
	ok := jsonscan.Consume(&r, `"sealed":{"alg":`)
	alg, ok := jsonscan.String(ok, &r)
	ok = ok && jsonscan.Consume(&r, `,"kid":`)
	kid, ok := jsonscan.String(ok, &r)
	ok = ok && jsonscan.Consume(&r, `,"nonce":`)
	nonce, ok := jsonscan.String(ok, &r)
	ok = ok && jsonscan.Consume(&r, `,"ct":`)
	ct, ok := jsonscan.String(ok, &r)
	if !ok {
		return sealed{}, false
	}
	env.Object = jsonscan.Consume(&r, `,"object":true`)
	if !jsonscan.Consume(&r, `}}`) || len(r) != 0 {
		return sealed{}, false
	}
	var err error
	if env.Nonce, err = base64.StdEncoding.DecodeString(string(nonce)); err != nil {
		return sealed{}, false
	}
	if env.Ciphertext, err = base64.StdEncoding.DecodeString(string(ct)); err != nil {
		return sealed{}, false
	}
	env.Algorithm, env.KeyID = string(alg), string(kid)
	value.Sealed = env
	return value, true
}

// openWith returns e with values (from sealedValues) decrypted under the keys of keys.
func (s *Store) openWith(e eventstore.RecordedEvent, values []sealedValue, keys *keyring) (eventstore.RecordedEvent, error) {
	data := e.Data
	for _, v := range values {
		plain, err := s.decrypt(e, v.value, keys)
		if err != nil {
			return eventstore.RecordedEvent{}, err
		}
		data = splice(data, v.span, plain)
	}
	e.Data = data
	return e, nil
}

// keyring holds the keys (and their ciphers) one read needs, each read from the key store once:
// a page of the log names thousands of keys, and a query per sealed event was most of the cost
// of decrypting it. It lives as long as one read, so an erasure takes effect at the next read;
// the keys it shares with other reads (opened) obey the same rule.
type keyring struct {
	ctx     context.Context
	keys    KeyStore
	fetched map[string]Key
	ciphers map[string]cipher.AEAD
	// opened keeps the ciphers this read makes for later reads, as of the erasure count read
	// before any key was fetched; nil when the key store counts no erasures.
	opened   *openedKeys
	erasures int64
}

// keyring returns a keyring holding the keys named ids: those kept from earlier reads as of the
// key store's current erasure count, the rest fetched in a few queries when the key store can
// (KeysByID); any other key is read when first asked for.
func (s *Store) keyring(ctx context.Context, ids []string) *keyring {
	k := &keyring{ctx: ctx, keys: s.keys, fetched: map[string]Key{}, ciphers: map[string]cipher.AEAD{}}
	// A single event's read (Subscribe) asks for its one key itself: the count would be a second query.
	if s.erasures != nil && len(ids) > 0 {
		if erasures, err := s.erasures.Erasures(ctx); err == nil {
			k.opened, k.erasures = &s.opened, erasures
			ids = s.opened.take(erasures, ids, k.ciphers)
		}
	}
	if batch, ok := s.keys.(KeysByID); ok && len(ids) > 0 {
		if found, err := batch.KeysByID(ctx, ids); err == nil {
			for _, id := range ids {
				key, ok := found[id]
				if !ok {
					key = Key{ID: id} // no secret: erased
				}
				k.fetched[id] = key
			}
		}
	}
	return k
}

// cipher returns the cipher of the key id, or ErrNoKey.
func (k *keyring) cipher(id string) (cipher.AEAD, error) {
	if aead, ok := k.ciphers[id]; ok {
		return aead, nil
	}
	key, ok := k.fetched[id]
	if !ok {
		var err error
		if key, err = k.keys.Key(k.ctx, id); errors.Is(err, ErrNoKey) {
			key = Key{ID: id}
		} else if err != nil {
			return nil, err
		}
		k.fetched[id] = key
	}
	if key.Secret == nil {
		return nil, ErrNoKey
	}
	aead, err := newAEAD(key.Secret)
	if err != nil {
		return nil, err
	}
	k.ciphers[id] = aead
	if k.opened != nil {
		k.opened.keep(k.erasures, id, aead)
	}
	return aead, nil
}

// keptPerGeneration bounds openedKeys: at most twice as many ciphers (≈ 0.9 kB each, so ≤ 30 MB)
// are kept. At 100 k dossiers a page of 20,000 events names ≈ 2,000 keys, half of them named by
// a page before: a catch-up fetches 74,514 keys instead of 106,631 (57,019 differ; twice the
// bound would fetch 60,310).
const keptPerGeneration = 1 << 14

// openedKeys keeps the ciphers of keys that reads fetched, for the reads after them: a catch-up's
// pages name the same applicants' keys page after page, and fetching them again was a twentieth
// of its CPU. Three rules keep an erasure taking effect at the next read, as without it:
//   - every read first reads the key store's erasure count (one small query), and the ciphers
//     kept under another count are dropped before it takes any;
//   - a cipher is kept only under the count its read began with, and only while that count is
//     still the one the ciphers are kept under — a read that began before an erasure and fetched
//     the key just before it cannot leave it behind for the reads that began after;
//   - only keys that exist are kept: an id not found (erased, or stored behind its events by a
//     bulk load) is asked for again by the next read.
//
// A key is never deleted but by an erasure, and a deleted key id never returns (ids are random),
// so a kept cipher was valid when the read taking it began. The ciphers live in two generations:
// when the recent one fills it becomes the older, and the older is dropped.
type openedKeys struct {
	mu            sync.Mutex
	erasures      int64
	recent, older map[string]cipher.AEAD
}

// take puts into ciphers those of ids kept under the erasure count erasures (dropping every kept
// cipher first when the count changed) and returns the ids it did not hold.
func (o *openedKeys) take(erasures int64, ids []string, ciphers map[string]cipher.AEAD) (missing []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if erasures != o.erasures || o.recent == nil {
		o.erasures, o.recent, o.older = erasures, map[string]cipher.AEAD{}, nil
		return ids
	}
	for _, id := range ids {
		if aead, ok := o.recent[id]; ok {
			ciphers[id] = aead
		} else if aead, ok := o.older[id]; ok {
			ciphers[id] = aead
			o.put(id, aead)
		} else {
			missing = append(missing, id)
		}
	}
	return missing
}

// keep keeps id's cipher, made by a read that began at the erasure count erasures.
func (o *openedKeys) keep(erasures int64, id string, aead cipher.AEAD) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if erasures == o.erasures && o.recent != nil {
		o.put(id, aead)
	}
}

func (o *openedKeys) put(id string, aead cipher.AEAD) {
	if len(o.recent) >= keptPerGeneration {
		o.older, o.recent = o.recent, make(map[string]cipher.AEAD, keptPerGeneration)
	}
	o.recent[id] = aead
}

func (s *Store) decrypt(e eventstore.RecordedEvent, value sealed, keys *keyring) ([]byte, error) {
	env := value.Sealed
	if env.Algorithm != algorithm {
		return nil, fmt.Errorf("shred: %s v%d: unknown algorithm %q", e.Stream, e.Version, env.Algorithm)
	}
	aead, err := keys.cipher(env.KeyID)
	if errors.Is(err, ErrNoKey) {
		return erasedValue(value, s.personal.Erased)
	}
	if err != nil {
		return nil, fmt.Errorf("shred: %s v%d: %w", e.Stream, e.Version, err)
	}
	if len(env.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("shred: %s v%d: malformed nonce", e.Stream, e.Version)
	}
	plain, err := aead.Open(nil, env.Nonce, env.Ciphertext, associatedData(e.ID.String(), e.Type))
	if err != nil {
		return nil, fmt.Errorf("shred: %s v%d: personal data was altered: %w", e.Stream, e.Version, err)
	}
	return plain, nil
}

// erasedValue is how a value whose key was deleted reads: an applicant named and numbered erased
// ("[đã xoá]"), of the type it had.
func erasedValue(value sealed, erased string) ([]byte, error) {
	if !value.Sealed.Object {
		return json.Marshal(erased)
	}
	applicant := map[string]any{"name": erased, "id_number": erased}
	if len(value.Type) > 0 {
		applicant["type"] = value.Type
	}
	return json.Marshal(applicant)
}

// ReadStream reads from the inner store and decrypts.
func (s *Store) ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]eventstore.RecordedEvent, error) {
	events, err := s.inner.ReadStream(ctx, stream, fromVersion)
	if err != nil {
		return nil, err
	}
	return s.openAll(ctx, events)
}

// ReadAll reads from the inner store and decrypts.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	events, err := s.inner.ReadAll(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	return s.openAll(ctx, events)
}

func (s *Store) openAll(ctx context.Context, events []eventstore.RecordedEvent) ([]eventstore.RecordedEvent, error) {
	found := make([][]sealedValue, len(events))
	var ids []string
	named := map[string]bool{}
	for i, e := range events {
		values, err := s.sealedValues(e)
		if err != nil {
			return nil, err
		}
		found[i] = values
		for _, v := range values {
			if id := v.value.Sealed.KeyID; !named[id] {
				named[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return events, nil
	}
	keys := s.keyring(ctx, ids)
	for i, e := range events {
		if len(found[i]) == 0 {
			continue
		}
		opened, err := s.openWith(e, found[i], keys)
		if err != nil {
			return nil, err
		}
		events[i] = opened
	}
	return events, nil
}

// Subscribe subscribes to the inner store and hands decrypted events to handle.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.RecordedEvent) error) error {
	return s.inner.Subscribe(ctx, after, func(ctx context.Context, e eventstore.RecordedEvent) error {
		opened, err := s.open(ctx, e)
		if err != nil {
			return err
		}
		return handle(ctx, opened)
	})
}

// Close closes the inner store.
func (s *Store) Close() error { return s.inner.Close() }
