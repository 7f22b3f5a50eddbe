package views

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"portpanel/db"
)

// Changes closer than a marker's hover area share one marker, a group
// spans at most that, and every change keeps its line and its place in
// the count; the tooltip lists the newest and the link opens the newest
// change made in portpanel.
func TestChangeMarkersGroupCloseChanges(t *testing.T) {
	from := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(30 * 24 * time.Hour)
	x := func(at time.Time) float64 { return 64 + 872*float64(at.Sub(from))/float64(to.Sub(from)) }
	var samples []db.Sample
	links := map[int64]int64{}
	add := func(at time.Time, source string, change int64) {
		id := int64(len(samples) + 1)
		samples = append(samples, db.Sample{ID: id, At: at, Low: 30000 + int(id), High: 60999, Source: source})
		if change != 0 {
			links[id] = change
		}
	}
	// Day 2: one lone change. Days 10-12: a change every hour, every
	// third noticed outside portpanel. Day 20: two changes 3 h apart.
	add(from.Add(48*time.Hour), db.SourceChange, 7)
	for h := range 72 {
		at := from.Add(10*24*time.Hour + time.Duration(h)*time.Hour)
		if h%3 == 2 {
			add(at, db.SourceExternal, 0)
		} else {
			add(at, db.SourceChange, int64(100+h))
		}
	}
	add(from.Add(20*24*time.Hour), db.SourceChange, 0)
	add(from.Add(20*24*time.Hour+3*time.Hour), db.SourceChange, 0)
	add(from.Add(25*24*time.Hour), db.SourceSample, 0) // not a change

	ms, n := changeMarkers(samples, from, to, x, links)
	if n != 75 {
		t.Errorf("changes counted = %d, want 75", n)
	}
	lines := 0
	for i, m := range ms {
		xs := append(append([]float64{}, m.ChangeXs...), m.ExternalXs...)
		lines += len(xs)
		for _, v := range xs {
			if v < m.Left || v > m.Left+m.Width {
				t.Errorf("marker %d: line at %.1f outside its area [%.1f, %.1f]", i, v, m.Left, m.Left+m.Width)
			}
		}
		if m.Width > 2*markerReach {
			t.Errorf("marker %d spans %.1f, want at most %v", i, m.Width, 2*markerReach)
		}
		if i > 0 && m.Left-ms[i-1].Left < markerReach {
			t.Errorf("marker %d's first change is within reach of marker %d's", i, i-1)
		}
	}
	if lines != 75 {
		t.Errorf("visible lines = %d, want one per change (75)", lines)
	}
	// 72 hourly changes over 3 days of a 30-day chart: 87 units, so 8
	// groups of at most 12 units, plus the lone change and the pair.
	if len(ms) < 9 || len(ms) > 12 {
		t.Errorf("markers = %d, want about 10", len(ms))
	}

	lone := ms[0]
	if lone.Title != "2026-07-03 00:00 UTC: changed in portpanel to 30001 – 60999" || lone.Href != "/changes/7" || fmt.Sprint(lone.ChangeXs) != "[122]" || lone.ExternalXs != nil {
		t.Errorf("lone marker = %+v", lone)
	}
	pair := ms[len(ms)-1]
	if len(pair.ChangeXs) != 2 || pair.Href != "" || !strings.HasPrefix(pair.Title, "2 changes, 2026-07-21 00:00 to 03:00 UTC\n2026-07-21 00:00 UTC: ") {
		t.Errorf("pair marker = %+v", pair)
	}
	busy := ms[1]
	if len(busy.ChangeXs) == 0 || len(busy.ExternalXs) == 0 {
		t.Errorf("first busy marker = %+v, want changes of both sources", busy)
	}
	count := len(busy.ChangeXs) + len(busy.ExternalXs)
	if !strings.HasPrefix(busy.Title, fmt.Sprintf("%d changes, 2026-07-11 00:00 to ", count)) {
		t.Errorf("busy title = %q", busy.Title)
	}
	if got := strings.Count(busy.Title, "\n2026-07-11"); got != min(count, markerTitleLines) {
		t.Errorf("busy title lists %d changes, want %d", got, min(count, markerTitleLines))
	}
	if count > markerTitleLines && !strings.Contains(busy.Title, fmt.Sprintf("\nand %d more\n", count-markerTitleLines)) {
		t.Errorf("busy title does not say how many it left out: %q", busy.Title)
	}
	// The newest linked change of the group: its last change made in
	// portpanel (externals have no change).
	newest := int64(0)
	for h := range count {
		if h%3 != 2 {
			newest = int64(100 + h)
		}
	}
	if want := fmt.Sprintf("/changes/%d", newest); busy.Href != want || !strings.HasSuffix(busy.Title, fmt.Sprintf("change #%d.", newest)) {
		t.Errorf("busy marker links %q (title %q), want %s", busy.Href, busy.Title, want)
	}
}
