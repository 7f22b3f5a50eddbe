package handlers

import (
	"context"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/change"
	"portpanel/db"
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
		if st, err := h.status(c); err == nil {
			if st.Drift {
				ch.Banners = append(ch.Banners, "The running range differs from the value the host will boot with.")
			}
			if st.ReservedDrift {
				ch.Banners = append(ch.Banners, "The running reserved ports differ from the ones the host will boot with.")
			}
		}
		ch.RequireApproval = h.Changes.RequireApproval
		data, err := h.memo.chrome.Get(ctx, h.DB, ch.RequireApproval, func(ctx context.Context) (chromeData, error) {
			return h.loadChrome(ctx, ch.RequireApproval)
		})
		if err != nil {
			return views.Chrome{}, err
		}
		if data.awaiting != nil {
			a := *data.awaiting
			ch.Awaiting = &a
			ch.CanConfirm = auth.Allows(u.Role, auth.RoleOperator)
		}
		ch.Pending = data.pending
	}
	return ch, nil
}

// chromeData is what every signed-in page's frame reads from the database,
// cached until it changes (db.Memo).
type chromeData struct {
	awaiting *db.Change
	pending  int
}

func (h *Handlers) loadChrome(ctx context.Context, requireApproval bool) (chromeData, error) {
	var d chromeData
	awaiting, err := h.DB.AwaitingConfirmation(ctx)
	if err != nil {
		return d, err
	}
	if len(awaiting) > 0 {
		d.awaiting = &awaiting[0]
	}
	if requireApproval {
		pending, err := h.DB.ChangesByStatus(ctx, db.StatusProposed)
		if err != nil {
			return d, err
		}
		d.pending = len(pending)
	}
	return d, nil
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
