package fleet

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
)

// State is a host's state on the Hosts page and in the API.
type State string

const (
	StateOK          State = "ok"
	StateDrift       State = "drift"        // runtime differs from the boot value or the desired one
	StateApplying    State = "applying"     // a new generation, within its deadline plus one poll
	StateFailed      State = "failed"       // the current generation failed, was reverted or got no result in time
	StateStale       State = "stale"        // no report for StaleAfter polls
	StateObserveOnly State = "observe-only" // the agent refuses every change (set on the host)
	StateRevoked     State = "revoked"
)

// States lists every state, in the order the Hosts page counts them.
var States = []State{StateOK, StateDrift, StateApplying, StateFailed, StateStale, StateObserveOnly, StateRevoked}

const (
	// StaleAfter is how many of its own stated poll intervals a host may
	// stay silent before it is stale.
	StaleAfter = 3
	// ApplyTimeout is how long an agent has to act on a new generation
	// and report it (one poll more is granted on top).
	ApplyTimeout = time.Minute
)

// StateOf computes host h's state at now from what is stored: its last
// report and that report's time (the control plane's clock), its desired
// change d (nil: none) and its observed state o (nil: never reported).
// It is a pure function. A host whose report is too old is stale before
// anything else its old report says, so a silent host is never ok.
func StateOf(h db.Host, d *agentapi.DesiredChange, o *agentapi.Observed, now time.Time) (State, string) {
	poll := time.Duration(h.PollSeconds) * time.Second
	if poll <= 0 {
		poll = DefaultPollSeconds * time.Second
	}
	res := h.Applied
	switch {
	case h.RevokedAt != nil:
		return StateRevoked, "revoked " + stamp(*h.RevokedAt)
	case h.ReportedAt == nil || o == nil:
		return StateStale, "no report yet"
	case now.Sub(*h.ReportedAt) > StaleAfter*poll:
		return StateStale, fmt.Sprintf("no report since %s (polls every %s)", stamp(*h.ReportedAt), poll)
	case d != nil && h.Generation > res.Generation:
		if h.DesiredAt != nil && now.Sub(*h.DesiredAt) <= ApplyTimeout+poll {
			return StateApplying, fmt.Sprintf("generation %d sent %s", h.Generation, stamp(*h.DesiredAt))
		}
		return StateFailed, fmt.Sprintf("generation %d: no result within %s", h.Generation, ApplyTimeout+poll)
	case res.Generation == h.Generation && res.State == agentapi.ResultFailed:
		return StateFailed, fmt.Sprintf("generation %d failed: %s", res.Generation, res.Error)
	case res.Generation == h.Generation && res.State == agentapi.ResultReverted:
		return StateFailed, fmt.Sprintf("generation %d reverted: %s", res.Generation, orText(res.Error, "not confirmed in time"))
	case res.Generation == h.Generation && res.State == agentapi.ResultUnconfirmed:
		if res.Deadline != nil && now.Sub(*res.Deadline) <= poll {
			return StateApplying, fmt.Sprintf("generation %d waits for confirmation until %s", res.Generation, stamp(*res.Deadline))
		}
		return StateFailed, fmt.Sprintf("generation %d: unconfirmed past its deadline, and no revert reported", res.Generation)
	case o.Drift:
		return StateDrift, "the runtime range differs from the boot value"
	}
	if want, ok := desiredRange(d); ok && res.Generation == h.Generation && want != o.Runtime {
		return StateDrift, fmt.Sprintf("runtime %d-%d differs from the desired %d-%d", o.Runtime.Low, o.Runtime.High, want.Low, want.High)
	}
	if h.ObserveOnly {
		return StateObserveOnly, "the agent reports but refuses changes"
	}
	return StateOK, ""
}

// desiredRange is the range a set operation asks for, if it asks for one.
func desiredRange(d *agentapi.DesiredChange) (agentapi.Range, bool) {
	if d == nil || d.Operation != agentapi.OpSet {
		return agentapi.Range{}, false
	}
	f := strings.Fields(d.Keys[agentapi.KeyRange])
	if len(f) != 2 {
		return agentapi.Range{}, false
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	return agentapi.Range{Low: lo, High: hi}, err1 == nil && err2 == nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// View is a host with its stored documents decoded and its state at a
// time: what the Hosts pages, the API and /metrics show.
type View struct {
	db.Host
	Observed *agentapi.Observed      // nil before the first report
	Change   *agentapi.DesiredChange // the current generation's change, if any
	State    State
	Reason   string // why State, in a sentence ("" for ok)
}

// NewView decodes h and computes its state at now.
func NewView(h db.Host, now time.Time) (View, error) {
	v := View{Host: h}
	if h.Report != nil {
		v.Observed = new(agentapi.Observed)
		if err := json.Unmarshal(h.Report, v.Observed); err != nil {
			return View{}, fmt.Errorf("host %q: decode report: %w", h.Name, err)
		}
	}
	if h.Desired != nil {
		v.Change = new(agentapi.DesiredChange)
		if err := json.Unmarshal(h.Desired, v.Change); err != nil {
			return View{}, fmt.Errorf("host %q: decode desired change: %w", h.Name, err)
		}
	}
	v.State, v.Reason = StateOf(h, v.Change, v.Observed, now)
	return v, nil
}
