package esdb

// Tests of the mapping between the contract and the v4 client that need no server. Behaviour that
// needs one (the server's answers, subscriptions) is covered by the conformance suite in esdb_test.go.

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/motcua/motcua/eventstore"
)

func TestExpectedRevision(t *testing.T) {
	cases := []struct {
		expected eventstore.ExpectedVersion
		want     esdb.ExpectedRevision
	}{
		{eventstore.Any, esdb.Any{}},
		{eventstore.NoStream, esdb.NoStream{}},
		{eventstore.Exact(0), esdb.NoStream{}},
		{eventstore.StreamExists, esdb.StreamExists{}},
		{eventstore.Exact(1), esdb.Revision(0)}, // version 1 = one event, at revision 0
		{eventstore.Exact(42), esdb.Revision(41)},
	}
	for _, tc := range cases {
		if got := expectedRevision(tc.expected); got != tc.want {
			t.Errorf("expectedRevision(%s) = %#v, want %#v", tc.expected, got, tc.want)
		}
	}
}

func TestParseURL(t *testing.T) {
	cases := []struct {
		url, wantConnection, wantNamespace string
	}{
		{"esdb://localhost:2113?tls=false", "esdb://localhost:2113?tls=false", ""},
		{"esdb://admin:changeit@db.example.vn:2113", "esdb://admin:changeit@db.example.vn:2113", ""},
		{"kurrentdb://localhost:2113?tls=false", "esdb://localhost:2113?tls=false", ""},
		{"KurrentDB://localhost:2113", "esdb://localhost:2113", ""},
		{"kurrent://localhost", "esdb://localhost", ""},
		{"esdb+discover://node1:2113,node2:2113,node3:2113", "esdb+discover://node1:2113,node2:2113,node3:2113", ""},
		{"kurrentdb+discover://cluster.example.vn?nodePreference=follower", "esdb+discover://cluster.example.vn?nodePreference=follower", ""},
		{"esdb://localhost:2113?tls=false&namespace=hcm", "esdb://localhost:2113?tls=false", "hcm"},
		{"kurrentdb://localhost:2113?namespace=t_01", "esdb://localhost:2113", "t_01"},
	}
	for _, tc := range cases {
		connection, namespace, err := parseURL(tc.url)
		if err != nil {
			t.Errorf("parseURL(%q): %v", tc.url, err)
			continue
		}
		if connection != tc.wantConnection || namespace != tc.wantNamespace {
			t.Errorf("parseURL(%q) = %q, %q; want %q, %q", tc.url, connection, namespace, tc.wantConnection, tc.wantNamespace)
		}
		// The result must be a connection string the client itself accepts.
		if _, err := esdb.ParseConnectionString(connection); err != nil {
			t.Errorf("the client rejects %q (from %q): %v", connection, tc.url, err)
		}
	}
}

func TestParseURLSettingsReachTheClient(t *testing.T) {
	connection, namespace, err := parseURL("kurrentdb://admin:changeit@localhost:2113?tls=false&namespace=hn&nodePreference=follower")
	if err != nil {
		t.Fatal(err)
	}
	config, err := esdb.ParseConnectionString(connection)
	if err != nil {
		t.Fatal(err)
	}
	if namespace != "hn" || config.Address != "localhost:2113" || !config.DisableTLS ||
		config.Username != "admin" || config.Password != "changeit" || config.NodePreference != esdb.NodePreferenceFollower {
		t.Fatalf("namespace %q, config %+v: settings lost on the way", namespace, config)
	}
}

func TestPositionConversion(t *testing.T) {
	if got := allPosition(eventstore.Start); got != (esdb.Start{}) {
		t.Errorf("allPosition(Start) = %#v, want esdb.Start{}", got)
	}
	ours := eventstore.Position{Commit: 18446744073709551000, Prepare: 12345}
	if got := allPosition(ours); got != (esdb.Position{Commit: ours.Commit, Prepare: ours.Prepare}) {
		t.Errorf("allPosition(%s) = %#v", ours, got)
	}
	if got := toPosition(esdb.Position{Commit: 500, Prepare: 400}); got != (eventstore.Position{Commit: 500, Prepare: 400}) {
		t.Errorf("toPosition = %s, want 500/400", got)
	}
}

func TestActualVersion(t *testing.T) {
	// The text the v4 client (client.go, AppendToStream) builds from the server's answer.
	rejection := func(expected, current string) error {
		return fmt.Errorf("append: %w", fmt.Errorf("wrong expected version: expecting '%s' but got '%s'", expected, current))
	}
	cases := []struct {
		err    error
		want   uint64
		wantOK bool
	}{
		{rejection("no_stream", "2"), 3, true},
		{rejection("4", "no_stream"), 0, true},
		{rejection("stream_exists", "no_stream"), 0, true},
		{rejection("any", "0"), 1, true},
		{errors.New("deadline exceeded"), 0, false},
		{rejection("1", "garbage"), 0, false},
	}
	for _, tc := range cases {
		got, ok := actualVersion(tc.err)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("actualVersion(%q) = %d, %v; want %d, %v", tc.err, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestEventRoundTrip(t *testing.T) {
	vietnam := time.FixedZone("ICT", 7*60*60)
	event := eventstore.EventData{
		ID:   eventstore.NewEventID(),
		Type: "dossier.received.v1",
		Data: []byte(`{"applicant":"Nguyễn Văn Ấn"}`),
		Metadata: eventstore.Metadata{
			Actor:         eventstore.Actor{ID: "can-bo-042", Name: "Trần Thị Ngọc Ánh", Role: "one_stop_officer", Agency: "UBND phường Bến Nghé"},
			CorrelationID: uuid.New(),
			CausationID:   uuid.New(),
			OccurredAt:    time.Date(2025, 3, 14, 9, 26, 53, 123456789, vietnam),
		},
	}
	proposed, err := proposedEvents([]eventstore.EventData{event})
	if err != nil {
		t.Fatal(err)
	}
	if p := proposed[0]; p.EventID != event.ID || p.EventType != event.Type || p.ContentType != esdb.ContentTypeJson || string(p.Data) != string(event.Data) {
		t.Fatalf("proposed event %+v does not carry the event's id, type and JSON data", p)
	}

	// What the server hands back for it: the fields the client fills from the wire.
	created := time.Date(2025, 3, 14, 2, 26, 54, 0, time.UTC)
	recorded := &esdb.RecordedEvent{
		EventID:      proposed[0].EventID,
		EventType:    proposed[0].EventType,
		StreamID:     "hcm.dossier-7",
		EventNumber:  4,
		Position:     esdb.Position{Commit: 9000, Prepare: 9000},
		CreatedDate:  created,
		Data:         proposed[0].Data,
		UserMetadata: proposed[0].Metadata,
	}
	store := &Store{prefix: "hcm."}
	got, err := store.recordedEvent(recorded)
	if err != nil {
		t.Fatal(err)
	}
	if got.Stream != "dossier-7" || got.Version != 5 || got.Position != (eventstore.Position{Commit: 9000, Prepare: 9000}) || !got.RecordedAt.Equal(created) {
		t.Fatalf("recorded event is %q v%d at %s recorded %s; want %q v5 at 9000/9000 recorded %s",
			got.Stream, got.Version, got.Position, got.RecordedAt, "dossier-7", created)
	}
	if got.ID != event.ID || got.Type != event.Type || string(got.Data) != string(event.Data) ||
		got.Metadata.Actor != event.Metadata.Actor || got.Metadata.CorrelationID != event.Metadata.CorrelationID ||
		got.Metadata.CausationID != event.Metadata.CausationID || !got.Metadata.OccurredAt.Equal(event.Metadata.OccurredAt) {
		t.Fatalf("round trip changed the event:\n got %+v\nwant %+v", got.EventData, event)
	}
}

func TestRecordedEventRejectsForeignMetadata(t *testing.T) {
	store := &Store{}
	_, err := store.recordedEvent(&esdb.RecordedEvent{EventID: uuid.New(), EventType: "x", StreamID: "s", UserMetadata: []byte{0xff, 0x00}})
	if err == nil {
		t.Fatal("decoding binary metadata succeeded, want an error")
	}
	// No metadata at all (an event written by another tool) decodes as zero metadata.
	got, err := store.recordedEvent(&esdb.RecordedEvent{EventID: uuid.New(), EventType: "x", StreamID: "s", Data: []byte(`{}`)})
	if err != nil || got.Metadata != (eventstore.Metadata{}) {
		t.Fatalf("event without metadata: %+v, %v", got.Metadata, err)
	}
}

func TestOwns(t *testing.T) {
	cases := []struct {
		prefix, stream, eventType string
		want                      bool
	}{
		{"", "dossier-1", "dossier.received.v1", true},
		{"", "$stats-127.0.0.1:2113", "$statsCollected", false},
		{"", "$$dossier-1", "$metadata", false},
		{"", "$ce-dossier", "$>", false},
		{"", "dossier-1", "$streamDeleted", false},
		{"", "$projections-x-result", "Result", false},
		{"hcm.", "hcm.dossier-1", "dossier.received.v1", true},
		{"hcm.", "hn.dossier-1", "dossier.received.v1", false},
		{"hcm.", "dossier-1", "dossier.received.v1", false},
		{"hcm.", "hcm.dossier-1", "$>", false},
	}
	for _, tc := range cases {
		store := &Store{prefix: tc.prefix}
		if got := store.owns(&esdb.RecordedEvent{StreamID: tc.stream, EventType: tc.eventType}); got != tc.want {
			t.Errorf("store with prefix %q owns %s %q = %v, want %v", tc.prefix, tc.stream, tc.eventType, got, tc.want)
		}
	}
}

func TestSubscriptionFilter(t *testing.T) {
	namespaced := (&Store{prefix: "hcm."}).subscriptionFilter()
	if namespaced.Type != esdb.StreamFilterType || len(namespaced.Prefixes) != 1 || namespaced.Prefixes[0] != "hcm." {
		t.Errorf("namespaced filter = %+v, want the stream prefix hcm.", namespaced)
	}
	plain := (&Store{}).subscriptionFilter()
	if plain.Type != esdb.EventFilterType || plain.Regex == "" {
		t.Errorf("filter without namespace = %+v, want the client's system-event exclusion", plain)
	}
}

func TestValidateStreamName(t *testing.T) {
	for _, stream := range []string{"dossier-1", "hồ-sơ-000.00.01.H12-250314-0001", "a$b"} {
		if err := validateStreamName(stream); err != nil {
			t.Errorf("validateStreamName(%q): %v", stream, err)
		}
	}
	for _, stream := range []string{"", "$all", "$$dossier-1", "$ce-dossier", "bad\xffutf8"} {
		if err := validateStreamName(stream); !errors.Is(err, eventstore.ErrInvalidAppend) {
			t.Errorf("validateStreamName(%q) = %v, want ErrInvalidAppend", stream, err)
		}
	}
}

func TestRepeatedID(t *testing.T) {
	a, b := eventstore.EventData{ID: uuid.New()}, eventstore.EventData{ID: uuid.New()}
	if _, repeated := repeatedID([]eventstore.EventData{a, b}); repeated {
		t.Error("distinct ids reported as repeated")
	}
	if id, repeated := repeatedID([]eventstore.EventData{a, b, a}); !repeated || id != a.ID {
		t.Errorf("repeatedID = %s, %v; want %s, true", id, repeated, a.ID)
	}
}

func TestFindPreviousAppend(t *testing.T) {
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	stored := make([]storedEvent, len(ids))
	for i, id := range ids {
		stored[i] = storedEvent{id: id, version: uint64(i + 1), position: eventstore.Position{Commit: uint64(100 * (i + 1)), Prepare: uint64(100 * (i + 1))}}
	}
	fresh := uuid.New()
	events := func(ids ...uuid.UUID) []eventstore.EventData {
		out := make([]eventstore.EventData, len(ids))
		for i, id := range ids {
			out[i].ID = id
		}
		return out
	}
	cases := []struct {
		name      string
		events    []eventstore.EventData
		wantFound bool
		want      eventstore.AppendResult
		wantDup   bool
	}{
		{"none stored", events(fresh), false, eventstore.AppendResult{}, false},
		{"retry of the first two", events(ids[0], ids[1]), true, eventstore.AppendResult{Version: 2, Position: stored[1].position}, false},
		{"retry of the last", events(ids[3]), true, eventstore.AppendResult{Version: 4, Position: stored[3].position}, false},
		{"retry of the middle two", events(ids[1], ids[2]), true, eventstore.AppendResult{Version: 3, Position: stored[2].position}, false},
		{"new first, stored second", events(fresh, ids[1]), false, eventstore.AppendResult{}, true},
		{"stored first, new second", events(ids[0], fresh), false, eventstore.AppendResult{}, true},
		{"stored, in another order", events(ids[1], ids[0]), false, eventstore.AppendResult{}, true},
		{"stored, with a gap", events(ids[0], ids[2]), false, eventstore.AppendResult{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, found, err := findPreviousAppend(stored, tc.events)
			if tc.wantDup {
				if !errors.Is(err, eventstore.ErrDuplicateEvent) {
					t.Fatalf("error = %v, want ErrDuplicateEvent", err)
				}
				return
			}
			if err != nil || found != tc.wantFound || got != tc.want {
				t.Fatalf("findPreviousAppend = %+v, %v, %v; want %+v, %v, nil", got, found, err, tc.want, tc.wantFound)
			}
		})
	}
}

func TestIsPermanent(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{status.Error(codes.Unavailable, "connection reset"), false},
		{fmt.Errorf("subscribe: %w", status.Error(codes.Unavailable, "leader changed")), false},
		{status.Error(codes.PermissionDenied, "access denied"), true},
		{fmt.Errorf("subscribe: %w", status.Error(codes.Unauthenticated, "bad password")), true},
		{errors.New("subscription dropped"), false},
	}
	for _, tc := range cases {
		if got := isPermanent(tc.err); got != tc.want {
			t.Errorf("isPermanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
