package fleet_test

import (
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/fleet"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) *time.Time {
	t := now.Add(-d)
	return &t
}

func TestStateOf(t *testing.T) {
	setRange := &agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: map[string]string{agentapi.KeyRange: "20000\t60000"}}
	calm := agentapi.Observed{Runtime: agentapi.Range{Low: 20000, High: 60000}}
	drifted := calm
	drifted.Drift = true
	other := agentapi.Observed{Runtime: agentapi.Range{Low: 32768, High: 60999}}
	// fresh is a host that reported 10 s ago, polling every 30 s, and
	// applied generation 2, the current one.
	fresh := func(mod func(*db.Host)) db.Host {
		h := db.Host{Name: "web1", PollSeconds: 30, ReportedAt: ago(10 * time.Second), Generation: 2,
			DesiredAt: ago(time.Hour), Applied: db.HostResult{Generation: 2, State: agentapi.ResultApplied}}
		if mod != nil {
			mod(&h)
		}
		return h
	}
	tests := []struct {
		name    string
		host    db.Host
		desired *agentapi.DesiredChange
		obs     *agentapi.Observed
		want    fleet.State
	}{
		{"applied and as desired is ok", fresh(nil), setRange, &calm, fleet.StateOK},
		{"revoked beats a fresh report", fresh(func(h *db.Host) { h.RevokedAt = ago(time.Second) }), setRange, &calm, fleet.StateRevoked},
		{"never reported is stale", fresh(func(h *db.Host) { h.ReportedAt = nil }), nil, nil, fleet.StateStale},
		{"silent for exactly 3 polls is not yet stale", fresh(func(h *db.Host) { h.ReportedAt = ago(90 * time.Second) }), setRange, &calm, fleet.StateOK},
		{"silent for over 3 polls is stale, never ok", fresh(func(h *db.Host) { h.ReportedAt = ago(91 * time.Second) }), setRange, &calm, fleet.StateStale},
		{"stale is judged on the host's own poll interval", fresh(func(h *db.Host) { h.PollSeconds, h.ReportedAt = 300, ago(10*time.Minute) }), setRange, &calm, fleet.StateOK},
		{"no stated interval counts as the default 30 s", fresh(func(h *db.Host) { h.PollSeconds, h.ReportedAt = 0, ago(91*time.Second) }), setRange, &calm, fleet.StateStale},
		{"stale beats a failed result", fresh(func(h *db.Host) {
			h.ReportedAt, h.Applied.State = ago(time.Hour), agentapi.ResultFailed
		}), setRange, &calm, fleet.StateStale},
		{"a new generation is applying", fresh(func(h *db.Host) { h.Generation, h.DesiredAt = 3, ago(5*time.Second) }), setRange, &other, fleet.StateApplying},
		{"applying lasts the deadline plus one poll", fresh(func(h *db.Host) { h.Generation, h.DesiredAt = 3, ago(fleet.ApplyTimeout+30*time.Second) }), setRange, &other, fleet.StateApplying},
		{"then it is failed", fresh(func(h *db.Host) { h.Generation, h.DesiredAt = 3, ago(fleet.ApplyTimeout+31*time.Second) }), setRange, &other, fleet.StateFailed},
		{"a failed result is failed", fresh(func(h *db.Host) { h.Applied.State = agentapi.ResultFailed }), setRange, &other, fleet.StateFailed},
		{"a reverted result is failed", fresh(func(h *db.Host) { h.Applied.State = agentapi.ResultReverted }), setRange, &other, fleet.StateFailed},
		{"a failure superseded by a generation with nothing to apply is not", fresh(func(h *db.Host) {
			h.Generation, h.Applied.Generation, h.Applied.State = 3, 2, agentapi.ResultFailed
		}), nil, &other, fleet.StateOK},
		{"unconfirmed before its deadline is applying", fresh(func(h *db.Host) {
			h.Applied.State, h.Applied.Deadline = agentapi.ResultUnconfirmed, ago(-time.Minute)
		}), setRange, &calm, fleet.StateApplying},
		{"unconfirmed a poll past its deadline is failed", fresh(func(h *db.Host) {
			h.Applied.State, h.Applied.Deadline = agentapi.ResultUnconfirmed, ago(31*time.Second)
		}), setRange, &calm, fleet.StateFailed},
		{"runtime differing from boot is drift", fresh(nil), setRange, &drifted, fleet.StateDrift},
		{"runtime differing from desired is drift", fresh(nil), setRange, &other, fleet.StateDrift},
		{"confirmed and as desired is ok", fresh(func(h *db.Host) { h.Applied.State = agentapi.ResultConfirmed }), setRange, &calm, fleet.StateOK},
		{"observe-only", fresh(func(h *db.Host) { h.ObserveOnly = true }), nil, &calm, fleet.StateObserveOnly},
		{"observe-only with drift shows the drift", fresh(func(h *db.Host) { h.ObserveOnly = true }), nil, &drifted, fleet.StateDrift},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := fleet.StateOf(tt.host, tt.desired, tt.obs, now)
			if got != tt.want {
				t.Errorf("state = %s (%s), want %s", got, why, tt.want)
			}
			if got != fleet.StateOK && why == "" {
				t.Errorf("state %s has no reason", got)
			}
		})
	}
}
