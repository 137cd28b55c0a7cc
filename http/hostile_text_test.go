package http_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	mhttp "github.com/motcua/motcua/http"
)

// textLeaf is one string a request body can hold: its JSON path, a body holding s there, and whether
// the field is multi-line.
type textLeaf struct {
	path      string
	body      func(s string) any
	multiline bool
}

// textLeaves lists every string reachable in a body of type t, found by reflection so that a field
// added to an input is tested without anyone listing it here.
func textLeaves(t reflect.Type) []textLeaf {
	var leaves []textLeaf
	var walk func(t reflect.Type, path string, wrap func(any) any, multiline bool)
	walk = func(t reflect.Type, path string, wrap func(any) any, multiline bool) {
		switch t.Kind() {
		case reflect.Pointer:
			walk(t.Elem(), path, wrap, multiline)
		case reflect.Struct:
			for i := range t.NumField() {
				f := t.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if !f.IsExported() || name == "-" {
					continue
				}
				if name == "" {
					name = f.Name
				}
				p := name
				if path != "" {
					p = path + "." + name
				}
				walk(f.Type, p, func(v any) any { return wrap(map[string]any{name: v}) }, f.Tag.Get("text") == "multiline")
			}
		case reflect.Slice:
			walk(t.Elem(), path+"[0]", func(v any) any { return wrap([]any{v}) }, multiline)
		case reflect.Map:
			walk(t.Elem(), path+".k", func(v any) any { return wrap(map[string]any{"k": v}) }, multiline)
		case reflect.String:
			leaves = append(leaves, textLeaf{path: path, body: func(s string) any { return wrap(s) }, multiline: multiline})
		}
	}
	walk(t, "", func(v any) any { return v }, false)
	return leaves
}

// hostileRunes are characters no text field may hold; lineBreaks may appear in multi-line fields only.
var (
	hostileRunes = []string{"\x00", "\x1b", "\x7f", "\u0085", "\u061c", "\u200b", "\u200d", "\u200e", "\u202e", "\u2028", "\u2066", "\ufeff", "\u00ad"}
	lineBreaks   = []string{"\t", "\n", "\r\n"}
)

// Every write route refuses a control, bidirectional or invisible character in any of its text
// fields with 400 naming the field, and writes nothing; a multi-line field takes line breaks.
func TestEveryWriteRouteRefusesHostileText(t *testing.T) {
	e := buildEnv(t, envOptions{configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
		cfg.Eraser = mhttp.EraserFunc(func(context.Context, string) (bool, error) { return false, nil })
	}})
	admin := e.token("quantri", centre, commands.Roles...)
	type route struct {
		path  string
		token string
		input reflect.Type
	}
	const code = "000.00.00.H56-260302-0001"
	routes := []route{
		{"/api/v1/dossiers", admin, reflect.TypeFor[commands.ReceiveInput]()},
		{"/api/v1/public/dossiers/" + code + "/rating", "", reflect.TypeFor[commands.RateInput]()},
		{"/api/v1/admin/erasures", admin, reflect.TypeFor[struct {
			IDNumber string `json:"id_number"`
			Basis    string `json:"basis"`
		}]()},
	}
	for _, action := range []domain.Action{domain.ActionReceive, domain.ActionRefuseReception, domain.ActionRequestSupplement, domain.ActionSupplement,
		domain.ActionTransfer, domain.ActionInterAgencyTransfer, domain.ActionAppraise, domain.ActionSign, domain.ActionAssessFee, domain.ActionPay,
		domain.ActionMarkResultReady, domain.ActionReturnResult, domain.ActionIssueApology, domain.ActionSuspend, domain.ActionResume,
		domain.ActionWithdraw, domain.ActionReject, domain.ActionCompletePart} {
		in, ok := commands.NewInput(action)
		if !ok {
			t.Fatalf("no input for %s", action)
		}
		routes = append(routes, route{"/api/v1/dossiers/" + code + "/" + string(action), admin, reflect.TypeOf(in)})
	}
	leaves, multiline := 0, 0
	for _, rt := range routes {
		for _, leaf := range textLeaves(rt.input) {
			leaves++
			refused := hostileRunes
			if leaf.multiline {
				multiline++
			} else {
				refused = append(refused, lineBreaks...)
			}
			for _, r := range refused {
				res := e.do("POST", rt.path, rt.token, leaf.body("Nguyễn"+r+"Văn An"))
				if res.status != http.StatusBadRequest || !refusedField(res, leaf.path) {
					t.Errorf("POST %s with %q in %s: %d %s, want 400 naming %s", rt.path, r, leaf.path, res.status, res.raw, leaf.path)
				}
			}
			if leaf.multiline {
				for _, r := range lineBreaks {
					if res := e.do("POST", rt.path, rt.token, leaf.body("Dòng một"+r+"dòng hai")); refusedField(res, leaf.path) {
						t.Errorf("POST %s refuses %q in the multi-line %s: %s", rt.path, r, leaf.path, res.raw)
					}
				}
			}
		}
	}
	// Every route has text to test, and reasons, opinions, notes and comments are multi-line.
	if leaves < 40 || multiline < 10 {
		t.Fatalf("%d text fields tested, %d multi-line: the inputs lost their text fields?", leaves, multiline)
	}
	if n := e.eventCount(); n != 0 {
		t.Fatalf("hostile text wrote %d events", n)
	}
}

// refusedField reports whether the problem names field for a forbidden character.
func refusedField(r response, field string) bool {
	errs, _ := r.body["errors"].([]any)
	for _, fe := range errs {
		m, _ := fe.(map[string]any)
		if m["field"] == field && strings.Contains(fmt.Sprint(m["message"]), "U+") {
			return true
		}
	}
	return false
}
