package views

import (
	"math"
	"strconv"
	"time"

	"portpanel/db"
)

// The history chart is plain geometry computed here and drawn by
// history.templ, so the math can be tested without parsing SVG.

// Chart canvas in SVG user units; the SVG scales to its container.
const (
	chartW      = 960
	chartH      = 280
	chartLeft   = 64 // room for port labels
	chartRight  = 24 // room for the last time label
	chartTop    = 12
	chartBottom = 32 // room for time labels
	maxYTicks   = 6
	maxXTicks   = 8
)

// linear maps the domain [d0, d1] onto the range [r0, r1].
type linear struct{ d0, d1, r0, r1 float64 }

func (s linear) at(v float64) float64 {
	if s.d1 == s.d0 {
		return (s.r0 + s.r1) / 2
	}
	return s.r0 + (v-s.d0)/(s.d1-s.d0)*(s.r1-s.r0)
}

// niceStep is the 1, 2 or 5 × 10ⁿ step that cuts span into at most n parts.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n < 1 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

// niceTicks returns round tick values covering [lo, hi] with at most about n
// intervals; the first and last tick are the axis bounds.
func niceTicks(lo, hi float64, n int) []float64 {
	if hi < lo {
		lo, hi = hi, lo
	}
	step := niceStep(hi-lo, n)
	if hi == lo {
		// A flat line still gets an axis around it.
		lo, hi = lo-step, hi+step
	}
	first := math.Floor(lo/step) * step
	last := math.Ceil(hi/step) * step
	var ticks []float64
	for v := first; v <= last+step/2; v += step {
		ticks = append(ticks, math.Round(v))
	}
	return ticks
}

// maxPort is the highest port; the y axis never goes past it.
const maxPort = 65535

// capTicks ends the axis at limit instead of a round number beyond it
// (65535 rather than 70000), replacing a tick too close to tell apart.
func capTicks(ticks []float64, limit float64) []float64 {
	if len(ticks) < 2 || ticks[len(ticks)-1] <= limit {
		return ticks
	}
	step := ticks[1] - ticks[0]
	var out []float64
	for _, t := range ticks {
		if t < limit {
			out = append(out, t)
		}
	}
	if n := len(out); n > 1 && limit-out[n-1] < step/3 {
		out = out[:n-1]
	}
	return append(out, limit)
}

// timeSteps are the spacings tried for the time axis, smallest first.
var timeSteps = []time.Duration{
	5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour,
}

// timeTicks returns instants in [from, to] on round UTC boundaries, about
// max of them (one more when both ends fall on a boundary), and the step.
func timeTicks(from, to time.Time, max int) ([]time.Time, time.Duration) {
	span := to.Sub(from)
	if span <= 0 {
		return nil, 0
	}
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if int(span/s) <= max {
			step = s
			break
		}
	}
	var out []time.Time
	t := from.UTC().Truncate(step)
	if t.Before(from) {
		t = t.Add(step)
	}
	for ; !t.After(to); t = t.Add(step) {
		out = append(out, t)
	}
	return out, step
}

// timeLabel labels a time tick: the hour within a day, the date at midnight
// or when ticks are days apart.
func timeLabel(t time.Time, step time.Duration) string {
	t = t.UTC()
	if step >= 24*time.Hour || (t.Hour() == 0 && t.Minute() == 0) {
		return t.Format("Jan 2")
	}
	return t.Format("15:04")
}

type tick struct {
	Pos   float64
	Label string
}

type point struct{ X, Y float64 }

// chartView is everything history.templ draws.
type chartView struct {
	Empty                    bool
	Left, Right, Top, Bottom float64
	YTicks, XTicks           []tick
	Low, High, Band          string // SVG path data
	Markers                  []chartMarker
	Changes                  int // changes the markers show
	Summary                  string
}

// segment is a value that holds from At until the next segment.
type segment struct {
	At        time.Time
	Low, High int
}

// segments turns samples (oldest first) into the step function over
// [from, to]: the last sample at or before from is clamped to from, later
// samples after to are ignored, and repeats of the same value are merged.
func segments(samples []db.Sample, from, to time.Time) []segment {
	var out []segment
	for _, s := range samples {
		if s.At.After(to) {
			break
		}
		at := s.At
		if at.Before(from) {
			at = from
		}
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.Low == s.Low && last.High == s.High {
				continue
			}
			if !at.After(last.At) {
				// Several samples at or before from: the latest wins.
				*last = segment{At: at, Low: s.Low, High: s.High}
				continue
			}
		}
		out = append(out, segment{At: at, Low: s.Low, High: s.High})
	}
	return out
}

// stepPoints are the vertices of one series' step line, as drawn: rounded
// to whole units, the pixel grid the SVG is drawn on, so that values a
// chart cannot tell apart (a port or two on a 30,000-port axis) make no
// vertices of their own.
func stepPoints(segs []segment, x func(time.Time) float64, y func(segment) float64, end float64) []point {
	pts := make([]point, 0, 2*len(segs)+1)
	for i, s := range segs {
		p := point{math.Round(x(s.At)), math.Round(y(s))}
		if i > 0 {
			pts = append(pts, point{p.X, pts[len(pts)-1].Y})
		}
		pts = append(pts, p)
	}
	if len(pts) > 0 {
		pts = append(pts, point{math.Round(end), pts[len(pts)-1].Y})
	}
	return compact(pts)
}

// compact drops repeated points and the inner points of horizontal and
// vertical runs, in place. A run that turns back (a spike drawn within
// one x) keeps its turning point.
func compact(pts []point) []point {
	between := func(a, b, c float64) bool { return (a <= b && b <= c) || (a >= b && b >= c) }
	out := pts[:0]
	for _, p := range pts {
		n := len(out)
		switch {
		case n > 0 && out[n-1] == p:
		case n > 1 && ((out[n-2].Y == out[n-1].Y && out[n-1].Y == p.Y && between(out[n-2].X, out[n-1].X, p.X)) ||
			(out[n-2].X == out[n-1].X && out[n-1].X == p.X && between(out[n-2].Y, out[n-1].Y, p.Y))):
			out[n-1] = p
		default:
			out = append(out, p)
		}
	}
	return out
}

func pathData(pts []point, closed bool) string {
	b := make([]byte, 0, 16*len(pts)+2)
	for i, p := range pts {
		if i == 0 {
			b = append(b, 'M')
		} else {
			b = append(b, " L"...)
		}
		b = appendNum(b, p.X)
		b = append(b, ' ')
		b = appendNum(b, p.Y)
	}
	if closed && len(pts) > 0 {
		b = append(b, " Z"...)
	}
	return string(b)
}

// num formats a coordinate compactly, to a tenth: 12.5, 40, -3.2.
func num(v float64) string {
	return string(appendNum(nil, v))
}

// appendNum appends num(v): path data is built in one buffer.
func appendNum(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, tenth(v), 'f', -1, 64)
}

// tenth rounds a coordinate to the tenth of a unit the charts draw to.
func tenth(v float64) float64 {
	return math.Round(v*10) / 10
}

// buildChart lays out the low and high step lines of samples over
// [from, to], with axes and a marker per change, linked to the change by
// links (sample ID → change ID, see changeLinks; may be nil).
func buildChart(samples []db.Sample, from, to time.Time, links map[int64]int64) chartView {
	v := chartView{
		Left: chartLeft, Right: chartW - chartRight,
		Top: chartTop, Bottom: chartH - chartBottom,
	}
	segs := segments(samples, from, to)
	if len(segs) == 0 || !to.After(from) {
		v.Empty = true
		return v
	}
	lo, hi := segs[0].Low, segs[0].High
	for _, s := range segs {
		lo, hi = min(lo, s.Low), max(hi, s.High)
	}
	yt := capTicks(niceTicks(float64(lo), float64(hi), maxYTicks), maxPort)
	ys := linear{yt[0], yt[len(yt)-1], v.Bottom, v.Top}
	xs := linear{0, float64(to.Sub(from)), v.Left, v.Right}
	x := func(t time.Time) float64 { return xs.at(float64(t.Sub(from))) }

	for _, t := range yt {
		v.YTicks = append(v.YTicks, tick{ys.at(t), strconv.Itoa(int(t))})
	}
	tt, step := timeTicks(from, to, maxXTicks)
	for _, t := range tt {
		v.XTicks = append(v.XTicks, tick{x(t), timeLabel(t, step)})
	}

	// A column of the plot per unit of its width: the SVG is drawn about
	// as many pixels wide as it has units.
	columns := int(v.Right - v.Left)
	line := func(y func(segment) float64) []point {
		return compact(thin(stepPoints(segs, x, y, v.Right), v.Left, v.Right, columns))
	}
	low := line(func(s segment) float64 { return ys.at(float64(s.Low)) })
	high := line(func(s segment) float64 { return ys.at(float64(s.High)) })
	v.Low, v.High = pathData(low, false), pathData(high, false)
	band := append([]point{}, high...)
	for i := len(low) - 1; i >= 0; i-- {
		band = append(band, low[i])
	}
	v.Band = pathData(band, true)

	v.Markers, v.Changes = changeMarkers(samples, from, to, x, links)
	first, last := segs[0], segs[len(segs)-1]
	v.Summary = "Port range " + rangeText(first.Low, first.High) + " at the start, " +
		rangeText(last.Low, last.High) + " at the end, " + plural(v.Changes, "change") + " in between."
	return v
}
