package http

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

// Every action a use case offers has an API body of its own, and that body makes that action's input.
func TestEveryActionHasAnAPIRequest(t *testing.T) {
	actions := append(fuzzedActions(), domain.ActionCompletePart)
	for action := range actionRequests {
		if !slices.Contains(actions, action) {
			actions = append(actions, action)
		}
	}
	for _, action := range actions {
		_, hasInput := commands.NewInput(action)
		req, hasRequest := newActionRequest(action)
		if hasInput != hasRequest {
			t.Errorf("%s: use case input %v, API request %v", action, hasInput, hasRequest)
			continue
		}
		if hasRequest && req.input().Action() != action {
			t.Errorf("the API request of %s makes an input for %s", action, req.input().Action())
		}
	}
}

// The mapping from each API body to its use case's input is explicit and complete: with every API
// field holding a distinct value, every value arrives in exactly one input field and every input
// field is fed. An API field added without a mapping, or an input field the API forgets, fails.
func TestAPIRequestsMapEveryField(t *testing.T) {
	requests := map[string]func() (any, any){
		"receive": func() (any, any) { var r receiveRequest; fill(&r); return r, r.input() },
		"rate":    func() (any, any) { var r rateRequest; fill(&r); return r, r.input() },
	}
	for action, newRequest := range actionRequests {
		requests[string(action)] = func() (any, any) { r := newRequest(); fill(r); return r, r.input() }
	}
	for name, mapped := range requests {
		t.Run(name, func(t *testing.T) {
			request, input := mapped()
			sent, got := leaves(reflect.ValueOf(request)), leaves(reflect.ValueOf(input))
			slices.Sort(sent)
			slices.Sort(got)
			if !slices.Equal(sent, got) {
				t.Fatalf("the API sends %v, the use case gets %v", sent, got)
			}
		})
	}
}

// fill sets every exported field reachable from ptr to a value no other field has.
func fill(ptr any) {
	n := 0
	var set func(v reflect.Value)
	set = func(v reflect.Value) {
		n++
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 3, 2, n, 0, 0, 0, time.UTC)))
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			set(v.Elem())
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					set(v.Field(i))
				}
			}
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			set(v.Index(0))
		case reflect.Map:
			v.Set(reflect.MakeMap(v.Type()))
			key, value := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			set(key)
			set(value)
			v.SetMapIndex(key, value)
		case reflect.String:
			v.SetString(fmt.Sprintf("value-%d", n))
		case reflect.Int, reflect.Int64:
			v.SetInt(int64(n))
		case reflect.Uint64:
			v.SetUint(uint64(n))
		case reflect.Float64:
			v.SetFloat(float64(n) + 0.5)
		case reflect.Bool:
			v.SetBool(true)
		default:
			panic("fill: no value for " + v.Type().String())
		}
	}
	set(reflect.ValueOf(ptr).Elem())
}

// leaves lists the scalar values reachable from v through exported fields, with zero values as
// "zero <type>" so that an input field left unfed shows, and the text of a field tagged
// `text:"multiline"` marked so, so that a multi-line API field feeds a multi-line input field.
func leaves(v reflect.Value) []string { return taggedLeaves(v, false) }

func taggedLeaves(v reflect.Value, multiline bool) []string {
	if v.Type() == reflect.TypeFor[time.Time]() {
		return []string{fmt.Sprint(v.Interface())}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return []string{"nil " + v.Type().String()}
		}
		return taggedLeaves(v.Elem(), multiline)
	case reflect.Struct:
		var out []string
		for i := range v.NumField() {
			if field := v.Type().Field(i); field.IsExported() {
				out = append(out, taggedLeaves(v.Field(i), field.Tag.Get("text") == "multiline")...)
			}
		}
		return out
	case reflect.Slice:
		if v.Len() == 0 {
			return []string{"empty " + v.Type().String()}
		}
		var out []string
		for i := range v.Len() {
			out = append(out, taggedLeaves(v.Index(i), multiline)...)
		}
		return out
	case reflect.Map:
		if v.Len() == 0 {
			return []string{"empty " + v.Type().String()}
		}
		var out []string
		for _, k := range v.MapKeys() {
			out = append(append(out, taggedLeaves(k, multiline)...), taggedLeaves(v.MapIndex(k), multiline)...)
		}
		return out
	}
	if v.IsZero() {
		return []string{"zero " + v.Type().String()}
	}
	if multiline {
		return []string{"multi-line " + fmt.Sprint(v.Interface())}
	}
	return []string{fmt.Sprint(v.Interface())}
}
