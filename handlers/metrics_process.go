package handlers

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// processEvery is how long the process collector's figures are kept.
const processEvery = time.Second

// everySecond collects c at most once every processEvery and answers the
// scrapes in between with what it collected. It wraps client_golang's
// process collector: that reads five /proc files a scrape, /proc/stat
// (for the start time) and /proc/self/net/netstat among them, which made
// it half of a scrape's CPU and /metrics the costliest route of
// bench/run.sh's 200-client mix (BENCHMARKS.md). Prometheus scrapes every
// 15 s or so, so it never sees the difference; a client scraping faster
// gets process_* figures up to a second old. The metrics it keeps are
// constant metrics, which may be sent again.
type everySecond struct {
	c   prometheus.Collector
	now func() time.Time

	mu      sync.Mutex
	at      time.Time
	metrics []prometheus.Metric
}

func (e *everySecond) Describe(ch chan<- *prometheus.Desc) { e.c.Describe(ch) }

func (e *everySecond) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	if now := e.now(); e.metrics == nil || now.Sub(e.at) >= processEvery || now.Before(e.at) {
		e.metrics, e.at = collectAll(e.c), now
	}
	metrics := e.metrics
	e.mu.Unlock()
	for _, m := range metrics {
		ch <- m
	}
}

// collectAll is what c collects.
func collectAll(c prometheus.Collector) []prometheus.Metric {
	ch := make(chan prometheus.Metric)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	var out []prometheus.Metric
	for m := range ch {
		out = append(out, m)
	}
	return out
}
