package httpkit

import "time"

// The deliveries API's answers (the outbox, docs/integrations.md), which the admins' page of
// deliveries and the public lookup page show.

// DeliveryStatus is one destination's deliveries by state.
type DeliveryStatus struct {
	Destination string `json:"destination"`
	// Pending counts the deliveries waiting to be sent, Failing among them.
	Pending int64 `json:"pending"`
	Failing int64 `json:"failing"`
	Dead    int64 `json:"dead"`
	Skipped int64 `json:"skipped"`
	Sent    int64 `json:"sent"`
	// OldestPendingSeconds is the age of the oldest pending delivery; 0 when none is pending.
	OldestPendingSeconds int64 `json:"oldest_pending_seconds"`
}

// DeliveriesStatus is the answer of GET /api/v1/admin/deliveries/status: one line per destination
// configured or holding deliveries.
type DeliveriesStatus struct {
	Destinations []DeliveryStatus `json:"destinations"`
}

// Delivery is one delivery as an admin sees it: no personal data (the error is scrubbed).
type Delivery struct {
	ID          int64     `json:"id"`
	Destination string    `json:"destination"`
	Key         string    `json:"key"`
	DossierID   string    `json:"dossier_id"`
	DossierCode string    `json:"dossier_code,omitempty"`
	EventType   string    `json:"event_type"`
	Kind        string    `json:"kind"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	// NextAttemptAt is when a pending delivery is tried next; absent in any other state.
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
}

// DeliveryPage is one page of GET /api/v1/admin/deliveries (the keyset Page envelope).
type DeliveryPage struct {
	Items []Delivery `json:"items"`
	Next  string     `json:"next,omitempty"`
	Total int        `json:"total"`
}

// DeliveryQuery filters the deliveries listed: a state (pending, failing, dead, sent, skipped;
// every state when empty) and a destination; Limit and After page them (empty: the defaults).
type DeliveryQuery struct {
	State, Destination, Limit, After string
}

// RetryRequest is the body of POST /api/v1/admin/deliveries/retry: either the ids of deliveries,
// or every dead (Dead) or failing (Failing) delivery, of one destination when Destination is set.
type RetryRequest struct {
	IDs         []int64 `json:"ids,omitempty"`
	Dead        bool    `json:"dead,omitempty"`
	Failing     bool    `json:"failing,omitempty"`
	Destination string  `json:"destination,omitempty"`
}

// RetryDone answers a retry: how many deliveries are due now.
type RetryDone struct {
	Retried int64 `json:"retried"`
}

// SentNotification is what the public lookup says of a notification sent about a dossier: the
// channel (the destination), its kind, when — never to whom.
type SentNotification struct {
	Channel   string    `json:"channel"`
	ChannelVI string    `json:"channel_vi"`
	ChannelEN string    `json:"channel_en"`
	Kind      string    `json:"kind"`
	KindVI    string    `json:"kind_vi"`
	KindEN    string    `json:"kind_en"`
	SentAt    time.Time `json:"sent_at"`
}
