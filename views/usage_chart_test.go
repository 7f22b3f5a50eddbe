package views

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"portpanel/db"
)

func TestChangeLinks(t *testing.T) {
	t0 := time.Date(2026, 7, 14, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	chg := func(id int64, status string, low int, created, updated int) db.ChangeMark {
		return db.ChangeMark{ID: id, Status: status, Low: low, High: 60999, CreatedAt: at(created), UpdatedAt: at(updated)}
	}
	smp := func(id int64, h, low int, source string) db.Sample {
		return db.Sample{ID: id, At: at(h), Low: low, High: 60999, Source: source}
	}
	for _, tt := range []struct {
		name    string
		samples []db.Sample
		changes []db.ChangeMark
		want    map[int64]int64
	}{
		{"one change", []db.Sample{smp(1, 2, 40000, db.SourceChange)},
			[]db.ChangeMark{chg(5, db.StatusApplied, 40000, 2, 2)}, map[int64]int64{1: 5}},
		{"a range set twice links each time to its own change",
			[]db.Sample{smp(1, 2, 40000, db.SourceChange), smp(2, 4, 30000, db.SourceChange), smp(3, 6, 40000, db.SourceChange)},
			[]db.ChangeMark{chg(7, db.StatusApplied, 40000, 6, 6), chg(6, db.StatusReverted, 30000, 4, 6), chg(5, db.StatusConfirmed, 40000, 2, 3)},
			map[int64]int64{1: 5, 2: 6, 3: 7}},
		{"failed, rejected and pending changes never set the range",
			[]db.Sample{smp(1, 2, 40000, db.SourceChange)},
			[]db.ChangeMark{chg(8, db.StatusFailed, 40000, 2, 2), chg(9, db.StatusRejected, 40000, 1, 2), chg(10, db.StatusProposed, 40000, 1, 1)},
			map[int64]int64{}},
		{"an approved proposal applied later is found by its last update",
			[]db.Sample{smp(1, 5, 40000, db.SourceChange)},
			[]db.ChangeMark{chg(3, db.StatusApplied, 40000, 1, 5), chg(4, db.StatusReverted, 40000, 3, 4)},
			map[int64]int64{1: 3}},
		{"changes created after the sample do not match",
			[]db.Sample{smp(1, 2, 40000, db.SourceChange)},
			[]db.ChangeMark{chg(3, db.StatusApplied, 40000, 3, 3)}, map[int64]int64{}},
		{"external samples are not linked",
			[]db.Sample{smp(1, 2, 40000, db.SourceExternal)},
			[]db.ChangeMark{chg(3, db.StatusApplied, 40000, 1, 2)}, map[int64]int64{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := changeLinks(tt.samples, tt.changes); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("links = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUsageValues(t *testing.T) {
	to := time.Date(2026, 7, 14, 14, 5, 0, 0, time.UTC)
	from := to.Add(-7 * 24 * time.Hour)
	hour := func(at time.Time, inUse int, risk float64) db.UsagePoint {
		return db.UsagePoint{At: at, RangeLow: 32768, RangeHigh: 60999, Capacity: 28000, InUseMax: inUse, TimeWaitMax: inUse / 2,
			BusiestRisk: risk, Hourly: true}
	}
	raw := func(at time.Time, inUse int) db.UsagePoint {
		return db.UsagePoint{At: at, RangeLow: 32768, RangeHigh: 60999, Capacity: 28100, InUseMax: inUse, TimeWaitMax: 1}
	}
	vs := usageValues([]db.UsagePoint{
		hour(from.Truncate(time.Hour).Add(-time.Hour), 1, 0), // ended before the window
		hour(from.Truncate(time.Hour), 2, 0.1),               // holds the window's start
		hour(to.Truncate(time.Hour).Add(-time.Hour), 3, 0.2),
		raw(to.Add(-time.Minute), 4),
	}, from, to)
	if len(vs) != 3 {
		t.Fatalf("values = %d, want 3: %+v", len(vs), vs)
	}
	if want := from.Truncate(time.Hour).Add(30 * time.Minute); !vs[0].At.Equal(want) || !vs[0].From.Equal(from.Truncate(time.Hour)) {
		t.Errorf("the hour holding the window's start is drawn at %v, want %v", vs[0].At, want)
	}
	late := from.Add(40 * time.Minute) // after that hour's middle
	if vs := usageValues([]db.UsagePoint{hour(from.Truncate(time.Hour), 2, 0.1)}, late, to); len(vs) != 1 || !vs[0].At.Equal(late) {
		t.Errorf("an hour whose middle is before the window: %+v, want it drawn at the window's start", vs)
	}
	if want := to.Truncate(time.Hour).Add(-30 * time.Minute); !vs[1].At.Equal(want) {
		t.Errorf("an hour is drawn at %v, want its middle %v", vs[1].At, want)
	}
	if vs[2].Size != 28232 || vs[2].InUse != 4 || vs[2].Hourly {
		t.Errorf("raw value = %+v", vs[2])
	}

	// Over maxPlotPoints: merged into buckets keeping peaks and the lowest
	// capacity.
	var many []db.UsagePoint
	for at := to.Add(-24 * time.Hour); at.Before(to); at = at.Add(time.Minute) {
		p := raw(at, 10)
		if at.Equal(to.Add(-24 * time.Hour).Add(2 * time.Minute)) {
			p.InUseMax, p.Capacity, p.BusiestRisk = 999, 100, 0.5
		}
		many = append(many, p)
	}
	vs = usageValues(many, to.Add(-24*time.Hour), to)
	if len(vs) != maxPlotPoints {
		t.Fatalf("values = %d, want %d", len(vs), maxPlotPoints)
	}
	first := vs[0]
	if first.InUse != 999 || first.Capacity != 100 || first.Risk != 0.5 || first.N != 6 {
		t.Errorf("first bucket = %+v, want the peak 999, capacity 100, risk 0.5 of 6 samples", first)
	}
	if got := valueTime(first); got != "2026-07-13 14:05 – 14:10 UTC, peak" {
		t.Errorf("bucket label = %q", got)
	}
}

func TestLinePath(t *testing.T) {
	t0 := time.Date(2026, 7, 14, 0, 0, 0, 0, time.UTC)
	v := func(min, n int) usageValue {
		at := t0.Add(time.Duration(min) * time.Minute)
		return usageValue{At: at, From: at, To: at, InUse: n, N: 1}
	}
	x := func(t time.Time) float64 { return float64(t.Sub(t0) / time.Minute) }
	y := func(v usageValue) float64 { return float64(v.InUse) }
	for _, tt := range []struct {
		name  string
		vs    []usageValue
		steps bool
		want  string
	}{
		{"line", []usageValue{v(0, 1), v(1, 2), v(2, 3)}, false, "M0 1 L1 2 L2 3"},
		{"steps", []usageValue{v(0, 1), v(1, 1), v(2, 3)}, true, "M0 1 L1 1 L2 1 L2 3"},
		{"a gap breaks the line", []usageValue{v(0, 1), v(1, 2), v(2, 3), v(10, 4), v(11, 5)}, false, "M0 1 L1 2 L2 3 M10 4 L11 5"},
		{"a lone value is a dot", []usageValue{v(0, 1), v(1, 2), v(2, 3), v(3, 4), v(10, 5)}, false, "M0 1 L1 2 L2 3 L3 4 M10 5 h0"},
		{"one value", []usageValue{v(5, 7)}, false, "M5 7 h0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := linePath(tt.vs, x, y, 0, tt.steps); got != tt.want {
				t.Errorf("path = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUsageFormat(t *testing.T) {
	for share, want := range map[float64]string{0: "0%", 0.7: "70%", 0.6999: "69.9%", 0.72345: "72.3%", 0.031: "3.1%", 1: "100%", 0.0001: "<0.1%"} {
		if got := percent(share); got != want {
			t.Errorf("percent(%v) = %q, want %q", share, got, want)
		}
	}
	for capacity, want := range map[int]string{28232: "≈ 471 new connections/s", 60: "≈ 1 new connections/s", 30: "≈ 0.5 new connections/s",
		0: "≈ 0 new connections/s", 64512: "≈ 1,075 new connections/s"} {
		if got := ratePerSecond(capacity); got != want {
			t.Errorf("ratePerSecond(%d) = %q, want %q", capacity, got, want)
		}
	}
	got := tcpStates(map[string]int{"TIME_WAIT": 3, "LISTEN": 1, "WEIRD": 2})
	var names []string
	for _, s := range got {
		names = append(names, s.State)
	}
	if strings.Join(names, " ") != "ESTABLISHED TIME_WAIT LISTEN WEIRD" {
		t.Errorf("states = %v", names)
	}
}

func TestTimeTicksOneHour(t *testing.T) {
	to := time.Date(2026, 7, 14, 14, 5, 0, 0, time.UTC)
	ticks, step := timeTicks(to.Add(-time.Hour), to, maxXTicks)
	if step != 10*time.Minute || len(ticks) != 6 || timeLabel(ticks[0], step) != "13:10" {
		t.Errorf("1 h: step %v, %d ticks from %v", step, len(ticks), ticks)
	}
}
