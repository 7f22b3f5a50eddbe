package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// hostStates are the states GET /api/v1/hosts filters by, in the order
// it counts them.
var hostStates = []string{"ok", "drift", "applying", "failed", "stale", "observe-only", "revoked"}

// hostAnswer is a host as GET /api/v1/hosts and /api/v1/hosts/NAME give it.
type hostAnswer struct {
	Name        string `json:"name"`
	Group       string `json:"group"`
	State       string `json:"state"`
	StateReason string `json:"state_reason"`
	ObserveOnly bool   `json:"observe_only"`
	Runtime     *apiRange
	Boot        *struct {
		Low, High     int
		File          string
		Line          int
		KernelDefault bool `json:"kernel_default"`
		Reader        string
	}
	Drift             *bool
	Risk              *string
	LastSeen          *time.Time `json:"last_seen"`
	Generation        int64
	AppliedGeneration int64      `json:"applied_generation"`
	AppliedAt         *time.Time `json:"applied_at"`
	Result            *struct {
		Generation int64
		State      string
		Error      string
	}
	AgentVersion string `json:"agent_version"`
	PollSeconds  int    `json:"poll_seconds"`
	EnrolledAt   time.Time
}

type hostListAnswer struct {
	Hosts  []json.RawMessage `json:"hosts"`
	Counts map[string]int    `json:"counts"`
	Total  int               `json:"total"`
	Next   string            `json:"next"`
}

func hostsCommand() *cobra.Command {
	var group, state string
	cmd := clientCommand(&cobra.Command{
		Use:   "hosts",
		Short: "the fleet's hosts: state, range, boot value, drift, risk",
		Long: `Lists every enrolled host by name, with the count per state on top. The list is
paged through the API to the end: nothing is left out. A host that has not
reported for 3 × its poll interval is stale, whatever it reported last.
--group and --state filter on the server. --output json prints
{"hosts": [...], "counts": {...}, "total": N} with each host as the API gives it.

"portpanel hosts show NAME" shows one host in full.`,
		Example: `  portpanel hosts
  portpanel hosts --group proxies --state stale
  portpanel hosts -o json | jq -r '.hosts[] | select(.drift) | .name'`,
		Args: args(),
	}, "list hosts", func(ctx context.Context, c *apiClient, t *term, _ []string) error {
		if state != "" && !slices.Contains(hostStates, state) {
			return cmdUsage("--state %q: use one of %s", state, strings.Join(hostStates, ", "))
		}
		q := url.Values{}
		if group != "" {
			q.Set("group", group)
		}
		if state != "" {
			q.Set("state", state)
		}
		var all hostListAnswer
		for {
			var page hostListAnswer
			if _, err := c.get(ctx, "/api/v1/hosts?"+q.Encode(), &page); err != nil {
				return err
			}
			all.Hosts, all.Counts, all.Total = append(all.Hosts, page.Hosts...), page.Counts, page.Total
			if page.Next == "" {
				break
			}
			q.Set("after", page.Next)
		}
		if t.json {
			return t.rawObject(map[string]any{"hosts": nonNilRaw(all.Hosts), "counts": all.Counts, "total": all.Total})
		}
		var counts []string
		for _, s := range hostStates {
			counts = append(counts, fmt.Sprintf("%s %d", t.hostState(s), all.Counts[s]))
		}
		fmt.Fprintf(t.talk(), "%d hosts: %s\n", all.Total, strings.Join(counts, " · "))
		if len(all.Hosts) == 0 {
			t.printf("No hosts.\n")
			return nil
		}
		rows := [][]string{}
		for _, raw := range all.Hosts {
			var h hostAnswer
			if err := json.Unmarshal(raw, &h); err != nil {
				return fmt.Errorf("read the hosts: %w", err)
			}
			rows = append(rows, hostRow(t, h))
		}
		t.table([]string{"NAME", "GROUP", "STATE", "RUNTIME", "BOOT", "DRIFT", "RISK", "LAST SEEN", "APPLIED", "AGENT"}, rows)
		return nil
	})
	f := cmd.Flags()
	f.StringVar(&group, "group", "", "only hosts of this group")
	f.StringVar(&state, "state", "", "only hosts in this state: "+strings.Join(hostStates, ", "))
	_ = cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions(hostStates, cobra.ShellCompDirectiveNoFileComp))
	cmd.AddCommand(hostShowCommand())
	return cmd
}

// hostState paints a host's state; stale is never green.
func (t *term) hostState(s string) string {
	switch s {
	case "ok":
		return t.paint(green, s)
	case "failed", "revoked":
		return t.paint(red, s)
	case "drift", "stale", "applying":
		return t.paint(yellow, s)
	}
	return s
}

// hostRow is h's line of the hosts table.
func hostRow(t *term, h hostAnswer) []string {
	state := t.hostState(h.State)
	if h.ObserveOnly && h.State != "observe-only" {
		state += " (observe-only)"
	}
	runtime, boot, drift, risk := "-", "-", "-", "-"
	if h.Runtime != nil {
		runtime = h.Runtime.String()
	}
	if b := h.Boot; b != nil {
		boot = apiRange{Low: b.Low, High: b.High}.String()
		if b.KernelDefault {
			boot += " (default)"
		}
	}
	if h.Drift != nil {
		drift = "no"
		if *h.Drift {
			drift = t.paint(yellow, "yes")
		}
	}
	if h.Risk != nil && *h.Risk != "" {
		risk = *h.Risk
		if h.State != "stale" && h.State != "revoked" {
			risk = t.level(risk)
		}
	}
	seen := "never"
	if h.LastSeen != nil {
		seen = when(*h.LastSeen)
	}
	applied := "-"
	if h.AppliedGeneration > 0 {
		applied = "gen " + strconv.FormatInt(h.AppliedGeneration, 10)
	}
	if h.Generation > h.AppliedGeneration {
		applied += " (desired " + strconv.FormatInt(h.Generation, 10) + ")"
	}
	return []string{h.Name, h.Group, state, runtime, boot, drift, risk, seen, applied, h.AgentVersion}
}

func hostShowCommand() *cobra.Command {
	return clientCommand(&cobra.Command{
		Use:     "show NAME",
		Short:   "one host in full: its last report, changes and audit events",
		Example: "  portpanel hosts show lb-01\n  portpanel hosts show lb-01 -o json | jq .observed.listeners",
		Args:    args("NAME"),
	}, "read hosts", func(ctx context.Context, c *apiClient, t *term, a []string) error {
		var h hostDetailAnswer
		ans, err := c.get(ctx, "/api/v1/hosts/"+url.PathEscape(a[0]), &h)
		if err != nil {
			return err
		}
		if t.json {
			t.raw(ans.body)
			return nil
		}
		printHost(t, h)
		return nil
	})
}
