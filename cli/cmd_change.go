package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// changeOpts are the flags of change.
type changeOpts struct {
	reason, reserved string
	confirmWithin    time.Duration
	ack              []string
	dryRun, yes      bool
	reservedSet      bool   // --reserved-ports was given, maybe empty
	host             string // --host: an enrolled host's change
}

func changeCommand() *cobra.Command {
	var o changeOpts
	var cmd *cobra.Command
	cmd = clientCommand(&cobra.Command{
		Use:   "change LOW HIGH --reason TEXT",
		Short: "preview a new range, then apply it (or submit it for approval)",
		Long: `Asks the server for a dry run and prints it: the range before → after, the
port counts, warnings, hazards and the diff of the managed file. Then asks
"Apply? [y/N]" on a terminal; without one it applies only with --yes. The
change sent is the one previewed: if the range or the file changed meanwhile
the server refuses it (exit 4) and nothing changes.

With --confirm-within the change is applied "commit confirmed": the server
reverts it unless "portpanel confirm ID" comes in time. When the server
requires approval, the change becomes a proposal: portpanel prints its ID
and the command an approver runs, and exits 3. A hazardous change (too few
ports, a listening port inside the range, ...) is refused until each hazard
is acknowledged with --ack CODE (exit 5 names them).

With --host NAME the change is for that enrolled host: its agent computes the
diff of its file and its hazards, the same approval applies, and the command
waits for the agent's result (exit 3 if it has not reported in time).`,
		Example: `  portpanel change 20000 60999 --reason "INC-4711: bursts to the DB proxy exhaust the range"
  portpanel change 20000 60999 --reason "INC-4711" --confirm-within 5m
  portpanel change 20000 60999 --reason "INC-4711" --dry-run -o json
  portpanel change 1024 65000 --reason "widen" --reserved-ports 5432,6379,8443 --yes
  portpanel change 15000 15500 --reason "lab" --ack small-range --yes
  portpanel change 20000 60999 --reason "INC-4711" --host web-3 --confirm-within 5m`,
		Args: args("LOW", "HIGH"),
	}, "change the range", func(ctx context.Context, c *apiClient, t *term, a []string) error {
		o.reservedSet = cmd.Flags().Changed("reserved-ports")
		low, lerr := strconv.Atoi(a[0])
		high, herr := strconv.Atoi(a[1])
		if lerr != nil || herr != nil {
			return cmdUsage("LOW and HIGH are port numbers, such as 20000 60999")
		}
		req := map[string]any{"low": low, "high": high, "reason": o.reason}
		if o.reservedSet {
			req["reserved_ports"] = o.reserved // "" reserves none
		}
		if len(o.ack) > 0 {
			req["acknowledge"] = o.ack
		}
		if o.confirmWithin != 0 {
			if o.confirmWithin < time.Second || o.confirmWithin%time.Second != 0 {
				return cmdUsage("--confirm-within %s: give whole seconds or minutes, such as 5m", o.confirmWithin)
			}
			req["confirm_within"] = int(o.confirmWithin / time.Second)
		}
		return runChange(ctx, c, t, req, o)
	})
	f := cmd.Flags()
	f.StringVar(&o.reason, "reason", "", "why: recorded with the change and in the audit log (required)")
	f.StringVar(&o.reserved, "reserved-ports", "", "also set net.ipv4.ip_local_reserved_ports, in the kernel's list syntax: 8080,9000-9100")
	f.DurationVar(&o.confirmWithin, "confirm-within", 0, "revert the change unless confirmed within this long (2m, 5m, 15m, 60m)")
	f.StringArrayVar(&o.ack, "ack", nil, "acknowledge a hazard by its code (repeat for each)")
	f.BoolVar(&o.dryRun, "dry-run", false, "only print the preview; change nothing")
	f.BoolVarP(&o.yes, "yes", "y", false, "apply without asking (needed without a terminal)")
	hostFlag(cmd, &o.host)
	_ = cmd.MarkFlagRequired("reason")
	_ = cmd.RegisterFlagCompletionFunc("confirm-within", cobra.FixedCompletions([]string{"2m", "5m", "15m", "60m"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// runChange previews req, asks, and applies what was previewed.
func runChange(ctx context.Context, c *apiClient, t *term, req map[string]any, o changeOpts) error {
	req["dry_run"] = true
	dry, err := c.call(ctx, http.MethodPost, changesPath(o.host), req)
	if err != nil {
		return err
	}
	var pv apiPreview
	if err := json.Unmarshal(dry.body, &pv); err != nil {
		return fmt.Errorf("read the dry run: %w", err)
	}
	if o.dryRun && t.json {
		t.raw(dry.body)
	} else {
		printPreview(t, pv)
	}
	if err := unacknowledged(pv.Hazards, o.ack); err != nil {
		return err
	}
	if o.dryRun {
		return nil
	}
	question := "Apply?"
	if pv.RequiresApproval {
		question = "Submit for approval?"
	}
	if err := confirmAsk(t, o.yes, question); err != nil {
		return err
	}
	delete(req, "dry_run")
	base := map[string]any{"low": pv.Before.Low, "high": pv.Before.High, "file_state": pv.FileState}
	if pv.ReservedBefore != nil { // a server that manages reserved ports checks them too
		base["reserved_ports"] = *pv.ReservedBefore
	}
	if pv.Generation != nil { // a remote host: its desired state must not have moved either
		base["generation"] = *pv.Generation
	}
	req["base"] = base
	a, err := c.call(ctx, http.MethodPost, changesPath(o.host), req)
	if err != nil {
		return err
	}
	return reportChange(t, a, "Applied")
}

// confirmAsk asks question on a terminal, or goes on with --yes; without
// either it refuses, as a usage error: a script must say --yes.
func confirmAsk(t *term, yes bool, question string) error {
	switch {
	case yes:
		return nil
	case !t.tty:
		return usageError{"not applied: no terminal to ask on; add --yes to apply without asking, or --dry-run to only look"}
	case !t.ask(question):
		return exitf(exitFailed, "not applied: nothing changed")
	}
	return nil
}

// unacknowledged refuses before asking when the preview names hazards
// that --ack does not cover: the server would refuse them (exit 5).
func unacknowledged(hs []hazard, acked []string) error {
	var missing []hazard
	for _, h := range hs {
		if !slices.Contains(acked, h.Code) {
			missing = append(missing, h)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return exitf(exitHazard, "not applied: acknowledge the hazards if you mean it: %s", ackFlags(missing))
}

// printPreview prints what a change would do, for a person.
func printPreview(t *term, pv apiPreview) {
	w := t.talk()
	rows := [][]string{
		{t.paint(bold, "Range"), pv.Before.String() + " → " + t.paint(bold, pv.After.String())},
		{t.paint(bold, "Ports"), fmt.Sprintf("%s → %s (%s)", count(pv.SizeBefore), count(pv.SizeAfter), signed(pv.SizeAfter-pv.SizeBefore))},
	}
	if pv.ReservedAfter != nil {
		rows = append(rows, []string{t.paint(bold, "Reserved"), portList(pv.ReservedBefore) + " → " + t.paint(bold, portList(pv.ReservedAfter))})
	}
	rows = append(rows, []string{t.paint(bold, "File"), pv.File})
	if pv.RequiresApproval {
		rows = append(rows, []string{t.paint(bold, "Approval"), t.paint(yellow, "required") + ": an approver or admin applies it"})
	}
	fmt.Fprint(w, renderTable(rows))
	t.said("Warnings", t.paint(yellow, "!"), pv.Warnings)
	t.said("Notes", "-", pv.Notes)
	var hz []string
	for _, h := range pv.Hazards {
		hz = append(hz, t.paint(red, h.Code)+"  "+h.Message)
	}
	t.said("Hazards (each needs --ack CODE)", t.paint(red, "✗"), hz)
	var ls []string
	for _, l := range pv.Listeners {
		s := fmt.Sprintf("%s/%d", l.Proto, l.Port)
		if l.Process != "" {
			s += fmt.Sprintf(" %s (pid %d)", l.Process, l.PID)
		}
		if l.Usually != "" {
			s += ", usually " + l.Usually
		}
		switch {
		case l.Reserved:
			s += ": reserved, safe"
		case !l.ListeningNow:
			s += ": not listening now, seen in the last 7 days"
		}
		ls = append(ls, s)
	}
	t.said("Listening inside the new range", "-", ls)
	if pv.ReserveFix != "" {
		fmt.Fprintf(w, "Reserve them in the same change with --reserved-ports %s\n", pv.ReserveFix)
	}
	if pv.Diff != "" {
		fmt.Fprintf(w, "%s\n%s", t.paint(bold, "Diff"), t.diff(pv.Diff))
	}
}

// portList is a reserved ports list as shown: "none" for none.
func portList(s *string) string {
	if s == nil || *s == "" {
		return "none"
	}
	return *s
}

func signed(n int) string {
	if n > 0 {
		return "+" + count(n)
	}
	return count(n)
}

// reportChange prints the change the server made, or says it waits for
// approval (exit 3).
func reportChange(t *term, a answer, done string) error {
	var ch changeAnswer
	if err := json.Unmarshal(a.body, &ch); err != nil {
		return fmt.Errorf("read the change: %w", err)
	}
	if t.json {
		t.raw(a.body)
	}
	w := t.talk()
	if ch.Status == "applying" {
		fmt.Fprintf(w, "%s: change #%d (%s → %s) was sent to host %s, whose agent has not reported on it yet.\nFollow it with:\n  portpanel show %d --host %s\n",
			t.paint(yellow, "Sent"), ch.ID, ch.Before, ch.after(), ch.Host, ch.ID, ch.Host)
		return &exitError{code: exitWaiting}
	}
	if a.status == http.StatusAccepted {
		fmt.Fprintf(w, "%s: change #%d (%s → %s%s) is a proposal.\nAn approver or admin applies it with:\n  portpanel approve %d%s\n",
			t.paint(yellow, "Waiting for approval"), ch.ID, ch.Before, ch.after(), onHostWords(ch.Host), ch.ID, hostArg(ch.Host))
		return &exitError{code: exitWaiting}
	}
	fmt.Fprintf(w, "%s change #%d: %s → %s%s.\n", t.paint(green, done), ch.ID, ch.Before, ch.after(), onHostWords(ch.Host))
	if ch.ConfirmBy != nil {
		fmt.Fprintf(w, "It is reverted at %s unless confirmed:\n  portpanel confirm %d%s\n", when(*ch.ConfirmBy), ch.ID, hostArg(ch.Host))
	} else {
		fmt.Fprintf(w, "To undo it:\n  portpanel rollback %d --reason TEXT%s\n", ch.ID, hostArg(ch.Host))
	}
	return nil
}

// onHostWords names a remote change's host after its range.
func onHostWords(host string) string {
	if host == "" {
		return ""
	}
	return " on host " + host
}

// hostArg is the --host argument that follow-up commands need.
func hostArg(host string) string {
	if host == "" {
		return ""
	}
	return " --host " + host
}
