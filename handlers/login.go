package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"portpanel/db"
	"portpanel/handlers/auth"
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
// wrong passwords get the same answer in the same time.
func (h *Handlers) Login(c echo.Context) error {
	ctx := c.Request().Context()
	name := strings.TrimSpace(c.FormValue("username"))
	password := c.FormValue("password")
	u, err := h.DB.UserByName(ctx, name)
	switch {
	case errors.Is(err, db.ErrNotFound):
		auth.BurnTime(password)
	case err != nil:
		return err
	}
	if err != nil || !auth.CheckPassword(password, u.PasswordHash) {
		if _, aerr := h.DB.AppendAudit(ctx, db.AuditEvent{Action: "login.failed", Detail: "failed sign-in as " + quote(name) + " from " + c.RealIP()}); aerr != nil {
			return aerr
		}
		return h.loginPage(c, http.StatusUnauthorized, name, "Wrong user name or password.")
	}
	// A new session ID at login defeats session fixation.
	if err := h.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	h.Sessions.Put(ctx, keyUserID, u.ID)
	h.Sessions.Remove(ctx, keyCSRF)
	if _, err := h.DB.AppendAudit(ctx, db.AuditEvent{User: u.Name, Action: "login", Detail: "signed in from " + c.RealIP()}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, localPath(c.FormValue("next")))
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

// quote keeps user-typed text from forging structure in audit details.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ReplaceAll(strings.ReplaceAll(`"`+s+`"`, "\n", `\n`), "\r", `\r`)
}
