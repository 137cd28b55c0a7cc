package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/eventstore"
)

// What the API receives is written in the event's own pinned shape: every member of the stored
// dossier.received.v1 (and of an accepted submission) is one of its golden payload's
// (domain/testdata/events), so no API field reaches a stored event by sharing a type with it.
func TestReceiptIsStoredInTheGoldenShape(t *testing.T) {
	e := newEnv(t)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	body := validReceipt()
	body["external_code"] = "G22.99-260302-0001"
	e.expect(e.do("POST", "/api/v1/dossiers", reception, body), http.StatusCreated)
	online := validReceipt()
	online["channel"] = "online"
	id := e.expect(e.do("POST", "/api/v1/dossiers", reception, online), http.StatusCreated).body["id"].(string)
	e.expect(e.do("POST", "/api/v1/dossiers/"+id+"/receive", reception, map[string]any{"components": []map[string]any{{"name": "Đơn", "copies": 1}}}), http.StatusOK)

	events, err := e.store.ReadAll(context.Background(), eventstore.Start, 100)
	if err != nil {
		t.Fatal(err)
	}
	goldens := domaintest.GoldenEvents(t)
	checked := map[string]int{}
	for _, event := range events {
		golden, ok := goldens[event.Type]
		if !ok {
			continue // not a dossier event (a code reservation)
		}
		pinned, stored := memberPaths(t, golden), memberPaths(t, event.Data)
		for _, path := range stored {
			if !slices.Contains(pinned, path) {
				t.Errorf("stored %s has member %s, which its golden payload has not:\n%s", event.Type, path, event.Data)
			}
		}
		checked[event.Type]++
	}
	if checked[domain.TypeReceived] != 2 || checked[domain.TypeSubmitted] != 1 {
		t.Fatalf("checked %v, want two receipts and a submission", checked)
	}
}

// memberPaths lists the paths of every object member in a JSON document ("applicant.name";
// list elements share their list's path).
func memberPaths(t *testing.T, data []byte) []string {
	t.Helper()
	var value any
	if err := json.Unmarshal(data, &value); err != nil {
		t.Fatal(err)
	}
	var paths []string
	var walk func(v any, prefix string)
	walk = func(v any, prefix string) {
		switch v := v.(type) {
		case map[string]any:
			for name, member := range v {
				paths = append(paths, prefix+name)
				walk(member, prefix+name+".")
			}
		case []any:
			for _, element := range v {
				walk(element, prefix)
			}
		}
	}
	walk(value, "")
	return paths
}
