package views_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portpanel/views"
)

func TestDashboardUsage(t *testing.T) {
	doc, _ := render(t, views.Dashboard(dashboard()))
	u := doc.Find(testid("usage"))
	if u.Length() != 1 {
		t.Fatal("no usage section")
	}
	// Between the warnings and the change form.
	if u.NextAllFiltered(testid("change-form")).Length() != 0 || u.Next().Find(testid("change-form")).Length() != 1 {
		t.Error("usage section is not right before the change form")
	}
	for id, want := range map[string]string{
		"usage-risk-value": "72%",
		"usage-busiest":    "10.0.0.5:443 from 10.0.0.1 · 20,304 sockets",
		"usage-capacity":   "28,200 ports of 28,232 in the range, less 20 reserved and 12 held by bind()",
		"usage-rate":       "≈ 470 new connections/s to any one destination",
		"usage-shared":     "3.1% of the ports",
		"usage-at":         "as of 14:04 UTC · just now",
		"usage-tcp-total":  "21,800",
		"usage-in-range":   "21,500",
	} {
		if got := text(doc.Find(testid(id))); !strings.HasPrefix(got, want) {
			t.Errorf("%s = %q, want it to start with %q", id, got, want)
		}
	}
	if ts, _ := doc.Find(testid("usage-at") + " .rel").Attr("data-ts"); ts != "2026-07-14T14:04:40Z" {
		t.Errorf("relative time data-ts = %q (app.js keeps it current)", ts)
	}
	risk := doc.Find(testid("usage-risk"))
	if lvl, _ := risk.Attr("data-level"); lvl != "warning" {
		t.Errorf("level = %q, want warning", lvl)
	}
	if got := text(risk.Find(testid("level")).First()); got != "⚠ Warning" {
		t.Errorf("level pill = %q", got)
	}
	g := doc.Find(testid("usage-gauge"))
	if w, _ := g.Find(testid("usage-gauge-fill")).Attr("width"); w != "288" {
		t.Errorf("gauge fill width = %q, want 288 (72%% of 400)", w)
	}
	if l, _ := g.Attr("aria-label"); l != "The busiest destination uses 72% of capacity (warning); warning from 70%, critical from 90%." {
		t.Errorf("gauge label = %q", l)
	}
	if got := texts(g.Find("text")); got != "0% 70% 90%" {
		t.Errorf("gauge scale = %q", got)
	}

	var states []string
	doc.Find(testid("usage-states") + " " + testid("state-row")).Each(func(_ int, r *goquery.Selection) {
		states = append(states, texts(r.Children()))
	})
	if got, want := strings.Join(states, " | "), "TCP ESTABLISHED 6,400 | TCP TIME_WAIT 15,000 | TCP SYN_SENT 388 | TCP LISTEN 12 | UDP 40"; got != want {
		t.Errorf("states = %q, want %q", got, want)
	}

	rows := doc.Find(testid("usage-destinations") + " " + testid("destination-row"))
	if rows.Length() != 3 {
		t.Fatalf("destination rows = %d, want 3", rows.Length())
	}
	var cells []string
	rows.First().Children().Each(func(_ int, c *goquery.Selection) { cells = append(cells, text(c)) })
	if got, want := strings.Join(cells, " | "), "10.0.0.5:443 | 10.0.0.1 | 20,304 | 72% | ⚠ Warning"; got != want {
		t.Errorf("busiest row = %q, want %q", got, want)
	}
	if got := text(rows.Eq(1).Find(testid("level"))); got != "✓ OK" {
		t.Errorf("second row level = %q", got)
	}
	m := rows.First().Find("meter")
	for attr, want := range map[string]string{"value": "0.72", "low": "0.7", "high": "0.9", "optimum": "0"} {
		if got, _ := m.Attr(attr); got != want {
			t.Errorf("meter %s = %q, want %q", attr, got, want)
		}
	}
}

func TestDashboardUsageLevels(t *testing.T) {
	for _, tt := range []struct {
		risk         float64
		t            views.RiskThresholds
		value, level string
		pill         string
		width        string // of the gauge's fill, of 400
	}{
		{0, risk, "0%", "ok", "✓ OK", "0"},
		{0.6999, risk, "69.9%", "ok", "✓ OK", "280"},
		{0.7, risk, "70%", "warning", "⚠ Warning", "280"},
		{0.8999, risk, "89.9%", "warning", "⚠ Warning", "360"},
		{0.9, risk, "90%", "critical", "✗ Critical", "360"},
		{1, risk, "100%", "critical", "✗ Critical", "400"},
		{0.55, views.RiskThresholds{Warning: 0.5, Critical: 0.8}, "55%", "warning", "⚠ Warning", "220"},
		{0.95, views.RiskThresholds{}, "95%", "ok", "✓ OK", "380"}, // thresholds off
	} {
		t.Run(tt.value, func(t *testing.T) {
			p := dashboard()
			p.Risk = tt.t
			p.Usage.BusiestRisk, p.Usage.Destinations[0].Risk = tt.risk, tt.risk
			doc, _ := render(t, views.Dashboard(p))
			r := doc.Find(testid("usage-risk"))
			if got := text(r.Find(testid("usage-risk-value"))); got != tt.value {
				t.Errorf("value = %q, want %q", got, tt.value)
			}
			if lvl, _ := r.Attr("data-level"); lvl != tt.level {
				t.Errorf("level = %q, want %q", lvl, tt.level)
			}
			if !r.Find(testid("usage-risk-value")).HasClass("risk-" + tt.level) {
				t.Error("value not styled by level")
			}
			if got := text(r.Find(testid("level"))); got != tt.pill {
				t.Errorf("pill = %q, want %q (text and icon, not colour alone)", got, tt.pill)
			}
			if got := text(doc.Find(testid("destination-row")).First().Find(testid("level"))); got != tt.pill {
				t.Errorf("row pill = %q, want %q", got, tt.pill)
			}
			if w, _ := r.Find(testid("usage-gauge-fill")).Attr("width"); w != tt.width {
				t.Errorf("gauge width = %q, want %s", w, tt.width)
			}
		})
	}
}

func TestDashboardUsageEmpty(t *testing.T) {
	p := dashboard()
	p.Usage = nil
	doc, _ := render(t, views.Dashboard(p))
	if doc.Find(testid("usage")).Length() != 1 {
		t.Fatal("the usage section should stay, with its empty state")
	}
	if got := text(doc.Find(testid("usage-empty"))); !strings.HasPrefix(got, "No usage sample yet.") {
		t.Errorf("empty state = %q", got)
	}
	for _, id := range []string{"usage-risk", "usage-states", "usage-destinations", "usage-at"} {
		if doc.Find(testid(id)).Length() != 0 {
			t.Errorf("%s shown without a sample", id)
		}
	}
}

func TestDashboardUsageWithoutDestinations(t *testing.T) {
	p := dashboard()
	p.Usage.Destinations, p.Usage.BusiestDestination, p.Usage.BusiestSockets, p.Usage.BusiestRisk = nil, "", 0, 0
	doc, _ := render(t, views.Dashboard(p))
	if got := text(doc.Find(testid("usage-busiest"))); !strings.HasPrefix(got, "none") {
		t.Errorf("busiest = %q", got)
	}
	if got := text(doc.Find(testid("usage-destinations"))); got != "No outgoing TCP connection uses a port in the range." {
		t.Errorf("destinations = %q", got)
	}
	if got := text(doc.Find(testid("usage-risk-value"))); got != "0%" {
		t.Errorf("risk = %q", got)
	}
}

// texts is the text of each element of s, separated by spaces.
func texts(s *goquery.Selection) string {
	var out []string
	s.Each(func(_ int, e *goquery.Selection) { out = append(out, text(e)) })
	return strings.Join(out, " ")
}

func TestDashboardUsageCapacityNote(t *testing.T) {
	for _, tt := range []struct {
		capacity, bound int
		want            string
	}{
		{28232, 0, "28,232 ports of 28,232 in the range, none reserved or held by bind()"},
		{28212, 0, "28,212 ports of 28,232 in the range, less 20 reserved"},
		{28220, 12, "28,220 ports of 28,232 in the range, less 12 held by bind()"},
		{0, 12, "0 ports of 28,232 in the range: reserved and bind()-held ports take all of it"},
	} {
		p := dashboard()
		p.Usage.Capacity, p.Usage.Bound = tt.capacity, tt.bound
		doc, _ := render(t, views.Dashboard(p))
		if got := text(doc.Find(testid("usage-capacity"))); got != tt.want {
			t.Errorf("capacity = %q, want %q", got, tt.want)
		}
	}
}
