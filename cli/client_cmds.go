package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// clientCommands are the terminal client: every one a call or a few to
// the panel's API, nothing read or written on this host.
func clientCommands() []*cobra.Command {
	return []*cobra.Command{statusCommand(), changeCommand(), confirmCommand(), approveCommand(), rejectCommand(),
		rollbackCommand(), changesCommand(), showCommand(), auditCommand(), usageCommand(), historyCommand(), hostsCommand()}
}

// clientRun is a client command's body, given its connection and terminal.
type clientRun func(ctx context.Context, c *apiClient, t *term, args []string) error

// clientCommand completes spec as a client command: the connection flags,
// the help group, and a run that builds the client first. verb completes
// "your role X cannot ..." when the server refuses the role.
func clientCommand(spec *cobra.Command, verb string, run clientRun) *cobra.Command {
	o := &clientOpts{}
	spec.Annotations = map[string]string{groupKey: groupClient}
	addClientFlags(spec, o)
	spec.RunE = func(cmd *cobra.Command, args []string) error {
		t := newTerm(cmd, o)
		c, err := o.newClient(t.errw)
		if err != nil {
			return err
		}
		c.verb = verb
		return run(cmd.Context(), c, t, args)
	}
	return spec
}

// args checks the positional arguments' count, as a usage error naming
// them.
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if len(a) != len(names) {
			if len(names) == 0 {
				return cmdUsage("%s takes no arguments, got %q", cmd.Name(), strings.Join(a, " "))
			}
			return cmdUsage("%s needs %s", cmd.Name(), strings.Join(names, " "))
		}
		return nil
	}
}

// changeID reads a change's ID argument.
func changeID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, cmdUsage("%q is no change ID: give its number, as portpanel changes lists it", s)
	}
	return id, nil
}

// parseSpan reads a time span: a Go duration (90m, 24h) or days (7d).
func parseSpan(flag, s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, cmdUsage("--%s %q: give a span such as 90m, 24h or 7d", flag, s)
	}
	return d, nil
}

// said prints the lines of a list under a title, or nothing for none.
func (t *term) said(title, mark string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(t.talk(), "%s\n", t.paint(bold, title))
	for _, l := range lines {
		fmt.Fprintf(t.talk(), "  %s %s\n", mark, l)
	}
}
