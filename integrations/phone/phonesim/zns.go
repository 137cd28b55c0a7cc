package phonesim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/integrations/phone"
)

// ZNSPath is the path of Zalo's message/template.
const ZNSPath = "/message/template"

// ZNSMessage is a message the ZNS simulator took.
type ZNSMessage struct {
	Phone, TemplateID, TrackingID, MsgID string
	Data                                 map[string]string
}

// ZNS is a simulated Zalo official account: its access token and its approved templates, each
// with the parameters it was registered with.
type ZNS struct {
	URL       string // the endpoint to configure phone.ZNS with
	Token     string
	Templates map[string][]string // template id → parameter names
	// NoAccount are numbers without a Zalo account (error -118).
	NoAccount map[string]bool
	faults    faults
	mu        sync.Mutex
	delivered []ZNSMessage
	byTrack   map[string]string // tracking_id → msg_id
	requests  int
}

// StartZNS starts the simulator with the official account's token and templates.
func StartZNS(t testing.TB, token string, templates map[string][]string) *ZNS {
	s := &ZNS{Token: token, Templates: templates, NoAccount: map[string]bool{}, byTrack: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+ZNSPath, s.handle)
	s.URL = serve(t, mux).URL + ZNSPath
	return s
}

// Inject queues faults for the next requests, in order.
func (s *ZNS) Inject(fs ...Fault) { s.faults.push(fs...) }

// Storm injects the faults in turn on every n-th request from now on (n 0 stops).
func (s *ZNS) Storm(n int, fs ...Fault) { s.faults.setStorm(n, fs...) }

// Delivered returns the messages taken, in order: one per tracking_id.
func (s *ZNS) Delivered() []ZNSMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ZNSMessage(nil), s.delivered...)
}

// Requests is how many requests reached the simulator.
func (s *ZNS) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

var internationalNumber = regexp.MustCompile(`^84[1-9][0-9]{8,9}$`)

func (s *ZNS) handle(w http.ResponseWriter, r *http.Request) {
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
	answer := func(code int, message string) { writeJSON(w, phone.ZNSResponse{Error: code, Message: message}) }
	if r.Header.Get("access_token") != s.Token {
		answer(-124, "Access token is invalid")
		return
	}
	var req phone.ZNSRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		answer(-121, "Body is empty or invalid")
		return
	}
	if faulty && fault.ZNSCode != 0 {
		// Providers' messages may name the number: the adapter must not pass it on.
		answer(fault.ZNSCode, "injected for "+req.Phone)
		return
	}
	params, known := s.Templates[req.TemplateID]
	switch {
	case !internationalNumber.MatchString(req.Phone):
		answer(-108, "Phone number invalid")
		return
	case !known:
		answer(-109, "Template ID invalid")
		return
	case len(req.TemplateData) == 0:
		answer(-111, "Template data empty")
		return
	case len(req.TrackingID) > 48:
		answer(-112, "tracking_id is longer than 48 characters")
		return
	case s.NoAccount[req.Phone]:
		answer(-118, "Zalo account not existed")
		return
	}
	if missing := missingParams(params, req.TemplateData); missing != "" {
		answer(-112, "Template data invalid: "+missing)
		return
	}
	s.mu.Lock()
	id, seen := s.byTrack[req.TrackingID]
	if !seen {
		id = fmt.Sprintf("%020x", len(s.delivered)+1)
		if req.TrackingID != "" {
			s.byTrack[req.TrackingID] = id
		}
		s.delivered = append(s.delivered, ZNSMessage{Phone: req.Phone, TemplateID: req.TemplateID,
			TrackingID: req.TrackingID, MsgID: id, Data: req.TemplateData})
	}
	s.mu.Unlock()
	if faulty && fault.LoseAnswer {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	writeJSON(w, phone.ZNSResponse{Error: 0, Message: "Success", Data: phone.ZNSSent{MsgID: id,
		SentTime: strconv.FormatInt(time.Now().UnixMilli(), 10), SendingMode: "1"}})
}

// missingParams names the template's parameters absent or empty in data, and any data names the
// template does not have: Zalo refuses both (-112).
func missingParams(params []string, data map[string]string) string {
	var wrong []string
	want := map[string]bool{}
	for _, p := range params {
		want[p] = true
		if data[p] == "" {
			wrong = append(wrong, p)
		}
	}
	for name := range data {
		if !want[name] {
			wrong = append(wrong, name)
		}
	}
	sort.Strings(wrong)
	if len(wrong) == 0 {
		return ""
	}
	return fmt.Sprint(wrong)
}
