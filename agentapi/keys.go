package agentapi

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// GenerateKey makes a host key pair from crypto/rand. The agent makes it
// on the host, and only the public half ever leaves it.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate host key: %w", err)
	}
	return pub, key, nil
}

// EncodePublicKey is the wire form of a public key (EnrollRequest,
// RotateRequest): standard base64 of its 32 bytes.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads EncodePublicKey's form, strictly: one spelling per
// key, so a stored key compares equal to the one enrolled.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key must be %d bytes of standard base64", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// MarshalPrivateKey is the key file's content: PKCS #8 in PEM, the form
// `openssl pkey` reads, so an operator can inspect or back it up with
// tools they know.
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode host key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKey reads MarshalPrivateKey's form. Its errors never quote
// the input: it is a secret.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("host key file is not a PEM PRIVATE KEY")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, errors.New("host key file is not a PKCS #8 key")
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("host key is not an Ed25519 key")
	}
	return key, nil
}

// rotationScheme opens a rotation proof's canonical string. It differs
// from SignatureScheme so a proof can never pass as a request signature.
const rotationScheme = "portpanel-agent-v1-rotate"

// RotationProof is RotateRequest.NewSignature: the NEW key's signature
// over the rotate request's own canonical string (method, target, host,
// timestamp, nonce), its first line rotationScheme and its last the
// SHA-256 of the new public key instead of the body's: the body carries
// the proof, so it cannot be signed by it. It binds the proof to that one
// request (its nonce) and to the key it installs.
func RotationProof(method, target, host string, ts int64, nonce string, next ed25519.PrivateKey) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(next, rotationMessage(method, target, host, ts, nonce, next.Public().(ed25519.PublicKey))))
}

func rotationMessage(method, target, host string, ts int64, nonce string, pub ed25519.PublicKey) []byte {
	sum := sha256.Sum256(pub)
	var b bytes.Buffer
	for _, f := range []string{rotationScheme, method, target, host, strconv.FormatInt(ts, 10), nonce} {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.Bytes()
}

// SignRotation makes req (a POST to PathRotate) a complete rotate request
// from host's current key to next: it sets the RotateRequest body with its
// proof and signs the request with current. It returns the body.
func SignRotation(req *http.Request, host string, current, next ed25519.PrivateKey, now time.Time) ([]byte, error) {
	if len(next) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("sign rotation: new key is %d bytes, want %d", len(next), ed25519.PrivateKeySize)
	}
	nonce, err := NewNonce()
	if err != nil {
		return nil, err
	}
	ts := now.Unix()
	body, err := json.Marshal(RotateRequest{
		PublicKey:    EncodePublicKey(next.Public().(ed25519.PublicKey)),
		NewSignature: RotationProof(req.Method, req.URL.RequestURI(), host, ts, nonce, next),
	})
	if err != nil {
		return nil, fmt.Errorf("encode rotate request: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	if err := signWith(req, body, host, current, ts, nonce); err != nil {
		return nil, err
	}
	return body, nil
}

// CheckRotation checks rr's proof for r, whose signature s the caller has
// already verified with the host's current key, and returns the new key.
func CheckRotation(r *http.Request, s Signed, rr RotateRequest) (ed25519.PublicKey, error) {
	pub, err := ParsePublicKey(rr.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("rotate: %w", err)
	}
	sig, err := sigEncoding.DecodeString(rr.NewSignature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("rotate: new_signature is not %d bytes of base64", ed25519.SignatureSize)
	}
	target, err := RequestTarget(r)
	if err != nil {
		return nil, err
	}
	if !ed25519.Verify(pub, rotationMessage(r.Method, target, s.Host, s.Timestamp, s.Nonce, pub), sig) {
		return nil, fmt.Errorf("rotate: %w: new_signature", ErrBadSignature)
	}
	return pub, nil
}
