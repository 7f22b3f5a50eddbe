package agentapi

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestKeyEncodings(t *testing.T) {
	pub, key := mustKey(t)
	got, err := ParsePublicKey(EncodePublicKey(pub))
	if err != nil || !got.Equal(pub) {
		t.Fatalf("public key round trip: %v", err)
	}
	for name, s := range map[string]string{
		"empty":        "",
		"31 bytes":     EncodePublicKey(pub[:31]),
		"url alphabet": strings.NewReplacer("+", "-", "/", "_").Replace(EncodePublicKey(bytes.Repeat([]byte{0xfb}, 32))),
		"unpadded":     strings.TrimRight(EncodePublicKey(pub), "="),
	} {
		if _, err := ParsePublicKey(s); err == nil {
			t.Errorf("%s: ParsePublicKey(%q) accepted", name, s)
		}
	}

	pemKey, err := MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePrivateKey(pemKey)
	if err != nil || !back.Equal(key) {
		t.Fatalf("private key round trip: %v", err)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"not PEM":   []byte("hello"),
		"wrong PEM": bytes.Replace(pemKey, []byte("PRIVATE KEY"), []byte("CERTIFICATE"), 2),
	} {
		if _, err := ParsePrivateKey(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// rotate builds a rotate request from cur to next as the server receives
// it, and its decoded body.
func rotate(t *testing.T, host string) (*http.Request, RotateRequest, func() (s Signed)) {
	t.Helper()
	_, cur := mustKey(t)
	_, next := mustKey(t)
	req, _ := http.NewRequest("POST", "http://unix"+PathRotate, nil)
	body, err := SignRotation(req, host, cur, next, t0)
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := io.ReadAll(req.Body)
	if !bytes.Equal(sent, body) || req.ContentLength != int64(len(body)) {
		t.Fatal("request body is not the body returned")
	}
	var rr RotateRequest
	if err := json.Unmarshal(body, &rr); err != nil {
		t.Fatal(err)
	}
	in := httptest.NewRequest("POST", PathRotate, bytes.NewReader(body))
	in.Header = req.Header.Clone()
	s, err := Parse(in.Header)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(in, body, t0, cur.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("rotate request not signed by the current key: %v", err)
	}
	if got, _ := ParsePublicKey(rr.PublicKey); !got.Equal(next.Public()) {
		t.Fatal("body does not carry the new key")
	}
	return in, rr, func() Signed { return s }
}

func TestRotation(t *testing.T) {
	in, rr, s := rotate(t, "web-1")
	if _, err := CheckRotation(in, s(), rr); err != nil {
		t.Fatalf("valid proof refused: %v", err)
	}
	_, otherRR, otherS := rotate(t, "web-1")
	_, stranger := mustKey(t)

	cases := []struct {
		name   string
		tamper func(r *http.Request, s *Signed, rr *RotateRequest)
	}{
		{"proof of another rotation (other nonce)", func(_ *http.Request, _ *Signed, rr *RotateRequest) { rr.NewSignature = otherRR.NewSignature }},
		{"other new key, same proof", func(_ *http.Request, _ *Signed, rr *RotateRequest) { rr.PublicKey = otherRR.PublicKey }},
		{"another host", func(_ *http.Request, s *Signed, _ *RotateRequest) { s.Host = "web-2" }},
		{"another path", func(r *http.Request, _ *Signed, _ *RotateRequest) { r.RequestURI = PathReport }},
		{"another request's headers", func(_ *http.Request, s *Signed, _ *RotateRequest) { *s = otherS() }},
		{"proof by a key that is not the new one", func(r *http.Request, s *Signed, rr *RotateRequest) {
			rr.NewSignature = RotationProof(r.Method, PathRotate, s.Host, s.Timestamp, s.Nonce, stranger)
		}},
		{"no proof", func(_ *http.Request, _ *Signed, rr *RotateRequest) { rr.NewSignature = "" }},
		{"bad key", func(_ *http.Request, _ *Signed, rr *RotateRequest) { rr.PublicKey = "AAAA" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := in.Clone(in.Context())
			sig, body := s(), rr
			c.tamper(r, &sig, &body)
			if _, err := CheckRotation(r, sig, body); err == nil {
				t.Fatal("accepted")
			}
		})
	}

	// The proof is no request signature: one cannot pass as the other.
	r := in.Clone(in.Context())
	r.Header.Set(HeaderSignature, rr.NewSignature)
	next, _ := ParsePublicKey(rr.PublicKey)
	sig, err := Parse(r.Header)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sig.Verify(r, []byte(rr.PublicKey), t0, next); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("proof verified as a request signature: %v", err)
	}
}
