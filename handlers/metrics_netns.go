package handlers

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"portpanel/sysctl/netns"
)

// MaxLabelledNamespaces caps the network namespaces that get series of
// their own: a host with hundreds of pods must not give Prometheus
// hundreds of series per family, and inode labels churn as containers
// come and go. portpanel's own comes first, then those whose range
// differs from it, then the riskiest; the rest are counted and their
// highest risk reported without labels.
const MaxLabelledNamespaces = 32

var (
	nsLabels           = []string{"netns", "kind"}
	descNsScanTime     = prometheus.NewDesc("portpanel_netns_scan_timestamp_seconds", "Unix time of the latest scan of the network namespaces; the portpanel_netns_ families are as old as this.", nil, nil)
	descNsCount        = prometheus.NewDesc("portpanel_netns_namespaces", "Network namespaces found on the host (distinct /proc/*/ns/net), at the latest scan.", nil, nil)
	descNsDiffering    = prometheus.NewDesc("portpanel_netns_range_differs_namespaces", "Network namespaces whose ip_local_port_range differs from the one in portpanel's own namespace, all of them, labelled or not.", nil, nil)
	descNsUnread       = prometheus.NewDesc("portpanel_netns_unread_namespaces", "Network namespaces portpanel could not enter or read (see the namespaces page for why).", nil, nil)
	descNsUnlisted     = prometheus.NewDesc("portpanel_netns_unlisted_namespaces", "Network namespaces beyond the cap of "+strconv.Itoa(MaxLabelledNamespaces)+" that have no labelled series.", nil, nil)
	descNsUnlistedRisk = prometheus.NewDesc("portpanel_netns_unlisted_destination_risk_max", "Highest busiest-destination risk (0 to 1) among the namespaces beyond the cap.", nil, nil)
	descNsLow          = prometheus.NewDesc("portpanel_netns_port_range_low", "Lowest port of the namespace's own net.ipv4.ip_local_port_range.", nsLabels, nil)
	descNsHigh         = prometheus.NewDesc("portpanel_netns_port_range_high", "Highest port of the namespace's own net.ipv4.ip_local_port_range.", nsLabels, nil)
	descNsDiffers      = prometheus.NewDesc("portpanel_netns_range_differs", "1 when the namespace's port range differs from the one in portpanel's own namespace, else 0.", nsLabels, nil)
	descNsRisk         = prometheus.NewDesc("portpanel_netns_destination_risk_max", "Share (0 to 1) of the namespace's ephemeral capacity used by its busiest destination.", nsLabels, nil)
)

// namespaceCollector reports the latest namespace scan, kept apart from
// panelCollector: it reads memory, not the database, and nothing before
// the first scan.
type namespaceCollector struct{ h *Handlers }

func (nc namespaceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descNsScanTime, descNsCount, descNsDiffering, descNsUnread, descNsUnlisted,
		descNsUnlistedRisk, descNsLow, descNsHigh, descNsDiffers, descNsRisk} {
		ch <- d
	}
}

func (nc namespaceCollector) Collect(ch chan<- prometheus.Metric) {
	sc, ok := nc.h.latestNamespaces()
	if !ok {
		return
	}
	all := labelOrder(sc.Namespaces)
	listed := all[:min(len(all), MaxLabelledNamespaces)]
	var differing, unread int
	for _, n := range all {
		differing += flagInt(n.RangeDiffers)
		unread += flagInt(n.Kernel == nil)
	}
	ch <- gauge(descNsScanTime, float64(sc.At.UnixNano())/1e9)
	ch <- gauge(descNsCount, float64(len(all)))
	ch <- gauge(descNsDiffering, float64(differing))
	ch <- gauge(descNsUnread, float64(unread))
	ch <- gauge(descNsUnlisted, float64(len(all)-len(listed)))
	var rest float64
	for _, n := range all[len(listed):] {
		rest = max(rest, risk(n))
	}
	ch <- gauge(descNsUnlistedRisk, rest)
	for _, n := range listed {
		labels := []string{strconv.FormatUint(n.Inode, 10), string(n.Owner.Kind)}
		if k := n.Kernel; k != nil {
			ch <- prometheus.MustNewConstMetric(descNsLow, prometheus.GaugeValue, float64(k.Range.Low), labels...)
			ch <- prometheus.MustNewConstMetric(descNsHigh, prometheus.GaugeValue, float64(k.Range.High), labels...)
			ch <- prometheus.MustNewConstMetric(descNsDiffers, prometheus.GaugeValue, flag(n.RangeDiffers), labels...)
		}
		if n.Usage != nil {
			ch <- prometheus.MustNewConstMetric(descNsRisk, prometheus.GaugeValue, risk(n), labels...)
		}
	}
}

// labelOrder is the order in which namespaces get labelled series:
// portpanel's own, then those whose range differs, then by risk, then by
// inode so the choice is stable between scrapes.
func labelOrder(list []netns.Namespace) []netns.Namespace {
	out := slices.Clone(list)
	slices.SortStableFunc(out, func(a, b netns.Namespace) int {
		return cmp.Or(cmp.Compare(flagInt(b.Self), flagInt(a.Self)), cmp.Compare(flagInt(b.RangeDiffers), flagInt(a.RangeDiffers)),
			cmp.Compare(risk(b), risk(a)), cmp.Compare(a.Inode, b.Inode))
	})
	return out
}

// risk is the namespace's busiest destination's risk, 0 without one.
func risk(n netns.Namespace) float64 {
	if n.Usage == nil || n.Usage.Busiest == nil {
		return 0
	}
	return n.Usage.Busiest.Risk
}

func flagInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
