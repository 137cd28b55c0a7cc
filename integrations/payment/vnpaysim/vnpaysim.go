// Package vnpaysim is a VNPAY gateway for tests and demonstrations: a real HTTP server speaking the
// merchant side of VNPAY's published protocol (version 2.1.0). Its pay page checks the signed
// request as VNPAY does and, instead of asking for a card, completes the payment at once by the test
// set's rules (Outcome); it then signs the result and sends it to the merchant's IPN address, trying
// again while the answer is not RspCode 00 (as VNPAY does, up to IPNAttempts times), redirects the
// browser to vnp_ReturnUrl with the same signed result, and serves the daily statement. What it does
// not simulate is listed in docs/integrations.md.
package vnpaysim

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/payment"
)

// Transaction is one payment the simulator completed (or refused).
type Transaction struct {
	Ref           string
	TransactionNo string
	Amount        int64 // đồng
	BankCode      string
	ResponseCode  string // 00 paid; anything else refused
	PayDate       time.Time
	ReturnURL     string
	// Result is the signed result sent to the IPN and the return URL.
	Result url.Values
}

// IPNCall is one notification the simulator sent and what the merchant answered.
type IPNCall struct {
	Ref     string
	RspCode string // "" when the merchant did not answer
	At      time.Time
}

// Gateway is the simulated VNPAY.
type Gateway struct {
	TmnCode string
	Secret  []byte
	// IPNURL is the merchant's notification address (at VNPAY it is set in the merchant's profile,
	// not in the request).
	IPNURL string
	// Outcome decides a payment by the test set's rules; DefaultOutcome when nil.
	Outcome func(ref string, amount int64) string
	// IPNAttempts bounds the notifications of one transaction (VNPAY: 10); IPNRetryDelay is the
	// wait between two (VNPAY: minutes; short in tests).
	IPNAttempts   int
	IPNRetryDelay time.Duration
	// DropIPN, when it returns true for a reference, sends no notification at all (the merchant's
	// server unreachable all along): only the statement knows of the payment.
	DropIPN func(ref string) bool
	Now     func() time.Time
	Client  *http.Client

	mu           sync.Mutex
	transactions []Transaction
	byRef        map[string]int
	ipns         []IPNCall
	next         int
	wg           sync.WaitGroup
}

// DefaultOutcome is the test set: every payment succeeds (00) with the test bank NCB, except an
// amount of 100 million đồng or more, refused as the test card's balance is too low (51).
func DefaultOutcome(_ string, amount int64) string {
	if amount >= 100_000_000 {
		return "51"
	}
	return "00"
}

func (g *Gateway) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// Handler serves the pay page and the statement.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /paymentv2/vpcpay.html", g.pay)
	mux.HandleFunc("GET /merchant_webapi/statement", g.statement)
	return mux
}

// Wait waits for the notifications under way (retries included).
func (g *Gateway) Wait() { g.wg.Wait() }

// Transactions lists what the simulator completed, in order.
func (g *Gateway) Transactions() []Transaction {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.transactions)
}

// IPNCalls lists the notifications sent, in order.
func (g *Gateway) IPNCalls() []IPNCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.ipns)
}

// Result returns the signed result of the transaction of ref, as sent to the IPN address.
func (g *Gateway) Result(ref string) (url.Values, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	i, ok := g.byRef[ref]
	if !ok {
		return nil, false
	}
	return cloneValues(g.transactions[i].Result), true
}

// refuse answers a request the gateway does not accept, as its error page does, with the code.
func refuse(w http.ResponseWriter, status int, code, why string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "VNPAY error %s: %s\n", code, why)
}

func (g *Gateway) pay(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !payment.Verify(g.Secret, q) {
		refuse(w, http.StatusBadRequest, "97", "invalid signature")
		return
	}
	if q.Get("vnp_TmnCode") != g.TmnCode {
		refuse(w, http.StatusBadRequest, "02", "unknown merchant")
		return
	}
	for _, required := range []string{"vnp_Version", "vnp_Command", "vnp_Amount", "vnp_CurrCode", "vnp_TxnRef", "vnp_OrderInfo",
		"vnp_ReturnUrl", "vnp_CreateDate", "vnp_ExpireDate", "vnp_IpAddr", "vnp_Locale"} {
		if q.Get(required) == "" {
			refuse(w, http.StatusBadRequest, "03", "missing "+required)
			return
		}
	}
	amount, err := strconv.ParseInt(q.Get("vnp_Amount"), 10, 64)
	switch {
	case q.Get("vnp_Version") != payment.VNPayVersion || q.Get("vnp_Command") != "pay":
		refuse(w, http.StatusBadRequest, "03", "vnp_Version or vnp_Command")
		return
	case err != nil || amount <= 0 || amount%100 != 0:
		refuse(w, http.StatusBadRequest, "03", "vnp_Amount must be a positive amount × 100")
		return
	case q.Get("vnp_CurrCode") != "VND" || (q.Get("vnp_Locale") != "vn" && q.Get("vnp_Locale") != "en"):
		refuse(w, http.StatusBadRequest, "03", "vnp_CurrCode or vnp_Locale")
		return
	}
	created, err1 := payment.ParseTime(q.Get("vnp_CreateDate"))
	expires, err2 := payment.ParseTime(q.Get("vnp_ExpireDate"))
	now := g.now()
	if err1 != nil || err2 != nil || !expires.After(created) {
		refuse(w, http.StatusBadRequest, "03", "vnp_CreateDate or vnp_ExpireDate")
		return
	}
	if now.After(expires) {
		refuse(w, http.StatusBadRequest, "11", "the payment window has expired")
		return
	}
	if _, err := url.ParseRequestURI(q.Get("vnp_ReturnUrl")); err != nil {
		refuse(w, http.StatusBadRequest, "03", "vnp_ReturnUrl")
		return
	}
	ref := q.Get("vnp_TxnRef")
	decide := g.Outcome
	if decide == nil {
		decide = DefaultOutcome
	}

	g.mu.Lock()
	if i, seen := g.byRef[ref]; seen && g.transactions[i].ResponseCode == "00" {
		g.mu.Unlock()
		refuse(w, http.StatusBadRequest, "94", "this order was already paid")
		return
	}
	g.next++
	tx := Transaction{Ref: ref, Amount: amount / 100, BankCode: "NCB", ResponseCode: decide(ref, amount/100),
		PayDate: now, ReturnURL: q.Get("vnp_ReturnUrl"), TransactionNo: strconv.Itoa(14000000 + g.next)}
	status := "00"
	if tx.ResponseCode != "00" {
		status = "02"
	}
	result := url.Values{
		"vnp_TmnCode":           {g.TmnCode},
		"vnp_Amount":            {q.Get("vnp_Amount")},
		"vnp_BankCode":          {tx.BankCode},
		"vnp_BankTranNo":        {"VNP" + tx.TransactionNo},
		"vnp_CardType":          {"ATM"},
		"vnp_OrderInfo":         {q.Get("vnp_OrderInfo")},
		"vnp_PayDate":           {payment.FormatTime(now)},
		"vnp_ResponseCode":      {tx.ResponseCode},
		"vnp_TransactionNo":     {tx.TransactionNo},
		"vnp_TransactionStatus": {status},
		"vnp_TxnRef":            {ref},
	}
	result.Set("vnp_SecureHashType", "HmacSHA512")
	result.Set("vnp_SecureHash", payment.Sign(g.Secret, result))
	tx.Result = result
	if g.byRef == nil {
		g.byRef = map[string]int{}
	}
	g.byRef[ref] = len(g.transactions)
	g.transactions = append(g.transactions, tx)
	g.mu.Unlock()

	if g.IPNURL != "" && (g.DropIPN == nil || !g.DropIPN(ref)) {
		// The first notification goes before the browser returns, as at VNPAY (usually); the
		// retries go on in the background.
		if !g.notify(ref, result) {
			g.wg.Go(func() { g.retry(ref, result) })
		}
	}
	back, _ := url.Parse(tx.ReturnURL)
	query := back.Query()
	for k, vs := range result {
		query[k] = vs
	}
	back.RawQuery = query.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (g *Gateway) retry(ref string, result url.Values) {
	for range cmp.Or(g.IPNAttempts, 10) - 1 {
		time.Sleep(g.IPNRetryDelay)
		if g.notify(ref, result) {
			return
		}
	}
}

// Notify sends the signed result of ref to the IPN address again (a replay, as VNPAY's retries
// look to the merchant), and returns the merchant's RspCode.
func (g *Gateway) Notify(ref string) (string, error) {
	result, ok := g.Result(ref)
	if !ok {
		return "", fmt.Errorf("vnpaysim: no transaction %s", ref)
	}
	return g.send(result)
}

// notify sends one notification and reports whether the merchant confirmed it (RspCode 00).
func (g *Gateway) notify(ref string, result url.Values) bool {
	code, _ := g.send(result)
	g.mu.Lock()
	g.ipns = append(g.ipns, IPNCall{Ref: ref, RspCode: code, At: g.now()})
	g.mu.Unlock()
	return code == "00"
}

func (g *Gateway) send(result url.Values) (string, error) {
	client := g.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Get(g.IPNURL + "?" + result.Encode())
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var answer struct{ RspCode, Message string }
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return "", fmt.Errorf("vnpaysim: IPN answer: %w", err)
	}
	return answer.RspCode, nil
}

// statement serves the day's transactions (by payment time in GMT+7) as CSV, to a signed request.
func (g *Gateway) statement(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !payment.Verify(g.Secret, q) || q.Get("vnp_TmnCode") != g.TmnCode {
		refuse(w, http.StatusForbidden, "97", "invalid signature")
		return
	}
	day := q.Get("vnp_TransDate")
	if _, err := time.Parse("20060102", day); err != nil {
		refuse(w, http.StatusBadRequest, "03", "vnp_TransDate")
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	_ = cw.Write(payment.StatementColumns)
	for _, tx := range g.Transactions() {
		if tx.PayDate.In(domain.VietnamTime).Format("20060102") != day {
			continue
		}
		_ = cw.Write([]string{tx.Ref, tx.TransactionNo, strconv.FormatInt(tx.Amount*100, 10), payment.FormatTime(tx.PayDate), tx.BankCode, tx.ResponseCode})
	}
	cw.Flush()
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
