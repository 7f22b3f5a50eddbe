package agent

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"portpanel/agentapi"
)

// Client speaks the agent API to one of several control-plane URLs. It
// keeps to the URL that answered last and moves to the next when one
// cannot be reached or answers 5xx, within the same call: a replica that
// dies costs an agent one failed attempt, not a poll interval.
type Client struct {
	servers []server
	mu      sync.Mutex
	cur     int
	// key and host sign every request but Enroll; set by SetIdentity.
	key  ed25519.PrivateKey
	host string
}

type server struct {
	raw  string // as given, for logs
	base string // scheme://host of requests
	hc   *http.Client
}

// ErrUnauthorized is a 401: the token or the host's credential was
// refused (unknown, used, expired, revoked).
var ErrUnauthorized = errors.New("refused by the control plane (401)")

// StatusError is any other answer than the one expected.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("control plane answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Body)
}

// NewClient parses the URLs (https://host:port or unix:///path.sock).
// caFile, if not empty, is the PEM bundle that https servers must chain
// to instead of the system's roots.
func NewClient(urls []string, caFile string) (*Client, error) {
	if len(urls) == 0 {
		return nil, errors.New("no control plane: give --server")
	}
	var roots *x509.CertPool
	if caFile != "" {
		pemData, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read --ca-file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("--ca-file %s holds no PEM certificate", caFile)
		}
	}
	c := &Client{}
	for _, raw := range urls {
		s, err := newServer(raw, roots)
		if err != nil {
			return nil, err
		}
		c.servers = append(c.servers, s)
	}
	return c, nil
}

func newServer(raw string, roots *x509.CertPool) (server, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return server{}, fmt.Errorf("--server %q: %w", raw, err)
	}
	tr := &http.Transport{ForceAttemptHTTP2: true, MaxIdleConns: 2, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: agentapi.MaxWait + 15*time.Second}
	switch {
	case u.Scheme == "https" && u.Host != "" && (u.Path == "" || u.Path == "/"):
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
		return server{raw: raw, base: "https://" + u.Host, hc: &http.Client{Transport: tr}}, nil
	case u.Scheme == "unix" && u.Host == "" && u.Path != "":
		path := u.Path
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}
		// The host part names nothing on a Unix socket; it only has to
		// be a valid one.
		return server{raw: raw, base: "http://agent.sock", hc: &http.Client{Transport: tr}}, nil
	}
	// Plain http would send the enrollment token in clear text.
	return server{}, fmt.Errorf("--server %q: use https://HOST[:PORT] or unix:///PATH/agent.sock", raw)
}

// SetIdentity makes every later request signed as host with key.
func (c *Client) SetIdentity(host string, key ed25519.PrivateKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.host, c.key = host, key
}

// Current is the URL in use, for logs.
func (c *Client) Current() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.servers[c.cur].raw
}

// call sends one request, in, as JSON (nil: no body), signed when the
// client has an identity, and decodes the answer into out (nil: none
// expected).
func (c *Client) call(ctx context.Context, method, pathQuery string, in, out any, timeout time.Duration) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encode %s: %w", pathQuery, err)
		}
	}
	host, key := c.identity()
	return c.do(ctx, method, pathQuery, body, out, timeout, func(req *http.Request) error {
		if key == nil {
			return nil // enrollment: the token authenticates
		}
		return agentapi.Sign(req, body, host, key, time.Now())
	})
}

func (c *Client) identity() (string, ed25519.PrivateKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.host, c.key
}

// do sends one request, made ready by prepare, to each server once,
// starting with the one that answered last.
func (c *Client) do(ctx context.Context, method, pathQuery string, body []byte, out any, timeout time.Duration, prepare func(*http.Request) error) error {
	c.mu.Lock()
	start := c.cur
	c.mu.Unlock()
	var errs []error
	for i := range c.servers {
		n := (start + i) % len(c.servers)
		err := c.try(ctx, c.servers[n], method, pathQuery, body, out, timeout, prepare)
		var se *StatusError
		if err == nil || errors.Is(err, ErrUnauthorized) || (errors.As(err, &se) && se.Code < 500) || ctx.Err() != nil {
			// Reached a control plane: keep to it. A 4xx is its answer,
			// and another replica would give the same.
			c.mu.Lock()
			c.cur = n
			c.mu.Unlock()
			return err
		}
		errs = append(errs, fmt.Errorf("%s: %w", c.servers[n].raw, err))
	}
	c.mu.Lock()
	c.cur = (start + 1) % len(c.servers) // the next call starts elsewhere
	c.mu.Unlock()
	return errors.Join(errs...)
}

func (c *Client) try(ctx context.Context, s server, method, pathQuery string, body []byte, out any, timeout time.Duration, prepare func(*http.Request) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+pathQuery, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "portpanel-agent/"+Version)
	if err := prepare(req); err != nil {
		return err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, agentapi.MaxBodyBytes+1))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return ErrUnauthorized
	case resp.StatusCode/100 != 2:
		return &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(data[:min(len(data), 300)]))}
	case out == nil || resp.StatusCode == http.StatusNoContent:
		return nil
	case len(data) > agentapi.MaxBodyBytes:
		return fmt.Errorf("answer to %s is larger than %d bytes", pathQuery, agentapi.MaxBodyBytes)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer to %s: %w", pathQuery, err)
	}
	return nil
}

// Requests other than the long poll get this long.
const callTimeout = 20 * time.Second

// Enroll exchanges a one-time token for the host's credential: the public
// half of key.
func (c *Client) Enroll(ctx context.Context, req agentapi.EnrollRequest) (agentapi.EnrollResponse, error) {
	var out agentapi.EnrollResponse
	err := c.call(ctx, http.MethodPost, agentapi.PathEnroll, req, &out, callTimeout)
	return out, err
}

// Desired long-polls the host's desired state after generation after.
func (c *Client) Desired(ctx context.Context, after int64, wait time.Duration) (agentapi.Desired, error) {
	var out agentapi.Desired
	q := url.Values{"after": {fmt.Sprint(after)}, "wait": {fmt.Sprint(int(wait.Seconds()))}}
	err := c.call(ctx, http.MethodGet, agentapi.PathDesired+"?"+q.Encode(), nil, &out, wait+15*time.Second)
	return out, err
}

// Report sends what the host observes and what became of its generations.
func (c *Client) Report(ctx context.Context, r agentapi.Report) error {
	return c.call(ctx, http.MethodPost, agentapi.PathReport, r, nil, callTimeout)
}

// Preview answers a preview request.
func (c *Client) Preview(ctx context.Context, r agentapi.PreviewResult) error {
	return c.call(ctx, http.MethodPost, agentapi.PathPreview, r, nil, callTimeout)
}

// Rotate replaces the host's key by next: the request is signed with the
// current key and carries next's proof (agentapi.SignRotation).
func (c *Client) Rotate(ctx context.Context, next ed25519.PrivateKey) error {
	host, key := c.identity()
	return c.do(ctx, http.MethodPost, agentapi.PathRotate, nil, nil, callTimeout, func(req *http.Request) error {
		_, err := agentapi.SignRotation(req, host, key, next, time.Now())
		return err
	})
}
