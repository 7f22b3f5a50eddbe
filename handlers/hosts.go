package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/views"
)

// hostQuery reads the Hosts list's filter and cursor: ?group=, ?state=
// (one of views.HostStates) and ?after= (the last name of the previous
// page). A state that is none is refused rather than read as "all": a
// script filtering with a typo would get every host.
func hostQuery(c echo.Context) (views.HostFilter, string, error) {
	f := views.HostFilter{Group: strings.TrimSpace(c.QueryParam("group")), State: c.QueryParam("state")}
	if f.State != "" && !slices.Contains(views.HostStates, f.State) {
		return f, "", echo.NewHTTPError(http.StatusBadRequest,
			fmt.Sprintf("state must be one of %s, not %q.", strings.Join(views.HostStates, ", "), f.State))
	}
	return f, c.QueryParam("after"), nil
}

// queriedHosts is the inventory with the page the query asks for.
func (h *Handlers) queriedHosts(c echo.Context) (views.HostFilter, inventory, error) {
	f, after, err := hostQuery(c)
	if err != nil {
		return f, inventory{}, err
	}
	inv, err := h.hostInventory(c.Request().Context(), f.Group, f.State, after, hostsPerPage)
	return f, inv, err
}

// ListHosts is the Hosts page: the count per state on top, then a page
// of hosts by name.
func (h *Handlers) ListHosts(c echo.Context) error {
	f, inv, err := h.queriedHosts(c)
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Hosts", "hosts")
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	p := views.HostsPage{Chrome: ch, Counts: stateCounts(inv.Counts), Total: inv.Total, Filter: f, Groups: inv.Groups,
		Next: inv.Next, CanEnroll: auth.Allows(u.Role, auth.RoleAdmin)}
	for _, v := range inv.Hosts {
		p.Hosts = append(p.Hosts, v.row())
	}
	return render(c, http.StatusOK, views.Hosts(p))
}

// APIHosts is GET /api/v1/hosts: ?group=, ?state=, paged by ?after=NAME
// (the answer's next).
func (h *Handlers) APIHosts(c echo.Context) error {
	_, inv, err := h.queriedHosts(c)
	if err != nil {
		return err
	}
	out := hostListJSON{Hosts: make([]hostJSON, 0, len(inv.Hosts)), Counts: map[string]int{}, Total: inv.Total, Next: inv.Next}
	for _, s := range views.HostStates {
		out.Counts[s] = inv.Counts[s]
	}
	for _, v := range inv.Hosts {
		out.Hosts = append(out.Hosts, v.json())
	}
	return c.JSON(http.StatusOK, out)
}
