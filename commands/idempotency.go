package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// Idempotency is the Idempotency-Key of the request a command serves (docs/api.md, "Retries"). The
// events the command appends carry Key and RequestHash in their metadata, so a repeat of the request
// is recognised from the dossier's own history: then nothing is decided again and the result of the
// first run is returned. The HTTP layer keeps the first answer too; this is what stops a second
// application when that answer was lost (a crash between the append and storing it).
type Idempotency struct {
	Key         string
	RequestHash string    // fingerprint of the request: method, path, caller and body
	Since       time.Time // keys of events that occurred before this have expired and are ignored
}

type idempotencyCtxKey struct{}

// WithIdempotency tags ctx with the key of the request being served.
func WithIdempotency(ctx context.Context, idem Idempotency) context.Context {
	return context.WithValue(ctx, idempotencyCtxKey{}, idem)
}

func idempotencyOf(ctx context.Context) (Idempotency, bool) {
	idem, ok := ctx.Value(idempotencyCtxKey{}).(Idempotency)
	return idem, ok && idem.Key != ""
}

// keyedDossierNamespace derives the id of a dossier received under an idempotency key (keyedDossierID).
var keyedDossierNamespace = uuid.MustParse("6a0e3b52-7c1d-4f43-9a55-2f7d3c0b8e61")

// keyedDossierID is the id of the dossier a keyed receipt creates: the same for a repeat of the same
// request by the same official, so the repeat meets the first run's stream instead of opening a second
// dossier, even when the first answer was lost.
func keyedDossierID(actorID string, idem Idempotency) string {
	return uuid.NewSHA1(keyedDossierNamespace, []byte(actorID+"\x00"+idem.Key+"\x00"+idem.RequestHash)).String()
}

// earlierRun looks in a dossier's history for the events that actorID's keyed request already
// produced. found is false when the request has not run (or ran before the key's window); otherwise
// the events up to the last of them are returned. The same key with another request is refused
// with EIDEMPOTENCY: the client reused a key, and answering as if it had run would hide that.
func earlierRun(ctx context.Context, actorID string, recorded []eventstore.RecordedEvent) (upTo []eventstore.RecordedEvent, names []string, found bool, err error) {
	idem, ok := idempotencyOf(ctx)
	if !ok {
		return nil, nil, false, nil
	}
	last := -1
	for i, e := range recorded {
		m := e.Metadata
		if m.IdempotencyKey != idem.Key || m.Actor.ID != actorID || m.OccurredAt.Before(idem.Since) {
			continue
		}
		if m.RequestHash != idem.RequestHash {
			return nil, nil, false, domain.Errorf(domain.EIDEMPOTENCY,
				"Idempotency-Key %q was used for another request (event %d of this dossier): send a new key", idem.Key, e.Version)
		}
		last = i
		names = append(names, e.Type)
	}
	if last < 0 {
		return nil, nil, false, nil
	}
	return recorded[:last+1], names, true, nil
}

// replayResult is the Result of an earlier run, from the history up to its last event.
func replayResult(upTo []eventstore.RecordedEvent, names []string) (Result, error) {
	d, err := fold(upTo)
	if err != nil {
		return Result{}, err
	}
	last := upTo[len(upTo)-1]
	return Result{DossierID: d.ID, Code: string(d.Code), Status: d.Status, Version: d.Version, Events: names, Dossier: d,
		Position: last.Position, Replayed: true}, nil
}

// stampIdempotency records the request's key in the metadata of the events it appends.
func stampIdempotency(ctx context.Context, m *eventstore.Metadata) {
	if idem, ok := idempotencyOf(ctx); ok {
		m.IdempotencyKey, m.RequestHash = idem.Key, idem.RequestHash
	}
}
