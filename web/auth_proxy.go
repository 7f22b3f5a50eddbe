package web

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/db"
	"portpanel/handlers"
)

// proxySignIn authenticates a user named by a trusted reverse proxy (SSO:
// oauth2-proxy, Authelia and the like), as Grafana's auth.proxy does with
// its header_name and whitelist. It holds the time of the last warning
// about a spoofed header, so one server warns at most once a minute.
type proxySignIn struct {
	lastWarn atomic.Int64 // unix nanoseconds
}

// warnEvery bounds the warnings about the user header from an untrusted
// address: anyone can send it, and the log must not become theirs.
const warnEvery = time.Minute

// user decides only when --trusted-proxy and --auth-header are both set
// and the request carries the header. The header counts only when the TCP
// peer, never a header naming one, is a trusted proxy; otherwise the
// request goes on as if it had no header. The user must exist locally and
// acts with their local role. The request is a browser's like any other:
// unsafe methods still need the session's CSRF token, made for this user
// (see ClaimSession).
func (p *proxySignIn) user(h *handlers.Handlers, c echo.Context) (bool, error) {
	if h.AuthHeader == "" || len(h.TrustedProxies) == 0 {
		return false, nil
	}
	r := c.Request()
	name := r.Header.Get(h.AuthHeader)
	if name == "" {
		return false, nil
	}
	if !fromTrustedProxy(h.TrustedProxies, r) {
		p.warnUntrusted(h, r)
		return false, nil
	}
	u, err := h.DB.UserByName(r.Context(), name)
	if errors.Is(err, db.ErrNotFound) {
		return true, echo.NewHTTPError(http.StatusForbidden,
			fmt.Sprintf("The sign-in proxy names you %q, but portpanel has no such user: ask an admin to create it.", name))
	} else if err != nil {
		return true, err
	}
	if u.Disabled {
		return true, echo.NewHTTPError(http.StatusForbidden,
			fmt.Sprintf("The portpanel user %q is disabled: ask an admin to enable it.", name))
	}
	if err := h.ClaimSession(c, u); err != nil {
		return true, err
	}
	handlers.SetUser(c, u, false)
	return true, nil
}

func (p *proxySignIn) warnUntrusted(h *handlers.Handlers, r *http.Request) {
	now := time.Now().UnixNano()
	last := p.lastWarn.Load()
	if now-last < int64(warnEvery) || !p.lastWarn.CompareAndSwap(last, now) {
		return
	}
	// The header's value is not logged: it is whatever the sender wanted
	// in our log.
	h.Log.Warn("ignored the sign-in header from an address that is not a trusted proxy (at most one warning a minute)",
		"header", h.AuthHeader, "peer", r.RemoteAddr, "path", r.URL.Path)
}
