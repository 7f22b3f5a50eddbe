package views

import (
	"cmp"
	"slices"
	"time"

	"portpanel/db"
)

// Change markers are shared by the range chart and the usage chart: a
// vertical line at every sample of source "change" (written when a change
// made in portpanel took effect) or "external" (a change the sampler
// noticed), with a tooltip and, for a change, a link to it.

// chartMarker is a vertical line at a change, with its tooltip and link.
type chartMarker struct {
	X     float64
	Class string
	Title string
	Href  string // "/changes/12", or "" when the change is not known
}

// changeMarkers returns a marker for every change and external sample in
// (from, to], placed by x. links maps a sample ID to the change behind it
// (see changeLinks); it may be nil.
func changeMarkers(samples []db.Sample, from, to time.Time, x func(time.Time) float64, links map[int64]int64) []chartMarker {
	var out []chartMarker
	for _, s := range samples {
		if !s.At.After(from) || s.At.After(to) {
			continue
		}
		var what string
		switch s.Source {
		case db.SourceChange:
			what = "changed in portpanel to "
		case db.SourceExternal:
			what = "changed outside portpanel to "
		default:
			continue
		}
		m := chartMarker{
			X:     x(s.At),
			Class: "marker marker-" + s.Source,
			Title: s.At.UTC().Format("2006-01-02 15:04 UTC") + ": " + what + rangeText(s.Low, s.High),
		}
		if id, ok := links[s.ID]; ok && s.Source == db.SourceChange {
			m.Href = changeURL(id)
		}
		out = append(out, m)
	}
	return out
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
func changeLinks(samples []db.Sample, changes []db.Change) map[int64]int64 {
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
