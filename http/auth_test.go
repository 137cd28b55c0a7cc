package http_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	mhttp "github.com/motcua/motcua/http"
)

// Every way a bearer token can be wrong answers 401 with a problem document and writes nothing.
func TestBadTokensAreRefused(t *testing.T) {
	e := newSecureEnv(t, nil)
	now := e.clock.Now()
	good := e.token("tiepnhan1", centre, commands.RoleReception)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	official := commands.Caller{ID: "tiepnhan1", Name: "Tiếp nhận", Roles: []commands.Role{commands.RoleReception}, Agency: centre}
	forged, _ := mhttp.MintToken(otherKey, official, time.Hour, now)
	expired, _ := mhttp.MintToken(e.key, official, time.Hour, now.Add(-2*time.Hour))
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "motcua", "sub": "tiepnhan1", "name": "Tiếp nhận", "roles": []string{"reception"}, "agency": centre,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		change(c)
		return c
	}
	publicKey := e.key.Public().(ed25519.PublicKey)
	cases := map[string]string{
		"no header":             "",
		"basic auth":            "Basic dGllcG5oYW46c2VjcmV0",
		"empty bearer":          "Bearer ",
		"not a JWT":             "Bearer abc.def.ghi",
		"signed by another key": "Bearer " + forged,
		"expired":               "Bearer " + expired,
		"another issuer":        "Bearer " + sign(jwt.SigningMethodEdDSA, e.key, claims(func(c jwt.MapClaims) { c["iss"] = "attacker" })),
		"no expiry":             "Bearer " + sign(jwt.SigningMethodEdDSA, e.key, claims(func(c jwt.MapClaims) { delete(c, "exp") })),
		// The classic confusion: an HMAC signed with the public key's bytes.
		"HS256 with the public key": "Bearer " + sign(jwt.SigningMethodHS256, []byte(publicKey), claims(func(jwt.MapClaims) {})),
		"alg none":                  "Bearer " + sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(func(jwt.MapClaims) {})),
	}
	for name, authorization := range cases {
		t.Run(name, func(t *testing.T) {
			r := e.expect(e.do("POST", "/api/v1/dossiers", "", validReceipt(), "Authorization", authorization), http.StatusUnauthorized)
			if r.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
	if n := e.eventCount(); n != 0 {
		t.Fatalf("refused tokens wrote %d events", n)
	}
	e.expect(e.do("POST", "/api/v1/dossiers", good, validReceipt()), http.StatusCreated)

	// Roles the deployment does not know are dropped: such a token may do nothing.
	superuser := sign(jwt.SigningMethodEdDSA, e.key, claims(func(c jwt.MapClaims) { c["roles"] = []string{"superuser", "root"} }))
	e.expect(e.do("POST", "/api/v1/dossiers", superuser, validReceipt()), http.StatusForbidden)
}

// stagedAction is an action through the API with the steps that bring a dossier to a status where
// it is allowed.
type stagedAction struct {
	action domain.Action
	steps  []stagedStep
	body   any
}

type stagedStep struct {
	role commands.Role
	path string
	body any
}

func stagedActions() []stagedAction {
	transfer := stagedStep{commands.RoleReception, "transfer", map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ"}}
	appraise := stagedStep{commands.RoleSpecialist, "appraise", map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện"}}
	sign := stagedStep{commands.RoleSigner, "sign", map[string]any{"document_number": "12/GPXD", "document_hash": strings.Repeat("ab", 32)}}
	result := stagedStep{commands.RoleSigner, "result", map[string]any{}}
	return []stagedAction{
		{domain.ActionReceive, nil, map[string]any{}}, // accepting an online submission
		{domain.ActionRefuseReception, nil, map[string]any{"reason": "Không thuộc thẩm quyền"}},
		{domain.ActionRequestSupplement, nil, map[string]any{"missing_items": []string{"Bản vẽ"}, "reason": "Thiếu bản vẽ"}},
		{domain.ActionSupplement, []stagedStep{{commands.RoleReception, "supplement-request", map[string]any{"missing_items": []string{"Bản vẽ"}, "reason": "Thiếu"}}},
			map[string]any{"components": []map[string]any{{"name": "Bản vẽ", "copies": 1}}}},
		{domain.ActionTransfer, nil, map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ"}},
		{domain.ActionInterAgencyTransfer, nil, map[string]any{"to_agency": land, "purpose": "Xác nhận", "allotted_hours": 8}},
		{domain.ActionAppraise, []stagedStep{transfer}, map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện"}},
		{domain.ActionSign, []stagedStep{transfer, appraise}, map[string]any{"document_number": "12/GPXD", "document_hash": strings.Repeat("cd", 32)}},
		{domain.ActionAssessFee, nil, map[string]any{}},
		{domain.ActionPay, []stagedStep{{commands.RoleCashier, "fee", map[string]any{}}}, map[string]any{"amount": 150000, "channel": "cash", "receipt_number": "BL-1"}},
		{domain.ActionMarkResultReady, []stagedStep{transfer, appraise, sign}, map[string]any{}},
		{domain.ActionReturnResult, []stagedStep{transfer, appraise, sign, result}, map[string]any{"channel": "direct"}},
		{domain.ActionIssueApology, nil, map[string]any{"reason": "Cần thêm thời gian", "extra_working_days": 2}},
		{domain.ActionSuspend, nil, map[string]any{"reason": "Chờ ý kiến"}},
		{domain.ActionResume, []stagedStep{{commands.RoleHead, "suspend", map[string]any{"reason": "Chờ"}}}, map[string]any{}},
		{domain.ActionWithdraw, nil, map[string]any{"reason": "Rút hồ sơ"}},
		{domain.ActionReject, []stagedStep{transfer, appraise}, map[string]any{"reason": "Không đủ điều kiện"}},
	}
}

// stage brings a new dossier to where a can be taken and returns its code (or id, for a
// submission that has no code yet).
func (e *secureEnv) stage(a stagedAction) string {
	e.t.Helper()
	receipt := validReceipt()
	if a.action == domain.ActionReceive || a.action == domain.ActionRefuseReception {
		receipt["channel"] = "online"
	}
	created := e.expect(e.do("POST", "/api/v1/dossiers", e.token("tiepnhan", centre, commands.RoleReception), receipt), http.StatusCreated)
	ref, _ := created.body["code"].(string)
	if ref == "" {
		ref = created.body["id"].(string)
	}
	for _, step := range a.steps {
		agency := building
		if step.role == commands.RoleReception || step.role == commands.RoleCashier {
			agency = centre
		}
		e.expect(e.do("POST", "/api/v1/dossiers/"+ref+"/"+step.path, e.token(string(step.role), agency, step.role), step.body), http.StatusOK)
	}
	return ref
}

// The router adds no way around the matrix (proved cell by cell in commands): every refused cell,
// inspectors' included, answers 403 through the API and writes nothing, and every allowed role of
// the dossier's agencies gets through.
func TestTheMatrixHoldsThroughTheRouter(t *testing.T) {
	e := newSecureEnv(t, nil)
	for _, a := range stagedActions() {
		t.Run(string(a.action), func(t *testing.T) {
			e.t = t
			ref := e.stage(a)
			before := e.eventCount()
			for _, role := range commands.Roles {
				if slices.Contains(commands.RolesFor(a.action), role) {
					continue
				}
				r := e.expect(e.do("POST", "/api/v1/dossiers/"+ref+"/"+string(a.action), e.token("x", building, role), a.body), http.StatusForbidden)
				if !strings.Contains(r.raw, "needs one of the roles") {
					t.Fatalf("%s: %s", role, r.raw)
				}
			}
			if e.eventCount() != before {
				t.Fatal("refused actions wrote events")
			}
			// The same action from another agency, with every role but admin, is refused too.
			everyRole := []commands.Role{commands.RoleReception, commands.RoleSpecialist, commands.RoleHead, commands.RoleSigner, commands.RoleCashier, commands.RoleInspector}
			e.expect(e.do("POST", "/api/v1/dossiers/"+ref+"/"+string(a.action), e.token("khac", land, everyRole...), a.body), http.StatusForbidden)
			allowed := commands.RolesFor(a.action)[0]
			e.expect(e.do("POST", "/api/v1/dossiers/"+ref+"/"+string(a.action), e.token("y", building, allowed), a.body), http.StatusOK)
		})
	}
}

// Reading a dossier's full record: its agencies, inspectors and admins; nobody else.
func TestReadingThroughTheRouterIsScoped(t *testing.T) {
	e := newSecureEnv(t, nil)
	code := e.expect(e.do("POST", "/api/v1/dossiers", e.token("tiepnhan", centre, commands.RoleReception), validReceipt()), http.StatusCreated).body["code"].(string)
	readers := []struct {
		name   string
		token  string
		status int
	}{
		{"receiving unit's cashier", e.token("thungan", centre, commands.RoleCashier), http.StatusOK},
		{"deciding agency's specialist", e.token("chuyenvien", building, commands.RoleSpecialist), http.StatusOK},
		{"inspector of another agency", e.token("thanhtra", land, commands.RoleInspector), http.StatusOK},
		{"admin of another agency", e.token("quantri", land, commands.RoleAdmin), http.StatusOK},
		{"another agency's head", e.token("truongphong", land, commands.RoleHead, commands.RoleSigner), http.StatusForbidden},
		{"an official of no agency", e.tokenWithoutAgency("tudo", commands.RoleReception), http.StatusForbidden},
		{"nobody", "", http.StatusUnauthorized},
	}
	for _, path := range []string{"/api/v1/dossiers/" + code, "/api/v1/dossiers/" + code + "/events"} {
		for _, reader := range readers {
			t.Run(fmt.Sprintf("%s %s", path, reader.name), func(t *testing.T) {
				e.t = t
				r := e.expect(e.do("GET", path, reader.token, nil), reader.status)
				if leaks := strings.Contains(r.raw, "038012345678"); leaks != (reader.status == http.StatusOK) {
					t.Fatalf("identity number shown: %v, want %v", leaks, reader.status == http.StatusOK)
				}
			})
		}
	}
}

// Only an admin may erase; the erasure shows the applicant as erased everywhere afterwards.
func TestErasureIsForAdminsOnly(t *testing.T) {
	e := newSecureEnv(t, nil)
	code := e.expect(e.do("POST", "/api/v1/dossiers", e.token("tiepnhan", centre, commands.RoleReception), validReceipt()), http.StatusCreated).body["code"].(string)
	request := map[string]any{"id_number": "038012345678", "basis": "Đơn yêu cầu xoá dữ liệu số 15/2026"}
	for _, tc := range []struct {
		name   string
		token  string
		status int
	}{
		{"nobody", "", http.StatusUnauthorized},
		{"reception", e.token("tiepnhan", centre, commands.RoleReception), http.StatusForbidden},
		{"inspector", e.token("thanhtra", centre, commands.RoleInspector), http.StatusForbidden},
		{"every official role", e.token("all", centre, commands.RoleReception, commands.RoleSpecialist, commands.RoleHead, commands.RoleSigner, commands.RoleCashier), http.StatusForbidden},
	} {
		e.expect(e.do("POST", "/api/v1/admin/erasures", tc.token, request), tc.status)
	}
	admin := e.token("quantri", "", commands.RoleAdmin)
	r := e.expect(e.do("POST", "/api/v1/admin/erasures", admin, map[string]any{"id_number": ""}), http.StatusBadRequest)
	if got := strings.Join(fieldsOf(r), ","); got != "id_number,basis" {
		t.Fatalf("fields %q", got)
	}
	reader := e.token("chuyenvien", building, commands.RoleSpecialist)
	if got := e.expect(e.do("GET", "/api/v1/dossiers/"+code, reader, nil), http.StatusOK); !strings.Contains(got.raw, "038012345678") {
		t.Fatalf("before erasure: %s", got.raw)
	}
	if r := e.expect(e.do("POST", "/api/v1/admin/erasures", admin, request), http.StatusOK); r.body["erased"] != true {
		t.Fatalf("erasure: %s", r.raw)
	}
	got := e.expect(e.do("GET", "/api/v1/dossiers/"+code, reader, nil), http.StatusOK)
	applicant := got.body["applicant"].(map[string]any)
	if applicant["name"] != "[đã xoá]" || applicant["id_number"] != "[đã xoá]" || applicant["phone"] != nil || strings.Contains(got.raw, "Lê Lợi") {
		t.Fatalf("after erasure: %s", got.raw)
	}
	// The dossier goes on being processed after its applicant's data is gone.
	e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/transfer", e.token("tiepnhan", centre, commands.RoleReception),
		map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ"}), http.StatusOK)
	if r := e.expect(e.do("POST", "/api/v1/admin/erasures", admin, request), http.StatusOK); r.body["erased"] != false {
		t.Fatalf("second erasure: %s", r.raw)
	}
}
