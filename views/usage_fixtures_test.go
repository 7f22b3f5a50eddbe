package views_test

import (
	"net/netip"
	"time"

	"portpanel/db"
	"portpanel/sysctl/usage"
	"portpanel/views"
)

// risk is the default thresholds: warning from 70%, critical from 90%.
var risk = views.RiskThresholds{Warning: 0.7, Critical: 0.9}

// usageSample is a snapshot 20 s before now: 32768 – 60999 (28,232 ports)
// less 20 reserved and 12 bound leaves 28,200; the busiest destination
// holds 72% of it.
func usageSample() *db.UsageSample {
	return &db.UsageSample{
		ID: 7, At: now.Add(-20 * time.Second), Source: db.UsageSourceNetlink, RangeLow: 32768, RangeHigh: 60999,
		Capacity: 28200, InUse: 21500, Bound: 12, UDP: 40, TCPTotal: 21800, TimeWait: 15000, Established: 6400,
		BusiestDestination: "10.0.0.5:443", BusiestSockets: 20304, BusiestRisk: 0.72, SharedUse: 0.031,
		TCPStates: map[string]int{"ESTABLISHED": 6400, "TIME_WAIT": 15000, "LISTEN": 12, "SYN_SENT": 388},
		Destinations: []db.UsageDestination{
			{LocalIP: "10.0.0.1", Destination: "10.0.0.5:443", Sockets: 20304, Risk: 0.72},
			{LocalIP: "10.0.0.1", Destination: "10.0.0.6:5432", Sockets: 900, Risk: 900.0 / 28200},
			{LocalIP: "fd00::1", Destination: "[fd00::7]:8080", Sockets: 96, Risk: 96.0 / 28200},
		},
	}
}

// rangeAt is the range the samples fixture says held at t.
func rangeAt(t time.Time) (low, high int) {
	low, high = 32768, 60999
	for _, s := range samples() {
		if !s.At.After(t) {
			low, high = s.Low, s.High
		}
	}
	return low, high
}

// rawUsage is one raw point every 10 minutes over the 24 hours before now,
// none between 10 and 8 hours ago (the sampler was down): 134 points.
func rawUsage() []db.UsagePoint {
	var out []db.UsagePoint
	for t := now.Add(-24 * time.Hour); !t.After(now); t = t.Add(10 * time.Minute) {
		if ago := now.Sub(t); ago < 10*time.Hour && ago > 8*time.Hour {
			continue
		}
		out = append(out, usagePoint(t, false))
	}
	return out
}

// usagePoint is a point at t: capacity is the range size less 32, and
// busier around the hour.
func usagePoint(t time.Time, hourly bool) db.UsagePoint {
	low, high := rangeAt(t)
	capacity := high - low + 1 - 32
	inUse := 4000 + t.Minute()*100
	busiest := inUse * 3 / 4
	return db.UsagePoint{At: t, RangeLow: low, RangeHigh: high, Capacity: capacity,
		InUseMax: inUse, TimeWaitMax: inUse / 2,
		BusiestRisk: float64(busiest) / float64(capacity), Hourly: hourly}
}

// hourlyUsage is span of hourly aggregates before now's hour, then raw
// points every minute of the current hour (now is 14:05, so 6 of them).
func hourlyUsage(span time.Duration) []db.UsagePoint {
	hour := now.Truncate(time.Hour)
	var out []db.UsagePoint
	for t := hour.Add(-span); t.Before(hour); t = t.Add(time.Hour) {
		out = append(out, usagePoint(t, true))
	}
	for t := hour; !t.After(now); t = t.Add(time.Minute) {
		out = append(out, usagePoint(t, false))
	}
	return out
}

// impact is a narrowing that leaves 1,234 sockets outside the new range
// and the busiest destination at share.
func impact(share float64) *usage.Impact {
	d := usage.Destination{LocalIP: netip.MustParseAddr("10.0.0.1"), Remote: netip.MustParseAddrPort("10.0.0.5:443"),
		Sockets: 20304, Risk: share}
	return &usage.Impact{Outside: 1234, Capacity: 24000, Busiest: &d, BusiestRisk: share}
}
