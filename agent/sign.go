package agent

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// signRequest adds the signature headers of fleet-design.md to req.
// (Interim: replaced by agentapi.Sign once it lands.)
func signRequest(req *http.Request, pathQuery, host string, body []byte, key ed25519.PrivateKey) error {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return fmt.Errorf("make nonce: %w", err)
	}
	nonce := base64.RawURLEncoding.EncodeToString(raw[:])
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sum := sha256.Sum256(body)
	msg := "portpanel-agent-v1\n" + req.Method + "\n" + pathQuery + "\n" + host + "\n" + ts + "\n" + nonce + "\n" + hex.EncodeToString(sum[:])
	req.Header.Set("Portpanel-Host", host)
	req.Header.Set("Portpanel-Timestamp", ts)
	req.Header.Set("Portpanel-Nonce", nonce)
	req.Header.Set("Portpanel-Signature", base64.StdEncoding.EncodeToString(ed25519.Sign(key, []byte(msg))))
	return nil
}
