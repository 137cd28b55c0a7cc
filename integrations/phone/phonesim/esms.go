package phonesim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"

	"github.com/motcua/motcua/integrations/phone"
)

// ESMSPath is the path of eSMS's SendMultipleMessage_V4_post_json.
const ESMSPath = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"

// SMS is a message the eSMS simulator took.
type SMS struct {
	Phone, Content, Brandname, RequestID, SMSID string
	Unicode                                     bool
}

// ESMS is a simulated eSMS.vn account: one API key and secret key, registered brandnames.
type ESMS struct {
	URL               string // the endpoint to configure phone.ESMS with
	APIKey, SecretKey string
	Brandnames        map[string]bool
	faults            faults
	mu                sync.Mutex
	delivered         []SMS
	byRequest         map[string]string // RequestId → SMSID
	requests          int
}

// StartESMS starts the simulator with an account (apiKey, secretKey) and its brandname.
func StartESMS(t testing.TB, apiKey, secretKey, brandname string) *ESMS {
	s := &ESMS{APIKey: apiKey, SecretKey: secretKey, Brandnames: map[string]bool{brandname: true}, byRequest: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+ESMSPath, s.handle)
	s.URL = serve(t, mux).URL + ESMSPath
	return s
}

// Inject queues faults for the next requests, in order.
func (s *ESMS) Inject(fs ...Fault) { s.faults.push(fs...) }

// Storm injects the faults in turn on every n-th request from now on (n 0 stops).
func (s *ESMS) Storm(n int, fs ...Fault) { s.faults.setStorm(n, fs...) }

// Delivered returns the messages taken, in order: one per RequestId.
func (s *ESMS) Delivered() []SMS {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMS(nil), s.delivered...)
}

// Requests is how many requests reached the simulator.
func (s *ESMS) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

var nationalNumber = regexp.MustCompile(`^(0|84)[1-9][0-9]{8,9}$`)

func (s *ESMS) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	fault, faulty := s.faults.next()
	switch {
	case faulty && fault.Status != 0:
		http.Error(w, http.StatusText(fault.Status), fault.Status)
		return
	case faulty && fault.Hang > 0:
		hang(w, r, fault.Hang)
		return
	}
	var req phone.ESMSRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		// eSMS answers a body it cannot read with its own error shape, HTTP 200.
		writeJSON(w, phone.ESMSResponse{CodeResult: "99", ErrorMessage: "Request invalid"})
		return
	}
	answer := func(code, message string) { writeJSON(w, phone.ESMSResponse{CodeResult: code, ErrorMessage: message}) }
	if faulty && fault.Code != "" {
		// Providers' messages may name the number: the adapter must not pass it on.
		answer(fault.Code, "injected for "+req.Phone)
		return
	}
	switch {
	case req.APIKey != s.APIKey || req.SecretKey != s.SecretKey:
		answer("101", "Incorrect ApiKey or SecretKey")
		return
	case !s.Brandnames[req.Brandname]:
		answer("104", "Brandname does not exist")
		return
	case req.SMSType != "2":
		answer("118", "Unsupported message type")
		return
	case !nationalNumber.MatchString(req.Phone):
		answer("108", "Phone number is not in correct format")
		return
	case req.Content == "":
		answer("99", "Content is empty")
		return
	case len(req.RequestID) > 50:
		answer("99", "RequestId is longer than 50 characters")
		return
	}
	s.mu.Lock()
	if _, seen := s.byRequest[req.RequestID]; seen && req.RequestID != "" {
		s.mu.Unlock()
		answer(phone.ESMSDuplicateRequest, "Duplicate RequestId")
		return
	}
	id := fmt.Sprintf("%032x", len(s.delivered)+1)
	if req.RequestID != "" {
		s.byRequest[req.RequestID] = id
	}
	s.delivered = append(s.delivered, SMS{Phone: req.Phone, Content: req.Content, Brandname: req.Brandname,
		RequestID: req.RequestID, SMSID: id, Unicode: req.IsUnicode == "1"})
	s.mu.Unlock()
	if faulty && fault.LoseAnswer {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	writeJSON(w, phone.ESMSResponse{CodeResult: phone.ESMSAccepted, SMSID: id})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
