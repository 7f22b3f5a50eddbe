package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func confirmCommand() *cobra.Command {
	var host string
	cmd := clientCommand(&cobra.Command{
		Use:   "confirm ID",
		Short: "keep a commit-confirmed change before its deadline reverts it",
		Long: `Keeps a change made with --confirm-within. With --host NAME the confirmation
goes to that host's agent, which holds the revert timer; the command waits for
it to report the change confirmed (exit 3 if it has not in time).`,
		Example:           "  portpanel confirm 42\n  portpanel confirm 42 --host web-3",
		Args:              args("ID"),
		ValidArgsFunction: completeIDs("applied"),
	}, "confirm changes", func(ctx context.Context, c *apiClient, t *term, a []string) error {
		return decide(ctx, c, t, a[0], host, "confirm", nil, "Confirmed")
	})
	hostFlag(cmd, &host)
	return cmd
}

func approveCommand() *cobra.Command {
	var reason, host string
	var ack []string
	cmd := clientCommand(&cobra.Command{
		Use:   "approve ID",
		Short: "approve someone else's proposal; the server applies it at once",
		Long: `Approves a proposal (role approver or admin, not its author). The server checks
it again against the range and file as they are now and applies it; a
proposal whose basis moved is refused (exit 4), and a hazard that appeared
since it was proposed needs --ack CODE (exit 5 names it).`,
		Example:           `  portpanel approve 42 --reason "checked with the DB team"`,
		Args:              args("ID"),
		ValidArgsFunction: completeIDs("proposed"),
	}, "approve changes", func(ctx context.Context, c *apiClient, t *term, a []string) error {
		body := map[string]any{"reason": reason}
		if len(ack) > 0 {
			body["acknowledge"] = ack
		}
		return decide(ctx, c, t, a[0], host, "approve", body, "Approved and applied")
	})
	hostFlag(cmd, &host)
	cmd.Flags().StringVar(&reason, "reason", "", "a comment, recorded with the approval")
	cmd.Flags().StringArrayVar(&ack, "ack", nil, "acknowledge a hazard that appeared since the proposal, by its code (repeat for each)")
	return cmd
}

func rejectCommand() *cobra.Command {
	var reason, host string
	cmd := clientCommand(&cobra.Command{
		Use:               "reject ID --reason TEXT",
		Short:             "reject someone else's proposal, saying why",
		Example:           `  portpanel reject 42 --reason "too narrow for the batch jobs"`,
		Args:              args("ID"),
		ValidArgsFunction: completeIDs("proposed"),
	}, "reject changes", func(ctx context.Context, c *apiClient, t *term, a []string) error {
		return decide(ctx, c, t, a[0], host, "reject", map[string]any{"reason": reason}, "Rejected")
	})
	hostFlag(cmd, &host)
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

// decide posts action on the change named by arg, which must be host's
// when --host names one, and reports the result.
func decide(ctx context.Context, c *apiClient, t *term, arg, host, action string, body map[string]any, done string) error {
	id, err := changeID(arg)
	if err != nil {
		return err
	}
	if host != "" {
		if _, _, err := hostChange(ctx, c, id, host); err != nil {
			return err
		}
	}
	if body == nil {
		body = map[string]any{}
	}
	a, err := c.call(ctx, http.MethodPost, changeActionPath(host, id, action), body)
	if err != nil {
		return err
	}
	if t.json {
		t.raw(a.body)
		return nil
	}
	var ch changeAnswer
	if err := json.Unmarshal(a.body, &ch); err != nil {
		return fmt.Errorf("read the change: %w", err)
	}
	if a.status == http.StatusAccepted || ch.Status == "applying" {
		t.printf("%s: change #%d was sent to host %s, whose agent has not reported on it yet (it is %s).\nFollow it with:\n  portpanel show %d --host %s\n",
			t.paint(yellow, "Sent"), ch.ID, ch.Host, t.level(ch.Status), ch.ID, ch.Host)
		return &exitError{code: exitWaiting}
	}
	t.printf("%s change #%d (%s → %s%s); it is %s now.\n", t.paint(green, done), ch.ID, ch.Before, ch.after(), onHostWords(ch.Host), t.level(ch.Status))
	return nil
}

// completeIDs offers the IDs of the newest changes in one of statuses,
// asking the server as the command would; nothing when it cannot.
func completeIDs(statuses ...string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		o := &clientOpts{output: "text"}
		o.server, _ = cmd.Flags().GetString("server")
		o.token, _ = cmd.Flags().GetString("token")
		o.caFile, _ = cmd.Flags().GetString("ca-file")
		o.insecure, _ = cmd.Flags().GetBool("insecure")
		o.timeout = 3 * time.Second
		c, err := o.newClient(io.Discard)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var list struct {
			Changes []changeAnswer `json:"changes"`
		}
		if _, err := c.get(cmd.Context(), "/api/v1/changes", &list); err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, ch := range list.Changes {
			for _, s := range statuses {
				if ch.Status == s {
					out = append(out, cobra.CompletionWithDesc(strconv.FormatInt(ch.ID, 10), fmt.Sprintf("%s %s → %s by %s: %s", ch.Status, ch.Before, ch.after(), ch.User, oneLine(ch.Reason))))
				}
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

var spaces = regexp.MustCompile(`\s+`)

// oneLine is s on one line, cut at 60 characters.
func oneLine(s string) string {
	s = strings.TrimSpace(spaces.ReplaceAllString(s, " "))
	if r := []rune(s); len(r) > 60 {
		return string(r[:59]) + "…"
	}
	return s
}
