package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

var changeStatuses = []string{"proposed", "approved", "rejected", "applying", "applied", "failed", "reverted", "confirmed"}

func changesCommand() *cobra.Command {
	var status, user, host string
	var limit int
	cmd := clientCommand(&cobra.Command{
		Use:   "changes",
		Short: "list changes, newest first",
		Long: `Lists changes newest first: ID, status, range before → after, who, when and why.
--status filters here, paging through the API until --limit changes match;
--user filters on the server. --output json prints {"changes": [...]} with each
change as the API gives it.`,
		Example: `  portpanel changes
  portpanel changes --status proposed
  portpanel changes --user alice --limit 5 -o json`,
		Args: args(),
	}, "list changes", func(ctx context.Context, c *apiClient, t *term, _ []string) error {
		if status != "" && !slices.Contains(changeStatuses, status) {
			return cmdUsage("--status %q: use one of %v", status, changeStatuses)
		}
		if limit < 1 {
			return cmdUsage("--limit %d: give at least 1", limit)
		}
		q := url.Values{}
		if user != "" && host == "" { // a host's list is filtered here
			q.Set("user", user)
		}
		list, raws, err := collect(ctx, c, changesPath(host), "changes", q, limit, func(ch changeAnswer) bool {
			return (status == "" || ch.Status == status) && (user == "" || ch.User == user)
		})
		if err != nil {
			return err
		}
		if t.json {
			return t.rawObject(map[string]any{"changes": nonNilRaw(raws)})
		}
		if len(list) == 0 {
			t.printf("No changes.\n")
			return nil
		}
		rows := [][]string{}
		for _, ch := range list {
			rows = append(rows, []string{strconv.FormatInt(ch.ID, 10), t.level(ch.Status), ch.Before.String() + " → " + ch.after().String(),
				ch.User, when(ch.CreatedAt), oneLine(ch.Reason)})
		}
		t.table([]string{"ID", "STATUS", "RANGE", "USER", "CREATED", "REASON"}, rows)
		return nil
	})
	f := cmd.Flags()
	f.StringVar(&status, "status", "", "only changes in this status: proposed, applied, confirmed, reverted, ...")
	f.StringVar(&user, "user", "", "only changes by this user")
	f.IntVar(&limit, "limit", 20, "at most this many changes")
	hostFlag(cmd, &host)
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(changeStatuses, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// pages walks a list route newest first, page by page (?before=ID of the
// last element), giving each element to take until it says stop or the
// list ends.
func pages(ctx context.Context, c *apiClient, path, key string, q url.Values, take func(json.RawMessage) (bool, error)) error {
	for {
		p := path
		if len(q) > 0 {
			p += "?" + q.Encode()
		}
		var page map[string][]json.RawMessage
		if _, err := c.get(ctx, p, &page); err != nil {
			return err
		}
		list := page[key]
		for _, raw := range list {
			more, err := take(raw)
			if err != nil || !more {
				return err
			}
		}
		if len(list) == 0 {
			return nil
		}
		var last struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(list[len(list)-1], &last); err != nil || last.ID <= 1 {
			return err
		}
		q.Set("before", strconv.FormatInt(last.ID, 10))
	}
}

// collect pages through a list route and keeps up to limit elements that
// keep accepts, decoded and as the API gave them.
func collect[T any](ctx context.Context, c *apiClient, path, key string, q url.Values, limit int, keep func(T) bool) ([]T, []json.RawMessage, error) {
	var list []T
	var raws []json.RawMessage
	err := pages(ctx, c, path, key, q, func(raw json.RawMessage) (bool, error) {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return false, fmt.Errorf("read the %s: %w", key, err)
		}
		if keep(v) {
			list, raws = append(list, v), append(raws, raw)
		}
		return len(list) < limit, nil
	})
	return list, raws, err
}

func nonNilRaw(r []json.RawMessage) []json.RawMessage {
	if r == nil {
		return []json.RawMessage{}
	}
	return r
}

func showCommand() *cobra.Command {
	var host string
	cmd := clientCommand(&cobra.Command{
		Use:               "show ID",
		Short:             "one change in full, with its diff",
		Example:           "  portpanel show 42\n  portpanel show 42 -o json | jq -r .diff",
		Args:              args("ID"),
		ValidArgsFunction: completeIDs(changeStatuses...),
	}, "read changes", func(ctx context.Context, c *apiClient, t *term, a []string) error {
		id, err := changeID(a[0])
		if err != nil {
			return err
		}
		ch, ans, err := hostChange(ctx, c, id, host)
		if err != nil {
			return err
		}
		if t.json {
			t.raw(ans.body)
			return nil
		}
		printChange(t, ch)
		return nil
	})
	hostFlag(cmd, &host)
	return cmd
}

func printChange(t *term, ch changeAnswer) {
	row := func(k, v string) []string { return []string{t.paint(bold, k), v} }
	rows := [][]string{
		row("Change", fmt.Sprintf("#%d  %s", ch.ID, t.level(ch.Status))+onHostWords(ch.Host)),
		row("Range", ch.Before.String()+" → "+ch.after().String()+fmt.Sprintf("  (%s → %s)", ports(ch.Before.size()), ports(ch.after().size()))),
	}
	if ch.ReservedPorts != nil {
		rows = append(rows, row("Reserved", portList(ch.ReservedBefore)+" → "+portList(ch.ReservedPorts)))
	}
	rows = append(rows,
		row("Reason", ch.Reason),
		row("By", ch.User+" at "+when(ch.CreatedAt)),
	)
	if ch.RollbackOf != nil {
		rows = append(rows, row("Rolls back", fmt.Sprintf("change #%d", *ch.RollbackOf)))
	}
	if ch.Emergency {
		rows = append(rows, row("Emergency", "yes: a rollback applied without approval"))
	}
	if ch.DecidedBy != "" && ch.DecidedAt != nil {
		d := ch.DecidedBy + " at " + when(*ch.DecidedAt)
		if ch.DecisionReason != "" {
			d += ": " + ch.DecisionReason
		}
		rows = append(rows, row("Decided", d))
	}
	if ch.ConfirmBy != nil {
		rows = append(rows, row("Confirm by", when(*ch.ConfirmBy)))
	}
	if ch.ConfirmedBy != "" && ch.ConfirmedAt != nil {
		rows = append(rows, row("Confirmed", ch.ConfirmedBy+" at "+when(*ch.ConfirmedAt)))
	}
	if len(ch.Acknowledged) > 0 {
		rows = append(rows, row("Acknowledged", strings.Join(ch.Acknowledged, ", ")))
	}
	if ch.Error != "" {
		rows = append(rows, row("Error", t.paint(red, ch.Error)))
	}
	rows = append(rows, row("File", ch.File), row("Updated", when(ch.UpdatedAt)))
	io.WriteString(t.out, renderTable(rows))
	t.said("Warnings", t.paint(yellow, "!"), ch.Warnings)
	t.said("Notes", "-", ch.Notes)
	var hz []string
	for _, h := range ch.Hazards {
		hz = append(hz, h.Code+"  "+h.Message)
	}
	t.said("Hazards", t.paint(red, "✗"), hz)
	if ch.Diff != "" {
		t.printf("%s\n%s", t.paint(bold, "Diff"), t.diff(ch.Diff))
	}
}
