package views_test

import (
	"strings"

	"github.com/PuerkitoBio/goquery"
	"testing"

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
	markers := svg.Find(testid("marker"))
	if markers.Length() != 3 {
		t.Fatalf("markers = %d, want 3 (two changes, one external)", markers.Length())
	}
	if n := svg.Find(".marker-change").Length(); n != 2 {
		t.Errorf("change markers = %d, want 2", n)
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
	if doc.Find(".legend .key").Length() != 4 {
		t.Error("legend incomplete")
	}
}

func TestHistoryWindows(t *testing.T) {
	doc, _ := render(t, views.History(history()))
	cur := doc.Find(`.segmented a[aria-current="page"]`)
	if h, _ := cur.Attr("href"); h != "/history?window=24h" {
		t.Errorf("current window = %q", h)
	}
	if doc.Find(`.segmented a`).Length() != 3 {
		t.Error("want 3 window links")
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
	if got, want := strings.Join(cells, " | "), "14:02 UTC · 3 min ago | 32768 | 60999 | 28,232 | ● change"; got != want {
		t.Errorf("newest row = %q, want %q", got, want)
	}
}

func TestHistoryEmpty(t *testing.T) {
	p := history()
	p.Chart, p.Samples, p.Next = nil, nil, 0
	doc, _ := render(t, views.History(p))
	if doc.Find("svg").Length() != 0 {
		t.Error("chart drawn without samples")
	}
	for _, id := range []string{"chart-empty", "samples-empty"} {
		if doc.Find(testid(id)).Length() != 1 {
			t.Errorf("no %s", id)
		}
	}
}
