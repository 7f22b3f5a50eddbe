// Package hooktest is a webhook receiver for tests: a real HTTP server on
// loopback that checks every request's Standard Webhooks signature with
// its own implementation (HMAC-SHA256 from the standard library, written
// from the spec, not portpanel's signing code), so a bug in the sender's
// signing cannot hide behind a matching bug in the check.
package hooktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is one request the receiver got.
type Request struct {
	Path, ID, Timestamp, Signature string
	Body                           []byte
	// Verified is nil when the signature is valid for the receiver's
	// secret and the timestamp within 5 minutes of the receiver's clock.
	Verified error
	Status   int // what the receiver answered
}

// Receiver records requests and answers each with the next of its
// statuses (the last one repeats), 204 when none are given.
type Receiver struct {
	Secret string
	URL    string

	mu       sync.Mutex
	statuses []int
	got      []Request
	arrived  chan struct{}
	srv      *http.Server
}

// Start listens on 127.0.0.1 and serves until Close.
func Start(secret string, statuses ...int) (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{Secret: secret, URL: "http://" + ln.Addr().String() + "/hook", statuses: statuses, arrived: make(chan struct{}, 1000)}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

// SetSecret sets the secret signatures are checked with, for a receiver
// started before its endpoint's secret was made.
func (r *Receiver) SetSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Secret = s
}

// Close stops the server.
func (r *Receiver) Close() error { return r.srv.Close() }

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	got := Request{Path: req.URL.Path, ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signature: req.Header.Get("webhook-signature"), Body: body}
	r.mu.Lock()
	secret := r.Secret
	r.mu.Unlock()
	got.Verified = Verify(secret, got.ID, got.Timestamp, got.Signature, body, time.Now())
	r.mu.Lock()
	got.Status = http.StatusNoContent
	if len(r.statuses) > 0 {
		got.Status = r.statuses[0]
		if len(r.statuses) > 1 {
			r.statuses = r.statuses[1:]
		}
	}
	r.got = append(r.got, got)
	r.mu.Unlock()
	if got.Status/100 == 3 {
		w.Header().Set("Location", "/elsewhere")
	}
	w.WriteHeader(got.Status)
	r.arrived <- struct{}{}
}

// Requests returns what arrived so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.got...)
}

// WaitFor waits until n requests arrived in all, or timeout.
func (r *Receiver) WaitFor(n int, timeout time.Duration) ([]Request, error) {
	deadline := time.After(timeout)
	for {
		if got := r.Requests(); len(got) >= n {
			return got, nil
		}
		select {
		case <-r.arrived:
		case <-deadline:
			got := r.Requests()
			return got, fmt.Errorf("%d webhook requests arrived within %s, want %d", len(got), timeout, n)
		}
	}
}

// Verify checks a Standard Webhooks signature header (space-separated
// "v1,<base64>" entries, one of which must match) of body sent as id at
// timestamp, against secret ("whsec_" and the base64 key), and that
// timestamp is within 5 minutes of now.
func Verify(secret, id, timestamp, header string, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q: %w", timestamp, err)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("webhook-timestamp %d is %s away from now", ts, d)
	}
	if id == "" {
		return errors.New("no webhook-id")
	}
	mac := hmac.New(sha256.New, key)
	io.WriteString(mac, id+"."+timestamp+".")
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(header) {
		version, enc, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		if got, err := base64.StdEncoding.DecodeString(enc); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no valid v1 signature in %q", header)
}
