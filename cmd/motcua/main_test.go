package main

import (
	"testing"

	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

// TestMain stops the PostgreSQL cluster the tests may have started.
func TestMain(m *testing.M) { pgtest.Main(m) }
