package commands_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// The commands refuse hostile text whatever brought it (the web forms do not pass the JSON
// decoder), naming the field, before anything is written.
func TestCommandsRefuseHostileText(t *testing.T) {
	ctx := context.Background()
	app, store := newApp(t, time.Date(2026, 3, 2, 9, 0, 0, 0, domain.VietnamTime))
	expectField := func(err error, field string) {
		t.Helper()
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.EINVALID || len(de.Fields) != 1 || de.Fields[0].Field != field {
			t.Fatalf("got %v, want invalid input naming %s", err, field)
		}
	}
	count := func() int {
		t.Helper()
		events, err := store.ReadAll(ctx, eventstore.Start, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(events)
	}
	_, err := app.Receive(ctx, reception, receiptInput("Nguyễn\x00Văn An"))
	expectField(err, "applicant.name")
	if n := count(); n != 0 {
		t.Fatalf("a refused receipt recorded %d events", n)
	}
	receipt, err := app.Receive(ctx, reception, receiptInput("Nguyễn Văn An"))
	if err != nil {
		t.Fatal(err)
	}
	before := count()
	_, err = app.Execute(ctx, reception, receipt.Code, nil, &commands.RequestSupplementInput{MissingItems: []string{"Bản vẽ\u202e"}, Reason: "Thiếu"})
	expectField(err, "missing_items[0]")
	_, err = app.Rate(ctx, receipt.Code, commands.RateInput{Secret: "x", Comment: "Tốt\u200b"})
	expectField(err, "comment")
	if n := count(); n != before {
		t.Fatalf("refused actions recorded %d events", n-before)
	}
}
