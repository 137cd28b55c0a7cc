package httpkit

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// RetryAfterUnavailable is the Retry-After, in seconds, of a 503 while the store is unreachable:
// a PostgreSQL restart or fail-over takes a few seconds, after which the pools reconnect by themselves.
const RetryAfterUnavailable = "5"

// StatusClientClosedRequest is recorded (nginx's convention) for a request whose client went away
// before the answer: nobody reads it, and it is not a server error.
const StatusClientClosedRequest = 499

// StoreUnavailable tells whether err means the database could not be reached or is not taking
// work right now — a restart, a fail-over, a dropped connection, a full connection table, a SQLite
// file locked past its busy timeout — rather than a fault in the request or the code. Such
// requests are answered 503 with Retry-After: the client can try again, nothing was written.
func StoreUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var connect *pgconn.ConnectError
	if errors.As(err, &connect) || errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// Class 08: connection exception; 57P01–57P03: the server is shutting down or starting up;
		// 53300: too many connections.
		return strings.HasPrefix(pg.Code, "08") || pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03" || pg.Code == "53300"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		const busy, locked = 5, 6 // SQLITE_BUSY, SQLITE_LOCKED (primary codes)
		return lite.Code()&0xff == busy || lite.Code()&0xff == locked
	}
	// A network error, a deadline included: a stopped or failing-over server hangs queries until
	// their deadline, which is the same outage seen from here. A cancellation is the client leaving.
	var netErr net.Error
	return errors.As(err, &netErr) && !errors.Is(err, context.Canceled)
}

// ClientGone tells whether the request's client disconnected (its context ended): whatever error
// the work then met is a consequence, and nobody reads the answer.
func ClientGone(r *http.Request) bool { return r.Context().Err() != nil }
