package handlers

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"portpanel/internal/testclock"
)

// countingCollector reports how often it was collected.
type countingCollector struct{ n float64 }

var descCollected = prometheus.NewDesc("collected", "Times collected.", nil, nil)

func (c *countingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descCollected }

func (c *countingCollector) Collect(ch chan<- prometheus.Metric) {
	c.n++
	ch <- prometheus.MustNewConstMetric(descCollected, prometheus.CounterValue, c.n)
}

// The wrapped collector's figures are what it collected, at most a second
// old: collected again once a second has passed, and after the clock went
// back.
func TestEverySecondCollectsAtMostOnceASecond(t *testing.T) {
	clk := testclock.New(time.Unix(1000, 0))
	e := &everySecond{c: &countingCollector{}, now: clk.Now}
	steps := []struct {
		name    string
		advance time.Duration
		want    float64
	}{
		{"first", 0, 1},
		{"within the second", 999 * time.Millisecond, 1},
		{"a second later", time.Millisecond, 2},
		{"at once again", 0, 2},
		{"the clock went back", -time.Minute, 3},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		ms := collectAll(e)
		var m dto.Metric
		if len(ms) != 1 || ms[0].Write(&m) != nil {
			t.Fatalf("%s: collected %d metrics", s.name, len(ms))
		}
		if got := m.GetCounter().GetValue(); got != s.want {
			t.Errorf("%s: collected = %v, want %v", s.name, got, s.want)
		}
	}
}
