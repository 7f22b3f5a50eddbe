package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/db"
	"portpanel/views"
)

const samplesPerPage = 50

var windows = map[string]time.Duration{
	"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour,
}

// hourlyFrom is the shortest window the usage chart draws from hourly
// aggregates; shorter ones use the raw samples.
const hourlyFrom = 7 * 24 * time.Hour

// changeLinkLookback is how long before the window a change may have been
// created (proposed) and still take effect inside it: the charts link
// each change marker to its change among those created since.
const changeLinkLookback = 30 * 24 * time.Hour

// History charts the range over a window and lists samples newest first.
// Both parts are rendered once per database version (versionCache): the
// charts for a column of their plot (views.ChartColumn: 4 s of the 1-hour
// window, 12 min of the 7-day one), the samples, whose times are shown
// relative to now, for a second. So the charts may end up to a column
// before now, never missing anything recorded since.
func (h *Handlers) History(c echo.Context) error {
	before, err := cursor(c)
	if err != nil {
		return err
	}
	window := c.QueryParam("window")
	span, ok := windows[window]
	if !ok {
		window, span = "7d", windows["7d"]
	}
	ch, err := h.chrome(c, "History", "history")
	if err != nil {
		return err
	}
	now := ch.Now.UTC()
	charts, err := keep(h, c, &h.memo.historyCharts, window, now.UnixNano()/int64(views.ChartColumn(span)),
		func(ctx context.Context) (views.Prerendered, error) { return h.historyCharts(ctx, window, span, now) })
	if err != nil {
		return err
	}
	samples, err := keep(h, c, &h.memo.historySamples, historySamplesKey{window, before}, now.Unix(),
		func(ctx context.Context) (views.Prerendered, error) {
			return h.historySamples(ctx, window, before, now)
		})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Framed(ch, charts, samples))
}

// historySamplesKey is what the page of samples shows besides the data.
type historySamplesKey struct {
	window string // its older link keeps the window
	before int64
}

// historyCharts renders the window switcher and the charts of the span
// up to now.
func (h *Handlers) historyCharts(ctx context.Context, window string, span time.Duration, now time.Time) (views.Prerendered, error) {
	from := now.Add(-span)
	chart, err := h.DB.SamplesSince(ctx, from)
	if err != nil {
		return views.Prerendered{}, err
	}
	use, err := h.usagePoints(ctx, from, span >= hourlyFrom)
	if err != nil {
		return views.Prerendered{}, err
	}
	// Only the columns marker linking needs, of the changes that could
	// link: the newest 1,000 of the window plus lookback that set a range
	// the window's change samples recorded, however long the history.
	changes, err := h.DB.ChangeMarks(ctx, from.Add(-changeLinkLookback), changeRanges(chart, from), 1000)
	if err != nil {
		return views.Prerendered{}, err
	}
	return views.Prerender(ctx, views.HistoryCharts(views.HistoryPage{
		Chart: chart, ChartFrom: from, ChartTo: now, Window: window, Usage: use, Changes: changes, Risk: h.viewRisk(),
	}))
}

// historySamples renders a page of samples, their times seen from now.
func (h *Handlers) historySamples(ctx context.Context, window string, before int64, now time.Time) (views.Prerendered, error) {
	list, err := h.DB.Samples(ctx, samplesPerPage, before)
	if err != nil {
		return views.Prerendered{}, err
	}
	return views.Prerender(ctx, views.HistorySamples(views.HistoryPage{
		Chrome: views.Chrome{Now: now}, Window: window, Samples: list,
		Next: nextCursor(len(list), samplesPerPage, func(i int) int64 { return list[i].ID }),
	}))
}

// changeRanges are the ranges that samples of source "change" after from
// recorded, each once: a marker links to a change that set its range.
func changeRanges(samples []db.Sample, from time.Time) [][2]int {
	var out [][2]int
	seen := map[[2]int]bool{}
	for _, s := range samples {
		r := [2]int{s.Low, s.High}
		if s.Source == db.SourceChange && s.At.After(from) && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// usagePoints are the usage chart's points from from on, oldest first.
// With hourly, the hours already folded come from the hourly aggregates
// and the rest (the current hour, and any hour the background prune has
// not folded yet) from the raw samples after the last folded hour; raw
// samples outlive their hour's folding, so starting after it counts none
// twice.
func (h *Handlers) usagePoints(ctx context.Context, from time.Time, hourly bool) ([]db.UsagePoint, error) {
	if !hourly {
		return h.DB.UsageSince(ctx, from, false)
	}
	hours, err := h.DB.UsageSince(ctx, from, true)
	if err != nil {
		return nil, err
	}
	rawFrom := from
	if n := len(hours); n > 0 {
		if end := hours[n-1].At.Add(time.Hour); end.After(rawFrom) {
			rawFrom = end
		}
	}
	raw, err := h.DB.UsageSince(ctx, rawFrom, false)
	if err != nil {
		return nil, err
	}
	return append(hours, raw...), nil
}
