package http

import (
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
)

// verifyDossier: GET /api/v1/dossiers/{ref}/verification — whether the dossier's history is the one
// recorded (hash chain and signed checkpoints), naming any event altered, removed or reordered, and
// whether the agency signatures on its result and receipts verify. For whoever may read the dossier:
// inspectors, admins and the officials of its agencies.
func (s *Server) verifyDossier(w http.ResponseWriter, r *http.Request) {
	d, recorded, err := s.app.LoadIfReadable(r.Context(), callerOf(r.Context()), chi.URLParam(r, "ref"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	history, err := s.integrity.VerifyStream(r.Context(), commands.StreamName(d.ID))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	answer := httpkit.DossierVerification{Code: string(d.Code), ID: d.ID, Version: d.Version, History: history, Signatures: []httpkit.SignatureCheck{}}
	answer.Intact = history.Intact()
	for _, e := range recorded {
		if e.Type != domain.TypeSigned && e.Type != domain.TypePaid {
			continue
		}
		event, err := domain.DecodeEvent(e.Type, e.Data)
		if err != nil {
			answer.Intact = false // an altered event; the history report names it
			continue
		}
		var (
			sig       *domain.AgencySignature
			statement []byte
			kind      string
		)
		switch event := event.(type) {
		case domain.Signed:
			if sig = event.AgencySignature; sig != nil {
				statement, kind = commands.ResultStatement(d.Code, sig.Agency, event), "result"
			}
		case domain.Paid:
			if sig = event.AgencySignature; sig != nil {
				statement, kind = commands.ReceiptStatement(d.Code, sig.Agency, event), "receipt"
			}
		}
		if sig == nil {
			continue
		}
		check := httpkit.SignatureCheck{Version: e.Version, Statement: kind, Agency: sig.Agency, Algorithm: sig.Algorithm, KeyID: sig.KeyID,
			Valid: commands.VerifyStatement(sig, statement) == nil}
		answer.Intact = answer.Intact && check.Valid
		answer.Signatures = append(answer.Signatures, check)
	}
	writeJSON(w, http.StatusOK, answer)
}

// loadResult finds the dossier and the index of the result named by the route's {resultCode}.
func (s *Server) loadResult(r *http.Request) (domain.Dossier, int, error) {
	resultCode := chi.URLParam(r, "resultCode")
	code, n, err := domain.ParseResultCode(resultCode)
	if err != nil {
		return domain.Dossier{}, 0, err
	}
	d, _, err := s.app.Load(r.Context(), string(code))
	if err != nil {
		return domain.Dossier{}, 0, err
	}
	if n > len(d.Results) {
		return domain.Dossier{}, 0, domain.Errorf(domain.ENOTFOUND, "Không tìm thấy kết quả %s / no result %s", resultCode, resultCode)
	}
	return d, n, nil
}

// verifyResult: GET /api/v1/public/results/{resultCode}[?hash=<hex SHA-256>] — what result the code
// names, who signed it and when, whether the agency's signature verifies, and whether a presented
// document's hash is the signed one. The applicant's identity is never shown.
func (s *Server) verifyResult(w http.ResponseWriter, r *http.Request) {
	presented := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("hash")))
	if raw, err := hex.DecodeString(presented); presented != "" && (err != nil || len(raw) != 32) {
		s.writeError(w, r, invalid("hash", "must be the hex SHA-256 of the document (64 hexadecimal digits)"))
		return
	}
	d, n, err := s.loadResult(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerResultVerification(w, r, d, n, presented)
}

// answerResultVerification answers what verifyResult and verifyResultFile say of the n-th result
// of d, against the presented document's digest (none when empty).
func (s *Server) answerResultVerification(w http.ResponseWriter, r *http.Request, d domain.Dossier, n int, presented string) {
	result := d.Results[n-1]
	answer := httpkit.ResultVerification{ResultCode: result.ResultCode, DossierCode: string(d.Code), Procedure: d.Procedure.Name,
		DocumentNumber: result.DocumentNumber, DocumentHash: result.DocumentHash, ReadyAt: result.ReadyAt, PresentedHash: presented}
	if presented != "" {
		matches := result.DocumentHash != "" && presented == result.DocumentHash
		answer.Matches = &matches
	}
	signatureValid := false
	if sig := d.Signature; sig != nil && sig.DocumentHash != "" && sig.DocumentHash == result.DocumentHash {
		answer.Signed = &httpkit.ResultSigner{Name: sig.Signer.OfficialName, Title: sig.SignerTitle, SignedAt: sig.SignedAt}
		if as := sig.AgencySignature; as != nil {
			signatureValid = commands.VerifyStatement(as, commands.ResultStatement(d.Code, as.Agency, *sig)) == nil
			answer.Signed.Agency, answer.Signed.AgencyName = as.Agency, s.app.Catalog().AgencyName(as.Agency)
			answer.Signed.Signature = &httpkit.PublicSignature{Algorithm: as.Algorithm, KeyID: as.KeyID, Valid: signatureValid}
		}
	}
	history, err := s.integrity.VerifyStream(r.Context(), commands.StreamName(d.ID))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	answer.HistoryIntact = history.Intact()
	answer.Genuine = answer.Matches != nil && *answer.Matches && signatureValid && answer.HistoryIntact
	writeJSON(w, http.StatusOK, answer)
}
