package handlers

import (
	"github.com/labstack/echo/v4"

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
		if st, err := h.Changes.Status(c.Request().Context()); err == nil && st.Drift {
			ch.Banners = append(ch.Banners, "The running range differs from the value the host will boot with.")
		}
	}
	return ch, nil
}
