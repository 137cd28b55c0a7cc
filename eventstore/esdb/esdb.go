// Package esdb is the event store backend on EventStoreDB / KurrentDB, through the gRPC client
// github.com/EventStore/EventStore-Client-Go/v4. Streams, expected revisions, event-ID idempotency and
// the $all log map onto the server's own; where the server's semantics are weaker than the contract
// in package eventstore (idempotency with Any, partly duplicate appends, reads of $all without a
// server-side filter) the gap is bridged here and explained in docs/eventstore-esdb.md.
package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/motcua/motcua/eventstore"
)

// Store is an eventstore.Store on an EventStoreDB / KurrentDB server or cluster.
type Store struct {
	client *esdb.Client
	// prefix is put before every stream name ("" or namespace + "."), so that several stores can
	// share one server without seeing each other's streams or events.
	prefix string
	logger *slog.Logger
}

var _ eventstore.Store = (*Store)(nil)

// namespaceParameter is the connection-string query parameter that selects a namespace. It is
// motcua's, not the client's: Open removes it before the client parses the string.
const namespaceParameter = "namespace"

// A namespace becomes the start of every stream name. No '-' so that KurrentDB's $by_category
// projection (category = text before the first '-') still groups "ns.dossier-…" as "ns.dossier".
var validNamespace = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// Open connects to the server at url and checks that it answers. url is a connection string of the
// official clients:
//
//	esdb://host:2113?tls=false            one node, no TLS (a server run with --insecure)
//	esdb://admin:changeit@host:2113       one node with TLS and credentials
//	esdb+discover://host1,host2,host3     a cluster, found by gossip
//
// kurrentdb://, kurrentdb+discover://, kurrent:// and kurrent+discover:// are accepted as the same.
// The extra query parameter namespace=NAME (letters, digits, '_') keeps this store's streams apart
// from other stores' on the same server: streams are stored as "NAME.stream", and ReadAll and
// Subscribe see only them.
func Open(ctx context.Context, url string) (*Store, error) {
	connectionString, namespace, err := parseURL(url)
	if err != nil {
		return nil, fmt.Errorf("eventstore/esdb: open: %w", err)
	}
	config, err := esdb.ParseConnectionString(connectionString)
	if err != nil {
		return nil, fmt.Errorf("eventstore/esdb: open: %w", err)
	}
	logger := slog.Default().With("component", "eventstore/esdb")
	config.Logger = clientLogger(logger)
	client, err := esdb.NewClient(config)
	if err != nil {
		return nil, fmt.Errorf("eventstore/esdb: open: %w", err)
	}
	store := &Store{client: client, logger: logger}
	if namespace != "" {
		store.prefix = namespace + "."
	}
	if err := store.ping(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("eventstore/esdb: open: %w", err), client.Close())
	}
	return store, nil
}

// Close closes the connection. Subscriptions still running end with an error.
func (s *Store) Close() error {
	return s.client.Close()
}

// ping reads the newest record of $all: the client connects lazily, and ReadAll and Subscribe need
// permission to read $all, so this fails early on a wrong address, wrong credentials or missing rights.
func (s *Store) ping(ctx context.Context) error {
	read, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		return fmt.Errorf("read $all: %w", err)
	}
	defer read.Close()
	if _, err := read.Recv(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read $all: %w", err)
	}
	return nil
}

// parseURL turns our URL into the v4 client's connection string (which knows only the esdb schemes)
// and takes out the namespace parameter.
func parseURL(raw string) (connectionString, namespace string, err error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "", "", fmt.Errorf("%q is not a connection string (want esdb://… or kurrentdb://…)", raw)
	}
	switch strings.ToLower(scheme) {
	case "esdb", "kurrentdb", "kurrent":
		scheme = "esdb"
	case "esdb+discover", "kurrentdb+discover", "kurrent+discover":
		scheme = "esdb+discover"
	default:
		return "", "", fmt.Errorf("unsupported scheme %q (want esdb, esdb+discover, kurrentdb or kurrentdb+discover)", scheme)
	}
	// The query is split off by hand because net/url cannot parse the client's multi-host form
	// (esdb://host1:2113,host2:2113).
	hosts, rawQuery, hasQuery := strings.Cut(rest, "?")
	if !hasQuery {
		return scheme + "://" + hosts, "", nil
	}
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", "", fmt.Errorf("connection string query: %w", err)
	}
	if values, ok := query[namespaceParameter]; ok {
		namespace = values[0]
		if len(values) > 1 || !validNamespace.MatchString(namespace) {
			return "", "", fmt.Errorf("namespace %q: want one name of 1 to 64 letters, digits or '_'", strings.Join(values, ","))
		}
		query.Del(namespaceParameter)
	}
	connectionString = scheme + "://" + hosts
	if len(query) > 0 {
		connectionString += "?" + query.Encode()
	}
	return connectionString, namespace, nil
}

// validateStreamName rejects the names EventStoreDB gives a meaning of its own: those starting with
// '$' are system streams ($all, $$stream metadata, $ce-… projections), readable only by admins.
func validateStreamName(stream string) error {
	if stream == "" {
		return fmt.Errorf("%w: empty stream name", eventstore.ErrInvalidAppend)
	}
	if strings.HasPrefix(stream, "$") {
		return fmt.Errorf("%w: stream name %q starts with '$', which EventStoreDB reserves for system streams", eventstore.ErrInvalidAppend, stream)
	}
	if !utf8.ValidString(stream) {
		return fmt.Errorf("%w: stream name %q is not valid UTF-8", eventstore.ErrInvalidAppend, stream)
	}
	return nil
}

// serverStream is stream's name on the server.
func (s *Store) serverStream(stream string) string { return s.prefix + stream }

// owns reports whether an event of $all is one of this store's: not a system event (a '$' stream
// such as $stats-… or $$metadata, or a '$' type such as links "$>" and tombstones), and in the
// store's namespace.
func (s *Store) owns(event *esdb.RecordedEvent) bool {
	return !strings.HasPrefix(event.StreamID, "$") &&
		!strings.HasPrefix(event.EventType, "$") &&
		strings.HasPrefix(event.StreamID, s.prefix)
}

// clientLogger routes the client's own log lines to slog. The client logs every ended stream —
// including ones we cancel on purpose — at its "error" level, so those become warnings here.
func clientLogger(logger *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...any) {
		slogLevel := slog.LevelWarn
		switch level {
		case esdb.LogDebug:
			slogLevel = slog.LevelDebug
		case esdb.LogInfo:
			slogLevel = slog.LevelInfo
		}
		logger.Log(context.Background(), slogLevel, fmt.Sprintf(format, args...), "source", "esdb client")
	}
}
