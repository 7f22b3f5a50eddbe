package views

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"portpanel/db"
)

// The usage chart is two plots over the history window sharing the time
// axis and the change markers: ports (range size, capacity, in use,
// TIME_WAIT) and the busiest destination's share of capacity in percent
// with the warning and critical thresholds. Laid out here, drawn by
// usage_chart.templ.

const (
	portsH        = 240
	shareH        = 180
	maxPlotPoints = 240 // about one per 4 user units of width
	// maxTableRows bounds the chart's data table: a table is read, not
	// scanned like a line, and 240 rows were 38 kB of a 30-day page.
	// Longer windows show coarser rows, each its bucket's peaks.
	maxTableRows = 60
)

// usageValue is one plotted point: a raw sample, an hourly aggregate, or
// several of them merged into one bucket of the time axis. Counts and the
// share are peaks (the maximum of what was merged); capacity is the lowest.
type usageValue struct {
	At       time.Time // where it is drawn
	From, To time.Time // the time it covers; equal for one raw sample
	Size     int       // range size
	Capacity int
	InUse    int
	TimeWait int
	Risk     float64
	N        int  // raw samples or hours merged in
	Hourly   bool // made of hourly aggregates
	// res is how far apart values like this one normally lie: an hour, a
	// bucket's width, or 0 for a raw sample (the sampler's interval, see
	// rawStep).
	res time.Duration
}

// plotSeries is one line of a plot.
type plotSeries struct{ Class, TestID, D string }

// plotLine is a labelled horizontal threshold.
type plotLine struct {
	Y            float64
	Class, Label string
}

// plotView is one SVG of the usage chart.
type plotView struct {
	ID                       string // prefix of the SVG's title and desc ids
	H                        int
	Left, Right, Top, Bottom float64
	YTicks, XTicks           []tick
	Series                   []plotSeries
	Lines                    []plotLine
	Markers                  []chartMarker
	Title, Summary           string
}

// usageChartView is everything usage_chart.templ draws.
type usageChartView struct {
	Empty        bool
	Ports, Share plotView
	Points       int          // values plotted
	Values       []usageValue // for the data table, oldest first: the plotted ones, merged to maxTableRows
}

// usageValues turns points into plotted values within [from, to], oldest
// first. An hourly aggregate is drawn at the middle of its hour (clamped
// to the window); more than maxPlotPoints values are merged into equal
// time buckets, keeping peaks, so the SVG stays small.
func usageValues(points []db.UsagePoint, from, to time.Time) []usageValue {
	out := make([]usageValue, 0, len(points))
	for _, p := range points {
		v := usageValue{At: p.At, From: p.At, To: p.At, Size: p.RangeHigh - p.RangeLow + 1, Capacity: p.Capacity,
			InUse: p.InUseMax, TimeWait: p.TimeWaitMax, Risk: p.BusiestRisk, N: 1, Hourly: p.Hourly}
		if p.Hourly {
			v.To, v.At, v.res = p.At.Add(time.Hour), p.At.Add(30*time.Minute), time.Hour
			if !v.To.After(from) {
				continue
			}
		}
		if v.To.Before(from) || v.From.After(to) {
			continue
		}
		v.At = clampTime(v.At, from, to)
		out = append(out, v)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return buckets(out, from, to, maxPlotPoints)
}

// buckets merges vs (oldest first) into at most n equal time buckets of
// [from, to], each drawn at its middle, keeping peaks (see usageValue);
// no more than n values are returned as they are.
func buckets(out []usageValue, from, to time.Time, n int) []usageValue {
	if len(out) <= n {
		return out
	}
	width := to.Sub(from) / time.Duration(n)
	if width <= 0 {
		return out
	}
	merged := make([]usageValue, 0, n)
	for _, v := range out {
		b := min(int(v.At.Sub(from)/width), n-1)
		start := from.Add(time.Duration(b) * width)
		if n := len(merged); n > 0 && merged[n-1].At.Equal(start.Add(width/2)) {
			m := &merged[n-1]
			if v.From.Before(m.From) {
				m.From = v.From
			}
			if v.To.After(m.To) {
				m.To = v.To
			}
			m.Size, m.Capacity = v.Size, min(m.Capacity, v.Capacity)
			m.InUse, m.TimeWait, m.Risk = max(m.InUse, v.InUse), max(m.TimeWait, v.TimeWait), max(m.Risk, v.Risk)
			m.N += v.N
			m.Hourly = m.Hourly || v.Hourly
			continue
		}
		v.At, v.res = start.Add(width/2), max(v.res, width)
		merged = append(merged, v)
	}
	return merged
}

// resolution is how far apart values of v's kind normally lie.
func (v usageValue) resolution(rawStep time.Duration) time.Duration {
	if v.res > 0 {
		return v.res
	}
	return rawStep
}

// rawStep is the median interval between consecutive raw samples: the
// sampler's interval as the data shows it.
func rawStep(vs []usageValue) time.Duration {
	var steps []time.Duration
	for i := 1; i < len(vs); i++ {
		if vs[i].res == 0 && vs[i-1].res == 0 {
			steps = append(steps, vs[i].At.Sub(vs[i-1].At))
		}
	}
	if len(steps) == 0 {
		return 0
	}
	slices.Sort(steps)
	return steps[len(steps)/2]
}

// linePath draws a line through vs, broken where values lie more than
// three times their resolution apart (the sampler was not running); a
// lone value is a zero-length segment, which a round cap shows as a dot.
// With steps, each value holds until the next (for the range and the
// capacity, which change at once rather than gradually).
func linePath(vs []usageValue, x func(time.Time) float64, y func(usageValue) float64, minGap time.Duration, steps bool) string {
	step := rawStep(vs)
	b := make([]byte, 0, 20*len(vs))
	// rounded is what num would print for v; two values print the same
	// exactly when their rounded values and signs are equal.
	rounded := func(v float64) float64 { return math.Round(v*10) / 10 }
	same := func(a, b float64) bool { return a == b && math.Signbit(a) == math.Signbit(b) }
	for i, v := range vs {
		// x to the whole unit (pixel column) a value falls in; y to a tenth.
		px, py := math.Round(x(v.At)), y(v)
		gap := i > 0 && v.At.Sub(vs[i-1].At) > max(3*max(v.resolution(step), vs[i-1].resolution(step)), minGap)
		lone := (i == 0 || gap) && (i == len(vs)-1 || vs[i+1].At.Sub(v.At) > max(3*max(v.resolution(step), vs[i+1].resolution(step)), minGap))
		switch {
		case i == 0 || gap:
			if len(b) > 0 {
				b = append(b, ' ')
			}
			b = append(b, 'M')
			b = appendPoint(b, px, py)
			if lone {
				b = append(b, " h0"...)
			}
		default:
			if prev := y(vs[i-1]); steps && !same(rounded(prev), rounded(py)) {
				b = append(b, " L"...)
				b = appendPoint(b, px, prev)
			}
			b = append(b, " L"...)
			b = appendPoint(b, px, py)
		}
	}
	return string(b)
}

// appendPoint appends "X Y" as num writes them.
func appendPoint(b []byte, x, y float64) []byte {
	b = appendNum(b, x)
	b = append(b, ' ')
	return appendNum(b, y)
}

// buildUsageChart lays out points over [from, to] with the range chart's
// change markers: its plots share that chart's time axis, so its markers
// stand at the same x here, and are not worked out twice.
func buildUsageChart(points []db.UsagePoint, rangeChart chartView, from, to time.Time, risk RiskThresholds) usageChartView {
	vs := usageValues(points, from, to)
	if len(vs) == 0 || !to.After(from) {
		return usageChartView{Empty: true}
	}
	frame := func(id string, h int) plotView {
		return plotView{ID: id, H: h, Left: chartLeft, Right: chartW - chartRight, Top: chartTop, Bottom: float64(h) - chartBottom}
	}
	ports, share := frame("usage-ports", portsH), frame("usage-share", shareH)
	xs := linear{0, float64(to.Sub(from)), ports.Left, ports.Right}
	x := func(t time.Time) float64 { return xs.at(float64(t.Sub(from))) }
	tt, step := timeTicks(from, to, maxXTicks)
	for _, t := range tt {
		ports.XTicks = append(ports.XTicks, tick{x(t), timeLabel(t, step)})
	}
	share.XTicks = ports.XTicks
	ports.Markers, share.Markers = rangeChart.Markers, rangeChart.Markers
	changeCount := rangeChart.Changes
	minGap := to.Sub(from) / 100

	top := 10
	for _, v := range vs {
		top = max(top, v.Size, v.Capacity, v.InUse, v.TimeWait)
	}
	yt := niceTicks(0, float64(top), 5)
	ys := linear{0, yt[len(yt)-1], ports.Bottom, ports.Top}
	for _, t := range yt {
		ports.YTicks = append(ports.YTicks, tick{ys.at(t), thousands(int(t))})
	}
	line := func(f func(usageValue) int, steps bool) string {
		return linePath(vs, x, func(v usageValue) float64 { return ys.at(float64(f(v))) }, minGap, steps)
	}
	ports.Series = []plotSeries{
		{"series series-size", "series-size", line(func(v usageValue) int { return v.Size }, true)},
		{"series series-capacity", "series-capacity", line(func(v usageValue) int { return v.Capacity }, true)},
		{"series series-timewait", "series-timewait", line(func(v usageValue) int { return v.TimeWait }, false)},
		{"series series-inuse", "series-inuse", line(func(v usageValue) int { return v.InUse }, false)},
	}

	ps := linear{0, 100, share.Bottom, share.Top}
	for _, t := range niceTicks(0, 100, 5) {
		share.YTicks = append(share.YTicks, tick{ps.at(t), strconv.Itoa(int(t)) + "%"})
	}
	if risk.Warning > 0 {
		share.Lines = append(share.Lines, plotLine{ps.at(clamp01(risk.Warning) * 100), "threshold threshold-warning", "⚠ warning " + percent(risk.Warning)})
	}
	if risk.Critical > 0 {
		share.Lines = append(share.Lines, plotLine{ps.at(clamp01(risk.Critical) * 100), "threshold threshold-critical", "✗ critical " + percent(risk.Critical)})
	}
	share.Series = []plotSeries{{"series series-share", "series-share",
		linePath(vs, x, func(v usageValue) float64 { return ps.at(clamp01(v.Risk) * 100) }, minGap, false)}}

	ports.Title = "Ports: range size, capacity, in use and TIME_WAIT"
	share.Title = "Busiest destination's share of capacity"
	ports.Summary, share.Summary = usageSummary(vs, changeCount, risk)
	return usageChartView{Ports: ports, Share: share, Points: len(vs), Values: buckets(vs, from, to, maxTableRows)}
}

// usageSummary describes both plots in words for screen readers.
func usageSummary(vs []usageValue, changes int, risk RiskThresholds) (ports, share string) {
	peak := func(f func(usageValue) int) (int, time.Time) {
		best := vs[0]
		for _, v := range vs {
			if f(v) > f(best) {
				best = v
			}
		}
		return f(best), best.At
	}
	last := vs[len(vs)-1]
	inUse, inUseAt := peak(func(v usageValue) int { return v.InUse })
	tw, _ := peak(func(v usageValue) int { return v.TimeWait })
	ports = strconv.Itoa(len(vs)) + " points. Capacity " + thousands(last.Capacity) + " of " + thousands(last.Size) +
		" ports at the end; sockets in use peaked at " + thousands(inUse) + " (" + inUseAt.UTC().Format("Jan 2 15:04 UTC") +
		"), TIME_WAIT at " + thousands(tw) + "; " + plural(changes, "change") + " in the window."
	best := vs[0]
	for _, v := range vs {
		if v.Risk > best.Risk {
			best = v
		}
	}
	share = "The busiest destination's share peaked at " + percent(best.Risk) + " (" + risk.Level(best.Risk) + ", " +
		best.At.UTC().Format("Jan 2 15:04 UTC") + ") and is " + percent(last.Risk) + " at the end" + thresholdText(risk) + "."
	return ports, share
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// valueTime labels a plotted value in the data table.
func valueTime(v usageValue) string {
	if v.From.Equal(v.To) {
		return v.From.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return v.From.UTC().Format("2006-01-02 15:04") + " – " + spanEnd(v.From, v.To) + ", peak"
}

// clampTime bounds t to [from, to].
func clampTime(t, from, to time.Time) time.Time {
	switch {
	case t.Before(from):
		return from
	case t.After(to):
		return to
	}
	return t
}
