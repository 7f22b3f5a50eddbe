package handlers

import (
	"context"
	"slices"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/fleet"
	"portpanel/views"
)

// hostsPerPage is a page of the Hosts list and of GET /api/v1/hosts.
const hostsPerPage = 100

// hostScanPage is how many hosts one query of a full read reads.
const hostScanPage = 1000

// hostView is a host as the pages and the API show it: the stored row,
// its decoded documents and its state now.
type hostView struct{ fleet.View }

// viewHost decodes h and computes its state at now.
func viewHost(h db.Host, now time.Time) (hostView, error) {
	v, err := fleet.NewView(h, now)
	return hostView{v}, err
}

// row is v as the views list it.
func (v hostView) row() views.HostRow {
	r := views.HostRow{Name: v.Name, Group: v.Group, State: string(v.State), Why: v.Reason, LastSeen: v.ReportedAt,
		Generation: v.Generation, Applied: v.Applied.Generation, AppliedAt: v.Applied.At,
		Version: v.AgentVersion, ObserveOnly: v.ObserveOnly, PollSeconds: v.PollSeconds, EnrolledAt: v.EnrolledAt}
	if v.Applied.State != agentapi.ResultApplied && v.Applied.State != agentapi.ResultConfirmed && v.Applied.State != agentapi.ResultUnconfirmed {
		// Only a generation that took effect counts as applied; a failed
		// or reverted one is the state column's to say.
		r.Applied, r.AppliedAt = 0, nil
	}
	if o := v.Observed; o != nil {
		r.Reported, r.Runtime, r.Boot, r.Drift = true, o.Runtime, o.Boot, o.Drift
		if o.Usage != nil {
			r.Risk = o.Usage.Risk
		}
	}
	return r
}

// inventory is one pass over the hosts: the page asked for, the count per
// state and the groups, all as of one clock reading.
type inventory struct {
	Hosts  []hostView
	Next   string // the name the next page starts after; "" at the end
	Counts map[string]int
	Total  int
	Groups []string
}

// hostInventory reads every host once: states are computed from each
// report's time, so neither the counts nor a state filter can be left to
// SQL. Memory holds the page asked for and the counts, never the fleet.
func (h *Handlers) hostInventory(ctx context.Context, group, state, after string, limit int) (inventory, error) {
	inv := inventory{Counts: map[string]int{}}
	groups := map[string]bool{}
	err := h.eachHost(ctx, func(v hostView) {
		groups[v.Group] = true
		if group != "" && v.Group != group {
			return
		}
		inv.Counts[string(v.State)]++
		inv.Total++
		if (state != "" && string(v.State) != state) || v.Name <= after {
			return
		}
		if len(inv.Hosts) < limit {
			inv.Hosts = append(inv.Hosts, v)
		} else if inv.Next == "" {
			inv.Next = inv.Hosts[len(inv.Hosts)-1].Name
		}
	})
	for g := range groups {
		inv.Groups = append(inv.Groups, g)
	}
	slices.Sort(inv.Groups)
	return inv, err
}

// stateCounts lists every state with its count, zeros included.
func stateCounts(counts map[string]int) []views.StateCount {
	out := make([]views.StateCount, 0, len(views.HostStates))
	for _, s := range views.HostStates {
		out = append(out, views.StateCount{State: s, Count: counts[s]})
	}
	return out
}
