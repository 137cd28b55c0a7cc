package phone_test

import (
	"testing"

	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
