package agentapi

// The request signature. An agent signs every request but Enroll with
// its host key; the control plane keeps only public keys, so a copy of
// its database lets nobody act as a host. The scheme works the same over
// a Unix socket, TLS or a reverse proxy, because it signs what reaches
// the server unchanged (method, request target, headers of its own) and
// nothing a hop rewrites (the Host header, the connection).
//
// Canonical string, one field a line:
//
//	portpanel-agent-v1
//	METHOD
//	path?query      (the request target as sent, never the authority)
//	host
//	timestamp       (unix seconds, decimal)
//	nonce           (16 random bytes, base64url without padding)
//	hex(sha256(body))
//
// The package keeps no state: the caller remembers nonces (Signed.Expires
// says for how long) and looks keys up.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signature headers.
const (
	HeaderHost      = "Portpanel-Host"
	HeaderTimestamp = "Portpanel-Timestamp"
	HeaderNonce     = "Portpanel-Nonce"
	HeaderSignature = "Portpanel-Signature"
)

const (
	// SignatureScheme opens the canonical string, so a signature made for
	// this protocol can never be replayed as one of another (or of a
	// later version of this one).
	SignatureScheme = "portpanel-agent-v1"
	// MaxClockSkew is how far a request's timestamp may be from the
	// server's clock, either way. It bounds how long a nonce must be
	// remembered (Signed.Expires).
	MaxClockSkew = 60 * time.Second
	// MaxHostLen bounds the host header (a DNS name is at most 253).
	MaxHostLen = 253

	nonceBytes = 16
)

// Errors of Verify, so the server can tell a broken client (in its log)
// from an attack without telling the client which it was: every one of
// them is a 401.
var (
	ErrUnsigned     = errors.New("request is not signed")
	ErrMalformed    = errors.New("malformed signature header")
	ErrClockSkew    = errors.New("request timestamp too far from the server's clock")
	ErrBadSignature = errors.New("signature does not verify")
	ErrNoKey        = errors.New("no key to verify with")
)

var (
	nonceEncoding = base64.RawURLEncoding.Strict()
	sigEncoding   = base64.StdEncoding.Strict()
)

// Sign sets the four signature headers on req for body (the exact bytes
// req will send; nil for none) as host, with key, at now. It signs
// req.URL.RequestURI(), which is the request target Go's client writes,
// so the server sees the same path?query over a Unix socket or TCP.
func Sign(req *http.Request, body []byte, host string, key ed25519.PrivateKey, now time.Time) error {
	nonce, err := NewNonce()
	if err != nil {
		return err
	}
	return signWith(req, body, host, key, now.Unix(), nonce)
}

// NewNonce returns 16 random bytes, base64url without padding.
func NewNonce() (string, error) {
	b := make([]byte, nonceBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a request nonce: %w", err)
	}
	return nonceEncoding.EncodeToString(b), nil
}

func signWith(req *http.Request, body []byte, host string, key ed25519.PrivateKey, ts int64, nonce string) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("sign request: key is %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	if err := checkHost(host); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	msg := canonical(req.Method, req.URL.RequestURI(), host, ts, nonce, body)
	req.Header.Set(HeaderHost, host)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, sigEncoding.EncodeToString(ed25519.Sign(key, msg)))
	return nil
}

func canonical(method, target, host string, ts int64, nonce string, body []byte) []byte {
	sum := sha256.Sum256(body)
	var b bytes.Buffer
	b.Grow(len(SignatureScheme) + len(method) + len(target) + len(host) + len(nonce) + 96)
	for _, f := range []string{SignatureScheme, method, target, host, strconv.FormatInt(ts, 10), nonce} {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.Bytes()
}

// Signed is a request's signature headers, parsed and well formed but
// not yet verified.
type Signed struct {
	Host      string
	Timestamp int64 // unix seconds
	Nonce     string
	signature []byte
}

// Parse reads the signature headers of r. It checks their form only:
// Verify checks the signature.
func Parse(h http.Header) (Signed, error) {
	host, ts, nonce, sig := h.Values(HeaderHost), h.Values(HeaderTimestamp), h.Values(HeaderNonce), h.Values(HeaderSignature)
	if len(host) == 0 && len(ts) == 0 && len(nonce) == 0 && len(sig) == 0 {
		return Signed{}, ErrUnsigned
	}
	// One of each: a proxy that appends a second copy would make "which
	// one was signed" a question, so there is none.
	if len(host) != 1 || len(ts) != 1 || len(nonce) != 1 || len(sig) != 1 {
		return Signed{}, fmt.Errorf("%w: want exactly one of each signature header", ErrMalformed)
	}
	var s Signed
	if err := checkHost(host[0]); err != nil {
		return Signed{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	s.Host = host[0]
	t, err := strconv.ParseInt(ts[0], 10, 64)
	// The canonical string carries the number re-formatted, so only its
	// canonical spelling is accepted: "+5" or "05" would sign as "5".
	if err != nil || t < 0 || strconv.FormatInt(t, 10) != ts[0] {
		return Signed{}, fmt.Errorf("%w: timestamp is not unix seconds", ErrMalformed)
	}
	s.Timestamp = t
	if n, err := nonceEncoding.DecodeString(nonce[0]); err != nil || len(n) != nonceBytes {
		return Signed{}, fmt.Errorf("%w: nonce is not %d bytes of base64url", ErrMalformed, nonceBytes)
	}
	s.Nonce = nonce[0]
	if len(sig[0]) != sigEncoding.EncodedLen(ed25519.SignatureSize) {
		return Signed{}, fmt.Errorf("%w: signature is not %d bytes of base64", ErrMalformed, ed25519.SignatureSize)
	}
	if s.signature, err = sigEncoding.DecodeString(sig[0]); err != nil || len(s.signature) != ed25519.SignatureSize {
		return Signed{}, fmt.Errorf("%w: signature is not %d bytes of base64", ErrMalformed, ed25519.SignatureSize)
	}
	return s, nil
}

// checkHost refuses what could make two canonical strings alike (a line
// break) or bloat the nonce store.
func checkHost(h string) error {
	if h == "" || len(h) > MaxHostLen {
		return fmt.Errorf("host name must be 1 to %d bytes", MaxHostLen)
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; c <= ' ' || c >= 0x7f {
			return errors.New("host name must be printable ASCII without spaces")
		}
	}
	return nil
}

// Expires is when the server may forget this request's nonce: after it,
// the timestamp check refuses the request anyway.
func (s Signed) Expires() time.Time {
	return time.Unix(s.Timestamp, 0).Add(MaxClockSkew)
}

// Fresh refuses a request whose timestamp is more than MaxClockSkew from
// now (ErrClockSkew). Verify checks it too; a server calls it first when
// that saves a key lookup.
func (s Signed) Fresh(now time.Time) error {
	if d := now.Sub(time.Unix(s.Timestamp, 0)); d > MaxClockSkew || d < -MaxClockSkew {
		return ErrClockSkew
	}
	return nil
}

// Verify checks that the request is fresh at now and signed with one of
// keys (the host's current key and, during a rotation's grace period,
// its previous one). It returns the index of the key that verified.
// body is the request body as read. The caller then checks that the
// nonce is new for s.Host (until s.Expires) and that the host is not
// revoked; VerifyRequest does all of it in one call.
func (s Signed) Verify(r *http.Request, body []byte, now time.Time, keys ...ed25519.PublicKey) (int, error) {
	if err := s.Fresh(now); err != nil {
		return -1, err
	}
	target, err := RequestTarget(r)
	if err != nil {
		return -1, err
	}
	msg := canonical(r.Method, target, s.Host, s.Timestamp, s.Nonce, body)
	tried := false
	for i, k := range keys {
		if len(k) != ed25519.PublicKeySize {
			continue
		}
		tried = true
		if ed25519.Verify(k, msg, s.signature) {
			return i, nil
		}
	}
	if !tried {
		return -1, ErrNoKey
	}
	return -1, ErrBadSignature
}

// RequestTarget is the path?query the client sent, as the server
// received it: r.RequestURI, not r.URL, so nothing a router or
// middleware rewrote in r.URL (a trailing slash, an unescaped path)
// changes what is verified. An absolute-form target (a client that
// talked through a forward proxy) is cut to its path?query, which is
// what the client signed. A reverse proxy must forward the path
// unchanged: one that strips a prefix breaks every signature, on
// purpose, since the path is part of what the agent meant.
func RequestTarget(r *http.Request) (string, error) {
	t := r.RequestURI
	if t == "" { // a request built in-process, never read off a wire
		return r.URL.RequestURI(), nil
	}
	if strings.HasPrefix(t, "/") {
		return t, nil
	}
	scheme, rest, ok := strings.Cut(t, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/?") {
		return "", fmt.Errorf("%w: request target %q", ErrMalformed, t)
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		if rest[i] == '?' {
			return "/" + rest[i:], nil
		}
		return rest[i:], nil
	}
	return "/", nil
}

// VerifyRequest authenticates an agent request in one call: it parses
// the headers, asks keys for the host's keys (an error there, such as a
// revoked or unknown host, refuses the request), verifies the signature
// at now and only then hands the nonce to seen, which must fail if the
// host used it before (remembering it until expires). Nonces of requests
// that do not verify are never stored, so junk cannot fill the store.
// It returns the verified headers: the host is s.Host, never a field of
// the body.
func VerifyRequest(r *http.Request, body []byte, now time.Time,
	keys func(host string) ([]ed25519.PublicKey, error),
	seen func(host, nonce string, expires time.Time) error,
) (Signed, error) {
	s, err := Parse(r.Header)
	if err != nil {
		return Signed{}, err
	}
	// The clock first: it is cheap, and a stale request should not
	// cost a key lookup.
	if err := s.Fresh(now); err != nil {
		return Signed{}, err
	}
	ks, err := keys(s.Host)
	if err != nil {
		return Signed{}, fmt.Errorf("look up the keys of host %q: %w", s.Host, err)
	}
	if _, err := s.Verify(r, body, now, ks...); err != nil {
		return Signed{}, err
	}
	if err := seen(s.Host, s.Nonce, s.Expires()); err != nil {
		return Signed{}, fmt.Errorf("nonce of host %q: %w", s.Host, err)
	}
	return s, nil
}
