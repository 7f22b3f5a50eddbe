package views_test

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portpanel/db"
	"portpanel/views"
)

func TestHistoryChart(t *testing.T) {
	doc, _ := render(t, views.History(history()))
	svg := doc.Find(testid("history-chart") + " svg")
	if svg.Length() != 1 {
		t.Fatal("no chart")
	}
	for _, id := range []string{"series-low", "series-high"} {
		d, _ := svg.Find(testid(id)).Attr("d")
		if !strings.HasPrefix(d, "M") {
			t.Errorf("%s path = %q", id, d)
		}
	}
	markers := markerGroups(svg)
	if markers.Length() != 3 {
		t.Fatalf("markers = %d, want 3 (two changes, one external)", markers.Length())
	}
	// The visible lines, drawn once for the three plots.
	if d, _ := svg.Find("path#marker-changes").Attr("d"); strings.Count(d, "M") != 2 {
		t.Errorf("change lines = %q, want 2", d)
	}
	if d, _ := svg.Find("path#marker-externals.ext").Attr("d"); strings.Count(d, "M") != 1 {
		t.Errorf("external lines = %q, want 1", d)
	}
	if got := markers.Eq(1).Find("title").Text(); got != "2026-07-14 13:05 UTC: changed outside portpanel to 20000 – 65000" {
		t.Errorf("marker title = %q", got)
	}
	if svg.Find(".axis-y text").Length() < 3 || svg.Find(".axis-x text").Length() < 3 {
		t.Error("axes need labelled ticks")
	}
	if svg.Find("title").First().Text() != "Port range, last 24 hours" {
		t.Errorf("chart title = %q", svg.Find("title").First().Text())
	}
	if doc.Find(testid("history-chart")+" .legend .key").Length() != 4 {
		t.Error("legend incomplete")
	}
}

func TestHistoryWindows(t *testing.T) {
	doc, _ := render(t, views.History(history()))
	cur := doc.Find(`.segmented a[aria-current="page"]`)
	if h, _ := cur.Attr("href"); h != "/history?window=24h" {
		t.Errorf("current window = %q", h)
	}
	var windows []string
	doc.Find(`.segmented a`).Each(func(_ int, a *goquery.Selection) {
		h, _ := a.Attr("href")
		windows = append(windows, strings.TrimPrefix(h, "/history?window=")+" "+text(a))
	})
	if got, want := strings.Join(windows, ", "), "1h 1 hour, 24h 24 hours, 7d 7 days, 30d 30 days"; got != want {
		t.Errorf("window links = %q, want %q", got, want)
	}
	if h, _ := doc.Find(testid("older")).Attr("href"); h != "/history?window=24h&before=1" {
		t.Errorf("older = %q", h)
	}
}

func TestHistorySamples(t *testing.T) {
	doc, _ := render(t, views.History(history()))
	rows := doc.Find(testid("sample-row"))
	if rows.Length() != 5 {
		t.Fatalf("rows = %d, want 5", rows.Length())
	}
	var cells []string
	rows.First().Children().Each(func(_ int, c *goquery.Selection) { cells = append(cells, text(c)) })
	if got, want := strings.Join(cells, " | "), "14:02 UTC · 3 min ago | 32768 | 60999 | 28,232 | — | ● change"; got != want {
		t.Errorf("newest row = %q, want %q", got, want)
	}
}

func TestHistoryEmpty(t *testing.T) {
	p := history()
	p.Chart, p.Samples, p.Next, p.Usage = nil, nil, 0, nil
	doc, _ := render(t, views.History(p))
	if doc.Find("svg").Length() != 0 {
		t.Error("chart drawn without samples")
	}
	for _, id := range []string{"chart-empty", "samples-empty", "usage-chart-empty"} {
		if doc.Find(testid(id)).Length() != 1 {
			t.Errorf("no %s", id)
		}
	}
}

func TestHistoryUsageChart(t *testing.T) {
	doc, _ := render(t, views.History(history()))
	c := doc.Find(testid("usage-chart"))
	if c.Length() != 1 {
		t.Fatal("no usage chart")
	}
	ports, share := c.Find(testid("usage-ports")), c.Find(testid("usage-share"))
	if ports.Length() != 1 || share.Length() != 1 {
		t.Fatalf("plots: ports %d, share %d", ports.Length(), share.Length())
	}
	if n, _ := ports.Attr("data-points"); n != "134" {
		t.Errorf("points = %s, want 134 (raw points for 24 h)", n)
	}
	// The table merges the 134 plotted points into 60 buckets of 24
	// minutes; those in the sampler's two-hour gap have no row.
	if n := c.Find(testid("usage-data") + " tbody tr").Length(); n != 56 {
		t.Errorf("data table rows = %d, want 56", n)
	}
	for _, id := range []string{"series-size", "series-capacity", "series-inuse", "series-timewait"} {
		d, _ := ports.Find(testid(id)).Attr("d")
		if !strings.HasPrefix(d, "M") {
			t.Errorf("%s = %q", id, d)
		}
		// The sampler was down from 10 to 8 hours ago: the line breaks.
		if n := strings.Count(d, "M"); n != 2 {
			t.Errorf("%s has %d subpaths, want 2", id, n)
		}
	}
	if d, _ := share.Find(testid("series-share")).Attr("d"); !strings.HasPrefix(d, "M") {
		t.Errorf("share = %q", d)
	}
	for _, plot := range []*goquery.Selection{ports, share} {
		m := markerGroups(plot)
		if m.Length() != 3 {
			t.Fatalf("markers = %d, want 3 (two changes, one external)", m.Length())
		}
		var links []string
		m.Each(func(_ int, s *goquery.Selection) {
			h, _ := s.Attr("href")
			links = append(links, goquery.NodeName(s)+" "+h)
		})
		if got, want := strings.Join(links, ", "), "a /changes/2, g , a /changes/3"; got != want {
			t.Errorf("markers = %q, want %q", got, want)
		}
		if got := m.First().Find("title").Text(); got != "2026-07-14 12:05 UTC: changed in portpanel to 20000 – 60999" {
			t.Errorf("marker title = %q", got)
		}
		var uses []string
		plot.Find(testid("markers") + " > use").Each(func(_ int, u *goquery.Selection) {
			h, _ := u.Attr("href")
			uses = append(uses, h+"."+u.AttrOr("class", ""))
		})
		if got := strings.Join(uses, " "); got != "#marker-changes. #marker-externals.ext" {
			t.Errorf("plot draws its marker lines as %q, want the range chart's", got)
		}
		if role, _ := plot.Attr("role"); role != "group" {
			t.Errorf("role = %q: links inside role=img are hidden from screen readers", role)
		}
		if plot.Find(".axis-x text").Length() < 3 || plot.Find(".axis-y text").Length() < 3 {
			t.Error("axes need labelled ticks")
		}
		id, _ := plot.Attr("aria-labelledby")
		for _, ref := range strings.Fields(id) {
			if text(doc.Find("#"+ref)) == "" {
				t.Errorf("label #%s empty or missing", ref)
			}
		}
	}
	var thresholds []string
	share.Find(testid("threshold")).Each(func(_ int, s *goquery.Selection) { thresholds = append(thresholds, text(s)) })
	if got := strings.Join(thresholds, ", "); got != "⚠ warning 70%, ✗ critical 90%" {
		t.Errorf("thresholds = %q", got)
	}
	if got := texts(share.Find(".axis-y text")); got != "0% 20% 40% 60% 80% 100%" {
		t.Errorf("share axis = %q", got)
	}
	if got := text(ports.Find(".axis-y text").Last()); got != "50,000" {
		t.Errorf("ports axis top = %q", got)
	}
	if d := text(share.Find("desc")); !strings.Contains(d, "warning from 70%, critical from 90%") {
		t.Errorf("share summary = %q", d)
	}
	// The range chart links its change markers too.
	if h, _ := markerGroups(doc.Find(testid("history-chart"))).Last().Attr("href"); h != "/changes/3" {
		t.Errorf("range chart marker href = %q", h)
	}
}

func TestHistoryUsageHourly(t *testing.T) {
	for _, tt := range []struct {
		window string
		span   time.Duration
		points string
	}{
		{"7d", 7 * 24 * time.Hour, "174"},   // 168 hours and the current hour's 6 raw points
		{"30d", 30 * 24 * time.Hour, "240"}, // 720 hours merged into 240 buckets
	} {
		t.Run(tt.window, func(t *testing.T) {
			p := history()
			p.Window, p.ChartFrom, p.Usage = tt.window, now.Add(-tt.span), hourlyUsage(tt.span)
			doc, _ := render(t, views.History(p))
			svg := doc.Find(testid("usage-ports"))
			if n, _ := svg.Attr("data-points"); n != tt.points {
				t.Errorf("points = %s, want %s", n, tt.points)
			}
			if d, _ := svg.Find(testid("series-inuse")).Attr("d"); strings.Count(d, "M") != 1 {
				t.Errorf("in-use line is broken between hourly and raw points: %q", d)
			}
			if got := text(doc.Find("#usage-chart-h")); got != "Port usage, last "+map[string]string{"7d": "7 days", "30d": "30 days"}[tt.window] {
				t.Errorf("heading = %q", got)
			}
		})
	}
}

func TestHistoryOneHour(t *testing.T) {
	p := history()
	p.Window, p.ChartFrom = "1h", now.Add(-time.Hour)
	doc, _ := render(t, views.History(p))
	if h, _ := doc.Find(`.segmented a[aria-current="page"]`).Attr("href"); h != "/history?window=1h" {
		t.Errorf("current window = %q", h)
	}
	svg := doc.Find(testid("usage-ports"))
	if n, _ := svg.Attr("data-points"); n != "7" {
		t.Errorf("points = %s, want 7 (13:05 to 14:05 every 10 min)", n)
	}
	if got := texts(svg.Find(".axis-x text")); got != "13:10 13:20 13:30 13:40 13:50 14:00" {
		t.Errorf("time axis = %q", got)
	}
	if n := markerGroups(svg).Length(); n != 1 {
		t.Errorf("markers = %d, want 1 (the change 3 min ago)", n)
	}
}

func TestHistoryUsageEmpty(t *testing.T) {
	p := history()
	p.Usage = []db.UsagePoint{}
	doc, _ := render(t, views.History(p))
	if doc.Find(testid("usage-chart-empty")).Length() != 1 || doc.Find(testid("usage-ports")).Length() != 0 {
		t.Error("want the usage chart's empty state")
	}
	if doc.Find(testid("history-chart")+" svg").Length() != 1 {
		t.Error("the range chart should stay")
	}
}

// markerGroups are the change markers (links or groups) of a plot, not
// the lines they share.
func markerGroups(plot *goquery.Selection) *goquery.Selection {
	return plot.Find(testid("markers") + " > a, " + testid("markers") + " > g")
}

func TestHistorySampleReservedPorts(t *testing.T) {
	p := history()
	none, some := "", "5432,8080-8090"
	p.Samples[0].ReservedPorts, p.Samples[1].ReservedPorts = &some, &none
	doc, _ := render(t, views.History(p))
	rows := doc.Find(testid("sample-row"))
	for i, want := range []string{"5432,8080-8090", "none", "—"} {
		if got := text(rows.Eq(i).Children().Eq(4)); got != want {
			t.Errorf("row %d shows reserved ports %q, want %q", i, got, want)
		}
	}
}
