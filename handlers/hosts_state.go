package handlers

import (
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/views"
)

// defaultPoll is the poll interval assumed for a host that has not said
// its own yet (agentapi.MaxWait: what a long poll is held at most).
const defaultPoll = agentapi.MaxWait

// hostState is h's state at now, from its stored report (o, nil before
// the first) and the time it came. Stale wins over what the report says:
// a host that has not reported for 3 × its poll interval is never shown
// as fine.
func hostState(h db.Host, o *agentapi.Observed, now time.Time) string {
	poll := time.Duration(h.PollSeconds) * time.Second
	if poll <= 0 {
		poll = defaultPoll
	}
	switch {
	case h.RevokedAt != nil:
		return views.HostRevoked
	case h.ReportedAt == nil || now.Sub(*h.ReportedAt) > 3*poll:
		return views.HostStale
	case h.Applied.Generation < h.Generation && h.Desired != nil:
		// A new generation: applying for one poll round trip plus the
		// apply, failed when it does not report it by then.
		if h.DesiredAt != nil && now.Sub(*h.DesiredAt) > 2*poll+time.Minute {
			return views.HostFailed
		}
		return views.HostApplying
	case h.Applied.State == agentapi.ResultFailed:
		return views.HostFailed
	case h.ObserveOnly:
		return views.HostObserveOnly
	case o != nil && o.Drift:
		return views.HostDrift
	}
	return views.HostOK
}
