package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/views"
)

// ShowLogin shows the sign-in form.
func (h *Handlers) ShowLogin(c echo.Context) error {
	return h.loginPage(c, http.StatusOK, "", "")
}

func (h *Handlers) loginPage(c echo.Context, status int, name, msg string) error {
	ch, err := h.chrome(c, "Sign in", "")
	if err != nil {
		return err
	}
	return render(c, status, views.Login(views.LoginPage{Chrome: ch, Username: name, Error: msg, Next: localPath(c.FormValue("next"))}))
}

// localPath returns p if it is a path on this server, else "/": a "next"
// parameter must never send a user who just signed in to another site
// ("//evil.example", "/\\evil.example", "https://…").
func localPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") ||
		strings.ContainsAny(p, "\\\r\n\t") || u.Scheme != "" || u.Host != "" || strings.HasPrefix(p, "/login") {
		return "/"
	}
	return p
}

// Login checks the password and starts a new session. Unknown names and
// wrong passwords get the same answer in the same time, and are throttled
// alike: the limiter counts the name as typed, whether or not it exists.
func (h *Handlers) Login(c echo.Context) error {
	ctx := c.Request().Context()
	name := strings.TrimSpace(c.FormValue("username"))
	password := c.FormValue("password")
	from := c.RealIP()
	wait, err := h.Throttle.Attempt(ctx, from, name)
	if err != nil {
		return err
	}
	if wait > 0 {
		return h.throttled(c, name, from, wait)
	}
	u, err := h.DB.UserByName(ctx, name)
	switch {
	case errors.Is(err, db.ErrNotFound):
		auth.BurnTime(password)
	case err != nil:
		return err
	}
	// A disabled account answers like a wrong password: same words, same
	// time, same throttling.
	if err != nil || !auth.CheckPassword(password, u.PasswordHash) || u.Disabled {
		if _, aerr := h.DB.AppendAudit(ctx, db.AuditEvent{Action: "login.failed", Detail: "failed sign-in as " + quote(name) + " from " + from}); aerr != nil {
			return aerr
		}
		return h.loginPage(c, http.StatusUnauthorized, name, "Wrong user name or password.")
	}
	if err := h.Throttle.Success(ctx, from, name); err != nil {
		return err
	}
	if err := h.StartSession(c, u); err != nil {
		return err
	}
	if _, err := h.DB.AppendAudit(ctx, db.AuditEvent{User: u.Name, Action: "login", Detail: "signed in from " + from}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, localPath(c.FormValue("next")))
}

// throttled answers an attempt made before its wait is over, without
// looking at the password: 429 with Retry-After, in words that are the same
// whether or not the account exists.
func (h *Handlers) throttled(c echo.Context, name, from string, wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	if _, err := h.DB.AppendAudit(c.Request().Context(), db.AuditEvent{Action: "login.throttled",
		Detail: fmt.Sprintf("throttled sign-in as %s from %s (wait %d s)", quote(name), from, secs)}); err != nil {
		return err
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return h.loginPage(c, http.StatusTooManyRequests, name, "Too many failed sign-ins. Wait "+waitText(secs)+", then try again.")
}

func waitText(secs int) string {
	n, unit := secs, "second"
	if secs > 60 {
		n, unit = (secs+59)/60, "minute"
	}
	if n != 1 {
		unit += "s"
	}
	return strconv.Itoa(n) + " " + unit
}

// Logout ends the session on the server.
func (h *Handlers) Logout(c echo.Context) error {
	ctx := c.Request().Context()
	if u, ok := CurrentUser(c); ok {
		if _, err := h.DB.AppendAudit(ctx, db.AuditEvent{User: u.Name, Action: "logout", Detail: "signed out"}); err != nil {
			return err
		}
	}
	// Renew rather than destroy: the old session ID dies on the server just
	// the same, and the new, anonymous session can carry the flash.
	if err := h.Sessions.Clear(ctx); err != nil {
		return err
	}
	if err := h.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	h.flash(c, "Signed out.", false)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// quote keeps user-typed text from forging structure in audit details. It
// cuts at a character boundary and replaces bytes that are not UTF-8: the
// audit export is JSON, which cannot carry them, and must verify offline.
func quote(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > 64 {
		cut := 64
		for !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	// strconv.Quote escapes quotes, backslashes and control characters, so
	// a typed name cannot close the quotes and fake a "from ADDRESS".
	return strconv.Quote(s)
}
