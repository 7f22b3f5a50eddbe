package agentapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// verifier is a server handler that answers 204 when the request
// verifies with pub and 401 with the reason otherwise.
func verifier(pub ed25519.PublicKey, rewrite func(*http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rewrite != nil {
			rewrite(r)
		}
		body, _ := io.ReadAll(r.Body)
		s, err := Parse(r.Header)
		if err == nil {
			_, err = s.Verify(r, body, time.Now(), pub)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func send(t *testing.T, c *http.Client, method, u string, body []byte, key ed25519.PrivateKey) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := Sign(req, body, "web-1", key, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(msg))
}

// TestSignatureOverTheWire pins what the signature covers on each way an
// agent reaches the control plane: the request target as sent, never the
// authority (Host is "unix" over a socket, something else behind a
// proxy), and never what a router rewrites in r.URL.
func TestSignatureOverTheWire(t *testing.T) {
	pub, key := mustKey(t)
	const target = "/agent/v1/desired?after=12&wait=30&x=a%2Fb"

	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	unixSrv := &http.Server{Handler: verifier(pub, nil)}
	go unixSrv.Serve(ln)
	t.Cleanup(func() { unixSrv.Close() })
	unixClient := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}

	tcp := httptest.NewServer(verifier(pub, nil))
	t.Cleanup(tcp.Close)
	tcpURL, _ := url.Parse(tcp.URL)

	// A router that cleans r.URL (echo's trailing-slash and unescape
	// middleware do such things) must not change what is verified.
	rewriting := httptest.NewServer(verifier(pub, func(r *http.Request) {
		r.URL.Path = strings.TrimSuffix(r.URL.Path, "/")
		r.URL.RawQuery = ""
	}))
	t.Cleanup(rewriting.Close)

	// A reverse proxy that forwards the path unchanged, with its own Host.
	same := httptest.NewServer(httputil.NewSingleHostReverseProxy(tcpURL))
	t.Cleanup(same.Close)
	// A reverse proxy that strips a prefix: the agent signed /fleet/...,
	// the server sees /agent/...: refused, on purpose.
	strip := httptest.NewServer(http.StripPrefix("/fleet", httputil.NewSingleHostReverseProxy(tcpURL)))
	t.Cleanup(strip.Close)

	// A forward proxy: Go's client writes the absolute form
	// (GET http://panel/agent/v1/...), which the proxy here passes on as
	// is to the server.
	forward := &http.Client{Transport: &http.Transport{
		Proxy: func(*http.Request) (*url.URL, error) { return tcpURL, nil },
	}}

	cases := []struct {
		name   string
		client *http.Client
		url    string
		body   []byte
		want   int
	}{
		{"unix socket GET", unixClient, "http://unix" + target, nil, 204},
		{"unix socket POST", unixClient, "http://unix/agent/v1/report", []byte(`{"a":1}`), 204},
		{"tcp", http.DefaultClient, tcp.URL + target, nil, 204},
		{"router rewrites r.URL", http.DefaultClient, rewriting.URL + "/agent/v1/desired/?after=1", nil, 204},
		{"reverse proxy keeping the path", http.DefaultClient, same.URL + target, []byte("x"), 204},
		{"reverse proxy stripping a prefix", http.DefaultClient, strip.URL + "/fleet" + target, nil, 401},
		{"absolute-form target through a forward proxy", forward, "http://panel.example" + target, nil, 204},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if code, msg := send(t, c.client, "GET", c.url, c.body, key); code != c.want {
				t.Fatalf("status %d (%s), want %d", code, msg, c.want)
			}
		})
	}
}

func TestRequestTarget(t *testing.T) {
	cases := []struct{ uri, want string }{
		{"/agent/v1/desired?after=1", "/agent/v1/desired?after=1"},
		{"/a%2Fb?q=%20", "/a%2Fb?q=%20"},
		{"http://h/agent/v1/report", "/agent/v1/report"},
		{"https://h:8443/p?q", "/p?q"},
		{"http://h?q=1", "/?q=1"},
		{"http://h", "/"},
		{"*", "error"},
		{"h/p", "error"},
	}
	for _, c := range cases {
		r := &http.Request{RequestURI: c.uri}
		got, err := RequestTarget(r)
		if err != nil {
			got = "error"
		}
		if got != c.want {
			t.Errorf("RequestTarget(%q) = %q, want %q", c.uri, got, c.want)
		}
	}
	// A request made in-process has no RequestURI: its URL stands in.
	r, _ := http.NewRequest("GET", "http://unix/agent/v1/desired?after=2", nil)
	if got, _ := RequestTarget(r); got != "/agent/v1/desired?after=2" {
		t.Errorf("in-process request: %q", got)
	}
}

func ExampleSign() {
	_, key, _ := GenerateKey()
	body := []byte(`{"poll_seconds":30}`)
	req, _ := http.NewRequest("POST", "http://unix"+PathReport, bytes.NewReader(body))
	_ = Sign(req, body, "web-1", key, time.Now())
	fmt.Println(req.Header.Get(HeaderHost), len(req.Header.Get(HeaderNonce)), len(req.Header.Get(HeaderSignature)))
	// Output: web-1 22 88
}
