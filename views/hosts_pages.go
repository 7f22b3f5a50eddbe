package views

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/fleet"
	"portpanel/sysctl"
)

// Host states: fleet computes a host's state; the views only name and
// colour it.
const (
	HostOK          = string(fleet.StateOK)
	HostDrift       = string(fleet.StateDrift)
	HostApplying    = string(fleet.StateApplying)
	HostFailed      = string(fleet.StateFailed)
	HostStale       = string(fleet.StateStale)
	HostObserveOnly = string(fleet.StateObserveOnly)
	HostRevoked     = string(fleet.StateRevoked)
)

// HostStates are every state a host can be in, in the order of the
// counts on top of the Hosts page (fleet.States).
var HostStates = func() []string {
	out := make([]string, 0, len(fleet.States))
	for _, s := range fleet.States {
		out = append(out, string(s))
	}
	return out
}()

// HostRow is one host as the Hosts page lists it and the host page heads
// it: its last report's figures, and what the control plane knows.
type HostRow struct {
	Name, Group, State string
	// Why is why State, in a sentence ("" for ok).
	Why string
	// Reported is false until the host's first report: the figures below
	// it are then unknown, not zero.
	Reported bool
	Runtime  agentapi.Range
	Boot     agentapi.Boot
	Drift    bool
	Risk     string // the busiest destination's level: ok, warning, critical; "" when unknown
	// LastSeen is when the host's last report came (the control plane's
	// clock); nil: never.
	LastSeen *time.Time
	// Generation is the desired state's; Applied the last one the host
	// reported applied (0: none), at AppliedAt.
	Generation  int64
	Applied     int64
	AppliedAt   *time.Time
	Version     string
	ObserveOnly bool
	PollSeconds int
	EnrolledAt  time.Time
}

// HostFilter is the Hosts page's filter as given in the query string.
type HostFilter struct{ Group, State string }

// query is f as a query string, for links that keep the filter.
func (f HostFilter) query() string {
	q := url.Values{}
	if f.Group != "" {
		q.Set("group", f.Group)
	}
	if f.State != "" {
		q.Set("state", f.State)
	}
	return q.Encode()
}

// StateCount is how many hosts are in State.
type StateCount struct {
	State string
	Count int
}

// HostsPage lists hosts by name, a page at a time, with the count of
// hosts per state on top.
type HostsPage struct {
	Chrome
	Counts []StateCount // every state of HostStates, zeros included
	Total  int
	Filter HostFilter
	Groups []string // the groups the filter offers
	Hosts  []HostRow
	// Next is the name the next page starts after; "" when this is the
	// last page.
	Next string
	// CanEnroll: the viewer is an admin, who may create enrollment tokens.
	CanEnroll bool
}

// nextHostsURL is the link to the page after the host named after,
// keeping the filter.
func nextHostsURL(after string, f HostFilter) string {
	q := url.Values{}
	if f.Group != "" {
		q.Set("group", f.Group)
	}
	if f.State != "" {
		q.Set("state", f.State)
	}
	q.Set("after", after)
	return "/hosts?" + q.Encode()
}

// stateURL is the Hosts page filtered to state, keeping the group.
func stateURL(state string, f HostFilter) string {
	return "/hosts?" + HostFilter{Group: f.Group, State: state}.query()
}

// HostURL is the host page of the host called name.
func HostURL(name string) string { return "/hosts/" + url.PathEscape(name) }

// HostPage is today's dashboard for one host, from its last report, with
// its history chart, its changes and its audit events.
type HostPage struct {
	Chrome
	Host HostRow
	// Observed is the host's last report; nil before the first.
	Observed *agentapi.Observed
	// Results are what became of the latest generations on the host,
	// newest first.
	Results []agentapi.Result
	// The history chart over Window (a key of the history page's
	// windows): the host's samples, and the changes their markers link
	// to.
	Window    string
	Chart     []db.Sample
	ChartFrom time.Time
	ChartTo   time.Time
	Marks     []db.ChangeMark
	Changes   []db.Change
	Audit     []db.AuditEvent
	// CanRevoke: the viewer is an admin and the host is not revoked yet.
	CanRevoke bool
	// ChangeForm, when not nil, is the form that changes the host's range
	// (an operator's view of a host that takes changes).
	ChangeForm *HostChange
}

// hostWindowURL is the host page over window.
func hostWindowURL(name, window string) string { return HostURL(name) + "?window=" + window }

// enrollmentState is a token's state in words: used, revoked, expired or
// valid.
func enrollmentState(e db.EnrollmentToken, now time.Time) string {
	switch {
	case e.UsedAt != nil:
		return "used"
	case e.RevokedAt != nil:
		return "revoked"
	case !now.Before(e.ExpiresAt):
		return "expired"
	}
	return "valid"
}

// EnrollmentForm is the new-token form: a group and a time to live.
type EnrollmentForm struct {
	Group  string
	TTL    string // one of EnrollmentTTLs
	Errors map[string]string
}

// EnrollmentTTLs are the form's choices; the API takes any duration up
// to 24 h.
var EnrollmentTTLs = []string{"15m", "1h", "4h", "24h"}

// DefaultEnrollmentTTL is the default: long enough to install an
// agent, short enough that a leaked token is soon worthless.
const DefaultEnrollmentTTL = "1h"

// EnrollmentsPage lists enrollment tokens, newest first, with the form
// for a new one.
type EnrollmentsPage struct {
	Chrome
	Form EnrollmentForm
	// Enrollments never hold the tokens themselves: only their hashes
	// are stored.
	Enrollments []db.EnrollmentToken
	// Next is the cursor of the next (older) page; 0 when none.
	Next int64
}

// EnrollmentCreatedPage shows a new enrollment token, the one time it is
// shown, with the command that uses it.
type EnrollmentCreatedPage struct {
	Chrome
	Enrollment db.EnrollmentToken
	Token      string
	// Server is the agent listener's URL when serve knows it ("" when
	// not): the command shown uses it.
	Server string
}

// ttlLabel names a TTL choice: "15 minutes", "1 hour".
func ttlLabel(ttl string) string {
	d, err := time.ParseDuration(ttl)
	switch {
	case err != nil:
		return ttl
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	case d == time.Hour:
		return "1 hour"
	}
	return strconv.Itoa(int(d/time.Hour)) + " hours"
}

// stateIcons mark each state beside its name, as hostStatePill does.
var stateIcons = map[string]string{
	HostOK: "✓", HostDrift: "≠", HostApplying: "↻", HostFailed: "✗", HostStale: "⌛", HostObserveOnly: "◎", HostRevoked: "⊘",
}

func stateIcon(state string) string { return stateIcons[state] }

// bootWhere is the file and line that set a host's boot value.
func bootWhere(b agentapi.Boot) string { return where(sysctl.Location{File: b.File, Line: b.Line}) }

// staleFor is how long the host has not reported, in words.
func staleFor(h HostRow, now time.Time) string {
	if h.LastSeen == nil {
		return "as long as it has been enrolled"
	}
	d := now.Sub(*h.LastSeen)
	switch {
	case d < 2*time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < 2*time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days"
}

// sortedStates are a usage summary's socket counts by state, most first
// (then by name), so the page reads the same on every render.
func sortedStates(by map[string]int) []StateCount {
	out := make([]StateCount, 0, len(by))
	for s, n := range by {
		out = append(out, StateCount{State: s, Count: n})
	}
	slices.SortFunc(out, func(a, b StateCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.State, b.State)
	})
	return out
}

// enrollCommand is the agent's first start, the token left for the
// admin to paste: the page shows the token above it, once.
func enrollCommand(server string) string {
	if server == "" {
		server = "URL"
	}
	return "portpanel agent --server " + server + " --enroll-token TOKEN --state-dir /var/lib/portpanel-agent"
}
