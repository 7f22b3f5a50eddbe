package cli

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

func rollbackCommand() *cobra.Command {
	var reason, host string
	var yes, dryRun bool
	cmd := clientCommand(&cobra.Command{
		Use:   "rollback ID --reason TEXT",
		Short: "put an applied change's before value back, after a preview",
		Long: `Previews the rollback (the range back to the change's before value, the port
counts, the file restored) and asks "Apply? [y/N]" as change does. The server
restores the file byte for byte if nothing touched it since the change, and
otherwise sets only the key back. An approver or admin's rollback applies at
once (an emergency in the audit log); an operator's becomes a proposal (exit 3).
Rolling back a change that awaits confirmation is allowed. With --host NAME
the change must be that host's: its agent restores the file byte for byte.`,
		Example: `  portpanel rollback 42 --reason "INC-4711: made it worse"
  portpanel rollback 42 --reason "revert" --yes`,
		Args:              args("ID"),
		ValidArgsFunction: completeIDs("applied", "confirmed"),
	}, "roll back changes", func(ctx context.Context, c *apiClient, t *term, a []string) error {
		id, err := changeID(a[0])
		if err != nil {
			return err
		}
		orig, _, err := hostChange(ctx, c, id, host)
		if err != nil {
			return err
		}
		host = orig.Host // a remote change is rolled back on its host, --host or not
		var st apiStatus
		if host == "" {
			if _, err := c.get(ctx, "/api/v1/range", &st); err != nil {
				return err
			}
		} else {
			// The host's agent checks its own kernel; the preview shows
			// the change's own after value as what is undone.
			st.Runtime, st.Size = orig.after(), orig.after().size()
		}
		printRollbackPreview(t, orig, st)
		if dryRun {
			return nil
		}
		if err := confirmAsk(t, yes, "Apply?"); err != nil {
			return err
		}
		res, err := c.call(ctx, http.MethodPost, changeActionPath(host, id, "rollback"), map[string]any{"reason": reason})
		if err != nil {
			return err
		}
		return reportChange(t, res, "Rolled back with")
	})
	f := cmd.Flags()
	f.StringVar(&reason, "reason", "", "why: recorded with the rollback and in the audit log (required)")
	f.BoolVar(&dryRun, "dry-run", false, "only print the preview; change nothing")
	f.BoolVarP(&yes, "yes", "y", false, "roll back without asking (needed without a terminal)")
	hostFlag(cmd, &host)
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

// printRollbackPreview shows what rolling orig back does: its after value
// back to its before value, and its diff the other way round.
func printRollbackPreview(t *term, orig changeAnswer, st apiStatus) {
	w := t.talk()
	rows := [][]string{
		{t.paint(bold, "Roll back"), fmt.Sprintf("change #%d (%s, by %s: %s)", orig.ID, t.level(orig.Status), orig.User, oneLine(orig.Reason))},
		{t.paint(bold, "Range"), st.Runtime.String() + " → " + t.paint(bold, orig.Before.String())},
		{t.paint(bold, "Ports"), fmt.Sprintf("%s → %s (%s)", count(st.Size), count(orig.Before.size()), signed(orig.Before.size()-st.Size))},
	}
	if orig.ReservedPorts != nil {
		rows = append(rows, []string{t.paint(bold, "Reserved"), portList(orig.ReservedPorts) + " → " + t.paint(bold, portList(orig.ReservedBefore))})
	}
	rows = append(rows, []string{t.paint(bold, "File"), orig.File})
	fmt.Fprint(w, renderTable(rows))
	if st.Runtime != orig.after() {
		t.said("Warnings", t.paint(yellow, "!"), []string{fmt.Sprintf(
			"The range is %s now, not the %s change #%d set: the server will refuse the rollback (exit 4).", st.Runtime, orig.after(), orig.ID)})
	}
	if orig.Diff != "" {
		fmt.Fprintf(w, "%s (if nothing touched the file since change #%d)\n%s", t.paint(bold, "Diff"), orig.ID, t.diff(reverseDiff(orig.Diff)))
	}
}

var hunk = regexp.MustCompile(`^@@ -(\S+) \+(\S+) @@(.*)$`)

// reverseDiff turns a unified diff around: what it added is removed, and
// the other way round, removals first in each run of changed lines.
func reverseDiff(d string) string {
	var out, minus, plus []string
	flush := func() {
		out, minus, plus = append(append(out, minus...), plus...), nil, nil
	}
	header := true
	for _, l := range strings.Split(d, "\n") {
		m := hunk.FindStringSubmatch(l)
		switch {
		case m != nil:
			flush()
			header = false
			out = append(out, "@@ -"+m[2]+" +"+m[1]+" @@"+m[3])
		case header:
			out = append(out, l)
		case strings.HasPrefix(l, "+"):
			minus = append(minus, "-"+l[1:])
		case strings.HasPrefix(l, "-"):
			plus = append(plus, "+"+l[1:])
		default:
			flush()
			out = append(out, l)
		}
	}
	flush()
	return strings.Join(out, "\n")
}
