package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/views"
)

// ListUsers shows every user and the form to add one (admins).
func (h *Handlers) ListUsers(c echo.Context) error {
	return h.usersPage(c, http.StatusOK, views.NewUserForm{Role: auth.RoleViewer})
}

func (h *Handlers) usersPage(c echo.Context, status int, f views.NewUserForm) error {
	users, err := h.DB.Users(c.Request().Context())
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Users", "users")
	if err != nil {
		return err
	}
	return render(c, status, views.Users(views.UsersPage{Chrome: ch, Users: users, Form: f}))
}

// CreateUser adds a user with the password the admin typed, which the user
// must replace at the first sign-in.
func (h *Handlers) CreateUser(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.NewUserForm{Username: strings.TrimSpace(c.FormValue("username")), Role: c.FormValue("role"), Errors: map[string]string{}}
	password := c.FormValue("password")
	if msg := auth.CheckUserName(f.Username); msg != "" {
		f.Errors["username"] = msg
	}
	if !auth.ValidRole(f.Role) {
		f.Errors["role"] = auth.RoleChoice
	}
	newPasswordErrors(f.Errors, f.Username, password, c.FormValue("password2"))
	if len(f.Errors) > 0 {
		return h.usersPage(c, http.StatusUnprocessableEntity, f)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u, err := h.DB.InsertUser(ctx, db.User{Name: f.Username, Role: f.Role, PasswordHash: hash, MustChangePassword: true},
		func(u db.User) db.AuditEvent {
			return accountEvent(c, "user.created", fmt.Sprintf("user %s created with role %s; must set a new password at the first sign-in", quote(u.Name), u.Role))
		})
	if errors.Is(err, db.ErrConflict) {
		f.Errors["username"] = "A user with this name exists already."
		return h.usersPage(c, http.StatusUnprocessableEntity, f)
	} else if err != nil {
		return err
	}
	h.flash(c, "Added "+u.Name+" ("+u.Role+"). Hand over the password; they must set their own when they first sign in.", false)
	return c.Redirect(http.StatusSeeOther, "/users")
}

// ShowUser shows one user with the forms to change them (admins).
func (h *Handlers) ShowUser(c echo.Context) error {
	u, err := h.userParam(c)
	if err != nil {
		return err
	}
	return h.userPage(c, http.StatusOK, u, nil)
}

func (h *Handlers) userPage(c echo.Context, status int, u db.User, errs map[string]string) error {
	ch, err := h.chrome(c, u.Name, "users")
	if err != nil {
		return err
	}
	me, _ := CurrentUser(c)
	return render(c, status, views.User(views.UserPage{Chrome: ch, User: u, Self: u.ID == me.ID, Errors: errs}))
}

// SetUserRole changes a user's role; it takes effect at their next request.
// The last enabled admin keeps the role (db.ErrLastAdmin, 409).
func (h *Handlers) SetUserRole(c echo.Context) error {
	target, err := h.userParam(c)
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	if !auth.ValidRole(role) {
		return h.userPage(c, http.StatusUnprocessableEntity, target, map[string]string{"role": auth.RoleChoice})
	}
	u, old, err := h.DB.SetRole(c.Request().Context(), target.ID, role, func(before, after db.User) db.AuditEvent {
		return accountEvent(c, "user.role_changed", fmt.Sprintf("user %s: role %s → %s", quote(after.Name), before.Role, after.Role))
	})
	if err != nil {
		return err
	}
	if old == role {
		h.flash(c, u.Name+" is "+role+" already.", false)
		return c.Redirect(http.StatusSeeOther, userPath(u))
	}
	h.flash(c, u.Name+" is now "+role+" (was "+old+").", false)
	if me, _ := CurrentUser(c); me.ID == u.ID && !auth.Allows(role, auth.RoleAdmin) {
		return c.Redirect(http.StatusSeeOther, "/") // this page is for admins
	}
	return c.Redirect(http.StatusSeeOther, userPath(u))
}

// DisableUser ends a user's sessions and stops their API tokens.
func (h *Handlers) DisableUser(c echo.Context) error { return h.setDisabled(c, true) }

// EnableUser lets a disabled user sign in again; their tokens work again,
// their old sessions stay ended.
func (h *Handlers) EnableUser(c echo.Context) error { return h.setDisabled(c, false) }

func (h *Handlers) setDisabled(c echo.Context, disabled bool) error {
	target, err := h.otherUserParam(c, "disable your own account: ask another admin")
	if err != nil {
		return err
	}
	action, detail, msg := "user.enabled", "user "+quote(target.Name)+" enabled", target.Name+" can sign in again."
	if disabled {
		action, detail, msg = "user.disabled", "user "+quote(target.Name)+" disabled; sessions ended, API tokens stopped", target.Name+" is disabled: their sessions ended and their API tokens stopped."
	}
	u, err := h.DB.SetDisabled(c.Request().Context(), target.ID, disabled, func(db.User, db.User) db.AuditEvent {
		return accountEvent(c, action, detail)
	})
	if err != nil {
		return err
	}
	h.flash(c, msg, false)
	return c.Redirect(http.StatusSeeOther, userPath(u))
}

// ResetPassword sets a temporary password the admin typed: the user's
// sessions end and they must choose a new password at the next sign-in.
func (h *Handlers) ResetPassword(c echo.Context) error {
	target, err := h.otherUserParam(c, "reset your own password here: change it on your account page")
	if err != nil {
		return err
	}
	password := c.FormValue("password")
	errs := map[string]string{}
	if newPasswordErrors(errs, target.Name, password, c.FormValue("password2")); len(errs) > 0 {
		return h.userPage(c, http.StatusUnprocessableEntity, target, errs)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u, err := h.DB.SetPassword(c.Request().Context(), target.ID, hash, true, func(_, u db.User) db.AuditEvent {
		return accountEvent(c, "user.password_reset", "password of user "+quote(u.Name)+" reset; sessions ended, a new password is due at the next sign-in")
	})
	if err != nil {
		return err
	}
	h.flash(c, "Password of "+u.Name+" reset. Hand it over; they must choose a new one when they next sign in.", false)
	return c.Redirect(http.StatusSeeOther, userPath(u))
}

// userParam loads the user named by the :id path parameter.
func (h *Handlers) userParam(c echo.Context) (db.User, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.User{}, echo.NewHTTPError(http.StatusNotFound, "No such user.")
	}
	u, err := h.DB.UserByID(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return db.User{}, echo.NewHTTPError(http.StatusNotFound, "No such user.")
	}
	return u, err
}

// otherUserParam is userParam for actions an admin may not take on their
// own account: refused with "You cannot " + what.
func (h *Handlers) otherUserParam(c echo.Context, what string) (db.User, error) {
	u, err := h.userParam(c)
	if me, _ := CurrentUser(c); err == nil && u.ID == me.ID {
		return db.User{}, echo.NewHTTPError(http.StatusForbidden, "You cannot "+what+".")
	}
	return u, err
}

// newPasswordErrors adds to errs what is wrong with a new password for the
// user called name, typed twice.
func newPasswordErrors(errs map[string]string, name, password, repeat string) {
	if msg := auth.CheckPasswordFor(name, password); msg != "" {
		errs["password"] = msg
	} else if password != repeat {
		errs["password2"] = "The two passwords differ."
	}
}

// accountEvent is the audit event of something the signed-in user did to
// an account. Details never hold a password.
func accountEvent(c echo.Context, action, detail string) db.AuditEvent {
	me, _ := CurrentUser(c)
	return db.AuditEvent{User: me.Name, Action: action, Detail: detail}
}

// auditUser records an account event that changes nothing else (a refused
// attempt); a change records its event in its own transaction.
func (h *Handlers) auditUser(c echo.Context, action, detail string) error {
	_, err := h.DB.AppendAudit(c.Request().Context(), accountEvent(c, action, detail))
	return err
}

func userPath(u db.User) string { return "/users/" + strconv.FormatInt(u.ID, 10) }
