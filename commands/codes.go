package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// TypeCodeAllocated is the wire name of the event that reserves a dossier code.
const TypeCodeAllocated = "dossiercode.allocated.v1"

type codeAllocated struct {
	Code      domain.DossierCode `json:"code"`
	DossierID string             `json:"dossier_id"`
}

// codeAllocator hands out dossier codes with the event store's own optimistic concurrency, so it
// works the same on every backend and across nodes: each receiving unit has one stream per day, and
// the n-th event of that stream is the dossier with sequence n. Two receipts racing for the same
// number both append with the same expected version; exactly one wins, the other retries with the
// next. A code whose dossier was then never received stays a harmless gap.
type codeAllocator struct {
	store eventstore.Store
	mu    sync.Mutex
	last  map[string]uint64 // stream → last version seen, to skip reading a long stream
}

func newCodeAllocator(store eventstore.Store) *codeAllocator {
	return &codeAllocator{store: store, last: map[string]uint64{}}
}

func codeStream(unit, day string) string { return "dossiercodes-" + unit + "-" + day }

// maxCodeRetries bounds the races one allocation may lose; each loss means another receipt succeeded.
const maxCodeRetries = 200

func (c *codeAllocator) allocate(ctx context.Context, unit string, at time.Time, dossierID string, actor eventstore.Actor) (domain.DossierCode, error) {
	stream := codeStream(unit, domain.DayKey(at))
	c.mu.Lock()
	version := c.last[stream]
	c.mu.Unlock()
	for range maxCodeRetries {
		code, err := domain.NewDossierCode(unit, at, int(version)+1)
		if err != nil {
			return "", err
		}
		data, _ := json.Marshal(codeAllocated{Code: code, DossierID: dossierID})
		_, err = c.store.Append(ctx, stream, eventstore.Exact(version), eventstore.EventData{
			ID: eventstore.NewEventID(), Type: TypeCodeAllocated, Data: data,
			Metadata: eventstore.Metadata{Actor: actor, OccurredAt: at},
		})
		var wrong *eventstore.WrongExpectedVersionError
		if errors.As(err, &wrong) {
			version = wrong.Actual
			continue
		}
		if err != nil {
			return "", err
		}
		c.mu.Lock()
		if c.last[stream] < version+1 {
			c.last[stream] = version + 1
		}
		c.mu.Unlock()
		return code, nil
	}
	return "", domain.Errorf(domain.ECONFLICT, "could not allocate a dossier code for %s: too many concurrent receipts", unit)
}

func (c *codeAllocator) lookup(ctx context.Context, code domain.DossierCode) (string, error) {
	parsed, err := domain.ParseDossierCode(string(code))
	if err != nil {
		return "", err
	}
	events, err := c.store.ReadStream(ctx, codeStream(parsed.Unit, parsed.Day), uint64(parsed.Seq))
	if err != nil {
		return "", err
	}
	if len(events) == 0 || events[0].Version != uint64(parsed.Seq) {
		return "", domain.Errorf(domain.ENOTFOUND, "dossier %s not found", code)
	}
	var a codeAllocated
	if err := json.Unmarshal(events[0].Data, &a); err != nil || a.Code != code {
		return "", fmt.Errorf("code stream %s version %d: unexpected allocation %+v: %v", codeStream(parsed.Unit, parsed.Day), parsed.Seq, a, err)
	}
	return a.DossierID, nil
}
