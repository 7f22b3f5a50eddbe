package handlers

import (
	"time"

	"portpanel/agentapi"
)

// hostJSON is a host in GET /api/v1/hosts and GET /api/v1/hosts/NAME.
// Runtime, boot, drift and risk are from its last report: null before
// the first. last_seen (its last report) and applied_generation (the
// last generation that took effect) are apart on purpose: a host that
// reports but fails to apply must not look current.
type hostJSON struct {
	Name              string      `json:"name"`
	Group             string      `json:"group"`
	State             string      `json:"state"`
	StateReason       string      `json:"state_reason"`
	ObserveOnly       bool        `json:"observe_only"`
	Runtime           *rangeJSON  `json:"runtime"`
	Boot              *hostBoot   `json:"boot"`
	Drift             *bool       `json:"drift"`
	Risk              *string     `json:"risk"`
	LastSeen          *time.Time  `json:"last_seen"`
	Generation        int64       `json:"generation"`
	AppliedGeneration int64       `json:"applied_generation"`
	AppliedAt         *time.Time  `json:"applied_at"`
	Result            *hostResult `json:"result"`
	AgentVersion      string      `json:"agent_version"`
	PollSeconds       int         `json:"poll_seconds"`
	EnrolledAt        time.Time   `json:"enrolled_at"`
	RevokedAt         *time.Time  `json:"revoked_at"`
}

// hostBoot is the value a host boots with, from its report.
type hostBoot struct {
	Low           int    `json:"low"`
	High          int    `json:"high"`
	File          string `json:"file"`
	Line          int    `json:"line"`
	KernelDefault bool   `json:"kernel_default"`
	Reader        string `json:"reader"`
}

// hostResult is what became of the latest generation the host reported
// on, whatever it was.
type hostResult struct {
	Generation int64      `json:"generation"`
	State      string     `json:"state"`
	Error      string     `json:"error"`
	At         *time.Time `json:"at"`
	Deadline   *time.Time `json:"deadline"`
}

func (v hostView) json() hostJSON {
	r := v.row()
	out := hostJSON{Name: v.Name, Group: v.Group, State: string(v.State), StateReason: v.Reason, ObserveOnly: v.ObserveOnly, LastSeen: utc(v.ReportedAt),
		Generation: v.Generation, AppliedGeneration: r.Applied, AppliedAt: utc(r.AppliedAt), AgentVersion: v.AgentVersion,
		PollSeconds: v.PollSeconds, EnrolledAt: v.EnrolledAt.UTC(), RevokedAt: utc(v.RevokedAt)}
	if a := v.Applied; a.State != "" {
		out.Result = &hostResult{Generation: a.Generation, State: a.State, Error: a.Error, At: utc(a.At), Deadline: utc(a.Deadline)}
	}
	if o := v.Observed; o != nil {
		b := o.Boot
		out.Runtime = &rangeJSON{o.Runtime.Low, o.Runtime.High}
		out.Boot = &hostBoot{Low: b.Range.Low, High: b.Range.High, File: b.File, Line: b.Line, KernelDefault: !b.Set, Reader: b.Reader}
		out.Drift = &o.Drift
		risk := ""
		if o.Usage != nil {
			risk = o.Usage.Risk
		}
		out.Risk = &risk
	}
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// hostListJSON is GET /api/v1/hosts: a page of hosts by name, the count
// per state of every host the group filter selects, and the cursor of
// the next page ("" on the last).
type hostListJSON struct {
	Hosts  []hostJSON     `json:"hosts"`
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
	Next   string         `json:"next"`
}

// hostDetailJSON is GET /api/v1/hosts/NAME: the host, its whole last
// report as the agent sent it, its changes and its audit events.
type hostDetailJSON struct {
	hostJSON
	Observed *agentapi.Observed `json:"observed"`
	Changes  []map[string]any   `json:"changes"`
	Audit    []map[string]any   `json:"audit"`
}
