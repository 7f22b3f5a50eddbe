package usage

import (
	"fmt"
	"strings"
	"testing"

	"portpanel/sysctl"
)

func TestImpactOf(t *testing.T) {
	// Four clients of 10.0.0.2:443 on 40000-40003, two of 10.0.0.3:443
	// on 40600-40601, one UDP socket on 40002.
	base := []Socket{
		tcp(Established, "10.0.0.1:40000", "10.0.0.2:443"),
		tcp(Established, "10.0.0.1:40001", "10.0.0.2:443"),
		tcp(TimeWait, "10.0.0.1:40002", "10.0.0.2:443"),
		tcp(Established, "10.0.0.1:40003", "10.0.0.2:443"),
		tcp(Established, "10.0.0.1:40600", "10.0.0.3:443"),
		tcp(Established, "10.0.0.1:40601", "10.0.0.3:443"),
		udp("10.0.0.1:40002", "0.0.0.0:0"),
		tcp(Listen, "0.0.0.0:22", "0.0.0.0:0"),
	}
	listener := tcp(Listen, "0.0.0.0:40700", "0.0.0.0:0")
	tests := []struct {
		name     string
		socks    []Socket
		reserved string
		newRange sysctl.Range
		want     Impact
	}{
		{"narrowing leaves the low ports outside and divides the demand by a smaller capacity", base, "",
			sysctl.Range{Low: 40500, High: 40999},
			Impact{Outside: 5, Capacity: 500, Busiest: &Destination{Sockets: 4, Risk: 4.0 / 500}, BusiestRisk: 4.0 / 500}},
		{"a listener inside the new range lowers the new capacity", append(base[:len(base):len(base)], listener), "",
			sysctl.Range{Low: 40500, High: 40999},
			Impact{Outside: 5, Capacity: 499, Busiest: &Destination{Sockets: 4, Risk: 4.0 / 499}, BusiestRisk: 4.0 / 499}},
		{"reserved ports inside the new range lower the new capacity", base, "30000-30099",
			sysctl.Range{Low: 30000, High: 40999},
			Impact{Capacity: 10900, Busiest: &Destination{Sockets: 4, Risk: 4.0 / 10900}, BusiestRisk: 4.0 / 10900}},
		{"the same range changes nothing", base, "", rng1000,
			Impact{Capacity: 1000, Busiest: &Destination{Sockets: 4, Risk: 0.004}, BusiestRisk: 0.004}},
		{"no clients means no busiest destination", nil, "", sysctl.Range{Low: 40500, High: 40501},
			Impact{Capacity: 2}},
		{"a range smaller than the demand is full risk", base, "40000",
			sysctl.Range{Low: 40000, High: 40002},
			Impact{Outside: 3, Capacity: 2, Busiest: &Destination{Sockets: 4, Risk: 1}, BusiestRisk: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ImpactOf(tt.socks, sysctl.KernelState{Range: rng1000, ReservedPorts: tt.reserved}, tt.newRange)
			if err != nil {
				t.Fatal(err)
			}
			if s, w := impactString(got), impactString(tt.want); s != w {
				t.Errorf("got  %s\nwant %s", s, w)
			}
			if got.Busiest != nil && (got.Busiest.LocalIP.String() != "10.0.0.1" || got.Busiest.Remote.String() != "10.0.0.2:443") {
				t.Errorf("busiest = %s, want 10.0.0.1>10.0.0.2:443", destString(got.Busiest))
			}
		})
	}
}

func impactString(i Impact) string {
	b := "<nil>"
	if i.Busiest != nil {
		b = fmt.Sprintf("%d@%.6f", i.Busiest.Sockets, i.Busiest.Risk)
	}
	return fmt.Sprintf("outside=%d capacity=%d busiest=%s risk=%.6f", i.Outside, i.Capacity, b, i.BusiestRisk)
}

func TestImpactOfRefusesABadRange(t *testing.T) {
	_, err := ImpactOf(nil, sysctl.KernelState{Range: rng1000}, sysctl.Range{Low: 41000, High: 40000})
	if err == nil || !strings.Contains(err.Error(), "41000-40000") {
		t.Errorf("err = %v", err)
	}
}
