package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
)

// bench reads runs on a generated store and prints a row, with a time and a size, for every screen
// of issue 12's table, every public-lookup level and the receipts.
func TestBenchReadsPrintsEveryRow(t *testing.T) {
	dir, _ := generateSmallProvince(t)
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"bench", "reads", "--data", dir, "--calls", "2", "--lookup-duration", "200ms", "--receipts", "16"}, &stdout, io.Discard)
	if err != nil {
		t.Fatalf("bench reads: %v\n%s", err, stdout.String())
	}
	out := stdout.String()
	timed := regexp.MustCompile(`\| [0-9.]+ (ms|s) \| [0-9.]+ (B|kB|MB) \|$`)
	for _, screen := range []string{"late dashboard", "II.06a report, one year", "satisfaction statistics, default period",
		"satisfaction statistics, one year", "work queue page, reception", "work queue page, inspector", "dossier `GET",
		"events `GET", "control sheet `GET"} {
		line := lineWith(out, "| "+screen)
		if !timed.MatchString(line) {
			t.Errorf("no timed row for %q: %q", screen, line)
		}
	}
	lookup := regexp.MustCompile(`^\| (1|8|32) \| [0-9]+ \| [0-9.]+ m?s \| [0-9.]+ m?s \| [0-9]+ \| [0-9.]+ m?s \| [0-9.]+ m?s \|$`)
	levels := 0
	for _, line := range strings.Split(out, "\n") {
		if lookup.MatchString(line) {
			levels++
		}
	}
	if levels != 3 {
		t.Errorf("%d public-lookup rows, want 1, 8 and 32 clients:\n%s", levels, out)
	}
	if !regexp.MustCompile(`receipt .POST /api/v1/dossiers., 8 officials, 16 receipts \| p50 [0-9.]+ m?s, p99 [0-9.]+ m?s \|`).MatchString(out) {
		t.Errorf("no receipt row:\n%s", out)
	}
	if !strings.Contains(out, "Read models caught up in") {
		t.Errorf("no catch-up figure:\n%s", out)
	}
}

func lineWith(text, prefix string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}

// bench reads --catch-up-only stops after the catch-up, with its rate and the CPU seconds per
// million events that compare two trees on a shared machine, and the floor measured in the same
// run: the whole log read through the store alone.
func TestBenchReadsCatchUpOnly(t *testing.T) {
	// More events than engine.DefaultCatchUpThreshold: the read models catch up in bulk.
	dir, _ := generateProvince(t, 700)
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"bench", "reads", "--data", dir, "--catch-up-only"}, &stdout, io.Discard); err != nil {
		t.Fatalf("bench reads: %v\n%s", err, stdout.String())
	}
	out := stdout.String()
	if !regexp.MustCompile(`Read models caught up in [0-9.hmµs]+: [0-9]+ events, [0-9]+ events/s\.`).MatchString(out) {
		t.Errorf("no catch-up figure:\n%s", out)
	}
	if !regexp.MustCompile(`CPU \(user \+ system, the whole process\): [0-9.]+ s, [0-9.]+ s per million events\.`).MatchString(out) {
		t.Errorf("no CPU figure:\n%s", out)
	}
	// What each read model's goroutine spent its catch-up on, from /metrics: process control
	// folded and wrote.
	stages := regexp.MustCompile(`\| process_control \| ([0-9.]+) \| [0-9.]+ \| [0-9.]+ \| ([0-9.]+) \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|`).FindStringSubmatch(out)
	if !strings.Contains(out, "| read model | fold | prepare | wait | write | apply | busy | waited for pages |") || stages == nil || stages[2] == "0.0" {
		t.Errorf("no seconds by stage of the catch-up:\n%s", out)
	}
	// The floor: the whole log read once more through the store, every event of it.
	total := regexp.MustCompile(`sqlite store, ([0-9]+) events`).FindStringSubmatch(out)
	floor := regexp.MustCompile(`Reading the whole log through the store alone \([^)]*\): ([0-9]+) events in [0-9.hmµs]+, [0-9]+ events/s read, [0-9]+ events/s read and decoded; CPU [0-9.]+ s per million events\.`).FindStringSubmatch(out)
	if total == nil || floor == nil || floor[1] != total[1] {
		t.Errorf("no floor reading the whole log (%v against the store's %v):\n%s", floor, total, out)
	}
	if !regexp.MustCompile(`Catch-up against that floor: [0-9.]+ of the reading rate, [0-9.]+ of reading and decoding; [0-9.]+× its CPU per event\.`).MatchString(out) {
		t.Errorf("the catch-up is not stated against the floor:\n%s", out)
	}
	if strings.Contains(out, "late dashboard") {
		t.Errorf("the screens were timed too:\n%s", out)
	}
}
