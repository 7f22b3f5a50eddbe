// Package webhook announces portpanel's events to HTTP endpoints, signed
// as the Standard Webhooks convention says: which events an audit event
// raises and their bodies (the Notifier db calls inside the transaction
// that records the event), the endpoint secrets and signatures, the rules
// of which URLs may be called, and the worker that sends what db's outbox
// holds, retrying with backoff. It imports only db; it logs nothing
// (serve's job loop logs what Run returns).
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// SecretPrefix starts every endpoint secret; the rest is base64.
const SecretPrefix = "whsec_"

// secretBytes is the size of a generated key: Standard Webhooks asks for
// 24 to 64 bytes, and 32 is HMAC-SHA256's block-size sweet spot.
const secretBytes = 32

// NewSecret returns a fresh secret, "whsec_" and 32 random bytes in base64.
func NewSecret() string {
	b := make([]byte, secretBytes)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// CheckSecret returns a message for a secret an admin typed that is not
// "whsec_" and the base64 of 24 to 64 bytes, or "".
func CheckSecret(s string) string {
	if _, err := secretKey(s); err != nil {
		return "The secret must be whsec_ followed by the base64 of 24 to 64 random bytes; leave it empty to have one made."
	}
	return ""
}

func secretKey(s string) ([]byte, error) {
	enc, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("secret does not start with %s", SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("secret is not base64: %w", err)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("secret has %d bytes, want 24 to 64", len(key))
	}
	return key, nil
}

// Sign returns the webhook-signature header of body sent as message id at
// unix time ts: "v1," and the base64 HMAC-SHA256, under the secret's key,
// of "id.ts.body".
func Sign(secret, id string, ts int64, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
