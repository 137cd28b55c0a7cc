package engine

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
		prune: func(ctx context.Context, topic string) (int64, error) {
			return pruneAcknowledged(ctx, db, topic)
		},
		closers: []func() error{db.Close, publisher.Close},
	}, nil
}

// pruneAcknowledged deletes the messages at or below the slowest consumer group's position: a
// subscriber reads in (transaction_id, offset) order from the last pair it acknowledged, so
// nothing at or below every group's pair is read again. watermill-sql never deletes a message by
// itself, and the table would otherwise grow by every event forever.
func pruneAcknowledged(ctx context.Context, db *sql.DB, topic string) (int64, error) {
	messages := wsql.DefaultPostgreSQLSchema{}.MessagesTable(topic)
	offsets := wsql.DefaultPostgreSQLOffsetsAdapter{}.MessagesOffsetsTable(topic)
	result, err := db.ExecContext(ctx, `DELETE FROM `+messages+` m USING (
			SELECT last_processed_transaction_id AS transaction_id, offset_acked FROM `+offsets+`
			ORDER BY last_processed_transaction_id, offset_acked LIMIT 1) slowest
		WHERE (m.transaction_id, m."offset") <= (slowest.transaction_id, slowest.offset_acked)`)
	if err != nil {
		return 0, fmt.Errorf("postgres transport: prune %s: %w", topic, err)
	}
	return result.RowsAffected()
}
