package cli

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func auditCommand() *cobra.Command {
	var since, action, user string
	var limit int
	cmd := clientCommand(&cobra.Command{
		Use:   "audit",
		Short: "the audit log, newest first",
		Long: `Lists audit events newest first: when, who, what and its detail. --since and
--user filter on the server; --action (an action such as change.applied, or
a family such as change) filters here, paging until --limit events match.
--output json prints {"events": [...]} with each event as the API gives it,
hashes included.

"portpanel audit verify" is the admin command that recomputes the hash chain
on the host.`,
		Example: `  portpanel audit --since 24h
  portpanel audit --action change --user alice
  portpanel audit --since 7d -o json | jq -r '.events[].detail'`,
		Args: args(),
	}, "read the audit log", func(ctx context.Context, c *apiClient, t *term, _ []string) error {
		if limit < 1 {
			return cmdUsage("--limit %d: give at least 1", limit)
		}
		q := url.Values{}
		if since != "" {
			d, err := parseSpan("since", since)
			if err != nil {
				return err
			}
			q.Set("from", time.Now().Add(-d).UTC().Format(time.RFC3339))
		}
		if user != "" {
			q.Set("user", user)
		}
		list, raws, err := collect(ctx, c, "/api/v1/audit", "events", q, limit, func(e apiEvent) bool {
			return action == "" || e.Action == action || strings.HasPrefix(e.Action, action+".")
		})
		if err != nil {
			return err
		}
		if t.json {
			return t.rawObject(map[string]any{"events": nonNilRaw(raws)})
		}
		if len(list) == 0 {
			t.printf("No audit events.\n")
			return nil
		}
		rows := [][]string{}
		for _, e := range list {
			ch := ""
			if e.ChangeID != nil {
				ch = "#" + strconv.FormatInt(*e.ChangeID, 10)
			}
			// A change's detail carries its diff: the table shows the
			// sentence, show ID the diff.
			detail, _, _ := strings.Cut(e.Detail, "\n")
			rows = append(rows, []string{strconv.FormatInt(e.ID, 10), when(e.At), e.User, e.Action, ch, detail})
		}
		t.table([]string{"ID", "AT", "USER", "ACTION", "CHANGE", "DETAIL"}, rows)
		return nil
	})
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "only events this recent: 90m, 24h, 7d")
	f.StringVar(&action, "action", "", "only this action (change.applied) or family (change)")
	f.StringVar(&user, "user", "", "only events by this user")
	f.IntVar(&limit, "limit", 50, "at most this many events")
	cmd.AddCommand(auditVerifyCommand())
	return cmd
}
