package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/handlers"
)

// authenticate finds who makes the request: an API bearer token, a user
// named by a trusted reverse proxy, or the session's user. It rejects a bad
// token outright rather than falling back to the session, so a script never
// acts as someone else by accident. Each way in lives in its own file
// (auth_token.go, auth_proxy.go, auth_session.go) and answers whether it
// decided.
func authenticate(h *handlers.Handlers, proxy *proxySignIn) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			for _, way := range []func(*handlers.Handlers, echo.Context) (bool, error){tokenUser, proxy.user, sessionUser} {
				done, err := way(h, c)
				if err != nil {
					return err
				}
				if done {
					break
				}
			}
			return next(c)
		}
	}
}

// metricsScraper is who a request with the metrics token acts as.
var metricsScraper = db.User{Name: "metrics token", Role: auth.RoleViewer}

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
				case !signedIn && (handlers.IsAPI(c) || c.Path() == MetricsPath):
					// A script or a Prometheus server cannot use a login page.
					c.Response().Header().Set("WWW-Authenticate", `Bearer realm="portpanel"`)
					return echo.NewHTTPError(http.StatusUnauthorized, "Sign in or send an API token.")
				case !signedIn && !unsafe(c.Request().Method):
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
