package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"portpanel/sysctl/sysctltest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files
// in a temp dir, and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "portpanel test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// servedLog is serve's stderr; it reports the port once serve is listening.
type servedLog struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	port chan string
	once sync.Once
}

var listeningPort = regexp.MustCompile(`portpanel listening.*?addr\W+\S*:([0-9]+)`)

func (l *servedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m := listeningPort.FindSubmatch(p); m != nil {
		l.once.Do(func() { l.port <- string(m[1]) })
	}
	return l.buf.Write(p)
}

func (l *servedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startServe runs serve with flags on a temp database and a fake
// /proc/sys, and returns the port it listens on, its stdout and stderr.
// It stops serve when the test ends.
func startServe(t *testing.T, flags ...string) (port string, stdout *bytes.Buffer, stderr *servedLog) {
	t.Helper()
	dir := t.TempDir()
	// A free port unless flags name one (the last --addr wins): the
	// default 8080 may be taken, by another test package running at once.
	args := append([]string{"--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "pp.db"), "--proc-sys", sysctltest.FakeProcSys(t), "--config-root", dir,
		"--sysctl-file", filepath.Join(dir, "etc", "sysctl.d", "90-portpanel.conf"), "--boot-reader", "procps"}, flags...)
	stdout, stderr = &bytes.Buffer{}, &servedLog{port: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, args, stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case port = <-stderr.port:
		return port, stdout, stderr
	case err := <-done:
		done <- err
		t.Fatalf("serve stopped before listening: %v\n%s", err, stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("no \"portpanel listening\" line after 30s:\n%s", stderr)
	}
	return "", nil, nil
}

func TestServeHTTPS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	// On every address, not only loopback: with TLS that is no reason to warn.
	port, stdout, stderr := startServe(t, "--addr", "0.0.0.0:0", "--tls-cert", certFile, "--tls-key", keyFile)
	base := "https://127.0.0.1:" + port
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	res, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over HTTPS: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.TLS == nil || res.TLS.Version < tls.VersionTLS12 {
		t.Errorf("GET /healthz: %d over %v, want 200 over TLS 1.2 or later", res.StatusCode, res.TLS)
	}
	if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security %q, want max-age=31536000", got)
	}
	// Served over TLS, the session cookie is Secure and __Host- without
	// --secure-cookies.
	res, err = client.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	i := slices.IndexFunc(res.Cookies(), func(c *http.Cookie) bool { return strings.HasSuffix(c.Name, "portpanel_session") })
	if i < 0 || res.Cookies()[i].Name != "__Host-portpanel_session" || !res.Cookies()[i].Secure {
		t.Errorf("session cookie over TLS: %q, want __Host-portpanel_session; Secure", res.Header.Values("Set-Cookie"))
	}

	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
	if res, err := old.Get(base + "/healthz"); err == nil {
		res.Body.Close()
		t.Errorf("a TLS 1.1 client was served; want TLS 1.2 or later only")
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	if res, err := plain.Get("http://127.0.0.1:" + port + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP to the HTTPS port was answered 200")
		}
	}

	if strings.Contains(stderr.String(), "without TLS") {
		t.Errorf("warned about serving without TLS while serving TLS:\n%s", stderr)
	}
	if !strings.Contains(stdout.String(), "https://") {
		t.Errorf("the setup link is not an https:// one: %q", stdout)
	}
}

// Without TLS on every address, the warning stays.
func TestServeWarnsOnPlainHTTPBeyondLoopback(t *testing.T) {
	_, _, stderr := startServe(t, "--addr", "0.0.0.0:0")
	if !strings.Contains(stderr.String(), "non-loopback address without TLS") {
		t.Errorf("no warning about plain HTTP on every address:\n%s", stderr)
	}
}

func TestServeRefusesAnUnreadableCertificate(t *testing.T) {
	dir := t.TempDir()
	err := serve(context.Background(), []string{"--db", filepath.Join(dir, "pp.db"), "--addr", "127.0.0.1:0",
		"--tls-cert", filepath.Join(dir, "missing.pem"), "--tls-key", filepath.Join(dir, "missing-key.pem")}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Errorf("serve with missing certificate files: %v, want an error naming --tls-cert", err)
	}
}

// clearSecurityEnv unsets the environment the flags below read, for the
// length of the test.
func clearSecurityEnv(t *testing.T) {
	for _, k := range []string{"PORTPANEL_SESSION_IDLE", "PORTPANEL_SESSION_LIFETIME", "PORTPANEL_TLS_CERT", "PORTPANEL_TLS_KEY",
		"PORTPANEL_TRUSTED_PROXY", "PORTPANEL_AUTH_HEADER", "PORTPANEL_SECURE_COOKIES"} {
		t.Setenv(k, "")
		os.Unsetenv(k) // t.Setenv restores it afterwards
	}
}

func TestSecurityFlags(t *testing.T) {
	prefixes := func(s ...string) []netip.Prefix {
		var ps []netip.Prefix
		for _, p := range s {
			ps = append(ps, netip.MustParsePrefix(p))
		}
		return ps
	}
	tests := []struct {
		name           string
		args           []string
		env            map[string]string
		idle, lifetime time.Duration
		secure         bool
		proxies        []netip.Prefix
		header         string
	}{
		{name: "defaults: 30 min idle, 12 h lifetime, cookie not Secure, no proxy",
			idle: 30 * time.Minute, lifetime: 12 * time.Hour},
		{name: "sessions from the environment", env: map[string]string{"PORTPANEL_SESSION_IDLE": "15m", "PORTPANEL_SESSION_LIFETIME": "8h"},
			idle: 15 * time.Minute, lifetime: 8 * time.Hour},
		{name: "flags win over the environment", args: []string{"--session-idle", "5m", "--session-lifetime", "1h"},
			env: map[string]string{"PORTPANEL_SESSION_IDLE": "15m"}, idle: 5 * time.Minute, lifetime: time.Hour},
		{name: "--tls-cert makes the cookie Secure", args: []string{"--tls-cert", "c.pem", "--tls-key", "k.pem"},
			idle: 30 * time.Minute, lifetime: 12 * time.Hour, secure: true},
		{name: "--secure-cookies makes it Secure behind a TLS proxy", args: []string{"--secure-cookies"},
			idle: 30 * time.Minute, lifetime: 12 * time.Hour, secure: true},
		{name: "--trusted-proxy repeated and comma-separated, addresses as /32 and /128",
			args: []string{"--trusted-proxy", "10.1.0.0/16, 192.0.2.7", "--trusted-proxy", "::1", "--auth-header", "X-Forwarded-User"},
			idle: 30 * time.Minute, lifetime: 12 * time.Hour, proxies: prefixes("10.1.0.0/16", "192.0.2.7/32", "::1/128"), header: "X-Forwarded-User"},
		{name: "a CIDR with host bits is masked", args: []string{"--trusted-proxy", "10.1.2.3/8"},
			idle: 30 * time.Minute, lifetime: 12 * time.Hour, proxies: prefixes("10.0.0.0/8")},
		{name: "proxy and header from the environment",
			env:  map[string]string{"PORTPANEL_TRUSTED_PROXY": "127.0.0.1,10.0.0.0/8", "PORTPANEL_AUTH_HEADER": "Remote-User"},
			idle: 30 * time.Minute, lifetime: 12 * time.Hour, proxies: prefixes("127.0.0.1/32", "10.0.0.0/8"), header: "Remote-User"},
		{name: "--trusted-proxy replaces the environment's list", args: []string{"--trusted-proxy", "192.0.2.0/24"},
			env:  map[string]string{"PORTPANEL_TRUSTED_PROXY": "10.0.0.0/8"},
			idle: 30 * time.Minute, lifetime: 12 * time.Hour, proxies: prefixes("192.0.2.0/24")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearSecurityEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := parseServe(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			s := c.sessions()
			if s.Idle != tt.idle || s.Lifetime != tt.lifetime || s.Secure != tt.secure {
				t.Errorf("sessions %+v, want idle %v, lifetime %v, secure %v", s, tt.idle, tt.lifetime, tt.secure)
			}
			if !slices.Equal(c.trustedProxies.prefixes, tt.proxies) || c.authHeader != tt.header {
				t.Errorf("trusted proxies %v, header %q; want %v, %q", c.trustedProxies.prefixes, c.authHeader, tt.proxies, tt.header)
			}
		})
	}
}

func TestSecurityFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // in the error
	}{
		{"certificate without key", []string{"--tls-cert", "c.pem"}, nil, "--tls-cert and --tls-key go together"},
		{"key without certificate", []string{"--tls-key", "k.pem"}, nil, "--tls-cert and --tls-key go together"},
		{"key without certificate from the environment", nil, map[string]string{"PORTPANEL_TLS_KEY": "k.pem"}, "--tls-cert and --tls-key go together"},
		{"user header without a trusted proxy", []string{"--auth-header", "X-Forwarded-User"}, nil, "needs --trusted-proxy"},
		{"not a CIDR", []string{"--trusted-proxy", "10.0.0.0/33"}, nil, "neither an address nor a CIDR"},
		{"a name, not an address", []string{"--trusted-proxy", "proxy.example"}, nil, "neither an address nor a CIDR"},
		{"trusting every address", []string{"--trusted-proxy", "0.0.0.0/0"}, nil, "would trust every address"},
		{"trusting every IPv6 address", []string{"--trusted-proxy", "::/0"}, nil, "would trust every address"},
		{"bad list in the environment", nil, map[string]string{"PORTPANEL_TRUSTED_PROXY": "10.0.0.0/8,nope"}, "PORTPANEL_TRUSTED_PROXY"},
		{"not a header name", []string{"--trusted-proxy", "10.0.0.1", "--auth-header", "X User"}, nil, "not a header name"},
		{"a header that means something else", []string{"--trusted-proxy", "10.0.0.1", "--auth-header", "authorization"}, nil, "means something else"},
		{"idle not a duration", []string{"--session-idle", "30"}, nil, "--session-idle"},
		{"idle under a minute", []string{"--session-idle", "10s"}, nil, "--session-idle"},
		{"lifetime shorter than idle", []string{"--session-idle", "2h", "--session-lifetime", "1h"}, nil, "--session-lifetime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearSecurityEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := parseServe(tt.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseServe(%q): %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}
