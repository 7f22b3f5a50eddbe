package cli

import (
	"context"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

// --host NAME: the change commands act on an enrolled host's changes
// (fleet mode) through the same API, the same checks and the same
// approval gate as the panel's own host's. No environment twin: a
// forgotten variable must not send changes to another machine.

// hostFlag adds --host to a client command.
func hostFlag(cmd *cobra.Command, host *string) {
	cmd.Flags().StringVar(host, "host", "", "act on this enrolled host's changes (fleet mode) rather than the panel's own host")
}

// changesPath is where changes are made and listed: the panel's own host,
// or host.
func changesPath(host string) string {
	if host == "" {
		return "/api/v1/changes"
	}
	return "/api/v1/hosts/" + url.PathEscape(host) + "/changes"
}

// changeActionPath is where action is done to change id: rollback and
// confirm under the host's route (which checks the change is its), the
// others under the change itself.
func changeActionPath(host string, id int64, action string) string {
	if host != "" && (action == "rollback" || action == "confirm") {
		return fmt.Sprintf("%s/%d/%s", changesPath(host), id, action)
	}
	return fmt.Sprintf("/api/v1/changes/%d/%s", id, action)
}

// hostChange loads change id and, when --host names a host, refuses it
// unless it is that host's: --host names the machine the command is meant
// for, and a change ID typed wrong must not act on another.
func hostChange(ctx context.Context, c *apiClient, id int64, host string) (changeAnswer, answer, error) {
	var ch changeAnswer
	a, err := c.get(ctx, fmt.Sprintf("/api/v1/changes/%d", id), &ch)
	if err != nil {
		return ch, a, err
	}
	if host != "" && ch.Host != host {
		return ch, a, exitf(exitFailed, "change #%d is %s's, not %s's: nothing was done", id, hostName(ch.Host), hostName(host))
	}
	return ch, a, nil
}

// hostName names a host in a sentence.
func hostName(h string) string {
	if h == "" {
		return "the panel's own host"
	}
	return "host " + h
}
