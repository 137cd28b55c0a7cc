package projections_test

import (
	"testing"

	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

// TestMain stops the PostgreSQL cluster the tests share, if one of them started it.
func TestMain(m *testing.M) { pgtest.Main(m) }
