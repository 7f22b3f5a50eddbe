package agentapi

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

var t0 = time.Unix(1_800_000_000, 0)

func mustKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return pub, key
}

// signed returns a signed request as the server receives it: RequestURI
// set from the wire form, as net/http does.
func signed(t testing.TB, method, url string, body []byte, host string, key ed25519.PrivateKey, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := Sign(req, body, host, key, at); err != nil {
		t.Fatal(err)
	}
	in := httptest.NewRequest(method, req.URL.RequestURI(), bytes.NewReader(body))
	in.Header = req.Header.Clone()
	return in
}

func TestVerifyRefusesTampering(t *testing.T) {
	pub, key := mustKey(t)
	body := []byte(`{"observed":{"runtime":{"low":32768,"high":60999}}}`)
	otherNonce, _ := NewNonce()
	cases := []struct {
		name   string
		tamper func(r *http.Request, body *[]byte)
		now    time.Time
		want   error // nil: verifies
	}{
		{"untouched", func(*http.Request, *[]byte) {}, t0, nil},
		{"untouched, clock 60 s behind", func(*http.Request, *[]byte) {}, t0.Add(-MaxClockSkew), nil},
		{"untouched, clock 60 s ahead", func(*http.Request, *[]byte) {}, t0.Add(MaxClockSkew), nil},
		{"body", func(_ *http.Request, b *[]byte) { *b = bytes.Replace(*b, []byte("60999"), []byte("60998"), 1) }, t0, ErrBadSignature},
		{"body dropped", func(_ *http.Request, b *[]byte) { *b = nil }, t0, ErrBadSignature},
		{"path", func(r *http.Request, _ *[]byte) { r.RequestURI = "/agent/v1/preview?x=1" }, t0, ErrBadSignature},
		{"query", func(r *http.Request, _ *[]byte) { r.RequestURI = "/agent/v1/report?x=2" }, t0, ErrBadSignature},
		{"query dropped", func(r *http.Request, _ *[]byte) { r.RequestURI = "/agent/v1/report" }, t0, ErrBadSignature},
		{"method", func(r *http.Request, _ *[]byte) { r.Method = http.MethodPut }, t0, ErrBadSignature},
		{"host", func(r *http.Request, _ *[]byte) { r.Header.Set(HeaderHost, "web-2") }, t0, ErrBadSignature},
		{"timestamp", func(r *http.Request, _ *[]byte) {
			r.Header.Set(HeaderTimestamp, strconv.FormatInt(t0.Unix()+1, 10))
		}, t0, ErrBadSignature},
		{"nonce", func(r *http.Request, _ *[]byte) { r.Header.Set(HeaderNonce, otherNonce) }, t0, ErrBadSignature},
		{"signature of another request", func(r *http.Request, _ *[]byte) {
			o := signed(t, "POST", "http://unix/agent/v1/report?x=1", []byte("{}"), "web-1", key, t0)
			r.Header.Set(HeaderSignature, o.Header.Get(HeaderSignature))
		}, t0, ErrBadSignature},
		{"timestamp 61 s old", func(*http.Request, *[]byte) {}, t0.Add(MaxClockSkew + time.Second), ErrClockSkew},
		{"timestamp an hour old", func(*http.Request, *[]byte) {}, t0.Add(time.Hour), ErrClockSkew},
		{"timestamp 61 s ahead", func(*http.Request, *[]byte) {}, t0.Add(-MaxClockSkew - time.Second), ErrClockSkew},
		{"no headers", func(r *http.Request, _ *[]byte) {
			for _, h := range []string{HeaderHost, HeaderTimestamp, HeaderNonce, HeaderSignature} {
				r.Header.Del(h)
			}
		}, t0, ErrUnsigned},
		{"no signature", func(r *http.Request, _ *[]byte) { r.Header.Del(HeaderSignature) }, t0, ErrMalformed},
		{"two hosts", func(r *http.Request, _ *[]byte) { r.Header.Add(HeaderHost, "web-2") }, t0, ErrMalformed},
		{"timestamp with a plus", func(r *http.Request, _ *[]byte) {
			r.Header.Set(HeaderTimestamp, "+"+r.Header.Get(HeaderTimestamp))
		}, t0, ErrMalformed},
		{"timestamp with a leading zero", func(r *http.Request, _ *[]byte) {
			r.Header.Set(HeaderTimestamp, "0"+r.Header.Get(HeaderTimestamp))
		}, t0, ErrMalformed},
		{"nonce too short", func(r *http.Request, _ *[]byte) { r.Header.Set(HeaderNonce, "AAAA") }, t0, ErrMalformed},
		{"nonce padded", func(r *http.Request, _ *[]byte) { r.Header.Set(HeaderNonce, r.Header.Get(HeaderNonce)+"==") }, t0, ErrMalformed},
		{"host with a line break", func(r *http.Request, _ *[]byte) { r.Header["Portpanel-Host"] = []string{"web-1\nx"} }, t0, ErrMalformed},
		{"signature not base64", func(r *http.Request, _ *[]byte) { r.Header.Set(HeaderSignature, "!!") }, t0, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(body)
			r := signed(t, "POST", "http://unix/agent/v1/report?x=1", b, "web-1", key, t0)
			c.tamper(r, &b)
			s, err := Parse(r.Header)
			if err == nil {
				_, err = s.Verify(r, b, c.now, pub)
			}
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestVerifyKeys(t *testing.T) {
	oldPub, oldKey := mustKey(t)
	newPub, newKey := mustKey(t)
	otherPub, _ := mustKey(t)
	cases := []struct {
		name    string
		signer  ed25519.PrivateKey
		keys    []ed25519.PublicKey
		wantIdx int
		want    error
	}{
		{"current key", newKey, []ed25519.PublicKey{newPub, oldPub}, 0, nil},
		{"previous key within its grace", oldKey, []ed25519.PublicKey{newPub, oldPub}, 1, nil},
		{"previous key after its grace", oldKey, []ed25519.PublicKey{newPub}, -1, ErrBadSignature},
		{"another host's key", newKey, []ed25519.PublicKey{otherPub}, -1, ErrBadSignature},
		{"no keys", newKey, nil, -1, ErrNoKey},
		{"a key of the wrong size only", newKey, []ed25519.PublicKey{newPub[:31]}, -1, ErrNoKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := signed(t, "GET", "http://unix/agent/v1/desired?after=3&wait=30", nil, "web-1", c.signer, t0)
			s, err := Parse(r.Header)
			if err != nil {
				t.Fatal(err)
			}
			idx, err := s.Verify(r, nil, t0, c.keys...)
			if idx != c.wantIdx || !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("got %d, %v; want %d, %v", idx, err, c.wantIdx, c.want)
			}
		})
	}
}

func TestVerifyRequest(t *testing.T) {
	pub, key := mustKey(t)
	revoked := errors.New("host revoked")
	replayed := errors.New("nonce seen")
	type call struct{ host, nonce string }
	cases := []struct {
		name      string
		now       time.Time
		lookupErr error
		seenErr   error
		body      []byte
		want      error
		wantSeen  bool
	}{
		{"fresh", t0, nil, nil, []byte("{}"), nil, true},
		{"nonce seen before", t0, nil, replayed, []byte("{}"), replayed, true},
		{"revoked host", t0, revoked, nil, []byte("{}"), revoked, false},
		{"bad signature stores no nonce", t0, nil, nil, []byte("{ }"), ErrBadSignature, false},
		{"stale request stores no nonce", t0.Add(2 * time.Minute), nil, nil, []byte("{}"), ErrClockSkew, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := signed(t, "POST", "http://unix/agent/v1/report", []byte("{}"), "web-1", key, t0)
			var got []call
			var exp time.Time
			s, err := VerifyRequest(r, c.body, c.now,
				func(host string) ([]ed25519.PublicKey, error) {
					if host != "web-1" {
						t.Errorf("keys asked for %q", host)
					}
					return []ed25519.PublicKey{pub}, c.lookupErr
				},
				func(host, nonce string, expires time.Time) error {
					got = append(got, call{host, nonce})
					exp = expires
					return c.seenErr
				})
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if (len(got) == 1) != c.wantSeen || len(got) > 1 {
				t.Fatalf("seen called %d times, want it called: %v", len(got), c.wantSeen)
			}
			if c.wantSeen {
				if got[0] != (call{"web-1", r.Header.Get(HeaderNonce)}) || !exp.Equal(t0.Add(MaxClockSkew)) {
					t.Fatalf("seen(%v, %v)", got[0], exp)
				}
			}
			if err == nil && s.Host != "web-1" {
				t.Fatalf("host %q", s.Host)
			}
		})
	}
}

func TestSignRefusesBadInput(t *testing.T) {
	_, key := mustKey(t)
	for name, c := range map[string]struct {
		host string
		key  ed25519.PrivateKey
	}{
		"empty host":      {"", key},
		"host with space": {"a b", key},
		"short key":       {"web-1", key[:10]},
	} {
		req, _ := http.NewRequest("GET", "http://unix/agent/v1/desired", nil)
		if err := Sign(req, nil, c.host, c.key, t0); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
}

func TestNoncesDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		n, err := NewNonce()
		if err != nil {
			t.Fatal(err)
		}
		if seen[n] || len(n) != 22 {
			t.Fatalf("nonce %q repeated or not 22 characters", n)
		}
		seen[n] = true
	}
}

// BenchmarkSignVerify is one agent request's signature cost on each side:
// at 10,000 hosts polling every 30 s the control plane verifies about 670
// a second.
func BenchmarkSignVerify(b *testing.B) {
	pub, key := mustKey(b)
	body := bytes.Repeat([]byte("x"), 1024)
	b.Run("sign", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequest("POST", "http://unix/agent/v1/report", nil)
			if err := Sign(req, body, "web-1", key, t0); err != nil {
				b.Fatal(err)
			}
		}
	})
	r := signed(b, "POST", "http://unix/agent/v1/report", body, "web-1", key, t0)
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			s, err := Parse(r.Header)
			if err == nil {
				_, err = s.Verify(r, body, t0, pub)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
