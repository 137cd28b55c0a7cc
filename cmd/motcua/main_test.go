package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

// serveChildEnv, when set to a JSON array of arguments, makes the test binary run motcua with them
// instead of the tests: a real process for the tests that kill it (deliveries_kill_test.go).
const serveChildEnv = "MOTCUA_TEST_CHILD_ARGS"

// cliChildEnv, set to 1, makes the test binary be motcua: its arguments are motcua's (a script
// under test runs it as MOTCUA_BIN).
const cliChildEnv = "MOTCUA_TEST_AS_MOTCUA"

// TestMain runs the tests, each serve they start checking its calls against the API's contract
// (contract_test.go), and then stops the PostgreSQL cluster they may have started — or, in a child
// process, motcua itself.
func TestMain(m *testing.M) {
	if raw := os.Getenv(serveChildEnv); raw != "" {
		setUpChildContractChecks()
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, args, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "motcua:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	if os.Getenv(cliChildEnv) == "1" {
		setUpChildContractChecks()
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "motcua:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	reportUnheard := setUpContractChecks()
	code := pgtest.Run(m)
	if reportUnheard() && code == 0 {
		code = 1
	}
	os.Exit(code)
}
