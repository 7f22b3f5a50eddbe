package views

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"portpanel/db"
)

func TestLinear(t *testing.T) {
	s := linear{0, 100, 200, 0} // y grows downwards in SVG
	for v, want := range map[float64]float64{0: 200, 50: 100, 100: 0, 25: 150} {
		if got := s.at(v); got != want {
			t.Errorf("at(%v) = %v, want %v", v, got, want)
		}
	}
	if got := (linear{5, 5, 0, 10}).at(5); got != 5 {
		t.Errorf("flat domain maps to the middle, got %v", got)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tt := range []struct {
		name   string
		lo, hi float64
		want   []float64
	}{
		{"default range", 32768, 60999, []float64{30000, 35000, 40000, 45000, 50000, 55000, 60000, 65000}},
		{"wide range", 1024, 65535, []float64{0, 20000, 40000, 60000, 80000}},
		{"narrow range", 40000, 40100, []float64{40000, 40020, 40040, 40060, 40080, 40100}},
		{"flat line gets room", 40000, 40000, []float64{39999, 40000, 40001}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := niceTicks(tt.lo, tt.hi, maxYTicks); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("niceTicks(%v, %v) = %v, want %v", tt.lo, tt.hi, got, tt.want)
			}
		})
	}
}

func TestCapTicks(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []float64
		want []float64
	}{
		{"below the limit unchanged", []float64{30000, 40000, 50000}, []float64{30000, 40000, 50000}},
		{"ends at 65535", []float64{40000, 50000, 60000, 70000}, []float64{40000, 50000, 60000, 65535}},
		{"drops a tick too close to the limit", []float64{55000, 60000, 65000, 70000}, []float64{55000, 60000, 65535}},
		{"wide range keeps round ticks apart from the limit", []float64{0, 20000, 40000, 60000, 80000}, []float64{0, 20000, 40000, 65535}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := capTicks(tt.in, maxPort); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("capTicks = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTimeTicks(t *testing.T) {
	to := time.Date(2026, 7, 14, 14, 5, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		span   time.Duration
		step   time.Duration
		first  string
		labels []string
	}{
		{"24 hours every 3 hours", 24 * time.Hour, 3 * time.Hour, "Jul 13 15:00", []string{"15:00", "18:00", "21:00", "Jul 14", "03:00", "06:00", "09:00", "12:00"}},
		{"7 days daily", 7 * 24 * time.Hour, 24 * time.Hour, "Jul 8 00:00", []string{"Jul 8", "Jul 9", "Jul 10", "Jul 11", "Jul 12", "Jul 13", "Jul 14"}},
		{"30 days weekly", 30 * 24 * time.Hour, 7 * 24 * time.Hour, "Jun 15 00:00", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ticks, step := timeTicks(to.Add(-tt.span), to, maxXTicks)
			if step != tt.step {
				t.Errorf("step = %v, want %v", step, tt.step)
			}
			if len(ticks) == 0 || len(ticks) > maxXTicks+1 {
				t.Fatalf("ticks = %d", len(ticks))
			}
			if got := ticks[0].Format("Jan 2 15:04"); got != tt.first {
				t.Errorf("first tick = %s, want %s", got, tt.first)
			}
			if tt.labels != nil {
				var got []string
				for _, tk := range ticks {
					got = append(got, timeLabel(tk, step))
				}
				if !reflect.DeepEqual(got, tt.labels) {
					t.Errorf("labels = %v, want %v", got, tt.labels)
				}
			}
		})
	}
}

func TestSegments(t *testing.T) {
	from := time.Date(2026, 7, 14, 0, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	at := func(h int) time.Time { return from.Add(time.Duration(h) * time.Hour) }
	s := func(h, low, high int) db.Sample { return db.Sample{At: at(h), Low: low, High: high} }
	for _, tt := range []struct {
		name    string
		samples []db.Sample
		want    []segment
	}{
		{"empty", nil, nil},
		{"sample before the window is clamped to its start",
			[]db.Sample{s(-10, 1, 2), s(5, 3, 4)},
			[]segment{{from, 1, 2}, {at(5), 3, 4}}},
		{"latest sample before the window wins",
			[]db.Sample{s(-10, 1, 2), s(-5, 7, 8), s(5, 3, 4)},
			[]segment{{from, 7, 8}, {at(5), 3, 4}}},
		{"first sample inside the window starts the line there",
			[]db.Sample{s(3, 1, 2)},
			[]segment{{at(3), 1, 2}}},
		{"repeated values merge",
			[]db.Sample{s(1, 1, 2), s(2, 1, 2), s(3, 1, 3)},
			[]segment{{at(1), 1, 2}, {at(3), 1, 3}}},
		{"samples after the window are ignored",
			[]db.Sample{s(1, 1, 2), s(30, 5, 6)},
			[]segment{{at(1), 1, 2}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := segments(tt.samples, from, to); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("segments = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBuildChart(t *testing.T) {
	from := time.Date(2026, 7, 14, 0, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	samples := []db.Sample{
		{At: from.Add(-time.Hour), Low: 30000, High: 60000, Source: db.SourceStart},
		{At: from.Add(12 * time.Hour), Low: 40000, High: 60000, Source: db.SourceChange},
		{At: from.Add(18 * time.Hour), Low: 40000, High: 60000, Source: db.SourceSample},
	}
	v := buildChart(samples, from, to, nil)
	if v.Empty {
		t.Fatal("chart empty")
	}
	// Axis 30000..60000 maps onto [Bottom, Top]; 12:00 is the middle of the x range.
	mid := num((v.Left + v.Right) / 2)
	// Whole units: the pixel grid.
	third := num(math.Round(v.Bottom - (v.Bottom-v.Top)/3))
	wantLow := "M64 " + num(v.Bottom) + " L" + mid + " " + num(v.Bottom) + " L" + mid + " " + third + " L936 " + third
	if v.Low != wantLow {
		t.Errorf("low path = %q, want %q", v.Low, wantLow)
	}
	if want := "M64 " + num(v.Top) + " L936 " + num(v.Top); v.High != want {
		t.Errorf("high path = %q, want %q", v.High, want)
	}
	if !strings.HasSuffix(v.Band, " Z") {
		t.Errorf("band not closed: %q", v.Band)
	}
	if len(v.Markers) != 1 || len(v.Markers[0].ChangeXs) != 1 || num(v.Markers[0].ChangeXs[0]) != mid || v.Markers[0].ExternalXs != nil {
		t.Errorf("markers = %+v, want one change at x=%s", v.Markers, mid)
	}
	if v.YTicks[0].Label != "30000" || v.YTicks[len(v.YTicks)-1].Label != "60000" {
		t.Errorf("y ticks = %+v", v.YTicks)
	}
	if v.YTicks[0].Pos != v.Bottom || v.YTicks[len(v.YTicks)-1].Pos != v.Top {
		t.Errorf("y ticks do not span the plot: %+v", v.YTicks)
	}
	if !strings.Contains(v.Summary, "30000 – 60000 at the start, 40000 – 60000 at the end, 1 change") {
		t.Errorf("summary = %q", v.Summary)
	}

	if !buildChart(nil, from, to, nil).Empty {
		t.Error("no samples: want empty")
	}
	if !buildChart(samples[:1], from, from, nil).Empty {
		t.Error("empty window: want empty")
	}
}
