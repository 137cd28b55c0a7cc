package http_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/chain"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
)

// publicBase is the configured address printed QR codes point to.
const publicBase = "https://motcua.example.vn"

// trustEnv is env with what issue 6 adds: the hash-chained store, agencies' signing keys (Ed25519 for
// the department, ECDSA P-256 as a CA-issued key would be for the centre), signed checkpoints.
type trustEnv struct {
	*env
	dbPath       string
	checkpointer *chain.Checkpointer
	agencyKeys   commands.StaticSigners
}

func newTrustEnv(t *testing.T) *trustEnv {
	t.Helper()
	_, departmentKey, _ := ed25519.GenerateKey(rand.Reader)
	centreKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	agencyKeys := commands.StaticSigners{building: departmentKey, centre: centreKey}
	_, integrityKey, _ := ed25519.GenerateKey(rand.Reader)
	var checkpointer *chain.Checkpointer
	var events *wiring.Events
	e := buildEnv(t, envOptions{
		wrap: func(t *testing.T, store *sqlite.Store) eventstore.Store {
			var err error
			if events, err = wiring.Decorate(context.Background(), store, store.DB()); err != nil {
				t.Fatal(err)
			}
			return events.Sealed
		},
		configure: func(cfg *mhttp.Config, app *commands.App, _ eventstore.Store) {
			app.Signers = agencyKeys
			var err error
			if checkpointer, err = chain.NewCheckpointer(events.Chained, integrityKey); err != nil {
				t.Fatal(err)
			}
			checkpointer.Logger = cfg.Logger
			cfg.Integrity = chain.NewVerifier(events.Chained, integrityKey.Public().(ed25519.PublicKey))
			cfg.PublicBaseURL = publicBase + "/"
		},
	})
	return &trustEnv{env: e, dbPath: e.dbPath, checkpointer: checkpointer, agencyKeys: agencyKeys}
}

// signedDossier takes a dossier from receipt to a returned result with its fee paid, and returns its
// code, the rating secret and the SHA-256 of the signed document.
func (e *trustEnv) signedDossier() (code, secret, documentHash string) {
	e.t.Helper()
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	cashier := e.token("thungan1", centre, commands.RoleCashier)
	specialist := e.token("chuyenvien1", building, commands.RoleSpecialist)
	head := e.token("truongphong1", building, commands.RoleHead)
	signer := e.token("giamdoc1", building, commands.RoleSigner)

	received := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated)
	code, secret = received.body["code"].(string), received.body["rating_secret"].(string)
	path := "/api/v1/dossiers/" + code
	sum := sha256.Sum256([]byte("%PDF-1.7 Giấy phép xây dựng số 12/GPXD"))
	documentHash = hex.EncodeToString(sum[:])
	steps := []struct {
		token, action string
		body          map[string]any
	}{
		{reception, "transfer", map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ", "to_official_id": "chuyenvien1"}},
		{specialist, "appraise", map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện cấp phép"}},
		{head, "transfer", map[string]any{"to_unit": "BGD", "step": "Trình ký"}},
		{signer, "sign", map[string]any{"document_number": "12/GPXD", "document_hash": documentHash, "signer_title": "Phó Giám đốc"}},
		{signer, "result", map[string]any{}},
		{cashier, "fee", map[string]any{}},
		{cashier, "payment", map[string]any{"amount": 150000, "channel": "cash", "receipt_number": "BL-0001"}},
		{reception, "return", map[string]any{"channel": "direct"}},
	}
	for _, s := range steps {
		e.clock.Advance(time.Hour)
		e.expect(e.do("POST", path+"/"+s.action, s.token, s.body), http.StatusOK)
	}
	return code, secret, documentHash
}

// tamper runs SQL on the database file as an administrator would, after dropping the store's
// append-only triggers.
func (e *trustEnv) tamper(query string, args ...any) {
	e.t.Helper()
	db, err := sql.Open("sqlite", sqlite.DSN(e.dbPath))
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	for _, trigger := range []string{"events_no_update", "events_no_delete"} {
		if _, err := db.Exec(`DROP TRIGGER IF EXISTS ` + trigger); err != nil {
			e.t.Fatal(err)
		}
	}
	if _, err := db.Exec(query, args...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

func TestDossierVerification(t *testing.T) {
	e := newTrustEnv(t)
	code, _, _ := e.signedDossier()
	path := "/api/v1/dossiers/" + code + "/verification"
	inspector := e.token("thanhtra1", land, commands.RoleInspector)

	t.Run("who may ask", func(t *testing.T) {
		cases := []struct {
			name   string
			token  string
			status int
		}{
			{"an inspector of any agency", inspector, http.StatusOK},
			{"an official of the deciding agency", e.token("chuyenvien1", building, commands.RoleSpecialist), http.StatusOK},
			{"an official of the receiving centre", e.token("tiepnhan1", centre, commands.RoleReception), http.StatusOK},
			{"an admin", e.token("quantri", land, commands.RoleAdmin), http.StatusOK},
			{"an official of another agency", e.token("canbo-khac", land, commands.RoleHead), http.StatusForbidden},
			{"nobody signed in", "", http.StatusUnauthorized},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { e.expect(e.do("GET", path, tc.token, nil), tc.status) })
		}
	})

	t.Run("intact, with both signatures", func(t *testing.T) {
		if _, err := e.checkpointer.Checkpoint(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := e.expect(e.do("GET", path, inspector, nil), http.StatusOK)
		history := got.body["history"].(map[string]any)
		if got.body["intact"] != true || history["events"] != float64(9) || history["checkpointed_events"] != float64(9) ||
			len(history["findings"].([]any)) != 0 {
			t.Fatalf("verification of an untouched dossier: %s", got.raw)
		}
		signatures := got.body["signatures"].([]any)
		want := []struct{ statement, agency, algorithm string }{
			{"result", building, commands.AlgorithmEd25519},
			{"receipt", centre, commands.AlgorithmECDSAP256},
		}
		if len(signatures) != len(want) {
			t.Fatalf("signatures: %s", got.raw)
		}
		for i, w := range want {
			s := signatures[i].(map[string]any)
			keyID, _ := commands.KeyID(e.agencyKeys[w.agency].Public())
			if s["statement"] != w.statement || s["agency"] != w.agency || s["algorithm"] != w.algorithm || s["key_id"] != keyID || s["valid"] != true {
				t.Fatalf("signature %d = %v, want %+v with key %s", i, s, w, keyID)
			}
		}
	})

	t.Run("a paid amount rewritten in the database", func(t *testing.T) {
		e.tamper(`UPDATE events SET data = json_set(data, '$.amount', 15000) WHERE type = ?`, domain.TypePaid)
		got := e.expect(e.do("GET", path, inspector, nil), http.StatusOK)
		if got.body["intact"] != false {
			t.Fatalf("verification after tampering: %s", got.raw)
		}
		findings := got.body["history"].(map[string]any)["findings"].([]any)
		if len(findings) != 1 {
			t.Fatalf("findings: %s", got.raw)
		}
		if f := findings[0].(map[string]any); f["kind"] != string(chain.KindAltered) || f["version"] != float64(8) {
			t.Fatalf("finding %v, want the payment (version 8) altered", f)
		}
		receipt := got.body["signatures"].([]any)[1].(map[string]any)
		if receipt["statement"] != "receipt" || receipt["valid"] != false {
			t.Fatalf("the receipt's signature still verifies over the altered amount: %v", receipt)
		}
	})
}

func TestPublicResultVerification(t *testing.T) {
	e := newTrustEnv(t)
	code, _, documentHash := e.signedDossier()
	result := "/api/v1/public/results/" + code + "-KQ1"
	departmentKeyID, _ := commands.KeyID(e.agencyKeys[building].Public())
	otherHash := strings.Repeat("0f", 32)

	t.Run("the signed document", func(t *testing.T) {
		got := e.expect(e.do("GET", result+"?hash="+strings.ToUpper(documentHash), "", nil), http.StatusOK)
		signed, _ := got.body["signed"].(map[string]any)
		signature, _ := signed["signature"].(map[string]any)
		if got.body["matches"] != true || got.body["genuine"] != true || got.body["history_intact"] != true ||
			got.body["document_number"] != "12/GPXD" || signed["name"] != "Cán bộ giamdoc1" || signed["title"] != "Phó Giám đốc" ||
			signed["agency"] != building || signature["valid"] != true || signature["key_id"] != departmentKeyID {
			t.Fatalf("verification of the signed document: %s", got.raw)
		}
		for _, private := range []string{"Nguyễn Văn An", "038012345678", "0912345678"} {
			if strings.Contains(got.raw, private) {
				t.Fatalf("the public verification shows %q: %s", private, got.raw)
			}
		}
	})

	cases := []struct {
		name   string
		path   string
		status int
		check  func(response) bool
	}{
		{"another document", result + "?hash=" + otherHash, http.StatusOK,
			func(r response) bool { return r.body["matches"] == false && r.body["genuine"] == false }},
		{"no document presented", result, http.StatusOK,
			func(r response) bool { _, asked := r.body["matches"]; return !asked && r.body["genuine"] == false }},
		{"a hash that is not SHA-256", result + "?hash=abc", http.StatusBadRequest,
			func(r response) bool { return strings.Join(fieldsOf(r), ",") == "hash" }},
		{"a result that does not exist", "/api/v1/public/results/" + code + "-KQ2", http.StatusNotFound, nil},
		{"not a result code", "/api/v1/public/results/nonsense", http.StatusBadRequest, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := e.expect(e.do("GET", tc.path, "", nil), tc.status)
			if tc.check != nil && !tc.check(got) {
				t.Fatalf("answer: %s", got.raw)
			}
		})
	}

	t.Run("a forger rewrites the signed hash in the database", func(t *testing.T) {
		e.tamper(`UPDATE events SET data = json_set(data, '$.document_hash', ?) WHERE type IN (?, ?)`, otherHash, domain.TypeSigned, domain.TypeResultReady)
		got := e.expect(e.do("GET", result+"?hash="+otherHash, "", nil), http.StatusOK)
		signature := got.body["signed"].(map[string]any)["signature"].(map[string]any)
		if got.body["matches"] != true || signature["valid"] != false || got.body["history_intact"] != false || got.body["genuine"] != false {
			t.Fatalf("the forged hash passes: %s", got.raw)
		}
	})
}
