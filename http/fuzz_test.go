package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

// The fuzz targets below run for a few seconds each in CI (scripts/test.sh); locally, e.g.
//
//	go test -run='^$' -fuzz='^FuzzDecodeBody$' -fuzztime=1m ./http

// bodyTargets are the types request bodies decode into: a receipt, every action's input, a
// rating and an erasure request. A fuzzed index picks one.
func bodyTargets() []func() any {
	targets := []func() any{
		func() any { return &receiveRequest{} },
		func() any { return &rateRequest{} },
		func() any { return &erasureRequest{} },
	}
	for _, action := range fuzzedActions() {
		targets = append(targets, func() any { req, _ := newActionRequest(action); return req })
	}
	return targets
}

// fuzzedActions lists every action with an API input, in a fixed order.
func fuzzedActions() []domain.Action {
	var actions []domain.Action
	for _, action := range []domain.Action{domain.ActionReceive, domain.ActionRefuseReception, domain.ActionRequestSupplement, domain.ActionSupplement,
		domain.ActionTransfer, domain.ActionInterAgencyTransfer, domain.ActionAppraise, domain.ActionSign, domain.ActionAssessFee, domain.ActionPay,
		domain.ActionMarkResultReady, domain.ActionReturnResult, domain.ActionIssueApology, domain.ActionSuspend, domain.ActionResume,
		domain.ActionWithdraw, domain.ActionReject} {
		if _, ok := commands.NewInput(action); ok {
			actions = append(actions, action)
		}
	}
	return actions
}

func TestEveryActionInputIsFuzzed(t *testing.T) {
	if len(fuzzedActions()) != 17 {
		t.Fatalf("%d actions have an input, want 17: %v", len(fuzzedActions()), fuzzedActions())
	}
}

// Whatever the body, decodeBody either fills the target with trimmed NFC text, or refuses it as
// invalid input naming a field — never a panic, never another kind of error. What it accepts
// survives a round trip: encoding the value and decoding it again gives the same value.
func FuzzDecodeBody(f *testing.F) {
	seeds := []string{
		`{"procedure_code":"1.009972","channel":"direct","applicant":{"type":"citizen","name":"Nguyễn Văn An","id_number":"038012345678"},"components":[{"name":"Đơn","copies":1}]}`,
		`{"secret":"ABCDEFGHJK","scores":{"staff_attitude":"very_satisfied"},"comment":"Tốt"}`,
		`{"id_number":"038012345678","basis":"Đơn số 15/2026"}`,
		`{"components":[{"name":"Bản vẽ","copies":2}]}`, `{"reason":"  Nguye\u0302\u0303n  "}`, `{"missing_items":["Bản vẽ",""],"reason":"Thiếu"}`,
		`{"to_unit":"PQLXD","step":"Thẩm định hồ sơ","allotted_hours":24}`, `{"to_agency":"000.00.10.H56","purpose":"Xác nhận","allotted_hours":8}`,
		`{"conclusion":"approve","opinion":"Đủ"}`, `{"document_number":"12/GPXD","document_hash":"abab"}`, `{"items":[{"name":"Lệ phí","amount":150000}]}`,
		`{"amount":150000,"channel":"cash","receipt_number":"BL-1"}`, `{"channel":"direct"}`, `{"reason":"x","new_appointment_date":"2026-03-09T17:00:00+07:00"}`,
		`{"reason":"x","extra_working_days":2}`, `{}`, ``, `null`, `[]`, `{"a":1}`, `{}{}`, "{\"reason\":\"\xff\"}", `{"reason":"\ud800"}`,
		`{"amount":1e400}`, `{"copies":-1}`, `{"components":"x"}`, "\ufeff{}",
		`{"reason":"a\u0000b"}`, "{\"reason\":\"a\u202eb\\nc\"}", `{"applicant":{"name":"An\u200b"}}`,
	}
	targets := bodyTargets()
	for i, seed := range seeds {
		f.Add(uint8(i%len(targets)), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, target uint8, body []byte) {
		newTarget := targets[int(target)%len(targets)]
		dst := newTarget()
		err := decodeBody(httptest.NewRequest("POST", "/api/v1/dossiers", bytes.NewReader(body)), dst)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.EINVALID || len(de.Fields) == 0 {
				t.Fatalf("refused with %#v, want invalid input naming a field", err)
			}
			return
		}
		checkNormalized(t, reflect.ValueOf(dst), "body")
		if containsReplacementChar(reflect.ValueOf(dst)) && !bytes.Contains(body, []byte("\uFFFD")) && !bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) {
			t.Fatalf("U+FFFD accepted that the client never sent: %q", body)
		}
		encoded, err := json.Marshal(dst)
		if err != nil {
			t.Fatalf("an accepted %T does not encode: %v", dst, err)
		}
		again := newTarget()
		if err := decodeBody(httptest.NewRequest("POST", "/", bytes.NewReader(encoded)), again); err != nil {
			t.Fatalf("the encoding of an accepted %T is refused: %v\n%s", dst, err, encoded)
		}
		if reencoded, _ := json.Marshal(again); !bytes.Equal(reencoded, encoded) {
			t.Fatalf("%T changes on a round trip:\n%s\n%s", dst, encoded, reencoded)
		}
	})
}

// checkNormalized fails unless every string reachable from v is valid UTF-8, trimmed and NFC.
func checkNormalized(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			checkNormalized(t, v.Elem(), path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				checkNormalized(t, v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			checkNormalized(t, v.Index(i), path+"[]")
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			checkNormalized(t, v.MapIndex(k), path+"{}")
		}
	case reflect.String:
		s := v.String()
		if !utf8.ValidString(s) || domain.NormalizeText(s) != s {
			t.Fatalf("%s = %q is not trimmed NFC UTF-8", path, s)
		}
	}
}

// If-Match is any header a client sends: it is either absent, or one version that the ETag of that
// version gives back, or invalid input.
func FuzzParseIfMatch(f *testing.F) {
	for _, seed := range []string{``, `*`, `"3"`, `W/"3"`, `3`, ` "18446744073709551615" `, `"18446744073709551616"`, `"-1"`, `"3", "4"`, `W/`, `""`, `"0x10"`, `"+7"`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		version, err := parseIfMatch(header)
		if err != nil {
			if domain.ErrorCodeOf(err) != domain.EINVALID {
				t.Fatalf("%q refused with %v", header, err)
			}
			return
		}
		if version == nil {
			return
		}
		again, err := parseIfMatch(etag(*version))
		if err != nil || again == nil || *again != *version {
			t.Fatalf("%q is version %d, but its ETag %s reads as %v, %v", header, *version, etag(*version), again, err)
		}
	})
}
