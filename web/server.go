// Package web builds portpanel's HTTP server: middleware (logging, security
// headers, sessions, authentication, CSRF, roles), the route table and the
// static files. It holds no business logic and no SQL.
package web

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"portpanel/db"
	"portpanel/handlers"
)

// MaxBody is the largest request body accepted, in bytes; nothing
// portpanel takes comes close.
const MaxBody = 64 << 10

// SessionConfig says how long sessions last and how their cookie is marked.
type SessionConfig struct {
	// Idle ends a session after this long without a request (default 30 min);
	// Lifetime ends it this long after it began, however busy (default 12 h).
	// Both follow OWASP ASVS level 2.
	Idle, Lifetime time.Duration
	// Secure marks the cookie Secure and names it with the __Host- prefix,
	// which browsers accept only from HTTPS, with Path=/ and no Domain, so
	// neither a plain-HTTP page nor a sibling subdomain can set or
	// overwrite it. scs has one cookie setting per manager, not one per
	// request: serve sets it when it serves TLS itself or --secure-cookies
	// says a TLS proxy is in front.
	Secure bool
}

// Session cookie names: the __Host- one only ever over HTTPS.
const (
	SessionCookie       = "portpanel_session"
	SecureSessionCookie = "__Host-" + SessionCookie
)

// NewSessions returns server-side sessions stored in the database.
// The idle timeout is portpanel's (see handlers.Sessions), not scs's.
func NewSessions(d *db.DB, cfg SessionConfig) *handlers.Sessions {
	sm := scs.New()
	sm.Store = d.Sessions()
	// The store keys sessions by the SHA-256 of the token, never the token
	// itself, so a copy of the database (a backup, a stolen file) holds no
	// cookie that signs anyone in. No salt and no slow hash: those protect
	// guessable secrets such as passwords, while scs's tokens are 256
	// random bits, beyond any precomputed table or search, and the lookup
	// must find the row from the token alone. scs's own option rather than
	// a wrapper of ours: it hashes on every path to the store (find,
	// commit, delete, renew).
	sm.HashTokenInStore = true
	sm.ErrorFunc = sessionError
	sm.Codec = &reusingCodec{}
	sm.Lifetime = cmp.Or(cfg.Lifetime, 12*time.Hour)
	sm.Cookie.Name = SessionCookie
	if cfg.Secure {
		sm.Cookie.Name = SecureSessionCookie
	}
	sm.Cookie.HttpOnly = true
	// Lax, not Strict: a link from a ticket or a chat into the panel must
	// arrive signed in. Strict would show such a visit the login page,
	// whose new CSRF token would replace the session in the cookie. Forged
	// writes are stopped by the session-bound CSRF token and the
	// cross-origin check, not by SameSite.
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.Secure
	sm.Cookie.Path = "/"
	sm.Cookie.Domain = ""
	// A browser-session cookie, gone when the browser closes (OWASP). It
	// used to expire with the idle timeout, which scs kept pushing forward
	// by re-saving the session on every request; the server ends idle
	// sessions itself now (handlers.Sessions).
	sm.Cookie.Persist = false
	return &handlers.Sessions{SessionManager: sm, Idle: cmp.Or(cfg.Idle, 30*time.Minute)}
}

// sessionError answers a request whose session could not be saved: 503
// while the database cannot be reached (it may come back: a PostgreSQL
// restart), else scs's own answer, a logged 500.
func sessionError(w http.ResponseWriter, r *http.Request, err error) {
	if db.IsUnavailable(err) {
		w.Header().Set("Retry-After", handlers.RetryAfterUnavailable)
		http.Error(w, "The database is unavailable; try again shortly.", http.StatusServiceUnavailable)
		return
	}
	log.Output(2, err.Error())
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// New returns the server with every route of Routes registered.
func New(h *handlers.Handlers) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.Error
	e.IPExtractor = ipExtractor(h.TrustedProxies)
	e.Use(middleware.Recover())
	e.Use(requestLog(cmp.Or(h.RequestLog, h.Log)))
	e.Use(securityHeaders(h.TrustedProxies))
	e.Use(crossOrigin(http.NewCrossOriginProtection()))
	// Sessions wrap every request, not found ones included, so error pages
	// have a session to read the signed-in user from; a 413 page too, so
	// the limit comes after them.
	e.Use(readSnapshot)
	e.Use(unlessSessionless(loadAndSave(h.Sessions.SessionManager)))
	e.Use(limitBody(MaxBody))
	registerStatic(e)
	proxy := &proxySignIn{}
	for _, r := range Routes(h) {
		// Wrapped once here: middleware passed to Add is applied anew on
		// every request (a closure per middleware per request).
		handler := authenticate(h, proxy)(authorize(h, r.Role)(holdForNewPassword(h, r.Role)(r.Handler)))
		e.Add(r.Method, r.Path, handler)
		if r.Method == http.MethodGet {
			// HEAD is GET without the body (RFC 9110 9.3.2), which
			// net/http drops: load balancers check health with HEAD, and
			// echo registers no HEAD route by itself (it answered 405).
			e.Add(http.MethodHead, r.Path, handler)
		}
	}
	return e
}

// ipExtractor says where the client address comes from. Without a trusted
// proxy it is the TCP peer, whatever X-Forwarded-For claims; behind one it
// is the nearest address in X-Forwarded-For that is not a trusted proxy.
// echo trusts loopback, link-local and private addresses by default: here
// only the configured prefixes are trusted.
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		p = p.Masked()
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// fromTrustedProxy reports whether the request's TCP peer, never a header,
// is inside a trusted prefix.
func fromTrustedProxy(trusted []netip.Prefix, r *http.Request) bool {
	if len(trusted) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// overTLS reports whether the browser reached portpanel over HTTPS: served
// here, or by a trusted proxy that says so.
func overTLS(trusted []netip.Prefix, r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get(echo.HeaderXForwardedProto), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https") && fromTrustedProxy(trusted, r)
}

// errTooLarge is the answer to a body over MaxBody.
var errTooLarge = echo.NewHTTPError(http.StatusRequestEntityTooLarge,
	fmt.Sprintf("The request body is larger than %d KiB; nothing portpanel takes needs that much.", MaxBody>>10))

// limitBody refuses bodies over max with 413. echo's BodyLimit checks a
// body of unknown length (chunked) only while it is read, and form parsing
// swallows that error, so such a form arrived empty and failed as a CSRF
// 403. Here a body of unknown length is read, up to max, before any
// handler runs.
func limitBody(max int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			switch {
			case r.ContentLength > max:
				return errTooLarge
			case r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody:
				b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
				if err != nil {
					return echo.NewHTTPError(http.StatusBadRequest, "The request body could not be read.").SetInternal(err)
				}
				if int64(len(b)) > max {
					return errTooLarge
				}
				r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			}
			return next(c)
		}
	}
}

// requestLog logs one line per request, with the status sent: it runs the
// error handler itself, as echo's RequestLogger with HandleError does (a
// ConflictError becomes 409 only there). It logs the path without the
// query, which may hold the setup token, and no header: cookies and
// bearer tokens stay out of the log.
func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			req := c.Request()
			log.LogAttrs(req.Context(), slog.LevelInfo, "request",
				slog.String("method", req.Method), slog.String("path", cmp.Or(req.URL.Path, "/")),
				slog.Int("status", c.Response().Status), slog.Int64("latency_ms", time.Since(start).Milliseconds()),
				slog.String("remote", c.RealIP()))
			return nil
		}
	}
}

// CSP allows nothing but portpanel's own files: no inline script or
// style, no plugins, no framing, forms posting only here. img-src allows
// data: for the empty favicon ("data:,") that keeps browsers from asking
// for /favicon.ico.
const CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// HSTS is sent only on responses that went out over HTTPS: browsers ignore
// it over HTTP, and a panel reached by plain HTTP on a trusted network
// must stay reachable. No includeSubDomains: the panel's host name says
// nothing about its neighbours'.
const HSTS = "max-age=31536000"

// fixedHeaders are the security headers every response carries, built
// once: Header.Set canonicalises the key and allocates the value on every
// request. The keys are written canonical, and each value slice is full
// (length = capacity), so a later Header.Add copies it rather than write
// into the shared array.
//
// Cache-Control: pages and API answers hold the range, users and the audit
// trail, so no cache keeps them, shared or private. The static files set
// their own (web/static.go); a 404 under /static/ keeps no-store, as it is
// a page with the user's name on it.
var fixedHeaders = http.Header{
	"Content-Security-Policy":    {CSP},
	"X-Content-Type-Options":     {"nosniff"},
	"Referrer-Policy":            {"no-referrer"},
	"X-Frame-Options":            {"DENY"},
	"Cross-Origin-Opener-Policy": {"same-origin"},
	"Permissions-Policy":         {"camera=(), geolocation=(), microphone=(), payment=(), usb=()"},
	"Cache-Control":              {"no-store"},
}

// APICSP is the policy of the answers that are never a page (JSON, CSV,
// metrics): nothing may load and nothing may frame them.
const APICSP = "default-src 'none'; frame-ancestors 'none'"

// apiHeaders replace fixedHeaders on those answers, as OWASP's REST
// Security Cheat Sheet lists them: Referrer-Policy,
// Cross-Origin-Opener-Policy and Permissions-Policy govern what a document
// does, and JSON opened in a browser does nothing. Each header costs the
// server and every client on every call (issue 6).
var apiHeaders = http.Header{
	"Content-Security-Policy": {APICSP},
	"X-Content-Type-Options":  {"nosniff"},
	"X-Frame-Options":         {"DENY"},
	"Cache-Control":           {"no-store"},
}

// notAPage reports whether the answer to r is data for a program rather
// than a page: the API (errors included, handlers.Error answers JSON there),
// the metrics and the health checks.
func notAPage(c echo.Context) bool {
	switch c.Request().URL.Path {
	case MetricsPath, "/healthz", "/readyz":
		return true
	default:
		return handlers.IsAPI(c)
	}
}

// securityHeaders go on every response, error pages included.
func securityHeaders(trusted []netip.Prefix) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			hd := c.Response().Header()
			fixed := fixedHeaders
			if notAPage(c) {
				fixed = apiHeaders
			}
			for k, v := range fixed {
				hd[k] = v
			}
			if overTLS(trusted, c.Request()) {
				hd.Set("Strict-Transport-Security", HSTS)
			}
			return next(c)
		}
	}
}

// crossOrigin refuses unsafe cross-origin requests as cop.Handler does,
// with the same plain 403 (the session that an error page would need is
// not loaded yet), without wrapping echo's handler in a net/http one on
// every request.
func crossOrigin(cop *http.CrossOriginProtection) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := cop.Check(c.Request()); err != nil {
				http.Error(c.Response(), err.Error(), http.StatusForbidden)
				return nil
			}
			return next(c)
		}
	}
}

// readSnapshot lets a GET or HEAD ask the database's data_version once
// rather than once per cached read (see db.Memo). Such a request writes
// nothing it then reads back; unsafe methods write first and must then see
// their own writes.
func readSnapshot(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r := c.Request(); r.Method == http.MethodGet || r.Method == http.MethodHead {
			c.SetRequest(r.WithContext(db.WithSnapshot(r.Context())))
		}
		return next(c)
	}
}
