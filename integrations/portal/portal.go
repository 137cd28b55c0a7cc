// Package portal keeps the National Public Service Portal (DVCQG) synchronised with motcua, through
// the delivery outbox (integrations/delivery): a DongBoHoSoMC document (create, then update) on
// every change of a dossier's public status, and a CapNhatTienDoHoSoMC document (the step history
// with each step's deadline) on every transfer. The documents are built from the dossier read
// through the store the application reads, up to the delivery's event, so a document sent again is
// the same document; the mapping is all in mapping.go. The client (client.go) gets its token with
// the client-credentials grant and hands each delivery's key to the portal as its idempotency key.
// synced.go computes QĐ 766's "synced" indicator from the acknowledgements and reconciles. See
// docs/integrations.md.
package portal

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/integrations/delivery"
)

// DestinationName is the portal's name in the deliveries table. It is part of every idempotency
// key: never change it.
const DestinationName = "dvcqg"

// Reader reads a dossier's events as the application does: through the store that opens sealed
// personal data and shows erased applicants as erased.
type Reader interface {
	ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]eventstore.RecordedEvent, error)
}

// Poster sends one document to the portal (Client in service).
type Poster interface {
	Post(ctx context.Context, service, key string, sequence uint64, body []byte) (Ack, error)
}

// Syncer is the portal's destination of the outbox.
type Syncer struct {
	Store  Reader
	Portal Poster
	// ResultLink gives a result's file link (DuongDanTepTinKetQua); LookupLink of the public URL
	// in service.
	ResultLink func(code, resultCode string) string
}

// Name is DestinationName.
func (s *Syncer) Name() string { return DestinationName }

// Plan names the documents an event calls for: see plan in mapping.go.
func (s *Syncer) Plan(c delivery.Change) string { return plan(c.Event, c.Before, c.After) }

// Send builds the delivery's documents from the dossier as it stood after its event and posts
// them in order, each under the delivery's key and its service.
func (s *Syncer) Send(ctx context.Context, d delivery.Delivery) error {
	h, err := s.read(ctx, d)
	if err != nil {
		return err
	}
	applicant := h.dossier.Applicant
	if applicant.Name == domain.ErasedName || applicant.IDNumber == domain.ErasedName {
		return delivery.Skip("the applicant's personal data was erased")
	}
	for _, service := range Services(d.Kind) {
		body, err := s.document(h, service, d.Kind)
		if err != nil {
			return err
		}
		if _, err := s.Portal.Post(ctx, service, IdempotencyKey(d.Key, service), d.StreamVersion, body); err != nil {
			return err
		}
	}
	return nil
}

// IdempotencyKey is the key a delivery's document of service is sent under.
func IdempotencyKey(deliveryKey, service string) string { return deliveryKey + "/" + service }

// document is the request body of service for the dossier h.
func (s *Syncer) document(h *history, service, kind string) ([]byte, error) {
	var doc any
	switch service {
	case ServiceSync:
		link := s.ResultLink
		if link == nil {
			link = LookupLink("")
		}
		doc = h.syncDocument(link)
	case ServiceProgress:
		doc = h.progressDocument()
	default:
		return nil, fmt.Errorf("portal: no service %q", service)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(Envelope{Service: service, IsUpdating: !(service == ServiceSync && kind == KindCreate), Data: []json.RawMessage{raw}})
}

// read folds the delivery's dossier up to its event.
func (s *Syncer) read(ctx context.Context, d delivery.Delivery) (*history, error) {
	events, err := s.Store.ReadStream(ctx, d.DossierID, 1)
	if err != nil {
		return nil, fmt.Errorf("read the dossier: %w", err)
	}
	h := &history{}
	for _, re := range events {
		if re.Version > d.StreamVersion {
			break
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return nil, fmt.Errorf("decode %s v%d: %w", d.DossierID, re.Version, err)
		}
		h.evolve(re, e)
	}
	if h.event == nil || h.at.Version != d.StreamVersion || h.at.ID.String() != d.EventID {
		return nil, fmt.Errorf("the dossier has no event %s at version %d", d.EventID, d.StreamVersion)
	}
	return h, nil
}

// Documents returns the request bodies the delivery sends, by service: what the portal holds of
// the dossier once it acknowledged them. The tests and `motcua portal reconcile` compare with it.
func (s *Syncer) Documents(ctx context.Context, d delivery.Delivery) (map[string][]byte, error) {
	h, err := s.read(ctx, d)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, service := range Services(d.Kind) {
		if out[service], err = s.document(h, service, d.Kind); err != nil {
			return nil, err
		}
	}
	return out, nil
}
