package views

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"portpanel/db"
)

// Change markers are shared by the range chart and the usage chart: a
// vertical line at every sample of source "change" (written when a change
// made in portpanel took effect) or "external" (a change the sampler
// noticed), with a tooltip and, for a change, a link to it.

// chartMarker is one or more changes close together on a chart: a hover
// area with a tooltip, a visible line at each change, and a link to the
// (newest) change made in portpanel, if any.
type chartMarker struct {
	Title string
	// Brief is the title without the list of changes, for the usage
	// chart's plots: a group's changes are listed once, by the range
	// chart's marker at the same place (the charts share the time axis
	// and so group alike), which the usage chart's caption says.
	Brief string
	Href  string // "/changes/12", or "" when no change is known
	// Left and Width bound the hover area; the visible lines stand at
	// ChangeXs (made in portpanel) and ExternalXs (noticed by the
	// sampler), all in whole units: the pixel grid draws no finer.
	Left, Width          float64
	ChangeXs, ExternalXs []float64
}

// markerAt is a single change on the chart, before grouping.
type markerAt struct {
	X      float64
	At     time.Time
	Source string
	// Low and High are the range the change set; its line of a tooltip
	// (title) is written only for the changes a tooltip lists.
	Low, High int
	ChangeID  int64 // 0 when not known
}

// markerReach is the width of a marker's hover area, in chart units.
// Changes closer than that are one marker: the pointer could not tell
// them apart, and a busy host (a change an hour, 720 on a 30-day chart)
// drew 1,440 overlapping markers, 80% of the history page's 576 kB.
const markerReach = 12.0

// changeMarkers returns the markers for every change and external sample
// in (from, to], placed by x, and how many changes they show. links maps a
// sample ID to the change behind it (see changeLinks); it may be nil.
func changeMarkers(samples []db.Sample, from, to time.Time, x func(time.Time) float64, links map[int64]int64) ([]chartMarker, int) {
	var each []markerAt
	for _, s := range samples {
		if !s.At.After(from) || s.At.After(to) {
			continue
		}
		if s.Source != db.SourceChange && s.Source != db.SourceExternal {
			continue
		}
		m := markerAt{X: x(s.At), At: s.At, Source: s.Source, Low: s.Low, High: s.High}
		if id, ok := links[s.ID]; ok && s.Source == db.SourceChange {
			m.ChangeID = id
		}
		each = append(each, m)
	}
	return groupMarkers(each), len(each)
}

// title is the change's line of a tooltip.
func (m markerAt) title() string {
	what := "changed outside portpanel to "
	if m.Source == db.SourceChange {
		what = "changed in portpanel to "
	}
	return m.At.UTC().Format("2006-01-02 15:04 UTC") + ": " + what + rangeText(m.Low, m.High)
}

// markerTitleLines is how many changes a grouped marker's tooltip lists:
// a 30-day chart has about 70 groups of up to ten changes, drawn three
// times, and a tooltip is for a glance; the range chart's data and the
// changes list hold the rest.
const markerTitleLines = 3

// groupMarkers joins changes (in time order) that lie within markerReach
// of the first of their group into one marker. A group spans at most
// markerReach, so a steady stream of changes makes a row of markers, not
// one across the chart.
func groupMarkers(each []markerAt) []chartMarker {
	var out []chartMarker
	for i := 0; i < len(each); {
		j := i + 1
		for j < len(each) && each[j].X-each[i].X < markerReach {
			j++
		}
		out = append(out, newMarker(each[i:j]))
		i = j
	}
	return out
}

func newMarker(group []markerAt) chartMarker {
	first, last := group[0], group[len(group)-1]
	left := math.Round(first.X - markerReach/2)
	m := chartMarker{Left: left, Width: math.Round(last.X+markerReach/2) - left}
	var newest int64
	for _, g := range group {
		if x := math.Round(g.X); g.Source == db.SourceChange {
			m.ChangeXs = append(m.ChangeXs, x)
		} else {
			m.ExternalXs = append(m.ExternalXs, x)
		}
		if g.ChangeID != 0 {
			newest = g.ChangeID
		}
	}
	if newest != 0 {
		m.Href = changeURL(newest)
	}
	if len(group) == 1 {
		m.Title = first.title()
		m.Brief = m.Title
		return m
	}
	head := fmt.Sprintf("%d changes, %s to %s", len(group), first.At.UTC().Format("2006-01-02 15:04"), spanEnd(first.At, last.At))
	var link string
	if newest != 0 {
		link = fmt.Sprintf("\nThe link opens the newest made in portpanel, change #%d.", newest)
	}
	var b strings.Builder
	b.WriteString(head)
	shown := group[max(0, len(group)-markerTitleLines):]
	for _, g := range shown {
		b.WriteString("\n" + g.title())
	}
	if n := len(group) - len(shown); n > 0 {
		fmt.Fprintf(&b, "\nand %d more", n)
	}
	m.Title, m.Brief = b.String()+link, head+link
	return m
}

// markerLines is the visible lines of every marker, of changes made in
// portpanel or, with external, noticed outside, as one path's data over
// the unit height the markers' layer is scaled to (see markerLayer).
func markerLines(ms []chartMarker, external bool) string {
	var b []byte
	for _, m := range ms {
		xs := m.ChangeXs
		if external {
			xs = m.ExternalXs
		}
		for _, x := range xs {
			b = append(strconv.AppendInt(append(b, 'M'), int64(x), 10), " 0V1"...)
		}
	}
	return string(b)
}

// tookEffect is whether a change in this status once set the range.
func tookEffect(status string) bool {
	switch status {
	case db.StatusApplied, db.StatusConfirmed, db.StatusReverted:
		return true
	}
	return false
}

// changeLinks finds the change behind each sample of source "change".
// Samples do not record their change, but one is written at the moment a
// change takes effect, with the range it set. Its change set that range,
// took effect, and was created at or before the sample; among those the
// one whose last update is the sample's time (an applied change not yet
// confirmed or reverted) wins, else the one created last. Each change
// took effect once, so it links at most one sample; samples are matched
// newest first, so a range set twice links each time to its own change.
//
// The candidates are indexed by range, and by range and update time, each
// list in better's order, so a sample looks at its own range's changes
// from the newest created at or before it: comparing every sample with
// every change took a third of a 30-day history page's time (720 samples,
// 1,000 changes).
func changeLinks(samples []db.Sample, changes []db.ChangeMark) map[int64]int64 {
	type rangeKey struct{ low, high int }
	type exactKey struct {
		r  rangeKey
		at int64
	}
	byRange := map[rangeKey][]int{}
	byUpdate := map[exactKey][]int{}
	for i, c := range changes {
		if !tookEffect(c.Status) {
			continue
		}
		r := rangeKey{c.Low, c.High}
		byRange[r] = append(byRange[r], i)
		k := exactKey{r, c.UpdatedAt.UnixNano()}
		byUpdate[k] = append(byUpdate[k], i)
	}
	older := func(a, b int) int { // ascending by creation, then ID
		ca, cb := changes[a], changes[b]
		if c := ca.CreatedAt.Compare(cb.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(ca.ID, cb.ID)
	}
	for _, l := range byRange {
		slices.SortFunc(l, older)
	}
	for _, l := range byUpdate {
		slices.SortFunc(l, older)
	}
	links := map[int64]int64{}
	used := map[int64]bool{}
	// newest returns the last unused change in l created at or before at.
	newest := func(l []int, at time.Time) int {
		n, _ := slices.BinarySearchFunc(l, at, func(i int, at time.Time) int {
			if changes[i].CreatedAt.After(at) {
				return 1
			}
			return -1
		})
		for k := n - 1; k >= 0; k-- {
			if !used[changes[l[k]].ID] {
				return l[k]
			}
		}
		return -1
	}
	for i := len(samples) - 1; i >= 0; i-- {
		s := samples[i]
		if s.Source != db.SourceChange {
			continue
		}
		r := rangeKey{s.Low, s.High}
		best := newest(byUpdate[exactKey{r, s.At.UnixNano()}], s.At)
		if best < 0 {
			best = newest(byRange[r], s.At)
		}
		if best >= 0 {
			used[changes[best].ID] = true
			links[s.ID] = changes[best].ID
		}
	}
	return links
}

// svgRole is "group" when a marker links to a change (an image's content
// is hidden from screen readers, links included), else "img".
func svgRole(ms []chartMarker) string {
	for _, m := range ms {
		if m.Href != "" {
			return "group"
		}
	}
	return "img"
}
