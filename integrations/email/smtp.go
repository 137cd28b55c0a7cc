package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/delivery"
)

// Message is one e-mail to one applicant.
type Message struct {
	From, To  mail.Address
	Subject   string
	Body      string // plain text, UTF-8
	Date      time.Time
	MessageID string // "<…@…>": the delivery's idempotency key
	// Template names the template and version the message was written from (header
	// X-Motcua-Template), so a complaint about wording can be traced to the file.
	Template string
}

// Bytes renders the message as RFC 5322 text with CRLF line ends: UTF-8 headers encoded per RFC
// 2047, the body quoted-printable. The same message renders to the same bytes every time.
func (m Message) Bytes() ([]byte, error) {
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", m.From.String())
	header("To", m.To.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", m.Date.In(domain.VietnamTime).Format(time.RFC1123Z))
	header("Message-ID", m.MessageID)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies, please
	if m.Template != "" {
		header("X-Motcua-Template", m.Template)
	}
	b.WriteString("\r\n")
	w := quotedprintable.NewWriter(&b)
	body := bytes.ReplaceAll([]byte(m.Body), []byte("\r\n"), []byte("\n"))
	body = bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n"))
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Security is how the connection to the mail server is protected.
type Security string

const (
	// StartTLS upgrades the connection with STARTTLS and refuses a server that does not offer it
	// (submission, port 587): the default.
	StartTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte (port 465).
	ImplicitTLS Security = "tls"
	// Plain sends in clear: only for a relay on the same host or a test server. Authentication
	// is refused over it except to localhost (net/smtp's rule).
	Plain Security = "none"
)

// SMTP sends messages to one mail server.
type SMTP struct {
	// Addr is the server's host:port.
	Addr     string
	Security Security
	// Username and Password authenticate (AUTH PLAIN) when Username is set.
	Username, Password string
	// RootCAs verifies the server's certificate; the system's roots when nil.
	RootCAs *x509.CertPool
	// HelloName is the name this client gives in EHLO; "localhost" when empty.
	HelloName string
	// Timeout bounds connecting; the whole exchange is bounded by Send's context. 10 s when zero.
	Timeout time.Duration
}

// Check reports an error in the configuration.
func (s *SMTP) Check() error {
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		return fmt.Errorf("smtp: address %q is not host:port", s.Addr)
	}
	switch s.Security {
	case StartTLS, ImplicitTLS, Plain:
	default:
		return fmt.Errorf("smtp: security %q is not starttls, tls or none", s.Security)
	}
	return nil
}

// Send delivers m in one SMTP session. A refusal of the recipient (a 5xx answer to RCPT TO) is
// permanent: no retry will make the mailbox exist.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	raw, err := m.Bytes()
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	dialer := net.Dialer{Timeout: timeout}
	conn, err := dialer.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp: connect: %w", err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	tlsConfig := &tls.Config{ServerName: host, RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}
	if s.Security == ImplicitTLS {
		conn = tls.Client(conn, tlsConfig)
	}
	client, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("smtp: greeting: %w", err)
	}
	defer client.Close()
	hello := s.HelloName
	if hello == "" {
		hello = "localhost"
	}
	if err := client.Hello(hello); err != nil {
		return fmt.Errorf("smtp: EHLO: %w", err)
	}
	if s.Security == StartTLS {
		if ok, _ := client.Extension("STARTTLS"); !ok {
			return errors.New("smtp: the server does not offer STARTTLS (set security to none only for a local relay)")
		}
		if err := client.StartTLS(tlsConfig); err != nil {
			return fmt.Errorf("smtp: STARTTLS: %w", err)
		}
	}
	if s.Username != "" {
		if err := client.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("smtp: AUTH: %w", err)
		}
	}
	if err := client.Mail(m.From.Address); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := client.Rcpt(m.To.Address); err != nil {
		var reply *textproto.Error
		if errors.As(err, &reply) && reply.Code >= 500 {
			return delivery.Permanent(fmt.Errorf("smtp: the server refused the recipient: %w", err))
		}
		return fmt.Errorf("smtp: RCPT TO: %w", err)
	}
	w, err := client.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	// Closing the data writer waits for the server's answer: 250 is acceptance.
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: message not accepted: %w", err)
	}
	_ = client.Quit() // accepted already: a failed goodbye changes nothing
	return nil
}
