package cli

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"portpanel/web"
)

// The serve flags about transport, sessions and the sign-in proxy, and
// what serve builds from them.

// proxyList is --trusted-proxy: repeatable, each value one or more CIDRs or
// single addresses separated by commas. Values given on the command line
// replace those from PORTPANEL_TRUSTED_PROXY.
type proxyList struct {
	prefixes []netip.Prefix
	fromFlag bool
}

func (l *proxyList) String() string {
	s := make([]string, len(l.prefixes))
	for i, p := range l.prefixes {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (l *proxyList) Set(v string) error {
	if !l.fromFlag {
		l.prefixes, l.fromFlag = nil, true
	}
	return l.add(v)
}

func (l *proxyList) add(v string) error {
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := parseProxy(f)
		if err != nil {
			return err
		}
		l.prefixes = append(l.prefixes, p)
	}
	return nil
}

// parseProxy reads a CIDR, or an address as a prefix of its own. A prefix
// of length 0 would trust every address, so that anyone could name the
// signed-in user: it is refused.
func parseProxy(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a CIDR such as 10.0.0.0/8", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, fmt.Errorf("%q would trust every address: name the proxy's own address or network", s)
	}
	return p.Masked(), nil
}

// addSecurityFlags defines the flags of this file on fs. The returned
// check validates them once fs is parsed.
func (c *serveConfig) addSecurityFlags(fs *flag.FlagSet) (check func() error, err error) {
	fs.StringVar(&c.tlsCert, "tls-cert", env("PORTPANEL_TLS_CERT", ""), "PEM certificate (chain) to serve HTTPS with, TLS 1.2 or later; needs --tls-key (env PORTPANEL_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", env("PORTPANEL_TLS_KEY", ""), "PEM private key of --tls-cert (env PORTPANEL_TLS_KEY)")
	idle := fs.String("session-idle", env("PORTPANEL_SESSION_IDLE", "30m"), "a session ends after this long without a request (env PORTPANEL_SESSION_IDLE)")
	lifetime := fs.String("session-lifetime", env("PORTPANEL_SESSION_LIFETIME", "12h"), "a session ends this long after sign-in, however busy (env PORTPANEL_SESSION_LIFETIME)")
	fs.Var(&c.trustedProxies, "trusted-proxy", "address or CIDR of a reverse proxy whose X-Forwarded-For, X-Forwarded-Proto and --auth-header count; repeatable or comma-separated (env PORTPANEL_TRUSTED_PROXY)")
	fs.StringVar(&c.authHeader, "auth-header", env("PORTPANEL_AUTH_HEADER", ""), "header in which a --trusted-proxy names the signed-in user, such as X-Forwarded-User (env PORTPANEL_AUTH_HEADER)")
	if v, ok := os.LookupEnv("PORTPANEL_TRUSTED_PROXY"); ok {
		if err := c.trustedProxies.add(v); err != nil {
			return nil, fmt.Errorf("PORTPANEL_TRUSTED_PROXY: %w", err)
		}
	}
	return func() error { return c.checkSecurity(*idle, *lifetime) }, nil
}

// checkSecurity validates the flags of this file.
func (c *serveConfig) checkSecurity(idle, lifetime string) error {
	var err error
	if c.sessionIdle, err = time.ParseDuration(idle); err != nil || c.sessionIdle < time.Minute {
		return fmt.Errorf("--session-idle %q: give a duration of at least 1m, such as 30m", idle)
	}
	if c.sessionLifetime, err = time.ParseDuration(lifetime); err != nil || c.sessionLifetime < c.sessionIdle {
		return fmt.Errorf("--session-lifetime %q: give a duration at least as long as --session-idle, such as 12h", lifetime)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both to serve HTTPS, or neither")
	}
	if c.authHeader != "" {
		if len(c.trustedProxies.prefixes) == 0 {
			return fmt.Errorf("--auth-header %s needs --trusted-proxy: without it anyone could send the header and be signed in as anyone", c.authHeader)
		}
		if !headerName(c.authHeader) {
			return fmt.Errorf("--auth-header %q is not a header name such as X-Forwarded-User", c.authHeader)
		}
		switch http.CanonicalHeaderKey(c.authHeader) {
		case "Authorization", "Cookie", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host":
			return fmt.Errorf("--auth-header %s: that header means something else; use the one the proxy sets for the user, such as X-Forwarded-User", c.authHeader)
		}
	}
	return nil
}

// headerName reports whether s is an HTTP field name (RFC 9110's token).
func headerName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return s != ""
}

// sessions is the session configuration the flags ask for. With
// --tls-cert every request arrives over TLS, so the cookie is Secure;
// behind a TLS-terminating proxy only --secure-cookies can say so.
func (c *serveConfig) sessions() web.SessionConfig {
	return web.SessionConfig{Idle: c.sessionIdle, Lifetime: c.sessionLifetime, Secure: c.secureCookies || c.tlsCert != ""}
}

// tlsConfig loads --tls-cert and --tls-key, or returns nil to serve plain
// HTTP. Loading at start makes a wrong path an error before anything runs.
// A renewed certificate takes a restart.
func (c *serveConfig) tlsConfig() (*tls.Config, error) {
	if c.tlsCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("load --tls-cert %s and --tls-key %s: %w", c.tlsCert, c.tlsKey, err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}

// scheme is the URL scheme the server answers on.
func scheme(tlsConf *tls.Config) string {
	if tlsConf != nil {
		return "https"
	}
	return "http"
}
