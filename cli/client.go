package cli

import (
	"bytes"
	"context"
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
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// clientOpts are the flags every client command takes.
type clientOpts struct {
	server, token, caFile, output string
	insecure                      bool
	timeout                       time.Duration
}

func addClientFlags(c *cobra.Command, o *clientOpts) {
	f := c.Flags()
	f.StringVar(&o.server, "server", env("PORTPANEL_URL", "http://127.0.0.1:8080"), "the panel: http(s)://HOST:PORT or unix:///PATH (env PORTPANEL_URL)")
	f.StringVar(&o.token, "token", "", "API token (env PORTPANEL_TOKEN, else the file $XDG_CONFIG_HOME/portpanel/token, mode 0600); a flag shows in ps")
	f.StringVar(&o.caFile, "ca-file", env("PORTPANEL_CA_FILE", ""), "PEM file of the CA that signed the server's certificate (env PORTPANEL_CA_FILE)")
	f.BoolVar(&o.insecure, "insecure", false, "do not verify the server's TLS certificate (warns on every call)")
	f.StringVarP(&o.output, "output", "o", "text", "text for people, json for scripts (the API's answer unchanged)")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up on a request after this long")
	for _, name := range []string{"server", "token", "ca-file", "insecure", "output", "timeout"} {
		_ = f.SetAnnotation(name, connFlag, []string{"yes"})
	}
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// apiClient talks to the panel's JSON API and nothing else.
type apiClient struct {
	base   string // scheme://host, no trailing slash
	where  string // the server as the user named it, for messages
	token  string
	http   *http.Client
	tokenN string // where the token came from, for a 401's advice
	verb   string // what the command does, for a 403: "approve"
}

// newClient checks the options and builds the client. A token file others
// can read is refused: it is a password to the panel.
func (o *clientOpts) newClient(stderr io.Writer) (*apiClient, error) {
	if o.output != "text" && o.output != "json" {
		return nil, commandUsage{fmt.Sprintf("--output %q: use text or json", o.output)}
	}
	c := &apiClient{where: o.server}
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, TLSHandshakeTimeout: 10 * time.Second, ForceAttemptHTTP2: true}
	u, err := url.Parse(o.server)
	switch {
	case err != nil:
		return nil, commandUsage{fmt.Sprintf("--server %q: give http://HOST:PORT, https://HOST:PORT or unix:///PATH", o.server)}
	case u.Scheme == "unix":
		if u.Path == "" || u.Host != "" {
			return nil, commandUsage{fmt.Sprintf("--server %q: write a socket as unix:///run/portpanel.sock", o.server)}
		}
		path := u.Path
		tr.Proxy = nil
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}
		c.base = "http://portpanel"
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
		c.base = u.Scheme + "://" + u.Host
		if u.Scheme == "http" && !loopback(u.Hostname()) {
			fmt.Fprintf(stderr, "portpanel: warning: %s is plain HTTP to another host: the token crosses the network readable; use https://\n", o.server)
		}
	default:
		return nil, commandUsage{fmt.Sprintf("--server %q: give http://HOST:PORT, https://HOST:PORT or unix:///PATH", o.server)}
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, exitf(exitUnreachable, "read --ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, exitf(exitUnreachable, "--ca-file %s holds no PEM certificate", o.caFile)
		}
		tlsConf.RootCAs = pool
	}
	if o.insecure {
		tlsConf.InsecureSkipVerify = true
		fmt.Fprintln(stderr, "portpanel: warning: --insecure: the server's certificate is not verified; anyone between you and it can read the token and answer in its name")
	}
	tr.TLSClientConfig = tlsConf
	c.http = &http.Client{Transport: tr, Timeout: o.timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // a redirect is a sign-in page: not the API
	}}
	if c.token, c.tokenN, err = o.findToken(); err != nil {
		return nil, err
	}
	return c, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// findToken is --token, else PORTPANEL_TOKEN, else the token file.
func (o *clientOpts) findToken() (token, from string, err error) {
	if o.token != "" {
		return o.token, "--token", nil
	}
	if v := os.Getenv("PORTPANEL_TOKEN"); v != "" {
		return v, "PORTPANEL_TOKEN", nil
	}
	path := tokenFile()
	if path == "" {
		return "", "", nil
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", "", nil
	} else if err != nil {
		return "", "", exitf(exitUnreachable, "token file: %w", err)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return "", "", exitf(exitUnreachable, "token file %s has mode %04o: others may read it, so portpanel will not use it; run chmod 600 %s", path, m, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", exitf(exitUnreachable, "read token file: %w", err)
	}
	return strings.TrimSpace(string(b)), path, nil
}

// tokenFile is $XDG_CONFIG_HOME/portpanel/token, XDG's default being
// ~/.config.
func tokenFile() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "portpanel", "token")
}

// answer is what the API said: its status and its body, unchanged.
type answer struct {
	status int
	body   []byte
}

// call sends one request and returns the answer for any 2xx status; any
// other status is an apiError, whose exit status says what kind.
func (c *apiClient) call(ctx context.Context, method, path string, body any) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return answer{}, exitf(exitUnreachable, "cannot reach the panel at %s: %w", c.where, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return answer{}, exitf(exitUnreachable, "read the answer of %s %s: %w", method, path, err)
	}
	a := answer{status: res.StatusCode, body: b}
	if res.StatusCode/100 == 2 {
		return a, nil
	}
	return a, c.apiError(a, res.Header.Get("Content-Type"))
}

// get decodes the answer of GET path into v and returns it unchanged too.
func (c *apiClient) get(ctx context.Context, path string, v any) (answer, error) {
	a, err := c.call(ctx, http.MethodGet, path, nil)
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		return a, fmt.Errorf("read the answer of GET %s: %w", path, err)
	}
	return a, nil
}
