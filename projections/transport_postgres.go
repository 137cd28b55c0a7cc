package projections

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// postgresPollInterval is how often an idle watermill-sql subscriber looks for new messages: it
// polls, there is no notification.
const postgresPollInterval = 50 * time.Millisecond

// NewPostgresTransport keeps messages in watermill-sql tables ("watermill_<topic>" and its offsets)
// of the PostgreSQL database at dsn, on a connection pool of its own: the store's pool runs with a
// short idle-in-transaction timeout, and a watermill-sql subscriber holds its transaction open
// while a handler works on the message.
func NewPostgresTransport(ctx context.Context, dsn string, logger *slog.Logger) (*Transport, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres transport: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres transport: %w", err)
	}
	wmLogger := watermillLogger(logger)
	beginner := wsql.BeginnerFromStdSQL(db)
	publisher, err := wsql.NewPublisher(beginner, wsql.PublisherConfig{
		SchemaAdapter:        wsql.DefaultPostgreSQLSchema{},
		AutoInitializeSchema: true,
	}, wmLogger)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres transport: %w", err)
	}
	return &Transport{
		Kind:      "postgres",
		Publisher: publisher,
		Durable:   true,
		newSubscriber: func(group string) (message.Subscriber, error) {
			return wsql.NewSubscriber(beginner, wsql.SubscriberConfig{
				ConsumerGroup: group,
				// A subscriber reads a batch in one transaction that stays open until every message
				// of it is acknowledged, and an open transaction holds back the event store's
				// horizon (see docs/projections.md): keep batches short.
				SchemaAdapter:    wsql.DefaultPostgreSQLSchema{SubscribeBatchSize: 16},
				OffsetsAdapter:   wsql.DefaultPostgreSQLOffsetsAdapter{},
				InitializeSchema: true,
				PollInterval:     postgresPollInterval,
				ResendInterval:   100 * time.Millisecond,
				RetryInterval:    time.Second,
			}, wmLogger)
		},
		closers: []func() error{db.Close, publisher.Close},
	}, nil
}
