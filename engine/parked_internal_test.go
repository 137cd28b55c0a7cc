package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/motcua/motcua/domain"
)

// Only the event's own faults may park it; the database's make the read model stall and retry.
func TestEventAtFault(t *testing.T) {
	t.Parallel()
	_, truncated := domain.DecodeEvent("dossier.received.v1", []byte(`{"dossier_id":"x`))
	_, wrongType := domain.DecodeEvent("dossier.received.v1", []byte(`{"dossier_id":5}`))
	applyErr := func(err error) error { return &ApplyError{Projection: "p", Err: err} }
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"truncated payload", applyErr(truncated), true},
		{"payload of the wrong shape", applyErr(wrongType), true},
		{"NUL in text", applyErr(&pgconn.PgError{Code: "22021"}), true},
		{"unique violation", applyErr(&pgconn.PgError{Code: "23505"}), true},
		{"panic", applyErr(errors.New("panic: index out of range")), true},
		{"server shutting down", applyErr(&pgconn.PgError{Code: "57P01"}), false},
		{"disk full", applyErr(&pgconn.PgError{Code: "53100"}), false},
		{"deadlock", applyErr(&pgconn.PgError{Code: "40P01"}), false},
		{"cancelled", applyErr(fmt.Errorf("query: %w", context.Canceled)), false},
		{"not the projection's failure", errors.New("begin: connection refused"), false},
	} {
		if got := eventAtFault(c.err); got != c.want {
			t.Errorf("%s: eventAtFault = %v, want %v", c.name, got, c.want)
		}
	}
}
