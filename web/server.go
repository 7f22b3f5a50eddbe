// Package web builds portpanel's HTTP server: middleware (logging, security
// headers, sessions, authentication, CSRF, roles), the route table and the
// static files. It holds no business logic and no SQL.
package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"portpanel/db"
	"portpanel/handlers"
	"portpanel/static"
)

// MaxBody is the largest request body accepted; nothing portpanel takes
// comes close.
const MaxBody = "64K"

// NewSessions returns server-side sessions stored in the database. Idle and
// absolute lifetimes follow OWASP ASVS level 2 (30 min, 12 h).
func NewSessions(d *db.DB, secure bool) *scs.SessionManager {
	sm := scs.New()
	sm.Store = sqlite3store.New(d.SQL())
	sm.IdleTimeout = 30 * time.Minute
	sm.Lifetime = 12 * time.Hour
	sm.Cookie.Name = "portpanel_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = secure
	sm.Cookie.Path = "/"
	return sm
}

// New returns the server with every route of Routes registered.
func New(h *handlers.Handlers) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.Error
	// RealIP must not trust X-Forwarded-For from anyone: portpanel is
	// reached directly unless a proxy is configured (a later issue).
	e.IPExtractor = echo.ExtractIPDirect()
	e.Use(middleware.Recover())
	e.Use(requestLog(h.Log))
	e.Use(securityHeaders)
	e.Use(middleware.BodyLimit(MaxBody))
	e.Use(echo.WrapMiddleware(http.NewCrossOriginProtection().Handler))
	// Sessions wrap every request, not found ones included, so error pages
	// have a session to read the signed-in user from.
	e.Use(echo.WrapMiddleware(h.Sessions.LoadAndSave))
	e.StaticFS("/static", static.FS)
	for _, r := range Routes(h) {
		e.Add(r.Method, r.Path, r.Handler, authenticate(h), authorize(h, r.Role))
	}
	return e
}

// requestLog logs one line per request. It logs the path without the query,
// which may hold the setup token.
func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRemoteIP: true,
		// Run the error handler first, so the status logged is the one sent
		// (a ConflictError becomes 409 only there).
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			log.Info("request", "method", v.Method, "path", v.URIPath, "status", v.Status,
				"latency_ms", v.Latency.Milliseconds(), "remote", v.RemoteIP)
			return nil
		},
	})
}

// securityHeaders allow nothing but portpanel's own files: no inline script
// or style, no framing.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		if c.Request().URL.Path != "/healthz" && len(c.Request().URL.Path) >= 8 && c.Request().URL.Path[:8] != "/static/" {
			hd.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}
