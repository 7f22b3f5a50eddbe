package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"portpanel/db"
)

// collectTimeout bounds the database and kernel reads of one scrape:
// Collect gets no context, and a scrape that hangs on a locked database
// is worse than one that reports the family as failed.
const collectTimeout = 2 * time.Second

// Metrics returns the handler of GET /metrics, in the Prometheus
// exposition format. It is built once per route table, with a registry of
// its own: never the global default one, so two servers in one process
// (tests) neither share nor collide.
func (h *Handlers) Metrics() echo.HandlerFunc {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		&everySecond{c: collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), now: time.Now},
		panelCollector{h},
		webhookCollector{h},
		namespaceCollector{h},
		hostCollector{h},
	)
	// A family that fails is left out (the collector logs why); the rest
	// of the scrape is still served. Uncompressed, as the pages are: the
	// scrape is a few kB, and gzip cost more CPU than gathering it
	// (BENCHMARKS.md).
	serve := promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, DisableCompression: true})
	return echo.WrapHandler(serve)
}

var (
	descRangeLow = prometheus.NewDesc("portpanel_port_range_low",
		"Lowest port of net.ipv4.ip_local_port_range in the running kernel.", nil, nil)
	descRangeHigh = prometheus.NewDesc("portpanel_port_range_high",
		"Highest port of net.ipv4.ip_local_port_range in the running kernel.", nil, nil)
	descRangeSize = prometheus.NewDesc("portpanel_port_range_size",
		"Number of ports in net.ipv4.ip_local_port_range in the running kernel.", nil, nil)
	descBootLow = prometheus.NewDesc("portpanel_boot_port_range_low",
		"Lowest port of the range the host boots with (the config files' value, or the kernel default when none sets it).", nil, nil)
	descBootHigh = prometheus.NewDesc("portpanel_boot_port_range_high",
		"Highest port of the range the host boots with (the config files' value, or the kernel default when none sets it).", nil, nil)
	descDrift = prometheus.NewDesc("portpanel_drift",
		"1 when the running kernel's port range differs from the value the host boots with, else 0.", nil, nil)
	descReservedDrift = prometheus.NewDesc("portpanel_reserved_ports_drift",
		"1 when the running kernel's net.ipv4.ip_local_reserved_ports differ from the list the host boots with, else 0.", nil, nil)
	descOverridden = prometheus.NewDesc("portpanel_file_overridden",
		"1 when a config file read after the managed file also sets the port range, so its value wins at boot, else 0.", nil, nil)
	descBootUncertain = prometheus.NewDesc("portpanel_boot_value_uncertain",
		"1 when the boot reader reads a config file portpanel could not read (no permission, over 16 MiB), so the value the host boots with may differ from the one shown, else 0.", nil, nil)
	descCapacity = prometheus.NewDesc("portpanel_ephemeral_capacity",
		"Ports connect() may hand out to any one destination (range size minus reserved and bound ports in range), at the latest usage sample.", nil, nil)
	descSockets = prometheus.NewDesc("portpanel_ephemeral_sockets",
		`Sockets of the network namespace at the latest usage sample: TCP by state, UDP with state "all".`, []string{"proto", "state"}, nil)
	descRiskMax = prometheus.NewDesc("portpanel_destination_risk_max",
		"Share (0 to 1) of the ephemeral capacity used by the busiest destination, at the latest usage sample.", nil, nil)
	descUsageTime = prometheus.NewDesc("portpanel_usage_sample_timestamp_seconds",
		"Unix time of the latest usage sample; the usage families are as old as this.", nil, nil)
	descChanges = prometheus.NewDesc("portpanel_changes_total",
		"Changes of the port range recorded by portpanel, by current status.", []string{"result"}, nil)
)

// panelCollector reads portpanel's figures at scrape time: the kernel and
// config files through the change service, usage and changes from the
// database. It runs nothing in the background: the sampler owns sampling.
type panelCollector struct{ h *Handlers }

func (pc panelCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRangeLow, descRangeHigh, descRangeSize, descBootLow, descBootHigh, descDrift,
		descReservedDrift, descOverridden, descBootUncertain, descCapacity, descSockets, descRiskMax, descUsageTime, descChanges} {
		ch <- d
	}
	pc.describeAlerts(ch)
}

func (pc panelCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	ctx = db.WithSnapshot(ctx) // the memos below ask the database's version once
	pc.collectRange(ctx, ch)
	pc.collectUsage(ctx, ch)
	pc.collectChanges(ctx, ch)
	pc.collectAlerts(ctx, ch)
}

func (pc panelCollector) collectRange(ctx context.Context, ch chan<- prometheus.Metric) {
	st, err := pc.h.Changes.Status(ctx)
	if err != nil {
		pc.fail(ch, err, descRangeLow, descRangeHigh, descRangeSize, descBootLow, descBootHigh, descDrift, descReservedDrift,
			descOverridden, descBootUncertain)
		return
	}
	r := st.Kernel.Range
	ch <- gauge(descRangeLow, float64(r.Low))
	ch <- gauge(descRangeHigh, float64(r.High))
	ch <- gauge(descRangeSize, float64(r.Size()))
	ch <- gauge(descBootLow, float64(st.BootRange.Low))
	ch <- gauge(descBootHigh, float64(st.BootRange.High))
	ch <- gauge(descDrift, flag(st.Drift))
	ch <- gauge(descReservedDrift, flag(st.ReservedDrift))
	ch <- gauge(descOverridden, flag(st.Boot.OverriddenBy != nil))
	ch <- gauge(descBootUncertain, flag(len(st.Boot.Boot.Uncertain) > 0))
}

// collectUsage reports the latest sample, and nothing before the first:
// a 0 would read as "no sockets", not "not measured yet".
func (pc panelCollector) collectUsage(ctx context.Context, ch chan<- prometheus.Metric) {
	u, err := pc.h.memo.metrics.usage.Get(ctx, pc.h.DB, struct{}{}, pc.h.DB.LatestUsage)
	if errors.Is(err, db.ErrNotFound) {
		return
	}
	if err != nil {
		pc.fail(ch, err, descCapacity, descSockets, descRiskMax, descUsageTime)
		return
	}
	ch <- gauge(descCapacity, float64(u.Capacity))
	for state, n := range u.TCPStates {
		ch <- prometheus.MustNewConstMetric(descSockets, prometheus.GaugeValue, float64(n), "tcp", state)
	}
	ch <- prometheus.MustNewConstMetric(descSockets, prometheus.GaugeValue, float64(u.UDP), "udp", "all")
	ch <- gauge(descRiskMax, u.BusiestRisk)
	ch <- gauge(descUsageTime, unixSeconds(u.At))
}

// collectChanges exposes the count per status as a counter, as the issue
// names it. db.ChangeCounts lists every known status, 0 included, so each
// series exists from the start.
func (pc panelCollector) collectChanges(ctx context.Context, ch chan<- prometheus.Metric) {
	counts, err := pc.h.memo.metrics.changeCounts.Get(ctx, pc.h.DB, struct{}{}, pc.h.DB.ChangeCounts)
	if err != nil {
		pc.fail(ch, err, descChanges)
		return
	}
	for status, n := range counts {
		ch <- prometheus.MustNewConstMetric(descChanges, prometheus.CounterValue, float64(n), status)
	}
}

// fail logs err once and marks each family as failed, which the handler
// leaves out of the scrape.
func (pc panelCollector) fail(ch chan<- prometheus.Metric, err error, descs ...*prometheus.Desc) {
	pc.h.Log.Error("collect metrics", "err", err)
	for _, d := range descs {
		ch <- prometheus.NewInvalidMetric(d, err)
	}
}

func gauge(d *prometheus.Desc, v float64) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricsMemos keep what a scrape reads from the database until it changes
// (db.Memo), family by family, so one that fails fails alone. Shared
// between scrapes: read-only.
type metricsMemos struct {
	usage        db.Memo[struct{}, db.UsageSample]
	changeCounts db.Memo[struct{}, map[string]int]
	proposed     db.Memo[struct{}, []db.Change]
	awaiting     db.Memo[struct{}, []db.Change]
	deliveries   db.Memo[struct{}, map[string]int]
}
