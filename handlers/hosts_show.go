package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/agentapi"
	"portpanel/auth"
	"portpanel/db"
	"portpanel/views"
)

// hostAuditEvents is how many of a host's newest audit events its page
// and its API answer list.
const hostAuditEvents = 20

// hostChanges is how many of a host's newest changes they list.
const hostChanges = 20

// host reads the host the :name path parameter names.
func (h *Handlers) host(c echo.Context) (hostView, error) {
	row, err := h.DB.HostByName(c.Request().Context(), c.Param("name"))
	if errors.Is(err, db.ErrNotFound) {
		return hostView{}, echo.NewHTTPError(http.StatusNotFound, "No such host: see the Hosts page for the enrolled ones.")
	} else if err != nil {
		return hostView{}, err
	}
	return viewHost(row, h.Now())
}

// ShowHost is the host page: today's dashboard for that host, from its
// last report, with its history, changes and audit events.
func (h *Handlers) ShowHost(c echo.Context) error {
	v, err := h.host(c)
	if err != nil {
		return err
	}
	window := c.QueryParam("window")
	span, ok := windows[window]
	if !ok {
		window, span = hostWindow(h.Now().Sub(v.EnrolledAt))
	}
	ctx := c.Request().Context()
	ch, err := h.chrome(c, v.Name, "hosts")
	if err != nil {
		return err
	}
	// The top bar says which host the page is about; the panel's own
	// network namespace is not that host's.
	ch.Host, ch.Netns = v.Name, ""
	now := ch.Now.UTC()
	from := now.Add(-span)
	changes, err := h.hostChangeList(ctx, v.Name)
	if err != nil {
		return err
	}
	samples, err := h.DB.HostSamplesSince(ctx, v.ID, from)
	if err != nil {
		return err
	}
	events, err := h.DB.AuditForHost(ctx, v.Name, hostAuditEvents)
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	marks := changeMarks(changes)
	p := views.HostPage{Chrome: ch, Host: v.row(), Observed: v.Observed, Window: window,
		Chart: hostChart(samples, marks), ChartFrom: from, ChartTo: now, Marks: marks, Changes: changes, Audit: events,
		CanRevoke: auth.Allows(u.Role, auth.RoleAdmin) && v.RevokedAt == nil}
	if a := v.Applied; a.State != "" && a.At != nil {
		p.Results = []agentapi.Result{{Generation: a.Generation, State: a.State, Error: a.Error, At: *a.At}}
	}
	p.ChangeForm = h.hostChangeForm(u, v, ch.CSRF)
	return render(c, http.StatusOK, views.Host(p))
}

// APIHost is GET /api/v1/hosts/NAME.
func (h *Handlers) APIHost(c echo.Context) error {
	v, err := h.host(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	changes, err := h.hostChangeList(ctx, v.Name)
	if err != nil {
		return err
	}
	events, err := h.DB.AuditForHost(ctx, v.Name, hostAuditEvents)
	if err != nil {
		return err
	}
	out := hostDetailJSON{hostJSON: v.json(), Observed: v.Observed, Changes: []map[string]any{}, Audit: []map[string]any{}}
	for _, ch := range changes {
		out.Changes = append(out.Changes, changeJSON(ch))
	}
	for _, e := range events {
		out.Audit = append(out.Audit, auditJSON(e))
	}
	return c.JSON(http.StatusOK, out)
}

// RevokeHost is the host page's Revoke button.
func (h *Handlers) RevokeHost(c echo.Context) error {
	v, err := h.revokeHost(c)
	if err != nil {
		return err
	}
	h.flash(c, fmt.Sprintf("Revoked %s: its agent's requests are refused from now on; it needs a new enrollment token to come back.", v.Name), false)
	return c.Redirect(http.StatusSeeOther, views.HostURL(v.Name))
}

// APIRevokeHost is POST /api/v1/hosts/NAME/revoke; it takes no body but
// an empty object.
func (h *Handlers) APIRevokeHost(c echo.Context) error {
	if err := decodeOptionalJSON(c, &struct{}{}); err != nil {
		return err
	}
	v, err := h.revokeHost(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v.json())
}

// revokeHost revokes the :name host, with its audit event: its next
// request is refused, and a long poll it holds ends now.
func (h *Handlers) revokeHost(c echo.Context) (hostView, error) {
	me, _ := CurrentUser(c)
	name := c.Param("name")
	row, err := h.Fleet.RevokeHost(c.Request().Context(), me.Name, name)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return hostView{}, echo.NewHTTPError(http.StatusNotFound, "No such host: see the Hosts page for the enrolled ones.")
	case errors.Is(err, db.ErrConflict):
		return hostView{}, echo.NewHTTPError(http.StatusConflict, fmt.Sprintf("Host %q is revoked already.", name))
	case err != nil:
		return hostView{}, err
	}
	return viewHost(row, h.Now())
}

// hostChangeList is the host's newest changes.
func (h *Handlers) hostChangeList(ctx context.Context, name string) ([]db.Change, error) {
	return h.DB.HostChanges(ctx, h.changesHost(name), hostChanges, 0)
}

// changeMarks are what the chart reads of changes.
func changeMarks(cs []db.Change) []db.ChangeMark {
	out := make([]db.ChangeMark, 0, len(cs))
	for _, c := range cs {
		out = append(out, db.ChangeMark{ID: c.ID, Status: c.Status, Low: c.Low, High: c.High, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	return out
}

// hostChart turns a host's samples into the history chart's: a sample
// whose range differs from the one before is a change, made through
// portpanel when one of the host's changes set that range at or before
// it (the chart links it), else outside it. Host samples carry no source:
// the agent reports what it sees, not why.
func hostChart(list []db.HostSample, marks []db.ChangeMark) []db.Sample {
	out := make([]db.Sample, 0, len(list))
	for i, s := range list {
		src := db.SourceSample
		switch {
		case i == 0:
			src = db.SourceStart
		case s.Low != list[i-1].Low || s.High != list[i-1].High:
			src = db.SourceExternal
			if setBy(marks, s.Low, s.High, s.At) {
				src = db.SourceChange
			}
		}
		out = append(out, db.Sample{ID: s.ID, At: s.At, Low: s.Low, High: s.High, Source: src})
	}
	return out
}

// setBy reports whether one of marks set low–high at or before at.
func setBy(marks []db.ChangeMark, low, high int, at time.Time) bool {
	for _, m := range marks {
		if m.Low == low && m.High == high && !m.CreatedAt.After(at) {
			return true
		}
	}
	return false
}

// hostWindow is the smallest history window that holds a host enrolled
// age ago, so a new host's chart is not a dot at the right edge of 30
// days.
func hostWindow(age time.Duration) (string, time.Duration) {
	for _, w := range []string{"1h", "24h", "7d"} {
		if age <= windows[w] {
			return w, windows[w]
		}
	}
	return "30d", windows["30d"]
}
