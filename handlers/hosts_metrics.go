package handlers

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"portpanel/views"
)

// Fleet families. Per-host series carry two labels only, host and group,
// both bounded by the enrolled hosts: a label per state or per value
// would make a new series at every change and leave the old one behind.
var (
	descHosts = prometheus.NewDesc("portpanel_hosts",
		"Enrolled hosts by state (stale: no report for 3 × the host's poll interval), every state listed.", []string{"state"}, nil)
	descHostLow = prometheus.NewDesc("portpanel_host_port_range_low",
		"Lowest port of the host's runtime net.ipv4.ip_local_port_range, from its last report.", []string{"host", "group"}, nil)
	descHostHigh = prometheus.NewDesc("portpanel_host_port_range_high",
		"Highest port of the host's runtime net.ipv4.ip_local_port_range, from its last report.", []string{"host", "group"}, nil)
	descHostDrift = prometheus.NewDesc("portpanel_host_drift",
		"1 when the host's runtime range differs from the value it boots with, from its last report, else 0.", []string{"host", "group"}, nil)
	descHostRisk = prometheus.NewDesc("portpanel_host_risk_level",
		"Exhaustion risk of the host's busiest destination, from its last report: 0 ok, 1 warning, 2 critical.", []string{"host", "group"}, nil)
	descHostReport = prometheus.NewDesc("portpanel_host_last_report_timestamp_seconds",
		"Unix time of the host's last report (the control plane's clock); the host's other families are as old as this.", []string{"host", "group"}, nil)
	descHostUp = prometheus.NewDesc("portpanel_host_up",
		"1 when the host reported within 3 × its poll interval, 0 when it is stale.", []string{"host", "group"}, nil)
)

// riskLevels are the levels portpanel_host_risk_level counts.
var riskLevels = map[string]float64{"ok": 0, "warning": 1, "critical": 2}

// hostCollector reads every enrolled host at scrape time. Revoked hosts
// are counted by state but have no series of their own: they report
// nothing any more.
type hostCollector struct{ h *Handlers }

func (hc hostCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHosts, descHostLow, descHostHigh, descHostDrift, descHostRisk, descHostReport, descHostUp} {
		ch <- d
	}
}

func (hc hostCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	counts := map[string]int{}
	err := hc.h.eachHost(ctx, func(v hostView) {
		state := string(v.State)
		counts[state]++
		if state == views.HostRevoked {
			return
		}
		labels := []string{v.Name, v.Group}
		ch <- prometheus.MustNewConstMetric(descHostUp, prometheus.GaugeValue, flag(state != views.HostStale), labels...)
		o := v.Observed
		if o == nil || v.ReportedAt == nil {
			return
		}
		ch <- prometheus.MustNewConstMetric(descHostLow, prometheus.GaugeValue, float64(o.Runtime.Low), labels...)
		ch <- prometheus.MustNewConstMetric(descHostHigh, prometheus.GaugeValue, float64(o.Runtime.High), labels...)
		ch <- prometheus.MustNewConstMetric(descHostDrift, prometheus.GaugeValue, flag(o.Drift), labels...)
		ch <- prometheus.MustNewConstMetric(descHostReport, prometheus.GaugeValue, unixSeconds(*v.ReportedAt), labels...)
		if o.Usage != nil {
			if level, ok := riskLevels[o.Usage.Risk]; ok {
				ch <- prometheus.MustNewConstMetric(descHostRisk, prometheus.GaugeValue, level, labels...)
			}
		}
	})
	if err != nil {
		hc.h.Log.Error("collect host metrics", "err", err)
		ch <- prometheus.NewInvalidMetric(descHosts, err)
		return
	}
	for _, s := range views.HostStates {
		ch <- prometheus.MustNewConstMetric(descHosts, prometheus.GaugeValue, float64(counts[s]), s)
	}
}
