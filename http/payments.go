package http

import (
	"errors"
	"html/template"
	"net"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/payment"
	"github.com/motcua/motcua/l10n"
)

// Online payment of assessed fees (docs/integrations.md, "Online payment"). The gateway adapter
// verifies and parses; these routes call the use cases:
//
//	POST /api/v1/public/dossiers/{code}/payment-orders  the citizen asks to pay (JSON)
//	POST /tra-cuu/{code}/thanh-toan                      the same from the lookup page's button: 303 to the gateway
//	POST /api/v1/dossiers/{ref}/payment-orders           an official asks for the applicant
//	GET  /api/v1/payments/{gateway}/ipn                  the gateway's signed server-to-server callback
//	GET  /thanh-toan/ket-qua                             the citizen's browser back from the gateway (shows, never records)

// PaymentsConfig turns online payment on.
type PaymentsConfig struct {
	Gateway payment.Gateway
}

// paymentOrderAnswer is the answer to a payment order request.
type paymentOrderAnswer struct {
	Ref         string             `json:"ref"`
	DossierCode domain.DossierCode `json:"dossier_code"`
	Amount      int64              `json:"amount"`
	Gateway     string             `json:"gateway"`
	ExpiresAt   string             `json:"expires_at"`
	PaymentURL  string             `json:"payment_url"`
}

func (s *Server) paymentRoutes(r chi.Router) {
	if s.payments == nil {
		return
	}
	name := s.payments.Gateway.Name()
	// Server to server: not counted against the public budget (a gateway's retries come from few addresses).
	r.Get("/api/v1/payments/"+name+"/ipn", s.paymentNotification)
	r.Group(func(r chi.Router) {
		r.Use(s.publicBudget(rateLimited))
		r.Post("/api/v1/public/dossiers/{code}/payment-orders", s.publicPaymentOrder)
		r.Post("/tra-cuu/{code}/thanh-toan", s.payFromLookupPage)
		r.Get("/thanh-toan/ket-qua", s.paymentReturn)
	})
	r.With(s.authenticate).Post("/api/v1/dossiers/{ref}/payment-orders", s.officialPaymentOrder)
}

// orderAndSign makes the order and its signed address at the gateway.
func (s *Server) orderAndSign(r *http.Request, caller *commands.Caller, ref string) (paymentOrderAnswer, error) {
	gw := s.payments.Gateway
	order, err := s.app.OrderPayment(r.Context(), caller, ref, gw.Name())
	if err != nil {
		return paymentOrderAnswer{}, err
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	locale := "vn"
	if r.URL.Query().Get("lang") == "en" {
		locale = "en"
	}
	u, err := gw.PaymentURL(payment.Order{Ref: order.Ref, Amount: order.Amount, ClientIP: ip, Locale: locale,
		Description: "Thanh toan phi, le phi ho so " + string(order.DossierCode), CreatedAt: order.CreatedAt, ExpiresAt: order.ExpiresAt})
	if err != nil {
		return paymentOrderAnswer{}, err
	}
	return paymentOrderAnswer{Ref: order.Ref, DossierCode: order.DossierCode, Amount: order.Amount, Gateway: order.Gateway,
		ExpiresAt: order.ExpiresAt.Format("2006-01-02T15:04:05Z07:00"), PaymentURL: u}, nil
}

// publicOrder orders the payment of the dossier whose code the path names, for the public (the
// citizen), and reports whether it answered w already (with the problem).
func (s *Server) publicOrder(w http.ResponseWriter, r *http.Request) (paymentOrderAnswer, bool) {
	code := chi.URLParam(r, "code")
	if _, err := domain.ParseDossierCode(code); err != nil {
		s.writeError(w, r, domain.Errorf(domain.ENOTFOUND, "dossier %s not found", code))
		return paymentOrderAnswer{}, true
	}
	answer, err := s.orderAndSign(r, nil, code)
	if err != nil {
		s.writeError(w, r, err)
		return paymentOrderAnswer{}, true
	}
	return answer, false
}

func (s *Server) publicPaymentOrder(w http.ResponseWriter, r *http.Request) {
	if answer, answered := s.publicOrder(w, r); !answered {
		writeJSON(w, http.StatusCreated, answer)
	}
}

func (s *Server) officialPaymentOrder(w http.ResponseWriter, r *http.Request) {
	caller := callerOf(r.Context())
	answer, err := s.orderAndSign(r, &caller, chi.URLParam(r, "ref"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, answer)
}

// payFromLookupPage is the lookup page's "Thanh toán trực tuyến / Pay online" button.
func (s *Server) payFromLookupPage(w http.ResponseWriter, r *http.Request) {
	if answer, answered := s.publicOrder(w, r); !answered {
		http.Redirect(w, r, answer.PaymentURL, http.StatusSeeOther)
	}
}

// paymentNotification is the gateway's signed callback: the one place a payment is recorded.
// It answers in the gateway's own format, never problem+json (the protocol dictates it).
func (s *Server) paymentNotification(w http.ResponseWriter, r *http.Request) {
	gw := s.payments.Gateway
	outcome := payment.Unknown
	cb, err := gw.ParseCallback(r.URL.Query())
	// Logged without personal data: the order's reference, amounts and codes only.
	log := s.logger.With("gateway", gw.Name(), "order", cb.Ref)
	switch {
	case errors.Is(err, payment.ErrInvalidSignature):
		outcome = payment.InvalidSignature
		log.WarnContext(r.Context(), "payment callback refused: invalid signature", "client", r.RemoteAddr)
	case err != nil:
		log.WarnContext(r.Context(), "payment callback refused: malformed", "err", err)
	default:
		var recorded commands.PaymentOutcome
		recorded, _, err = s.app.RecordGatewayPayment(r.Context(), commands.GatewayPayment{Gateway: gw.Name(), OrderRef: cb.Ref,
			Amount: cb.Amount, Succeeded: cb.Succeeded, TransactionNo: cb.TransactionNo, BankCode: cb.BankCode, PaidAt: cb.PaidAt})
		switch {
		case err != nil:
			log.ErrorContext(r.Context(), "payment callback not recorded", "err", err)
		case recorded == commands.PaymentRecorded:
			outcome = payment.Confirmed
			log.InfoContext(r.Context(), "payment recorded", "amount", cb.Amount, "transaction", cb.TransactionNo)
		case recorded == commands.PaymentFailureNoted:
			outcome = payment.Confirmed
			log.InfoContext(r.Context(), "payment failed at the gateway", "response_code", cb.ResponseCode)
		case recorded == commands.PaymentOrderUnknown:
			outcome = payment.OrderNotFound
			log.WarnContext(r.Context(), "payment callback refused: unknown order")
		case recorded == commands.PaymentAmountMismatch:
			outcome = payment.InvalidAmount
			log.WarnContext(r.Context(), "payment callback refused: amount differs from the order's", "amount", cb.Amount)
		default: // already recorded, or owed no more (the use case logged the refund to make)
			outcome = payment.AlreadyConfirmed
		}
	}
	contentType, body := gw.Answer(outcome)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// paymentReturnView is what the return page shows.
type paymentReturnView struct {
	Valid, Succeeded, Recorded bool
	Ref, Code, ResponseCode    string
	Amount                     int64
}

// paymentReturn shows the citizen the gateway's answer. It records nothing, as VNPAY's guide
// requires of the return address: only the server-to-server callback does (a browser can be
// stopped, replayed or edited). It checks the signature before believing anything and says
// whether the payment is already recorded; when it is not yet, the callback is on its way (or the
// daily reconciliation will find it).
func (s *Server) paymentReturn(w http.ResponseWriter, r *http.Request) {
	gw := s.payments.Gateway
	view := paymentReturnView{}
	status := http.StatusOK
	cb, err := gw.ParseCallback(r.URL.Query())
	if err == nil {
		view.Ref, view.Amount, view.Succeeded, view.ResponseCode = cb.Ref, cb.Amount, cb.Succeeded, cb.ResponseCode
		order, ferr := s.app.FindPaymentOrder(r.Context(), cb.Ref)
		switch {
		case ferr != nil && domain.ErrorCodeOf(ferr) != domain.ENOTFOUND:
			s.writeError(w, r, ferr)
			return
		case ferr == nil && order.Amount == cb.Amount:
			view.Valid, view.Code = true, string(order.DossierCode)
			if cb.Succeeded {
				_, paid, perr := s.app.PaymentOfOrder(r.Context(), order)
				if perr != nil {
					s.writeError(w, r, perr)
					return
				}
				view.Recorded = paid
			}
		}
	}
	if !view.Valid {
		status = http.StatusBadRequest
		s.logger.WarnContext(r.Context(), "payment return refused: signature, order or amount", "gateway", gw.Name(), "order", view.Ref)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := paymentReturnPage.Execute(w, view); err != nil {
		s.logger.ErrorContext(r.Context(), "payment return page", "err", err)
	}
}

var paymentReturnPage = template.Must(template.New("payment-return").Funcs(template.FuncMap{"vi": l10n.VI.Money, "en": l10n.EN.Money}).Parse(`<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kết quả thanh toán / Payment result</title><link rel="stylesheet" href="/static/style.css"></head>
<body><main class="public">
<h1>Kết quả thanh toán <span lang="en">/ Payment result</span></h1>
{{if not .Valid}}
<p class="problem">Kết quả thanh toán không hợp lệ: không ghi nhận. <span lang="en">This payment result is not valid: nothing is recorded.</span></p>
{{else if and .Succeeded .Recorded}}
<p class="ok">Thanh toán thành công {{vi .Amount}} cho hồ sơ {{.Code}}; đã ghi nhận vào hồ sơ. <span lang="en">Payment of {{en .Amount}} for dossier {{.Code}} succeeded and is recorded.</span></p>
{{else if .Succeeded}}
<p class="ok">Cổng thanh toán báo thành công {{vi .Amount}} cho hồ sơ {{.Code}}; hệ thống đang chờ xác nhận và sẽ ghi nhận trong ít phút. <span lang="en">The gateway reports the payment of {{en .Amount}} for dossier {{.Code}} as successful; it will be recorded within minutes once confirmed.</span></p>
{{else}}
<p class="problem">Thanh toán không thành công (mã {{.ResponseCode}}); hồ sơ {{.Code}} chưa được thanh toán. <span lang="en">The payment did not go through (code {{.ResponseCode}}); dossier {{.Code}} is not paid.</span></p>
{{end}}
{{if .Code}}<p><a href="/tra-cuu/{{.Code}}">Xem tình trạng hồ sơ / See the dossier's status</a></p>{{end}}
<p>Mã giao dịch / Order: {{.Ref}}</p>
</main></body></html>
`))
