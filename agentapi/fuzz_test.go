package agentapi

import (
	"crypto/ed25519"
	"net/http"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary header values, targets and bodies to the
// server side: it must refuse them without panicking, and never accept
// one (nobody but the key's holder can sign).
func FuzzVerify(f *testing.F) {
	// The seed is signed with a key the server does not hold, so any
	// request accepted here is a forgery.
	pub, _, _ := GenerateKey()
	_, key, _ := GenerateKey()
	req, _ := http.NewRequest("POST", "http://unix/agent/v1/report?x=1", nil)
	_ = Sign(req, []byte("{}"), "web-1", key, t0)
	f.Add(req.Header.Get(HeaderHost), req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderNonce), req.Header.Get(HeaderSignature), "/agent/v1/report?x=2", []byte("{}"))
	f.Add("", "", "", "", "", []byte(nil))
	f.Add("h", "-1", "=", "====", "http://", []byte("x"))
	f.Add("h", "99999999999999999999", "AAAAAAAAAAAAAAAAAAAAAA", "", "*", []byte("x"))
	f.Fuzz(func(t *testing.T, host, ts, nonce, sig, target string, body []byte) {
		r := &http.Request{Method: "POST", RequestURI: target, Header: http.Header{}}
		r.Header[HeaderHost] = []string{host}
		r.Header[HeaderTimestamp] = []string{ts}
		r.Header[HeaderNonce] = []string{nonce}
		r.Header[HeaderSignature] = []string{sig}
		_, err := VerifyRequest(r, body, t0,
			func(string) ([]ed25519.PublicKey, error) { return []ed25519.PublicKey{pub}, nil },
			func(string, string, time.Time) error { return nil })
		if err == nil {
			t.Fatalf("accepted forged request host=%q ts=%q nonce=%q sig=%q target=%q", host, ts, nonce, sig, target)
		}
		_, _ = CheckRotation(r, Signed{Host: host, Nonce: nonce}, RotateRequest{PublicKey: nonce, NewSignature: sig})
	})
}
