package commands_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// The agencies of the test catalog: the centre receives procedure 1.009972, the Department of
// Construction decides it, the Department of Natural Resources has nothing to do with it.
const (
	authzCentre   = "000.00.00.H56"
	authzBuilding = "000.00.06.H56"
	authzLand     = "000.00.10.H56"
)

// authzMatrix is the role × action matrix of docs/api.md, written out cell by cell on purpose: it
// is the specification the code is checked against, so changing any cell of commands/authorize.go
// (or of the documentation) without the other fails this test. Inspectors appear in no row.
var authzMatrix = map[domain.Action][]commands.Role{
	domain.ActionSubmit:              {commands.RoleReception, commands.RoleAdmin},
	domain.ActionReceive:             {commands.RoleReception, commands.RoleAdmin},
	domain.ActionRefuseReception:     {commands.RoleReception, commands.RoleAdmin},
	domain.ActionRequestSupplement:   {commands.RoleReception, commands.RoleSpecialist, commands.RoleHead, commands.RoleAdmin},
	domain.ActionSupplement:          {commands.RoleReception, commands.RoleAdmin},
	domain.ActionTransfer:            {commands.RoleReception, commands.RoleSpecialist, commands.RoleHead, commands.RoleSigner, commands.RoleAdmin},
	domain.ActionInterAgencyTransfer: {commands.RoleHead, commands.RoleSigner, commands.RoleAdmin},
	domain.ActionAppraise:            {commands.RoleSpecialist, commands.RoleHead, commands.RoleAdmin},
	domain.ActionSign:                {commands.RoleSigner, commands.RoleAdmin},
	domain.ActionAssessFee:           {commands.RoleReception, commands.RoleCashier, commands.RoleAdmin},
	domain.ActionPay:                 {commands.RoleReception, commands.RoleCashier, commands.RoleAdmin},
	domain.ActionMarkResultReady:     {commands.RoleReception, commands.RoleHead, commands.RoleSigner, commands.RoleAdmin},
	domain.ActionReturnResult:        {commands.RoleReception, commands.RoleAdmin},
	domain.ActionIssueApology:        {commands.RoleHead, commands.RoleSigner, commands.RoleAdmin},
	domain.ActionSuspend:             {commands.RoleHead, commands.RoleSigner, commands.RoleAdmin},
	domain.ActionResume:              {commands.RoleHead, commands.RoleSigner, commands.RoleAdmin},
	domain.ActionWithdraw:            {commands.RoleReception, commands.RoleAdmin},
	domain.ActionReject:              {commands.RoleHead, commands.RoleSigner, commands.RoleAdmin},
	domain.ActionCompletePart:        {commands.RoleSpecialist, commands.RoleHead, commands.RoleSigner, commands.RoleAdmin},
}

// authzRig runs use cases on a real SQLite store with officials who always succeed at setting the
// stage: a dossier received at the centre for the Department of Construction (parallelCatalog, so
// that a dossier can also wait for the parts of a parallel step).
type authzRig struct {
	t     *testing.T
	app   *commands.App
	store *sqlite.Store
	ctx   context.Context
}

func newAuthzRig(t *testing.T) *authzRig {
	t.Helper()
	app, store := newParallelApp(t, time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime))
	return &authzRig{t: t, app: app, store: store, ctx: context.Background()}
}

func official(role commands.Role, agency string) commands.Caller {
	return commands.Caller{ID: string(role) + "@" + agency, Name: "Cán bộ " + string(role), Roles: []commands.Role{role}, Agency: agency}
}

func authzReceipt(channel domain.Channel) commands.ReceiveInput {
	return commands.ReceiveInput{
		ProcedureCode: "1.009972", Channel: channel,
		Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Phạm Văn Cường", IDNumber: "038077777777"},
		Components: []domain.Component{{Name: "Đơn đề nghị cấp giấy phép xây dựng", Copies: 1}},
	}
}

// stage is a path to a dossier status where an action is allowed, taken by officials entitled to it.
type stage func(r *authzRig) string

func (r *authzRig) received() string {
	r.t.Helper()
	receipt, err := r.app.Receive(r.ctx, official(commands.RoleReception, authzCentre), authzReceipt(domain.ChannelDirect))
	if err != nil {
		r.t.Fatal(err)
	}
	return receipt.DossierID
}

func (r *authzRig) submitted() string {
	r.t.Helper()
	receipt, err := r.app.Receive(r.ctx, official(commands.RoleReception, authzCentre), authzReceipt(domain.ChannelOnline))
	if err != nil {
		r.t.Fatal(err)
	}
	return receipt.DossierID
}

func (r *authzRig) then(id string, caller commands.Caller, in commands.Input) string {
	r.t.Helper()
	if _, err := r.app.Execute(r.ctx, caller, id, nil, in); err != nil {
		r.t.Fatalf("setting the stage, %s: %v", in.Action(), err)
	}
	return id
}

var (
	stageSubmitted = func(r *authzRig) string { return r.submitted() }
	stageReceived  = func(r *authzRig) string { return r.received() }
	stageWaiting   = func(r *authzRig) string {
		return r.then(r.received(), official(commands.RoleReception, authzCentre),
			commands.RequestSupplementInput{MissingItems: []string{"Bản vẽ thiết kế"}, Reason: "Thiếu bản vẽ"})
	}
	stageProcessing = func(r *authzRig) string {
		return r.then(r.received(), official(commands.RoleReception, authzCentre), commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ"})
	}
	stageAppraised = func(r *authzRig) string {
		return r.then(stageProcessing(r), official(commands.RoleSpecialist, authzBuilding),
			commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện"})
	}
	stageSigned = func(r *authzRig) string {
		return r.then(stageAppraised(r), official(commands.RoleSigner, authzBuilding),
			commands.SignInput{DocumentNumber: "12/GPXD", DocumentHash: strings.Repeat("ab", 32)})
	}
	stageResultReady = func(r *authzRig) string {
		return r.then(stageSigned(r), official(commands.RoleSigner, authzBuilding), commands.MarkResultReadyInput{})
	}
	stageAwaitingPayment = func(r *authzRig) string {
		return r.then(r.received(), official(commands.RoleCashier, authzCentre), commands.AssessFeeInput{})
	}
	stageConsulting = func(r *authzRig) string {
		return r.then(stageProcessing(r), official(commands.RoleHead, authzBuilding), commands.TransferInput{Step: "Lấy ý kiến, kiểm tra thực địa"})
	}
	stageSuspended = func(r *authzRig) string {
		return r.then(r.received(), official(commands.RoleHead, authzBuilding), commands.SuspendInput{Reason: "Chờ ý kiến cơ quan khác"})
	}
)

// authzCase is one action: where it is allowed and what to send.
type authzCase struct {
	action domain.Action
	stage  stage // nil: the action creates the dossier (App.Receive)
	input  func() commands.Input
	new    commands.ReceiveInput
}

func authzCases() []authzCase {
	return []authzCase{
		{action: domain.ActionSubmit, new: authzReceipt(domain.ChannelOnline)},
		{action: domain.ActionReceive, new: authzReceipt(domain.ChannelDirect)},
		{action: domain.ActionReceive, stage: stageSubmitted, input: func() commands.Input { return &commands.AcceptInput{} }},
		{action: domain.ActionRefuseReception, stage: stageSubmitted, input: func() commands.Input { return commands.RefuseInput{Reason: "Không thuộc thẩm quyền"} }},
		{action: domain.ActionRequestSupplement, stage: stageReceived, input: func() commands.Input {
			return commands.RequestSupplementInput{MissingItems: []string{"Bản vẽ"}, Reason: "Thiếu bản vẽ"}
		}},
		{action: domain.ActionSupplement, stage: stageWaiting, input: func() commands.Input {
			return commands.SupplementInput{Components: []domain.Component{{Name: "Bản vẽ thiết kế", Copies: 2}}}
		}},
		{action: domain.ActionTransfer, stage: stageReceived, input: func() commands.Input {
			return commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ"}
		}},
		{action: domain.ActionInterAgencyTransfer, stage: stageReceived, input: func() commands.Input {
			return commands.InterAgencyTransferInput{ToAgency: authzLand, Purpose: "Xác nhận quyền sử dụng đất", AllottedHours: 16}
		}},
		{action: domain.ActionAppraise, stage: stageProcessing, input: func() commands.Input {
			return commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện"}
		}},
		{action: domain.ActionSign, stage: stageAppraised, input: func() commands.Input {
			return commands.SignInput{DocumentNumber: "12/GPXD", DocumentHash: strings.Repeat("cd", 32)}
		}},
		{action: domain.ActionAssessFee, stage: stageReceived, input: func() commands.Input { return commands.AssessFeeInput{} }},
		{action: domain.ActionPay, stage: stageAwaitingPayment, input: func() commands.Input {
			return commands.PayInput{Amount: 150000, Channel: domain.PaymentCash, ReceiptNumber: "BL-0001"}
		}},
		{action: domain.ActionMarkResultReady, stage: stageSigned, input: func() commands.Input { return commands.MarkResultReadyInput{} }},
		{action: domain.ActionReturnResult, stage: stageResultReady, input: func() commands.Input {
			return commands.ReturnResultInput{Channel: domain.ChannelDirect}
		}},
		{action: domain.ActionIssueApology, stage: stageReceived, input: func() commands.Input {
			return commands.IssueApologyInput{Reason: "Cần thêm thời gian thẩm định", ExtraWorkingDays: 2}
		}},
		{action: domain.ActionSuspend, stage: stageReceived, input: func() commands.Input { return commands.SuspendInput{Reason: "Chờ ý kiến"} }},
		{action: domain.ActionResume, stage: stageSuspended, input: func() commands.Input { return commands.ResumeInput{} }},
		{action: domain.ActionWithdraw, stage: stageReceived, input: func() commands.Input { return commands.WithdrawInput{Reason: "Người nộp rút hồ sơ"} }},
		{action: domain.ActionReject, stage: stageAppraised, input: func() commands.Input { return commands.RejectInput{Reason: "Không đủ điều kiện"} }},
		{action: domain.ActionCompletePart, stage: stageConsulting, input: func() commands.Input {
			return commands.CompletePartInput{Step: "Kiểm tra thực địa", Opinion: "Hiện trạng phù hợp"}
		}},
	}
}

// attempt takes c's action as caller on a fresh dossier at c's stage (or a new one), returning the
// error and how many events the attempt wrote.
func (r *authzRig) attempt(c authzCase, caller commands.Caller) (wrote int, err error) {
	r.t.Helper()
	before := r.eventCount()
	if c.stage == nil {
		_, err = r.app.Receive(r.ctx, caller, c.new)
		return r.eventCount() - before, err
	}
	id := c.stage(r)
	before = r.eventCount()
	_, err = r.app.Execute(r.ctx, caller, id, nil, c.input())
	return r.eventCount() - before, err
}

func (r *authzRig) eventCount() int {
	r.t.Helper()
	var n int
	if err := r.store.DB().QueryRowContext(r.ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

func TestTheMatrixCoversEveryActionAndRole(t *testing.T) {
	covered := map[domain.Action]bool{}
	for _, c := range authzCases() {
		covered[c.action] = true
	}
	for action := range authzMatrix {
		if !covered[action] {
			t.Errorf("no case takes action %q", action)
		}
		if got, want := sortedRoles(commands.RolesFor(action)), sortedRoles(authzMatrix[action]); !slices.Equal(got, want) {
			t.Errorf("%s: commands allow %v, the matrix says %v", action, got, want)
		}
	}
	// Every action an official can take through the API has a row (rating is the applicant's, with the receipt's secret).
	for _, action := range []domain.Action{domain.ActionReceive, domain.ActionRefuseReception, domain.ActionRequestSupplement, domain.ActionSupplement,
		domain.ActionTransfer, domain.ActionInterAgencyTransfer, domain.ActionAppraise, domain.ActionSign, domain.ActionAssessFee, domain.ActionPay,
		domain.ActionMarkResultReady, domain.ActionReturnResult, domain.ActionIssueApology, domain.ActionSuspend, domain.ActionResume,
		domain.ActionWithdraw, domain.ActionReject, domain.ActionCompletePart} {
		if _, ok := commands.NewInput(action); !ok {
			t.Errorf("the API has no input for %q", action)
		}
		if _, ok := authzMatrix[action]; !ok {
			t.Errorf("action %q has no row in the matrix", action)
		}
	}
}

func sortedRoles(roles []commands.Role) []commands.Role {
	out := slices.Clone(roles)
	slices.Sort(out)
	return out
}

// Every cell: each role, alone, of an agency the dossier belongs to, takes each action where the
// action is allowed. Allowed cells succeed; refused cells are forbidden and write nothing.
func TestEveryRoleActionCell(t *testing.T) {
	r := newAuthzRig(t)
	for _, c := range authzCases() {
		for _, role := range commands.Roles {
			agency := authzBuilding // the deciding agency's officials
			if c.stage == nil {
				agency = authzCentre // a new dossier is received by the caller's own agency
			}
			name := fmt.Sprintf("%s/%s", c.action, role)
			if c.stage != nil && c.action == domain.ActionReceive {
				name += "(accept online)"
			}
			t.Run(name, func(t *testing.T) {
				r.t = t
				wrote, err := r.attempt(c, official(role, agency))
				if slices.Contains(authzMatrix[c.action], role) {
					if err != nil {
						t.Fatalf("%s may %s, got %v", role, c.action, err)
					}
					if wrote == 0 {
						t.Fatalf("%s took %s and wrote nothing", role, c.action)
					}
					return
				}
				if domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
					t.Fatalf("%s must not %s: got %v", role, c.action, err)
				}
				if wrote != 0 {
					t.Fatalf("a refused %s wrote %d events", c.action, wrote)
				}
			})
		}
	}
}

// Agency scoping, for every action: an official of another agency holding every role but admin is
// refused; the receiving unit's and the deciding agency's officials act; an inspector with every
// role of its own reads all and writes nothing; an admin of any agency, or of none, acts.
func TestAgencyScopingOfEveryAction(t *testing.T) {
	r := newAuthzRig(t)
	allButAdmin := []commands.Role{commands.RoleReception, commands.RoleSpecialist, commands.RoleHead, commands.RoleSigner, commands.RoleCashier}
	callers := []struct {
		name   string
		caller commands.Caller
		allow  bool
	}{
		{"another agency", commands.Caller{ID: "khac", Name: "Cán bộ sở khác", Roles: allButAdmin, Agency: authzLand}, false},
		{"no agency", commands.Caller{ID: "tudo", Name: "Cán bộ không đơn vị", Roles: allButAdmin}, false},
		{"inspector", commands.Caller{ID: "thanhtra", Name: "Thanh tra", Roles: []commands.Role{commands.RoleInspector}, Agency: authzBuilding}, false},
		{"receiving unit", commands.Caller{ID: "trungtam", Name: "Cán bộ trung tâm", Roles: allButAdmin, Agency: authzCentre}, true},
		{"deciding agency", commands.Caller{ID: "soxd", Name: "Cán bộ Sở Xây dựng", Roles: allButAdmin, Agency: authzBuilding}, true},
		{"admin of another agency", commands.Caller{ID: "quantri", Name: "Quản trị", Roles: []commands.Role{commands.RoleAdmin}, Agency: authzLand}, true},
		{"admin of no agency", commands.Caller{ID: "quantri2", Name: "Quản trị tỉnh", Roles: []commands.Role{commands.RoleAdmin}}, true},
	}
	for _, c := range authzCases() {
		if c.stage == nil {
			continue // a new dossier belongs to whoever receives it: see TestReceivingNeedsAnAgency
		}
		for _, who := range callers {
			t.Run(fmt.Sprintf("%s/%s", c.action, who.name), func(t *testing.T) {
				r.t = t
				wrote, err := r.attempt(c, who.caller)
				if who.allow {
					if err != nil {
						t.Fatalf("got %v", err)
					}
					return
				}
				if domain.ErrorCodeOf(err) != domain.EFORBIDDEN || wrote != 0 {
					t.Fatalf("got %v and %d events, want forbidden and nothing written", err, wrote)
				}
			})
		}
	}
}

// An official may receive only into an agency of their own; an inspector receives nothing.
func TestReceivingNeedsAnAgency(t *testing.T) {
	r := newAuthzRig(t)
	for _, tc := range []struct {
		name   string
		caller commands.Caller
		code   domain.ErrorCode
	}{
		{"no agency", commands.Caller{ID: "tn", Name: "Tiếp nhận", Roles: []commands.Role{commands.RoleReception}}, domain.EFORBIDDEN},
		{"inspector", official(commands.RoleInspector, authzCentre), domain.EFORBIDDEN},
		{"not signed in", commands.Caller{}, domain.EUNAUTHORIZED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			for _, channel := range []domain.Channel{domain.ChannelDirect, domain.ChannelOnline} {
				wrote, err := r.attempt(authzCase{new: authzReceipt(channel)}, tc.caller)
				if domain.ErrorCodeOf(err) != tc.code || wrote != 0 {
					t.Fatalf("%s: got %v and %d events, want %s and nothing written", channel, err, wrote, tc.code)
				}
			}
		})
	}
}

// Once a dossier went to another agency for its part, that agency's officials act on it too.
func TestTheHoldingAgencyActs(t *testing.T) {
	r := newAuthzRig(t)
	id := r.then(r.received(), official(commands.RoleHead, authzBuilding),
		commands.InterAgencyTransferInput{ToAgency: authzLand, Purpose: "Xác nhận quyền sử dụng đất", AllottedHours: 16})
	r.then(id, official(commands.RoleHead, authzLand), commands.TransferInput{ToUnit: authzBuilding, Step: "Thẩm định hồ sơ"})
	d, _, err := r.app.Load(r.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !commands.CanRead(official(commands.RoleSpecialist, authzLand), d) {
		t.Fatal("the holding agency cannot read the dossier it holds")
	}
}

// Who reads a dossier's full record (identity data and history).
func TestReadingIsScopedToTheDossiersAgencies(t *testing.T) {
	d := domain.Dossier{Status: domain.StatusProcessing, ReceivingUnit: authzCentre, CompetentAgency: authzBuilding, HolderAgency: authzBuilding}
	for _, tc := range []struct {
		caller commands.Caller
		want   bool
	}{
		{official(commands.RoleReception, authzCentre), true},
		{official(commands.RoleSpecialist, authzBuilding), true},
		{official(commands.RoleCashier, authzCentre), true},
		{official(commands.RoleHead, authzLand), false},
		{commands.Caller{ID: "x", Roles: []commands.Role{commands.RoleSigner}}, false},
		{official(commands.RoleInspector, authzLand), true},
		{commands.Caller{ID: "tt", Roles: []commands.Role{commands.RoleInspector}}, true},
		{official(commands.RoleAdmin, authzLand), true},
		{commands.Caller{}, false},
	} {
		if got := commands.CanRead(tc.caller, d); got != tc.want {
			t.Errorf("CanRead(%s of %q) = %v, want %v", tc.caller.Roles, tc.caller.Agency, got, tc.want)
		}
	}
	held := d
	held.HolderAgency = authzLand
	if !commands.CanRead(official(commands.RoleHead, authzLand), held) {
		t.Error("the holding agency cannot read")
	}
}

// Whose dossiers lists and reports cover: inspectors and admins the agency they ask for, or every
// agency — explicitly — when they ask for none; other officials their own agency only; an official
// of no agency nothing, whatever they ask for.
func TestScopeFor(t *testing.T) {
	noAgency := commands.Caller{ID: "tudo", Roles: []commands.Role{commands.RoleSpecialist}}
	inspector := commands.Caller{ID: "tt", Roles: []commands.Role{commands.RoleInspector}}
	for _, tc := range []struct {
		name      string
		caller    commands.Caller
		requested string
		agency    string
		all       bool
		code      domain.ErrorCode // "" when granted
	}{
		{"an official, asking for nothing", official(commands.RoleHead, authzBuilding), "", authzBuilding, false, ""},
		{"an official, asking for their own", official(commands.RoleHead, authzBuilding), authzBuilding, authzBuilding, false, ""},
		{"an official, asking for another", official(commands.RoleHead, authzBuilding), authzLand, "", false, domain.EFORBIDDEN},
		{"no agency, asking for nothing", noAgency, "", "", false, domain.EFORBIDDEN},
		{"no agency, asking for one", noAgency, authzCentre, "", false, domain.EFORBIDDEN},
		{"an inspector of no agency, asking for nothing", inspector, "", "", true, ""},
		{"an inspector, asking for one", official(commands.RoleInspector, authzLand), authzCentre, authzCentre, false, ""},
		{"an admin, asking for nothing", official(commands.RoleAdmin, authzLand), "", "", true, ""},
		{"a malformed agency", inspector, "Sở Xây dựng", "", false, domain.EINVALID},
		{"nobody", commands.Caller{}, "", "", false, domain.EUNAUTHORIZED},
	} {
		scope, err := commands.ScopeFor(tc.caller, tc.requested)
		if tc.code != "" {
			if domain.ErrorCodeOf(err) != tc.code || scope != (commands.ReadScope{}) {
				t.Errorf("%s: %+v, %v; want %s and a scope of nothing", tc.name, scope, err, tc.code)
			}
			continue
		}
		if err != nil || scope.Agency() != tc.agency || scope.AllAgencies() != tc.all {
			t.Errorf("%s: agency %q all %v (%v), want %q all %v", tc.name, scope.Agency(), scope.AllAgencies(), err, tc.agency, tc.all)
		}
	}
	var nothing commands.ReadScope
	if nothing.AllAgencies() || nothing.Covers(domain.Dossier{ReceivingUnit: authzCentre}) || nothing.Covers(domain.Dossier{}) {
		t.Error("the zero scope covers something")
	}
}

// LoadIfReadable answers the dossier to its agencies, inspectors and admins, and EFORBIDDEN —
// without the dossier — to an official of another agency or of none.
func TestLoadIfReadable(t *testing.T) {
	r := newAuthzRig(t)
	id := r.received()
	for _, tc := range []struct {
		caller commands.Caller
		code   domain.ErrorCode
	}{
		{official(commands.RoleReception, authzCentre), ""},
		{official(commands.RoleSpecialist, authzBuilding), ""},
		{commands.Caller{ID: "tt", Roles: []commands.Role{commands.RoleInspector}}, ""},
		{official(commands.RoleHead, authzLand), domain.EFORBIDDEN},
		{commands.Caller{ID: "tudo", Roles: []commands.Role{commands.RoleReception}}, domain.EFORBIDDEN},
		{commands.Caller{}, domain.EUNAUTHORIZED},
	} {
		d, recorded, err := r.app.LoadIfReadable(r.ctx, tc.caller, id)
		if tc.code == "" && (err != nil || d.ID != id || len(recorded) == 0) {
			t.Errorf("%s of %q: %v", tc.caller.Roles, tc.caller.Agency, err)
		}
		if tc.code != "" && (domain.ErrorCodeOf(err) != tc.code || d.ID != "" || recorded != nil) {
			t.Errorf("%s of %q: got dossier %q, %v; want %s", tc.caller.Roles, tc.caller.Agency, d.ID, err, tc.code)
		}
	}
	if _, _, err := r.app.LoadIfReadable(r.ctx, official(commands.RoleReception, authzCentre), "000.00.00.H56-260302-9999"); domain.ErrorCodeOf(err) != domain.ENOTFOUND {
		t.Errorf("an unknown dossier: %v", err)
	}
}

// Accounts holding a role exercised inside one agency must name it; inspectors and admins need not.
func TestAgencyRolesNeedAnAgency(t *testing.T) {
	for _, role := range commands.Roles {
		var v domain.Validation
		commands.Caller{ID: "x", Roles: []commands.Role{role}}.CheckAgency(&v)
		needs := slices.Contains(commands.AgencyRoles, role)
		if refused := v.Err() != nil; refused != needs {
			t.Errorf("%s without an agency: refused %v, want %v", role, refused, needs)
		}
		if needs == (role == commands.RoleInspector || role == commands.RoleAdmin) {
			t.Errorf("%s: agency role %v", role, needs)
		}
	}
	var v domain.Validation
	commands.Caller{ID: "x", Roles: []commands.Role{commands.RoleInspector, commands.RoleCashier}}.CheckAgency(&v)
	commands.Caller{ID: "y", Roles: []commands.Role{commands.RoleAdmin}, Agency: "Sở Tư pháp"}.CheckAgency(&v)
	if err := v.Err(); err == nil || len(err.(*domain.Error).Fields) != 2 {
		t.Errorf("an agency role beside inspector, and a malformed agency: %v", err)
	}
}
