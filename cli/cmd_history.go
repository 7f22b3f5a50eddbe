package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func historyCommand() *cobra.Command {
	var window string
	cmd := clientCommand(&cobra.Command{
		Use:   "history",
		Short: "the range over time, with a marker at every change",
		Long: `Lists the range samples of the window (taken at start, after every change and
whenever the sampler finds the range changed by hand) together with the changes
made in it, newest first. On a terminal wide enough it first draws the range's
size over the window, with a mark under each change.

--output json prints {"samples": [...], "changes": [...]}, each element as
GET /api/v1/history and GET /api/v1/changes give it. The API returns the
newest 50 samples; older ones are not shown.`,
		Example: `  portpanel history
  portpanel history --window 7d`,
		Args: args(),
	}, "read the history", func(ctx context.Context, c *apiClient, t *term, _ []string) error {
		span, err := parseSpan("window", window)
		if err != nil {
			return err
		}
		now := time.Now()
		from := now.Add(-span)
		var page struct {
			Samples []json.RawMessage `json:"samples"`
		}
		if _, err := c.get(ctx, "/api/v1/history", &page); err != nil {
			return err
		}
		var samples []apiSample
		var rawSamples []json.RawMessage
		for _, raw := range page.Samples {
			var s apiSample
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("read a sample: %w", err)
			}
			if !s.At.Before(from) {
				samples, rawSamples = append(samples, s), append(rawSamples, raw)
			}
		}
		q := url.Values{"from": {from.UTC().Format(time.RFC3339)}}
		changes, rawChanges, err := collect(ctx, c, "/api/v1/changes", "changes", q, 500, func(changeAnswer) bool { return true })
		if err != nil {
			return err
		}
		if t.json {
			return t.rawObject(map[string]any{"samples": nonNilRaw(rawSamples), "changes": nonNilRaw(rawChanges)})
		}
		if len(samples) == 0 && len(changes) == 0 {
			t.printf("Nothing in the last %s: no sample and no change.\n", window)
			return nil
		}
		if t.width >= 60 && len(samples) > 0 {
			t.printf("%s\n", chart(samples, changes, from, now, t.width-12))
		}
		printHistory(t, samples, changes)
		return nil
	})
	cmd.Flags().StringVar(&window, "window", "24h", "how far back: 90m, 24h, 7d")
	return cmd
}

// printHistory merges samples and changes into one table, newest first.
func printHistory(t *term, samples []apiSample, changes []changeAnswer) {
	type row struct {
		at    time.Time
		cells []string
	}
	var rows []row
	for _, s := range samples {
		r := apiRange{s.Low, s.High}
		rows = append(rows, row{s.At, []string{when(s.At), r.String(), count(r.size()), s.Source, ""}})
	}
	for _, ch := range changes {
		what := fmt.Sprintf("#%d %s by %s: %s", ch.ID, t.level(ch.Status), ch.User, oneLine(ch.Reason))
		rows = append(rows, row{ch.CreatedAt, []string{when(ch.CreatedAt), ch.Before.String() + " → " + ch.after().String(), "", "", what}})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].at.After(rows[j].at) })
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cells[i] = r.cells
	}
	t.table([]string{"AT", "RANGE", "SIZE", "SAMPLE", "CHANGE"}, cells)
}

// chart draws the range's size from from to now in cols columns, one
// block per column as high as the size then, and marks each change below.
func chart(samples []apiSample, changes []changeAnswer, from, now time.Time, cols int) string {
	const blocks = "▁▂▃▄▅▆▇█"
	// Oldest first; the size in a column is the last sample at or before it.
	sort.Slice(samples, func(i, j int) bool { return samples[i].At.Before(samples[j].At) })
	step := now.Sub(from) / time.Duration(cols)
	sizes := make([]int, cols)
	lo, hi := 1<<31, 0
	for c := range cols {
		end := from.Add(step * time.Duration(c+1))
		size := 0
		for _, s := range samples {
			if !s.At.Before(end) {
				break
			}
			size = s.High - s.Low + 1
		}
		sizes[c] = size
		if size > 0 {
			lo, hi = min(lo, size), max(hi, size)
		}
	}
	levels := []rune(blocks)
	var line, marks strings.Builder
	for _, size := range sizes {
		switch {
		case size == 0:
			line.WriteRune(' ')
		case hi == lo:
			line.WriteRune(levels[len(levels)-1])
		default:
			line.WriteRune(levels[(size-lo)*(len(levels)-1)/(hi-lo)])
		}
	}
	marked := make([]rune, cols)
	for i := range marked {
		marked[i] = ' '
	}
	for _, ch := range changes {
		if c := int(ch.CreatedAt.Sub(from) / step); c >= 0 && c < cols {
			marked[c] = '^'
		}
	}
	marks.WriteString(strings.TrimRight(string(marked), " "))
	axis := "-" + durationWords(now.Sub(from))
	return fmt.Sprintf("Range size over the last %s: %s to %s ports\n%8s  %s\n%8s  %s\n%8s  %s%s%s\n",
		durationWords(now.Sub(from)), count(lo), count(hi), "size", line.String(), "changes", marks.String(),
		"", axis, strings.Repeat(" ", max(1, cols-len(axis)-3)), "now")
}

func durationWords(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return strings.TrimSuffix(strings.TrimSuffix(d.Round(time.Minute).String(), "0s"), "0m")
}
