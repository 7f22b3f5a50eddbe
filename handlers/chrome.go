package handlers

import (
	"github.com/labstack/echo/v4"

	"portpanel/change"
	"portpanel/db"
	"portpanel/handlers/auth"
	"portpanel/views"
)

// chrome fills the frame every page shares.
func (h *Handlers) chrome(c echo.Context, title, nav string) (views.Chrome, error) {
	csrf, err := h.CSRFToken(c)
	if err != nil {
		return views.Chrome{}, err
	}
	ch := views.Chrome{Title: title, Nav: nav, CSRF: csrf, Host: h.Host, Netns: h.Netns, Now: h.Now()}
	ch.Flash, ch.FlashError = h.popFlash(c)
	if u, ok := CurrentUser(c); ok {
		ch.User, ch.Role = u.Name, u.Role
		ctx := c.Request().Context()
		if st, err := h.status(c); err == nil && st.Drift {
			ch.Banners = append(ch.Banners, "The running range differs from the value the host will boot with.")
		}
		awaiting, err := h.DB.AwaitingConfirmation(ctx)
		if err != nil {
			return views.Chrome{}, err
		}
		if len(awaiting) > 0 {
			ch.Awaiting = &awaiting[0]
			ch.CanConfirm = auth.Allows(u.Role, db.RoleOperator)
		}
		if ch.RequireApproval = h.Changes.RequireApproval; ch.RequireApproval {
			pending, err := h.DB.ChangesByStatus(ctx, db.StatusProposed)
			if err != nil {
				return views.Chrome{}, err
			}
			ch.Pending = len(pending)
		}
	}
	return ch, nil
}

// status is change.Service.Status read once per request: the frame's drift
// banner and the dashboard both need it, and it parses every sysctl config
// file (see BENCHMARKS.md).
func (h *Handlers) status(c echo.Context) (change.Status, error) {
	const key = "portpanel.status"
	if st, ok := c.Get(key).(change.Status); ok {
		return st, nil
	}
	st, err := h.Changes.Status(c.Request().Context())
	if err != nil {
		return change.Status{}, err
	}
	c.Set(key, st)
	return st, nil
}
