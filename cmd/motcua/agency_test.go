package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/motcua/motcua/domain"
)

// `motcua agency succeed` hands every open dossier of the abolished department to its successor,
// one event each, page by page; run again it hands over nothing; `motcua verify` stays clean.
func TestAgencySucceedCommand(t *testing.T) {
	dataDir := t.TempDir()
	var ids []string
	for i, id := range []string{"038090000101", "038090000102", "038090000103"} {
		ids = append(ids, receiveAsServeDoes(t, dataDir, []string{"Lê Văn An", "Mai Thị Bình", "Phan Văn Cường"}[i], id))
	}
	succeed := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), append([]string{"agency", "succeed", "--data", dataDir}, args...), &stdout, &stderr); err != nil {
			t.Fatalf("agency succeed %v: %v\n%s", args, err, stderr.String())
		}
		return stdout.String()
	}
	args := []string{"--from", "000.00.06.H56", "--to", "000.00.16.H56", "--effective", "2026-03-01", "--page", "2",
		"--basis", "Quyết định 1234/QĐ-UBND hợp nhất Sở Xây dựng và Sở Giao thông vận tải"}
	if out := succeed(args...); !strings.HasPrefix(out, "3 open dossiers of 000.00.06.H56 handed over") {
		t.Errorf("first run: %s", out)
	}
	if out := succeed(args...); !strings.HasPrefix(out, "0 open dossiers") {
		t.Errorf("second run handed over again: %s", out)
	}
	per := map[string]int{}
	for _, e := range storedEvents(t, dataDir) {
		if e.Type == domain.TypeAgencySucceeded {
			per[strings.TrimPrefix(e.Stream, "dossier-")]++
			if e.Metadata.Actor.Role != "admin" {
				t.Errorf("the succession was recorded as %+v", e.Metadata.Actor)
			}
		}
	}
	for _, id := range ids {
		if per[id] != 1 {
			t.Errorf("dossier %s has %d succession events, want 1", id, per[id])
		}
	}
	if out, err := runVerifyCommand(t, "--data", dataDir); err != nil || !strings.Contains(out, "history intact") {
		t.Errorf("verify after the succession: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"agency", "succeed", "--data", dataDir, "--from", "000.00.06.H56", "--to", "000.00.16.H56",
		"--effective", "2026-03-01"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "basis") {
		t.Errorf("a succession without its basis: %v", err)
	}
}
