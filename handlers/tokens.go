package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/views"
)

// errTokenViaToken refuses token management with a token: a leaked token
// could otherwise mint itself a successor that outlives its expiry and
// its revocation.
func errTokenViaToken() error {
	return echo.NewHTTPError(http.StatusForbidden,
		"API tokens cannot list, create or revoke tokens: sign in to the web page to manage them.")
}

// ListTokens shows the user's API tokens (an admin's: everyone's) and the
// form for a new one.
func (h *Handlers) ListTokens(c echo.Context) error {
	if ViaToken(c) {
		return errTokenViaToken()
	}
	return h.tokensPage(c, http.StatusOK, views.TokenForm{Expires: views.DefaultTokenExpiry, Role: auth.RoleViewer})
}

// CreateToken creates a token and shows its secret, once, on the page it
// answers with: not through a redirect, which would carry the secret in
// the session's flash.
func (h *Handlers) CreateToken(c echo.Context) error {
	if ViaToken(c) {
		return errTokenViaToken()
	}
	ctx := c.Request().Context()
	me, _ := CurrentUser(c)
	form := views.TokenForm{Name: strings.TrimSpace(c.FormValue("name")), User: c.FormValue("user"),
		Role: c.FormValue("role"), Expires: c.FormValue("expires"), ExpiresOn: c.FormValue("expires_on")}
	owner, err := h.tokenOwner(c, me, form.User)
	if err != nil {
		return err
	}
	expires, status := checkTokenForm(&form, owner, h.Now())
	if status != http.StatusOK {
		return h.tokensPage(c, status, form)
	}
	secret, err := auth.NewSecret()
	if err != nil {
		return err
	}
	t, err := h.DB.AddToken(ctx, db.Token{UserID: owner.ID, Name: form.Name, Role: form.Role, ExpiresAt: expires},
		auth.HashToken(secret), func(t db.Token) db.AuditEvent {
			return db.AuditEvent{User: me.Name, Action: "token.created", Detail: fmt.Sprintf(
				"API token #%d %s for %s created: role %s, %s", t.ID, quote(t.Name), owner.Name, t.Role, expiryDetail(t.ExpiresAt))}
		})
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Token created", "tokens")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	row := tokenRow(db.OwnedToken{Token: t, Owner: owner.Name, OwnerRole: owner.Role}, me, h.Now())
	return render(c, http.StatusCreated, views.TokenCreated(views.TokenCreatedPage{Chrome: ch, Token: row, Secret: secret}))
}

// RevokeToken deletes a token: the owner's own, or any as an admin.
func (h *Handlers) RevokeToken(c echo.Context) error {
	if ViaToken(c) {
		return errTokenViaToken()
	}
	ctx := c.Request().Context()
	me, _ := CurrentUser(c)
	noSuch := echo.NewHTTPError(http.StatusNotFound, "No such token: it may have been revoked already.")
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return noSuch
	}
	t, err := h.DB.Token(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return noSuch
	} else if err != nil {
		return err
	}
	if !auth.MayManageToken(me.ID, me.Role, t.UserID) {
		return echo.NewHTTPError(http.StatusForbidden, "You can revoke only your own tokens; an admin can revoke anyone's.")
	}
	_, err = h.DB.RevokeToken(ctx, id, func(db.Token) db.AuditEvent {
		return db.AuditEvent{User: me.Name, Action: "token.revoked", Detail: fmt.Sprintf("API token #%d %s of %s revoked", t.ID, quote(t.Name), t.Owner)}
	})
	if errors.Is(err, db.ErrNotFound) {
		return noSuch
	} else if err != nil {
		return err
	}
	h.flash(c, fmt.Sprintf("Revoked token %s: requests with it are now refused.", quote(t.Name)), false)
	return c.Redirect(http.StatusSeeOther, "/tokens")
}

// tokenOwner is the user a new token is for: the signed-in user, or, for
// an admin, the user the form names.
func (h *Handlers) tokenOwner(c echo.Context, me db.User, name string) (db.User, error) {
	if name == "" || name == me.Name {
		return me, nil
	}
	if !auth.Allows(me.Role, auth.RoleAdmin) {
		return db.User{}, echo.NewHTTPError(http.StatusForbidden, "Only an admin can create tokens for another user.")
	}
	u, err := h.DB.UserByName(c.Request().Context(), name)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return db.User{}, echo.NewHTTPError(http.StatusUnprocessableEntity, "No user is called "+quote(name)+".")
	case err == nil && u.Disabled:
		return db.User{}, echo.NewHTTPError(http.StatusUnprocessableEntity, quote(name)+" is disabled: a token of theirs would not work.")
	}
	return u, err
}

// checkTokenForm fills form.Errors and returns the expiry and the status
// to answer with: 200 when the form is fine, 403 when it asks for a role
// above the owner's, 422 otherwise.
func checkTokenForm(form *views.TokenForm, owner db.User, now time.Time) (*time.Time, int) {
	form.Errors = map[string]string{}
	status := http.StatusUnprocessableEntity
	if msg := auth.CheckTokenName(form.Name); msg != "" {
		form.Errors["name"] = msg
	}
	if msg := auth.CheckTokenRole(form.Role, owner.Role); msg != "" {
		form.Errors["role"] = msg
		if auth.ValidRole(form.Role) {
			status = http.StatusForbidden
		}
	}
	var spec string
	switch {
	case form.Expires == "never":
		spec = "never"
	case form.Expires == "date" && form.ExpiresOn == "":
		form.Errors["expires"] = "Pick the expiry date too."
	case form.Expires == "date":
		spec = form.ExpiresOn
	case slices.Contains(views.TokenExpiries, form.Expires):
		spec = form.Expires + "d"
	default:
		form.Errors["expires"] = "Pick an expiry from the list."
	}
	expires, msg := auth.ParseExpiry(spec, now)
	if msg != "" && form.Errors["expires"] == "" {
		form.Errors["expires"] = msg
	}
	if len(form.Errors) > 0 {
		return nil, status
	}
	return expires, http.StatusOK
}

// tokensPage renders the list and the form with status.
func (h *Handlers) tokensPage(c echo.Context, status int, form views.TokenForm) error {
	ctx := c.Request().Context()
	me, _ := CurrentUser(c)
	admin := auth.Allows(me.Role, auth.RoleAdmin)
	var list []db.OwnedToken
	var err error
	if admin {
		list, err = h.DB.AllTokens(ctx)
	} else {
		list, err = h.DB.Tokens(ctx, me.ID)
	}
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "API tokens", "tokens")
	if err != nil {
		return err
	}
	if form.User == "" {
		form.User = me.Name
	}
	p := views.TokensPage{Chrome: ch, All: admin, Form: form, Roles: auth.RolesUpTo(me.Role)}
	for _, t := range list {
		p.Tokens = append(p.Tokens, tokenRow(t, me, ch.Now))
	}
	if admin {
		users, err := h.DB.Users(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			p.Users = append(p.Users, u.Name)
		}
	}
	return render(c, status, views.Tokens(p))
}

func tokenRow(t db.OwnedToken, me db.User, now time.Time) views.TokenRow {
	return views.TokenRow{OwnedToken: t, Acts: auth.TokenRole(t.Role, t.OwnerRole),
		Expired: t.ExpiresAt != nil && !now.Before(*t.ExpiresAt), CanRevoke: auth.MayManageToken(me.ID, me.Role, t.UserID)}
}

func expiryDetail(at *time.Time) string {
	if at == nil {
		return "never expires"
	}
	return "expires " + auth.ExpiryText(*at)
}
