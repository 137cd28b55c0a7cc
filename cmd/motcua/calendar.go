package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// runCalendar implements `motcua calendar YEAR [--agency-file PATH]`: it prints the year's days off
// and make-up working days, one per line as YYYY-MM-DD<TAB>off|work<TAB>reason, so that an
// administrator can check an agency calendar file before using it. Years with no announcement
// show the statutory rules applied to the computed lunar dates.
func runCalendar(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calendar", flag.ContinueOnError)
	fs.SetOutput(stderr)
	agencyFile := fs.String("agency-file", "", "agency calendar file (JSON) layered over the national calendar")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: motcua calendar YEAR [--agency-file PATH]")
		fs.PrintDefaults()
	}
	// Accept the year before or after the flags: flag parsing stops at the first positional argument.
	var positional []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		positional, args = args[:1], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	positional = append(positional, fs.Args()...)
	if len(positional) != 1 {
		fs.Usage()
		return fmt.Errorf("calendar: want exactly one YEAR, got %d arguments", len(positional))
	}
	year, err := strconv.Atoi(positional[0])
	if err != nil || year < 1900 || year > 2199 {
		return fmt.Errorf("calendar: YEAR must be a year from 1900 to 2199, got %q", positional[0])
	}

	cal, err := loadCalendar(*agencyFile)
	if err != nil {
		return fmt.Errorf("calendar: %w", err)
	}

	out := bufio.NewWriter(stdout)
	for _, day := range cal.DaysOff(year) {
		kind := "work"
		if day.Off {
			kind = "off"
		}
		fmt.Fprintf(out, "%s\t%s\t%s\n", day.Date.Format("2006-01-02"), kind, day.Reason)
	}
	return out.Flush()
}
