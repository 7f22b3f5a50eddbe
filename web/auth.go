package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"portpanel/db"
	"portpanel/handlers"
	"portpanel/handlers/auth"
)

// authenticate finds who makes the request: an API bearer token or the
// session's user. It rejects a bad token outright rather than falling back
// to the session, so a script never acts as someone else by accident.
func authenticate(h *handlers.Handlers) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			if authz := c.Request().Header.Get(echo.HeaderAuthorization); authz != "" {
				secret, ok := strings.CutPrefix(authz, "Bearer ")
				if !ok || secret == "" {
					return echo.NewHTTPError(http.StatusUnauthorized, "Use Authorization: Bearer TOKEN.")
				}
				// The metrics token reads /metrics as a viewer would and
				// nothing else; a user's API token or session works there
				// too, and without --metrics-token only they do: /metrics
				// tells about the host, so it is never open like /healthz.
				if c.Path() == MetricsPath && h.MetricsToken != "" && sameSecret(secret, h.MetricsToken) {
					handlers.SetUser(c, metricsScraper, true)
					return next(c)
				}
				u, _, err := h.DB.UserByTokenHash(ctx, auth.HashToken(secret))
				if errors.Is(err, db.ErrNotFound) {
					return echo.NewHTTPError(http.StatusUnauthorized, "Unknown or revoked API token.")
				} else if err != nil {
					return err
				}
				handlers.SetUser(c, u, true)
				return next(c)
			}
			if id := h.SessionUserID(c); id != 0 {
				u, err := h.DB.UserByID(ctx, id)
				if err != nil && !errors.Is(err, db.ErrNotFound) {
					return err
				}
				if err == nil {
					handlers.SetUser(c, u, false)
				}
			}
			return next(c)
		}
	}
}

// metricsScraper is who a request with the metrics token acts as.
var metricsScraper = db.User{Name: "metrics token", Role: db.RoleViewer}

// sameSecret compares in constant time; hashing first hides the length too.
func sameSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// authorize enforces the route's role, and the CSRF token on every unsafe
// request that a browser could have sent on its own (that is, any not
// authenticated by a bearer token).
func authorize(h *handlers.Handlers, role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, signedIn := handlers.CurrentUser(c)
			if role != Public {
				switch {
				case !signedIn && (strings.HasPrefix(c.Request().URL.Path, "/api/") || c.Path() == MetricsPath):
					// A script or a Prometheus server cannot use a login page.
					c.Response().Header().Set("WWW-Authenticate", `Bearer realm="portpanel"`)
					return echo.NewHTTPError(http.StatusUnauthorized, "Sign in or send an API token.")
				case !signedIn && c.Request().Method == http.MethodGet:
					return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
				case !signedIn:
					return echo.NewHTTPError(http.StatusUnauthorized, "Sign in first.")
				case !auth.Allows(u.Role, role):
					return echo.NewHTTPError(http.StatusForbidden, "Your role ("+u.Role+") may not do this; it needs "+role+" or higher.")
				}
			}
			if unsafe(c.Request().Method) && !handlers.ViaToken(c) && !h.CheckCSRF(c) {
				return echo.NewHTTPError(http.StatusForbidden, "Missing or wrong CSRF token: reload the page and try again.")
			}
			return next(c)
		}
	}
}

func unsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}
