package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"

	"github.com/spf13/cobra"
)

func statusCommand() *cobra.Command {
	var host string
	cmd := clientCommand(&cobra.Command{
		Use:   "status",
		Short: "the range now and at boot, drift, warnings, the busiest destination's risk",
		Long: `Shows what the top of the dashboard shows: the runtime range and its size, the
value the host boots with (the file and line that set it, and the boot reader),
drift between the two, the reserved ports, warnings, and the exhaustion risk of
the busiest destination. Exits 1 when that risk is critical, so a script can
gate on it.

--output json prints {"range": GET /api/v1/range, "usage": GET /api/v1/usage},
both answers unchanged.

With --host NAME it shows that enrolled host as its last report has it (as
"portpanel hosts show NAME" does; --output json prints GET /api/v1/hosts/NAME),
and exits 1 when its risk is critical too.`,
		Example: `  portpanel status
  portpanel status --server https://proxy1:8443 --ca-file /etc/portpanel/ca.pem
  portpanel status -o json | jq .range.runtime`,
		Args: args(),
	}, "read the status", func(ctx context.Context, c *apiClient, t *term, _ []string) error {
		if host != "" {
			return hostStatus(ctx, c, t, host)
		}
		var st apiStatus
		ra, err := c.get(ctx, "/api/v1/range", &st)
		if err != nil {
			return err
		}
		var us apiUsage
		ua, err := c.get(ctx, "/api/v1/usage", &us)
		if err != nil {
			return err
		}
		if t.json {
			if err := t.rawObject(map[string]any{"range": json.RawMessage(ra.body), "usage": json.RawMessage(ua.body)}); err != nil {
				return err
			}
		} else {
			printStatus(t, st, us)
		}
		if us.Level == "critical" {
			b := us.Busiest
			return &exitError{code: exitFailed, err: fmt.Errorf("critical: %s holds %.1f%% of the ephemeral capacity", b.Destination, b.Risk*100)}
		}
		return nil
	})
	hostFlag(cmd, &host)
	return cmd
}

// hostStatus is status --host: the host's last report.
func hostStatus(ctx context.Context, c *apiClient, t *term, host string) error {
	var h hostDetailAnswer
	a, err := c.get(ctx, "/api/v1/hosts/"+url.PathEscape(host), &h)
	if err != nil {
		return err
	}
	if t.json {
		t.raw(a.body)
	} else {
		printHost(t, h)
	}
	if h.Risk != nil && *h.Risk == "critical" {
		return &exitError{code: exitFailed, err: fmt.Errorf("critical: the busiest destination on host %s holds most of its ephemeral capacity", host)}
	}
	return nil
}

func printStatus(t *term, st apiStatus, us apiUsage) {
	boot := st.Boot.apiRange.String() + "  "
	if st.Boot.KernelDefault {
		boot += "kernel default: no file sets it"
	} else {
		boot += fmt.Sprintf("%s:%d", st.Boot.File, st.Boot.Line)
	}
	boot += " (reader " + st.Boot.Reader + ")"
	drift := t.level("ok") + ": the host boots with the running value"
	if st.Drift {
		drift = t.paint(yellow, "drift") + ": a reboot would change the range"
	}
	reserved := portList(&st.ReservedPorts)
	if b := st.Boot.ReservedPorts; b != nil && st.ReservedDrift {
		where := "no file sets them"
		if !b.KernelDefault {
			where = fmt.Sprintf("%s:%d", b.File, b.Line)
		}
		reserved += "  " + t.paint(yellow, "drift") + ": the host boots with " + portList(&b.Value) + " (" + where + ")"
	}
	rows := [][]string{
		{t.paint(bold, "Runtime"), st.Runtime.String() + "  " + ports(st.Size)},
		{t.paint(bold, "Boot"), boot},
		{t.paint(bold, "Drift"), drift},
	}
	if st.OverriddenBy != nil {
		rows = append(rows, []string{t.paint(bold, "Overridden"), fmt.Sprintf("%s:%d sets the key again after the managed file", st.OverriddenBy.File, st.OverriddenBy.Line)})
	}
	rows = append(rows,
		[]string{t.paint(bold, "Reserved"), reserved},
		[]string{t.paint(bold, "Unprivileged"), fmt.Sprintf("ports below %d need privilege", st.UnprivilegedPortStart)},
		[]string{t.paint(bold, "Busiest"), busiest(t, us)},
	)
	io.WriteString(t.out, renderTable(rows))
	var warn []string
	warn = append(warn, st.Warnings...)
	warn = append(warn, st.Boot.Uncertain...)
	refused := st.Boot.Refused
	if b := st.Boot.ReservedPorts; b != nil {
		refused = append(refused, b.Refused...)
	}
	for _, r := range refused {
		warn = append(warn, fmt.Sprintf("%s:%d sets %s, which the kernel refuses: %s", r.File, r.Line, r.Value, r.Reason))
	}
	t.said("Warnings", t.paint(yellow, "!"), warn)
}

// busiest is the busiest destination's line: who, how many sockets, risk.
func busiest(t *term, us apiUsage) string {
	switch {
	case us.At == nil:
		return "no usage sample yet"
	case us.Busiest == nil:
		return "no connections to any destination"
	}
	b := us.Busiest
	return fmt.Sprintf("%s → %s  %s sockets, risk %s (%s)", b.LocalIP, b.Destination, count(b.Sockets), percent(b.Risk), t.level(b.Level))
}

func percent(share float64) string { return fmt.Sprintf("%.2f%%", share*100) }

func usageCommand() *cobra.Command {
	return clientCommand(&cobra.Command{
		Use:   "usage",
		Short: "sockets by state and the top destinations with their exhaustion risk",
		Long: `Shows the sampler's latest scan of this host's sockets: the capacity (the range
less reserved ports and ports held by bound sockets), TCP sockets by state, UDP
and bound sockets, and the destinations that hold the most ports, each with
its exhaustion risk (its sockets over the capacity) and level.`,
		Example: `  portpanel usage
  portpanel usage -o json | jq '.destinations[0]'`,
		Args: args(),
	}, "read the port usage", func(ctx context.Context, c *apiClient, t *term, _ []string) error {
		var us apiUsage
		a, err := c.get(ctx, "/api/v1/usage", &us)
		if err != nil {
			return err
		}
		if t.json {
			t.raw(a.body)
			return nil
		}
		if us.At == nil {
			t.printf("%s\n", us.Message)
			return nil
		}
		printUsage(t, us)
		return nil
	})
}

func printUsage(t *term, us apiUsage) {
	io.WriteString(t.out, renderTable([][]string{
		{t.paint(bold, "Sampled"), when(*us.At) + " (" + us.Source + ")"},
		{t.paint(bold, "Range"), us.Range.String() + "  " + ports(us.Range.size())},
		{t.paint(bold, "Capacity"), ports(us.Capacity) + " for connections to one destination"},
		{t.paint(bold, "In range"), count(us.InRange) + " sockets hold a port of the range"},
		{t.paint(bold, "Shared use"), percent(us.SharedUse) + " of the capacity, by bind(0) and UDP, against every destination"},
		{t.paint(bold, "Rate"), fmt.Sprintf("%.1f new connections/s to one destination at most (60 s of TIME_WAIT each)", us.Rate)},
		{t.paint(bold, "Risk"), t.level(us.Level)},
	}))
	t.printf("\n")
	states := make([]string, 0, len(us.TCP))
	for s := range us.TCP {
		states = append(states, s)
	}
	sort.Strings(states)
	rows := [][]string{}
	for _, s := range states {
		rows = append(rows, []string{"tcp " + s, count(us.TCP[s])})
	}
	rows = append(rows, []string{"udp", count(us.UDP)}, []string{"bound (hold a port of the range)", count(us.Bound)})
	t.table([]string{"SOCKETS", "COUNT"}, rows)
	t.printf("\n")
	if len(us.Destinations) == 0 {
		t.printf("No connections to any destination.\n")
		return
	}
	rows = rows[:0]
	for _, d := range us.Destinations {
		rows = append(rows, []string{d.LocalIP, d.Destination, count(d.Sockets), percent(d.Risk), t.level(d.Level)})
	}
	t.table([]string{"LOCAL IP", "DESTINATION", "SOCKETS", "RISK", "LEVEL"}, rows)
}
