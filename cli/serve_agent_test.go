package cli

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"portpanel/agentapi"
)

func TestParseAgentListen(t *testing.T) {
	for _, tt := range []struct {
		in      string
		network string
		addr    string
	}{
		{"unix:/run/portpanel/agent.sock", "unix", "/run/portpanel/agent.sock"},
		{"unix:///run/portpanel/agent.sock", "unix", "/run/portpanel/agent.sock"},
		{"0.0.0.0:8443", "tcp", "0.0.0.0:8443"},
		{"unix:agent.sock", "", ""},
		{"agent.sock", "", ""},
	} {
		got, err := parseAgentListen(tt.in)
		if got.network != tt.network || got.addr != tt.addr || (err != nil) != (tt.network == "") {
			t.Errorf("parseAgentListen(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

// The agent API answers on its own socket, and only there; the panel's
// API is not on the agent socket.
func TestServeAgentListen(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	port, _, stderr := startServe(t, "--agent-listen", "unix:"+sock)
	agents := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	// Listening is logged once the socket has its mode.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "agent API listening"); {
		if time.Now().After(deadline) {
			t.Fatalf("no agent listener after 10 s:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("agent socket: %v, %v; want mode 0660", fi, err)
	}
	post := func(c *http.Client, url string) (int, string) {
		t.Helper()
		resp, err := c.Post(url, "application/json", strings.NewReader(`{"token":"ppe_nope","name":"web1","public_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`))
		if err != nil {
			t.Fatalf("POST %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(agents, "http://agent"+agentapi.PathEnroll); code != http.StatusUnauthorized || body != "{\"error\":\"unauthorized\"}\n" {
		t.Errorf("enroll with an unknown token on the agent socket: %d %q, want 401", code, body)
	}
	if code, _ := post(http.DefaultClient, "http://127.0.0.1:"+port+agentapi.PathEnroll); code == http.StatusUnauthorized || code < 400 {
		t.Errorf("the panel's listener answered the agent API with %d", code)
	}
	// And an agent's signature is nothing on the panel's API.
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+port+"/api/v1/range", nil)
	_, key, _ := agentapi.GenerateKey()
	if err := agentapi.Sign(req, nil, "web1", key, time.Now()); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a signed request on the panel's API: %v, %v; want 401", resp, err)
	} else {
		resp.Body.Close()
	}
	resp, err := agents.Get("http://agent/api/v1/range")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the user API on the agent socket: %d, want 404", resp.StatusCode)
	}
}

var agentListening = regexp.MustCompile(`agent API listening.*?addr\W+\S*:([0-9]+)`)

// On TCP the agent API uses serve's certificate.
func TestServeAgentListenTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	_, _, stderr := startServe(t, "--tls-cert", certFile, "--tls-key", keyFile, "--agent-listen", "127.0.0.1:0")
	var port string
	for deadline := time.Now().Add(10 * time.Second); port == ""; time.Sleep(20 * time.Millisecond) {
		if m := agentListening.FindStringSubmatch(stderr.String()); m != nil {
			port = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no agent listener after 10 s:\n%s", stderr)
		}
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Post("https://127.0.0.1:"+port+agentapi.PathEnroll, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatalf("enroll over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.TLS == nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("enroll with an empty body over TLS: %d (TLS %v), want 422 over TLS", resp.StatusCode, resp.TLS != nil)
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	if resp, err := plain.Get("http://127.0.0.1:" + port + agentapi.PathDesired); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP to the agent's TLS port was answered %d", resp.StatusCode)
		}
	}
}
