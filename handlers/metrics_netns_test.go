package handlers

import (
	"net/netip"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"portpanel/sysctl"
	"portpanel/sysctl/netns"
	"portpanel/sysctl/usage"
)

// TestNamespaceMetricsAreCapped gives the collector more namespaces than
// the cap: portpanel's own and the differing ones must keep their
// series, then the riskiest; the rest are counted, with their highest
// risk.
func TestNamespaceMetricsAreCapped(t *testing.T) {
	const total = MaxLabelledNamespaces + 8
	k := &sysctl.KernelState{Range: sysctl.DefaultRange}
	other := &sysctl.KernelState{Range: sysctl.Range{Low: 40000, High: 50001}}
	var sc netns.Scan
	for i := range total {
		n := netns.Namespace{Inode: uint64(1000 + i), Owner: netns.Owner{Kind: netns.KindDocker}, Kernel: k,
			Usage: &usage.Snapshot{Busiest: &usage.Destination{Remote: netip.MustParseAddrPort("10.0.0.1:80"), Risk: float64(i) / 100}}}
		switch {
		case i == total-1: // the last by inode and the riskiest: still first
			n.Self, n.Owner.Kind, n.Usage.Busiest.Risk = true, netns.KindHost, 0
		case i < 2: // differing, no risk
			n.Kernel, n.RangeDiffers, n.Usage = other, true, nil
		case i == 2:
			n.Kernel, n.Usage, n.Error = nil, nil, "not entered"
		}
		sc.Namespaces = append(sc.Namespaces, n)
	}
	m := &netns.Monitor{}
	m.Set(sc)
	reg := prometheus.NewRegistry()
	reg.MustRegister(namespaceCollector{&Handlers{Namespaces: m}})
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	value := func(name string) float64 { return byName[name].GetMetric()[0].GetGauge().GetValue() }
	inodes := map[string]bool{}
	for _, mt := range byName["portpanel_netns_destination_risk_max"].GetMetric() {
		inodes[mt.GetLabel()[0].GetValue()] = true
	}
	lows := byName["portpanel_netns_port_range_low"].GetMetric()
	for _, mt := range lows {
		inodes[mt.GetLabel()[1].GetValue()] = true // labels sort by name: kind, netns
	}
	// Listed: own (1039), the 2 differing (1000, 1001), then the 29
	// riskiest others (1010..1038); not the unread one (1002, no risk)
	// nor the least risky (1003..1009).
	for _, want := range []string{"1039", "1000", "1001", "1010", "1038"} {
		if !inodes[want] {
			t.Errorf("namespace %s has no series", want)
		}
	}
	for _, not := range []string{"1002", "1003", "1009"} {
		if inodes[not] {
			t.Errorf("namespace %s has series beyond the cap", not)
		}
	}
	if len(lows) != MaxLabelledNamespaces {
		t.Errorf("%d range series, want the cap %d", len(lows), MaxLabelledNamespaces)
	}
	for name, want := range map[string]float64{
		"portpanel_netns_namespaces": total, "portpanel_netns_unlisted_namespaces": 8,
		"portpanel_netns_range_differs_namespaces": 2, "portpanel_netns_unread_namespaces": 1,
		"portpanel_netns_unlisted_destination_risk_max": 0.09,
	} {
		if got := value(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestNamespaceMetricsBeforeTheFirstScan(t *testing.T) {
	for name, h := range map[string]*Handlers{"no scan yet": {Namespaces: &netns.Monitor{}}, "no monitor": {}} {
		reg := prometheus.NewRegistry()
		reg.MustRegister(namespaceCollector{h})
		if fams, err := reg.Gather(); err != nil || len(fams) != 0 {
			t.Errorf("%s: families %v, %v; want none", name, fams, err)
		}
	}
}
