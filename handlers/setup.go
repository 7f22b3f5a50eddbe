package handlers

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/views"
)

// SetupToken is the one-time secret that lets the first admin be created
// from the browser. It dies once used.
type SetupToken struct {
	mu     sync.Mutex
	secret string
}

// NewSetupToken returns a live token with a fresh secret.
func NewSetupToken() (*SetupToken, error) {
	s, err := auth.NewSecret()
	if err != nil {
		return nil, err
	}
	return &SetupToken{secret: s}, nil
}

// Secret is the token to print at start ("" once used).
func (t *SetupToken) Secret() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.secret
}

func (t *SetupToken) valid(s string) bool {
	live := t.Secret()
	return live != "" && subtle.ConstantTimeCompare([]byte(live), []byte(s)) == 1
}

// claim uses the token up if s is it, so two concurrent setups cannot both
// create an admin.
func (t *SetupToken) claim(s string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.secret == "" || subtle.ConstantTimeCompare([]byte(t.secret), []byte(s)) != 1 {
		return false
	}
	t.secret = ""
	return true
}

// unclaim gives the token back after a setup that failed.
func (t *SetupToken) unclaim(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.secret = s
}

// ShowSetup shows the first-admin form to whoever holds the setup token.
func (h *Handlers) ShowSetup(c echo.Context) error {
	token := c.QueryParam("token")
	if !h.Setup.valid(token) {
		return echo.NewHTTPError(http.StatusNotFound, "This setup link is not valid (any more). Sign in instead, or create a user with: portpanel user add NAME --role admin --password-stdin")
	}
	return h.setupPage(c, http.StatusOK, views.SetupPage{Token: token})
}

func (h *Handlers) setupPage(c echo.Context, status int, p views.SetupPage) error {
	ch, err := h.chrome(c, "Set up portpanel", "")
	if err != nil {
		return err
	}
	p.Chrome = ch
	return render(c, status, views.Setup(p))
}

// CompleteSetup creates the first admin, signs them in and kills the token.
func (h *Handlers) CompleteSetup(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.FormValue("token")
	if !h.Setup.valid(token) {
		return echo.NewHTTPError(http.StatusNotFound, "This setup link is not valid (any more).")
	}
	p := views.SetupPage{Token: token, Username: strings.TrimSpace(c.FormValue("username")), Errors: map[string]string{}}
	password := c.FormValue("password")
	if msg := auth.CheckUserName(p.Username); msg != "" {
		p.Errors["username"] = msg
	}
	if msg := auth.CheckNewPassword(password); msg != "" {
		p.Errors["password"] = msg
	} else if password != c.FormValue("password2") {
		p.Errors["password2"] = "The two passwords differ."
	}
	if len(p.Errors) > 0 {
		return h.setupPage(c, http.StatusUnprocessableEntity, p)
	}
	if !h.Setup.claim(token) {
		return echo.NewHTTPError(http.StatusNotFound, "This setup link is not valid (any more).")
	}
	u, err := h.createFirstAdmin(ctx, p.Username, password, c.RealIP())
	if err != nil {
		h.Setup.unclaim(token)
		return err
	}
	if err := h.StartSession(c, u); err != nil {
		return err
	}
	h.flash(c, "Welcome, "+u.Name+". You are the first administrator.", false)
	return c.Redirect(http.StatusSeeOther, "/")
}

// createFirstAdmin creates the admin and records, in the same
// transaction, that the setup link from address did.
func (h *Handlers) createFirstAdmin(ctx context.Context, name, password, from string) (db.User, error) {
	if n, err := h.DB.CountUsers(ctx); err != nil {
		return db.User{}, err
	} else if n > 0 {
		return db.User{}, echo.NewHTTPError(http.StatusNotFound, "portpanel already has users. Sign in instead.")
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return db.User{}, err
	}
	return h.DB.CreateUser(ctx, name, auth.RoleAdmin, hash, func(u db.User) db.AuditEvent {
		return db.AuditEvent{User: u.Name, Action: "user.created", Detail: "first admin " + quote(u.Name) + " created with the setup link from " + from}
	})
}
