package handlers

import (
	"crypto/subtle"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/db"
)

// Session keys.
const (
	keyUserID = "user_id"
	// keyEpoch is the user's SessionEpoch when the session started: once
	// the user's moves on (password changed, account disabled), the
	// session is refused.
	keyEpoch = "user_epoch"
	keyCSRF  = "csrf"
	// keyCSRFUser is the ID of the user the CSRF token was made for (0:
	// nobody signed in): a token is its user's, not the browser's.
	keyCSRFUser = "csrf_user"
	keyFlash    = "flash"
	keyFlashE   = "flash_error"
	// keySeen is when the session was last used, in unix milliseconds,
	// written at most every idleStep.
	keySeen = "seen"
)

// Sessions are scs sessions plus the idle timeout, which portpanel enforces
// itself: scs's IdleTimeout is left at 0 because it re-saves the session
// on every request to push its expiry forward, a database write per page
// view that made the panel write-bound under load and failed requests with
// "database is locked" (BENCHMARKS.md). Here the last-seen time is saved at
// most every idleStep, so a session ends between Idle-idleStep and Idle
// after its last request.
type Sessions struct {
	*scs.SessionManager
	Idle time.Duration
}

// idleStep is how stale the saved last-seen time may get: a minute, or a
// tenth of a short idle timeout.
func idleStep(idle time.Duration) time.Duration { return min(time.Minute, idle/10) }

// SessionIdle reports whether the signed-in session has gone unused for
// longer than the idle timeout, and otherwise notes that it is used now.
func (h *Handlers) SessionIdle(c echo.Context) bool {
	idle := h.Sessions.Idle
	if idle <= 0 {
		return false
	}
	ctx := c.Request().Context()
	now := h.Now()
	seen := h.Sessions.GetInt64(ctx, keySeen)
	if seen != 0 && now.Sub(time.UnixMilli(seen)) > idle {
		return true
	}
	if seen == 0 || now.Sub(time.UnixMilli(seen)) >= idleStep(idle) {
		h.Sessions.Put(ctx, keySeen, now.UnixMilli())
	}
	return false
}

const ctxUser = "portpanel.user"
const ctxViaToken = "portpanel.via_token"

// SetUser marks the request as made by u (viaToken: by API token).
func SetUser(c echo.Context, u db.User, viaToken bool) {
	c.Set(ctxUser, u)
	c.Set(ctxViaToken, viaToken)
}

// CurrentUser is the signed-in user, if any.
func CurrentUser(c echo.Context) (db.User, bool) {
	u, ok := c.Get(ctxUser).(db.User)
	return u, ok
}

// ViaToken reports whether the request was authenticated by an API token,
// which needs no CSRF token: browsers never send it on their own.
func ViaToken(c echo.Context) bool {
	v, _ := c.Get(ctxViaToken).(bool)
	return v
}

// SessionUserID is the user ID stored in the session (0 when signed out).
func (h *Handlers) SessionUserID(c echo.Context) int64 {
	return h.Sessions.GetInt64(c.Request().Context(), keyUserID)
}

// SessionEpoch is the user's SessionEpoch when this session started (0 for
// a session from before epochs, which matches a user never reset).
func (h *Handlers) SessionEpoch(c echo.Context) int64 {
	return h.Sessions.GetInt64(c.Request().Context(), keyEpoch)
}

// ErrUserDisabled is StartSession's answer for a disabled user. Sign-in
// code checks Disabled first and answers as for a wrong password.
var ErrUserDisabled = errors.New("the account is disabled")

// StartSession signs u in on this request's session: a new session ID
// (against session fixation), the user and the session epoch it starts at,
// and no CSRF token (the next page makes a fresh one). Sign-in code calls
// it rather than setting the keys itself, so a session always carries the
// epoch it began at.
func (h *Handlers) StartSession(c echo.Context, u db.User) error {
	if u.Disabled {
		return ErrUserDisabled
	}
	ctx := c.Request().Context()
	if err := h.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	h.Sessions.Put(ctx, keyUserID, u.ID)
	h.Sessions.Put(ctx, keyEpoch, u.SessionEpoch)
	h.Sessions.Put(ctx, keySeen, h.Now().UnixMilli())
	h.Sessions.Remove(ctx, keyCSRF)
	h.Sessions.Remove(ctx, keyCSRFUser)
	return nil
}

// EndSession destroys the session on the server, for one that is no longer
// valid; msg, when set, is flashed on the next page (the sign-in form).
func (h *Handlers) EndSession(c echo.Context, msg string) error {
	if err := h.Sessions.Destroy(c.Request().Context()); err != nil {
		return err
	}
	if msg != "" {
		h.flash(c, msg, true)
	}
	return nil
}

// ClaimSession makes the session u's for a user named by the sign-in
// proxy: a session made for someone else (signed in with a password, or
// holding a CSRF token made for another user or for nobody) is ended and
// a new one started, with a new ID and none of the old values, so the
// next page makes u a CSRF token of their own. A session that holds
// neither is left as it is: most API calls carry no cookie, and making
// them one would write a session per request.
func (h *Handlers) ClaimSession(c echo.Context, u db.User) error {
	ctx := c.Request().Context()
	owner, bound := h.SessionUserID(c), true
	if owner == 0 {
		owner = h.Sessions.GetInt64(ctx, keyCSRFUser)
		bound = h.Sessions.Exists(ctx, keyCSRF)
	}
	if !bound || owner == u.ID {
		return nil
	}
	if err := h.Sessions.Clear(ctx); err != nil {
		return err
	}
	return h.Sessions.RenewToken(ctx)
}

// Flash shows msg on the next page, as an error when isErr.
func (h *Handlers) Flash(c echo.Context, msg string, isErr bool) { h.flash(c, msg, isErr) }

// CSRFToken returns the session's CSRF token, creating it when missing or
// made for another user than the request's. It is a synchronizer token
// bound to the server-side session and to the user it was made for.
func (h *Handlers) CSRFToken(c echo.Context) (string, error) {
	ctx := c.Request().Context()
	if t := h.Sessions.GetString(ctx, keyCSRF); t != "" && h.csrfIsTheUsers(c) {
		return t, nil
	}
	t, err := auth.NewSecret()
	if err != nil {
		return "", err
	}
	u, _ := CurrentUser(c)
	h.Sessions.Put(ctx, keyCSRF, t)
	h.Sessions.Put(ctx, keyCSRFUser, u.ID)
	return t, nil
}

// CheckCSRF reports whether the request carries the session's CSRF token in
// the form field "csrf" or the X-CSRF-Token header, made for the user the
// request is authenticated as.
func (h *Handlers) CheckCSRF(c echo.Context) bool {
	want := h.Sessions.GetString(c.Request().Context(), keyCSRF)
	got := c.Request().Header.Get("X-CSRF-Token")
	if got == "" {
		got = c.FormValue("csrf")
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1 && h.csrfIsTheUsers(c)
}

// csrfIsTheUsers reports whether the session's CSRF token was made for the
// request's user (nobody, for an anonymous request).
func (h *Handlers) csrfIsTheUsers(c echo.Context) bool {
	u, _ := CurrentUser(c)
	return h.Sessions.GetInt64(c.Request().Context(), keyCSRFUser) == u.ID
}

func (h *Handlers) flash(c echo.Context, msg string, isErr bool) {
	ctx := c.Request().Context()
	h.Sessions.Put(ctx, keyFlash, msg)
	h.Sessions.Put(ctx, keyFlashE, isErr)
}

func (h *Handlers) popFlash(c echo.Context) (string, bool) {
	ctx := c.Request().Context()
	msg := h.Sessions.PopString(ctx, keyFlash)
	isErr := h.Sessions.PopBool(ctx, keyFlashE)
	return msg, isErr
}
