package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/views"
)

const recentChanges = 5

// Dashboard shows the range now and after reboot, warnings, the change form
// and the latest changes.
func (h *Handlers) Dashboard(c echo.Context) error {
	return h.dashboard(c, http.StatusOK, nil)
}

// dashboard renders the dashboard; form, when set, is a submitted change
// form to show again with its errors. The kernel is read at every request
// and the rest of what the page shows below its frame is kept
// (versionCache) for that kernel state, boot report (change.Status's
// ReportID), listeners the sampler saw, viewer and second.
func (h *Handlers) dashboard(c echo.Context, status int, form *views.ChangeForm) error {
	st, err := h.status(c)
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Dashboard", "dashboard")
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	key := dashboardKey{kernel: st.Kernel, report: st.ReportID, listeners: h.Changes.ListenersSeen(),
		canChange: auth.Allows(u.Role, auth.RoleOperator), requireApproval: ch.RequireApproval, netns: h.ownNetns()}
	if key.canChange {
		key.csrf = ch.CSRF // in the change form and each rollback form
	}
	main := func(ctx context.Context) (views.Prerendered, error) {
		data, err := h.memo.dashboard.Get(ctx, h.DB, struct{}{}, h.loadDashboard)
		if err != nil {
			return views.Prerendered{}, err
		}
		// From memory: the sampler keeps the last week's listeners.
		listeners := h.Changes.Collisions(st.Kernel.Range, st.Kernel.ReservedPorts)
		p := views.DashboardPage{
			Chrome: views.Chrome{Now: ch.Now, CSRF: key.csrf, RequireApproval: key.requireApproval},
			Kernel: st.Kernel, Boot: st.Boot, File: st.File, Drift: st.Drift, ReservedDrift: st.ReservedDrift, Warnings: st.Warnings,
			CanChange: key.canChange, Recent: data.recent, RolledBackBy: data.rolledBackBy,
			Usage: data.usage, Risk: h.viewRisk(), UsageNetns: key.netns,
			Listeners: listeners, ReserveFix: change.ReserveFix(listeners, st.Kernel.ReservedPorts),
			Form: views.ChangeForm{
				Low: strconv.Itoa(st.Kernel.Range.Low), High: strconv.Itoa(st.Kernel.Range.High), ConfirmWithin: "0",
				BaseLow: strconv.Itoa(st.Kernel.Range.Low), BaseHigh: strconv.Itoa(st.Kernel.Range.High),
				ReservedPorts: st.Kernel.ReservedPorts, BaseReserved: st.Kernel.ReservedPorts,
			},
		}
		if form != nil {
			p.Form = *form
		}
		return views.Prerender(ctx, views.DashboardMain(p))
	}
	var part views.Prerendered
	if form != nil {
		// A submitted form is shown once, never kept.
		part, err = main(c.Request().Context())
	} else {
		part, err = keep(h, c, &h.memo.dashboardPage, key, ch.Now.Unix(), main)
	}
	if err != nil {
		return err
	}
	return render(c, status, views.Framed(ch, part))
}

// dashboardKey is what the dashboard shows besides the database and the
// time.
type dashboardKey struct {
	kernel          sysctl.KernelState
	report          uint64
	listeners       uint64
	canChange       bool
	requireApproval bool
	csrf            string
	netns           views.NetnsLabel
}

// dashboardData is what the dashboard reads from the database, cached until
// it changes (db.Memo): shared between requests, so read-only.
type dashboardData struct {
	recent       []db.Change
	rolledBackBy map[int64]int64
	usage        *db.UsageSample
}

func (h *Handlers) loadDashboard(ctx context.Context) (dashboardData, error) {
	var d dashboardData
	var err error
	if d.recent, err = h.DB.Changes(ctx, recentChanges, 0); err != nil {
		return d, err
	}
	if d.rolledBackBy, err = h.rolledBackBy(ctx, d.recent); err != nil {
		return d, err
	}
	d.usage, err = h.latestUsage(ctx)
	return d, err
}

// rolledBackBy maps each applied change in list to the change that rolled it
// back, if any.
func (h *Handlers) rolledBackBy(ctx context.Context, list []db.Change) (map[int64]int64, error) {
	out := map[int64]int64{}
	var ids []int64
	for _, c := range list {
		if isInForce(c.Status) || c.Status == db.StatusReverted {
			ids = append(ids, c.ID)
		}
	}
	later, err := h.DB.RollbacksOfAny(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range later {
		if r.RollbackOf != nil && (isInForce(r.Status) || r.Status == db.StatusReverted) {
			out[*r.RollbackOf] = r.ID
		}
	}
	return out, nil
}

// latestUsage is the sampler's latest usage snapshot, nil before the first.
func (h *Handlers) latestUsage(ctx context.Context) (*db.UsageSample, error) {
	u, err := h.DB.LatestUsage(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &u, nil
}

// viewRisk is the risk thresholds as the views take them.
func (h *Handlers) viewRisk() views.RiskThresholds {
	return views.RiskThresholds{Warning: h.Risk.Warning, Critical: h.Risk.Critical}
}
