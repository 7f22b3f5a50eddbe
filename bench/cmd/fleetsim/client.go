package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"portpanel/agentapi"
)

// agentTransport reaches the control plane's agent listener: a Unix
// socket (unix:///path or unix:/path) or http(s)://host:port. Every
// virtual agent holds a long poll open, so the pool keeps one
// connection per agent and small buffers (10,000 of them add up).
func agentTransport(server string, hosts int, insecure bool) (*http.Transport, string, error) {
	t := &http.Transport{
		MaxIdleConns:        hosts + 64,
		MaxIdleConnsPerHost: hosts + 64,
		IdleConnTimeout:     2 * time.Minute,
		ReadBufferSize:      4 << 10,
		WriteBufferSize:     4 << 10,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	if path, ok := strings.CutPrefix(server, "unix:"); ok {
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return nil, "", fmt.Errorf("server %q names no socket", server)
		}
		t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}
		return t, "http://unix", nil
	}
	if !strings.HasPrefix(server, "http://") && !strings.HasPrefix(server, "https://") {
		return nil, "", fmt.Errorf("server %q: want unix:///path, http:// or https://", server)
	}
	if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // a benchmark against its own throwaway server
	}
	return t, strings.TrimSuffix(server, "/"), nil
}

// errStatus is an answer other than the one expected.
type errStatus struct {
	code int
	body string
}

func (e *errStatus) Error() string { return fmt.Sprintf("status %d: %s", e.code, e.body) }

func statusOf(err error) int {
	var e *errStatus
	if errors.As(err, &e) {
		return e.code
	}
	return 0
}

// call makes one request and decodes a 2xx answer's JSON into out. sign,
// when set, signs it as a host.
func call(ctx context.Context, c *http.Client, method, url string, in, out any, header http.Header, sign func(*http.Request, []byte) error) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if sign != nil {
		if err := sign(req, body); err != nil {
			return err
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, agentapi.MaxBodyBytes))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &errStatus{resp.StatusCode, strings.TrimSpace(string(b[:min(len(b), 200)]))}
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode %s %s: %w", method, url, err)
		}
	}
	return nil
}

// userAPI is the panel's API as an admin token holder calls it: enrollment
// tokens and remote changes.
type userAPI struct {
	c     *http.Client
	base  string
	token string
}

func (u *userAPI) header() http.Header {
	return http.Header{"Authorization": {"Bearer " + u.token}}
}

// enrollmentToken creates a one-time token for group.
func (u *userAPI) enrollmentToken(ctx context.Context, group string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := call(ctx, u.c, "POST", u.base+"/api/v1/enrollments", map[string]string{"group": group}, &out, u.header(), nil)
	if err == nil && out.Token == "" {
		err = errors.New("no token in the answer")
	}
	if err != nil {
		return "", fmt.Errorf("create an enrollment token: %w", err)
	}
	return out.Token, nil
}

// change asks for a range on host: today's change body, on the host's
// path.
func (u *userAPI) change(ctx context.Context, host string, low, high, confirmWithin int) error {
	in := map[string]any{"low": low, "high": high, "reason": "fleetsim: time a remote change to applied"}
	if confirmWithin > 0 {
		in["confirm_within"] = confirmWithin
	}
	err := call(ctx, u.c, "POST", u.base+"/api/v1/hosts/"+host+"/changes", in, nil, u.header(), nil)
	if err != nil {
		return fmt.Errorf("change on %s: %w", host, err)
	}
	return nil
}
