package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// subcommand reads which of known the first of a command's args names. "help" (-h, --help)
// prints usage to stdout and ends the command (done); no subcommand or an unknown one prints it
// to stderr and is an error.
func subcommand(command string, args []string, usage string, stdout, stderr io.Writer, known ...string) (done bool, err error) {
	if len(args) > 0 {
		switch {
		case slices.Contains(known, args[0]):
			return false, nil
		case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
			fmt.Fprint(stdout, usage)
			return true, nil
		}
	}
	fmt.Fprint(stderr, usage)
	if len(args) == 0 {
		choice := known[len(known)-1]
		if len(known) > 1 {
			choice = strings.Join(known[:len(known)-1], ", ") + " or " + choice
		}
		return true, fmt.Errorf("%s: %s?", command, choice)
	}
	return true, fmt.Errorf("%s: unknown command %q", command, args[0])
}
