package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/views"
)

// ShowAccount shows the signed-in user's account and the password form.
func (h *Handlers) ShowAccount(c echo.Context) error {
	return h.accountPage(c, http.StatusOK, nil)
}

func (h *Handlers) accountPage(c echo.Context, status int, errs map[string]string) error {
	me, _ := CurrentUser(c)
	ch, err := h.chrome(c, "Your account", "account")
	if err != nil {
		return err
	}
	return render(c, status, views.Account(views.AccountPage{Chrome: ch, Account: me, Errors: errs}))
}

// ChangePassword sets the signed-in user's own password. The current one
// is asked for again, so a session left open is not enough to take over
// the account. The user's other sessions end; this one is renewed.
func (h *Handlers) ChangePassword(c echo.Context) error {
	ctx := c.Request().Context()
	me, _ := CurrentUser(c)
	password := c.FormValue("password")
	// The current password is guessed here as at sign-in (a session left
	// open, a stolen cookie): the same limiter, keyed by the same name.
	from := c.RealIP()
	wait, err := h.Throttle.Attempt(ctx, from, me.Name)
	if err != nil {
		return err
	}
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		if err := h.auditUser(c, "user.password_change_throttled", fmt.Sprintf("throttled password change from %s (wait %d s)", from, secs)); err != nil {
			return err
		}
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return h.accountPage(c, http.StatusTooManyRequests, map[string]string{
			"current": "Too many wrong current passwords. Wait " + waitText(secs) + ", then try again."})
	}
	if !auth.CheckPassword(c.FormValue("current"), me.PasswordHash) {
		if err := h.auditUser(c, "user.password_change_failed", "wrong current password from "+c.RealIP()); err != nil {
			return err
		}
		return h.accountPage(c, http.StatusUnprocessableEntity, map[string]string{"current": "This is not your current password."})
	}
	if err := h.Throttle.Success(ctx, from, me.Name); err != nil {
		return err
	}
	errs := map[string]string{}
	if newPasswordErrors(errs, me.Name, password, c.FormValue("password2")); len(errs) > 0 {
		return h.accountPage(c, http.StatusUnprocessableEntity, errs)
	}
	if auth.CheckPassword(password, me.PasswordHash) {
		return h.accountPage(c, http.StatusUnprocessableEntity, map[string]string{"password": "Choose a password other than the current one."})
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u, err := h.DB.SetPassword(ctx, me.ID, hash, false, func(db.User, db.User) db.AuditEvent {
		return accountEvent(c, "user.password_changed", "changed own password from "+c.RealIP())
	})
	if err != nil {
		return err
	}
	// The new epoch ends every other session; this one starts afresh on it.
	if err := h.StartSession(c, u); err != nil {
		return err
	}
	h.flash(c, "Password changed. Your other sessions have ended.", false)
	if me.MustChangePassword {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return c.Redirect(http.StatusSeeOther, "/account")
}
