package main

import (
	"context"
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
)

// TestHelpNamesEachFlagsValue: `--help` lists every flag as "-name value-type". The flag package
// takes a back-quoted word in a flag's usage for the value's name, so a usage that quotes a command
// would print, say, "-oidc-issuer motcua token".
func TestHelpNamesEachFlagsValue(t *testing.T) {
	flagLine := regexp.MustCompile(`^  -(\S+)(?: (.+))?$`)
	for _, command := range [][]string{{"serve"}, {"token"}, {"calendar"}, {"erase"}, {"verify"}, {"migrate"}, {"bench", "append"}, {"bench", "generate"}, {"bench", "reads"},
		{"projections", "status"}, {"projections", "rebuild"}, {"deliveries", "status"}, {"deliveries", "retry"}, {"catalog", "refresh"}} {
		t.Run(strings.Join(command, " "), func(t *testing.T) {
			var stdout, stderr strings.Builder
			err := run(context.Background(), append(command, "--help"), &stdout, &stderr)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("--help: %v", err)
			}
			flags := 0
			for line := range strings.Lines(stderr.String()) {
				m := flagLine.FindStringSubmatch(strings.TrimRight(line, "\n"))
				if m == nil {
					continue
				}
				flags++
				if strings.Contains(m[2], " ") {
					t.Errorf("-%s shows its value as %q", m[1], m[2])
				}
			}
			if flags == 0 {
				t.Errorf("--help lists no flags:\n%s", stderr.String())
			}
		})
	}
}
