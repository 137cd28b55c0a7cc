package payment_test

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/payment"
)

// TestSignHashesTheSortedEncodedParameters: the hash covers every non-empty parameter but the hash
// itself, sorted by name, name=value URL-encoded with spaces as + and joined by & — the string
// VNPAY's published samples build — keyed by the secret with HMAC-SHA512.
func TestSignHashesTheSortedEncodedParameters(t *testing.T) {
	secret := []byte("SECRET")
	params := url.Values{
		"vnp_TxnRef":         {"20260302000001"},
		"vnp_Amount":         {"15000000"},
		"vnp_OrderInfo":      {"Thanh toan phi ho so 000.00.00.H56-260302-0001"},
		"vnp_ReturnUrl":      {"https://motcua.example.vn/thanh-toan/ket-qua"},
		"vnp_BankCode":       {""},
		"vnp_SecureHash":     {"ignored"},
		"vnp_SecureHashType": {"HmacSHA512"},
	}
	data := "vnp_Amount=15000000&vnp_OrderInfo=Thanh+toan+phi+ho+so+000.00.00.H56-260302-0001" +
		"&vnp_ReturnUrl=https%3A%2F%2Fmotcua.example.vn%2Fthanh-toan%2Fket-qua&vnp_TxnRef=20260302000001"
	mac := hmac.New(sha512.New, secret)
	mac.Write([]byte(data))
	if got, want := payment.Sign(secret, params), hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Fatalf("Sign = %s, want the HMAC of %q", got, data)
	}
	params.Set("vnp_SecureHash", strings.ToUpper(payment.Sign(secret, params)))
	if !payment.Verify(secret, params) {
		t.Fatal("a valid hash (upper case, as VNPAY may send it) does not verify")
	}
	params.Set("vnp_Amount", "15000100")
	if payment.Verify(secret, params) {
		t.Fatal("an edited amount verifies")
	}
}

func TestPaymentURLAndCallbackFollowTheProtocol(t *testing.T) {
	gw := &payment.VNPay{BaseURL: "https://sandbox.example/", TmnCode: "TMN00001", Secret: []byte("S"), ReturnURL: "https://m.example/r"}
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)
	u, err := gw.PaymentURL(payment.Order{Ref: "20260302000001", Amount: 150000, Description: "x", CreatedAt: at.UTC(), ExpiresAt: at.Add(15 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := url.Parse(u)
	q := parsed.Query()
	if parsed.Path != "/paymentv2/vpcpay.html" || q.Get("vnp_Amount") != "15000000" || q.Get("vnp_CreateDate") != "20260302080000" ||
		q.Get("vnp_ExpireDate") != "20260302081500" || q.Get("vnp_Locale") != "vn" || !payment.Verify([]byte("S"), q) {
		t.Fatalf("payment URL %s", u)
	}
	if _, err := gw.PaymentURL(payment.Order{Ref: "r", Amount: 0, CreatedAt: at, ExpiresAt: at}); err == nil {
		t.Fatal("an order of 0 đ got an address")
	}

	result := url.Values{"vnp_TmnCode": {"TMN00001"}, "vnp_Amount": {"15000000"}, "vnp_TxnRef": {"20260302000001"}, "vnp_ResponseCode": {"00"},
		"vnp_TransactionStatus": {"00"}, "vnp_TransactionNo": {"14000001"}, "vnp_BankCode": {"NCB"}, "vnp_PayDate": {"20260302080512"}}
	sign := func(v url.Values) url.Values { v.Set("vnp_SecureHash", payment.Sign([]byte("S"), v)); return v }
	cb, err := gw.ParseCallback(sign(result))
	if err != nil || !cb.Succeeded || cb.Amount != 150000 || cb.TransactionNo != "14000001" || !cb.PaidAt.Equal(at.Add(5*time.Minute+12*time.Second)) {
		t.Fatalf("callback %+v, %v", cb, err)
	}
	other := sign(url.Values{"vnp_TmnCode": {"OTHER"}, "vnp_Amount": {"100"}, "vnp_TxnRef": {"1"}})
	if _, err := gw.ParseCallback(other); !errors.Is(err, payment.ErrInvalidSignature) {
		t.Fatalf("another merchant's callback: %v", err)
	}
	odd := sign(url.Values{"vnp_TmnCode": {"TMN00001"}, "vnp_Amount": {"150"}, "vnp_TxnRef": {"1"}})
	if _, err := gw.ParseCallback(odd); !errors.Is(err, payment.ErrMalformed) {
		t.Fatalf("an amount not × 100: %v", err)
	}
	for outcome, want := range map[payment.Outcome]string{payment.Confirmed: `{"RspCode":"00","Message":"Confirm Success"}`,
		payment.OrderNotFound: `"01"`, payment.AlreadyConfirmed: `"02"`, payment.InvalidAmount: `"04"`, payment.InvalidSignature: `"97"`, payment.Unknown: `"99"`} {
		if _, body := gw.Answer(outcome); !strings.Contains(string(body), want) {
			t.Errorf("answer to %v = %s, want %s", outcome, body, want)
		}
	}
}

func TestParseStatementRefusesWhatItCannotRead(t *testing.T) {
	good := "TxnRef,TransactionNo,Amount,PayDate,BankCode,Status\n20260302000001,14000001,15000000,20260302080512,NCB,00\n20260302000002,14000002,500000,20260302090000,NCB,24\n"
	lines, err := payment.ParseStatement(strings.NewReader(good))
	if err != nil || len(lines) != 2 || lines[0].Amount != 150000 || !lines[0].Succeeded || lines[1].Succeeded {
		t.Fatalf("statement %+v, %v", lines, err)
	}
	for name, bad := range map[string]string{
		"header":  "Ref,No\n",
		"amount":  "TxnRef,TransactionNo,Amount,PayDate,BankCode,Status\n1,2,150,20260302080512,NCB,00\n",
		"time":    "TxnRef,TransactionNo,Amount,PayDate,BankCode,Status\n1,2,15000000,2026-03-02,NCB,00\n",
		"columns": "TxnRef,TransactionNo,Amount,PayDate,BankCode,Status\n1,2\n",
	} {
		if _, err := payment.ParseStatement(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: a bad statement was read", name)
		}
	}
}
