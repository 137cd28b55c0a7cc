package main

import (
	"context"
	"strings"
	"testing"
)

// The operators' commands with subcommands answer alike: help prints the usage and succeeds, no
// subcommand says which there are, an unknown one is named.
func TestCommandsWithSubcommandsAnswerAlike(t *testing.T) {
	for _, c := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"deliveries"}, "deliveries: status, list or retry?"},
		{[]string{"portal"}, "portal: status or reconcile?"},
		{[]string{"catalog"}, "catalog: refresh?"},
		{[]string{"payments"}, "payments: reconcile?"},
		{[]string{"catalog", "refesh"}, `catalog: unknown command "refesh"`},
		{[]string{"payments", "reconcil"}, `payments: unknown command "reconcil"`},
		{[]string{"portal", "status2"}, `portal: unknown command "status2"`},
		{[]string{"deliveries", "help"}, ""},
		{[]string{"payments", "--help"}, ""},
	} {
		var stdout, stderr strings.Builder
		err := run(context.Background(), c.args, &stdout, &stderr)
		if c.wantErr == "" {
			if err != nil || !strings.Contains(stdout.String(), "Usage") && !strings.Contains(stdout.String(), "motcua") {
				t.Errorf("%v: %v, printed %q", c.args, err, stdout.String())
			}
			continue
		}
		if err == nil || err.Error() != c.wantErr || !strings.Contains(stderr.String(), "motcua") {
			t.Errorf("%v: %v, want %q and the usage on stderr", c.args, err, c.wantErr)
		}
	}
}
