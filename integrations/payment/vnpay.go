package payment

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
)

// VNPAY's protocol (payment gateway API version 2.1.0), as published for merchants:
//   - the pay page is reached by redirecting the payer to <gateway>/paymentv2/vpcpay.html with the
//     vnp_* parameters and vnp_SecureHash, an HMAC-SHA512 (hex) keyed by the merchant's secret over
//     the parameters sorted by name, each name=value URL-encoded (spaces as +) and joined by &;
//   - amounts are in đồng × 100 (vnp_Amount), times yyyyMMddHHmmss in GMT+7;
//   - the result comes back twice, signed the same way: server-to-server to the merchant's IPN
//     address (configured at VNPAY, answered with {"RspCode","Message"}), and in the payer's browser
//     to vnp_ReturnUrl.
//
// The daily statement is modelled on the reconciliation file merchants download: a CSV of the day's
// transactions (statementPath), requested with a signed query.
const (
	VNPayVersion  = "2.1.0"
	vnpayPayPath  = "/paymentv2/vpcpay.html"
	statementPath = "/merchant_webapi/statement"
	// VNPayTimeLayout is the protocol's time format, read in GMT+7.
	VNPayTimeLayout = "20060102150405"
)

// VNPay is the VNPAY gateway adapter.
type VNPay struct {
	// BaseURL is the gateway's address, e.g. https://sandbox.vnpayment.vn (the simulator's in tests).
	BaseURL string
	// TmnCode is the merchant's terminal code VNPAY assigned (vnp_TmnCode).
	TmnCode string
	// Secret is the merchant's hash secret (vnp_HashSecret), read from configuration.
	Secret []byte
	// ReturnURL is where the payer's browser comes back (vnp_ReturnUrl).
	ReturnURL string
	Client    *http.Client // http.DefaultClient when nil
}

func (v *VNPay) Name() string { return "vnpay" }

// Sign returns the hex HMAC-SHA512 of params as VNPAY computes it: every parameter except
// vnp_SecureHash and vnp_SecureHashType, sorted by name, URL-encoded.
func Sign(secret []byte, params url.Values) string {
	signed := url.Values{}
	for k, vs := range params {
		if k == "vnp_SecureHash" || k == "vnp_SecureHashType" || len(vs) == 0 || vs[0] == "" {
			continue
		}
		signed.Set(k, vs[0])
	}
	mac := hmac.New(sha512.New, secret)
	mac.Write([]byte(signed.Encode())) // Encode sorts by name and escapes as VNPAY's samples do
	return hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether params carry a valid vnp_SecureHash for secret.
func Verify(secret []byte, params url.Values) bool {
	got, err := hex.DecodeString(strings.ToLower(params.Get("vnp_SecureHash")))
	if err != nil || len(got) == 0 {
		return false
	}
	want, _ := hex.DecodeString(Sign(secret, params))
	return hmac.Equal(got, want)
}

// FormatTime writes t as the protocol does (yyyyMMddHHmmss, GMT+7).
func FormatTime(t time.Time) string { return t.In(domain.VietnamTime).Format(VNPayTimeLayout) }

// ParseTime reads a protocol time.
func ParseTime(s string) (time.Time, error) {
	return time.ParseInLocation(VNPayTimeLayout, s, domain.VietnamTime)
}

func (v *VNPay) PaymentURL(o Order) (string, error) {
	if o.Ref == "" || o.Amount <= 0 || o.CreatedAt.IsZero() || o.ExpiresAt.IsZero() {
		return "", fmt.Errorf("vnpay: an order needs a reference, a positive amount and its times")
	}
	locale := o.Locale
	if locale != "en" {
		locale = "vn"
	}
	ip := o.ClientIP
	if ip == "" {
		ip = "127.0.0.1"
	}
	params := url.Values{
		"vnp_Version":    {VNPayVersion},
		"vnp_Command":    {"pay"},
		"vnp_TmnCode":    {v.TmnCode},
		"vnp_Amount":     {strconv.FormatInt(o.Amount*100, 10)},
		"vnp_CurrCode":   {"VND"},
		"vnp_TxnRef":     {o.Ref},
		"vnp_OrderInfo":  {o.Description},
		"vnp_OrderType":  {"other"},
		"vnp_ReturnUrl":  {v.ReturnURL},
		"vnp_CreateDate": {FormatTime(o.CreatedAt)},
		"vnp_ExpireDate": {FormatTime(o.ExpiresAt)},
		"vnp_IpAddr":     {ip},
		"vnp_Locale":     {locale},
	}
	params.Set("vnp_SecureHash", Sign(v.Secret, params))
	return strings.TrimSuffix(v.BaseURL, "/") + vnpayPayPath + "?" + params.Encode(), nil
}

func (v *VNPay) ParseCallback(query map[string][]string) (Callback, error) {
	params := url.Values(query)
	if !Verify(v.Secret, params) || params.Get("vnp_TmnCode") != v.TmnCode {
		return Callback{}, ErrInvalidSignature
	}
	cb := Callback{
		Ref:           params.Get("vnp_TxnRef"),
		ResponseCode:  params.Get("vnp_ResponseCode"),
		TransactionNo: params.Get("vnp_TransactionNo"),
		BankCode:      params.Get("vnp_BankCode"),
	}
	amount, err := strconv.ParseInt(params.Get("vnp_Amount"), 10, 64)
	if err != nil || amount <= 0 || amount%100 != 0 || cb.Ref == "" {
		return Callback{}, fmt.Errorf("%w: vnp_Amount or vnp_TxnRef", ErrMalformed)
	}
	cb.Amount = amount / 100
	cb.Succeeded = cb.ResponseCode == "00" && params.Get("vnp_TransactionStatus") == "00"
	if cb.Succeeded {
		if cb.TransactionNo == "" {
			return Callback{}, fmt.Errorf("%w: vnp_TransactionNo", ErrMalformed)
		}
		if cb.PaidAt, err = ParseTime(params.Get("vnp_PayDate")); err != nil {
			return Callback{}, fmt.Errorf("%w: vnp_PayDate", ErrMalformed)
		}
	}
	return cb, nil
}

// vnpayAnswers are the IPN answers of VNPAY's merchant guide.
var vnpayAnswers = map[Outcome][2]string{
	Confirmed:        {"00", "Confirm Success"},
	OrderNotFound:    {"01", "Order not found"},
	AlreadyConfirmed: {"02", "Order already confirmed"},
	InvalidAmount:    {"04", "invalid amount"},
	InvalidSignature: {"97", "Invalid signature"},
	Unknown:          {"99", "Unknow error"}, // sic: VNPAY's published wording
}

func (v *VNPay) Answer(o Outcome) (string, []byte) {
	a, ok := vnpayAnswers[o]
	if !ok {
		a = vnpayAnswers[Unknown]
	}
	body, _ := json.Marshal(struct {
		RspCode string `json:"RspCode"`
		Message string `json:"Message"`
	}{a[0], a[1]})
	return "application/json", body
}

// StatementColumns is the header of the statement file.
var StatementColumns = []string{"TxnRef", "TransactionNo", "Amount", "PayDate", "BankCode", "Status"}

// StatementQuery is the signed query asking for the statement of day (Vietnam date) at now.
func StatementQuery(tmnCode string, secret []byte, day, now time.Time) url.Values {
	q := url.Values{
		"vnp_TmnCode":    {tmnCode},
		"vnp_TransDate":  {day.In(domain.VietnamTime).Format("20060102")},
		"vnp_CreateDate": {FormatTime(now)},
	}
	q.Set("vnp_SecureHash", Sign(secret, q))
	return q
}

// maxStatementBytes bounds a statement read into memory (about 200,000 transactions).
const maxStatementBytes = 32 << 20

func (v *VNPay) Statement(ctx context.Context, day time.Time) ([]StatementLine, error) {
	u := strings.TrimSuffix(v.BaseURL, "/") + statementPath + "?" + StatementQuery(v.TmnCode, v.Secret, day, time.Now()).Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	client := v.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("vnpay: statement: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("vnpay: statement: HTTP %d", resp.StatusCode)
	}
	return ParseStatement(io.LimitReader(resp.Body, maxStatementBytes))
}

// ParseStatement reads a statement file: the header StatementColumns, then one transaction a line,
// amounts as vnp_Amount (đồng × 100), Status 00 for a successful payment.
func ParseStatement(r io.Reader) ([]StatementLine, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(StatementColumns)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("vnpay: statement header: %w", err)
	}
	if strings.Join(header, ",") != strings.Join(StatementColumns, ",") {
		return nil, fmt.Errorf("vnpay: statement header %q, want %q", header, StatementColumns)
	}
	var lines []StatementLine
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return nil, fmt.Errorf("vnpay: statement: %w", err)
		}
		amount, err := strconv.ParseInt(rec[2], 10, 64)
		if err != nil || amount%100 != 0 {
			return nil, fmt.Errorf("vnpay: statement line %d: bad amount", len(lines)+2)
		}
		at, err := ParseTime(rec[3])
		if err != nil {
			return nil, fmt.Errorf("vnpay: statement line %d: bad time", len(lines)+2)
		}
		lines = append(lines, StatementLine{Ref: rec[0], TransactionNo: rec[1], Amount: amount / 100, At: at, BankCode: rec[4], Succeeded: rec[5] == "00"})
	}
}
