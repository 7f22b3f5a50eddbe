package views

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"portpanel/db"
	"portpanel/sysctl/usage"
)

// RiskThresholds are the shares of capacity (0..1) from which a
// destination's exhaustion risk is a warning or critical. The handlers
// fill it from --risk-warning and --risk-critical.
type RiskThresholds struct{ Warning, Critical float64 }

// Risk levels.
const (
	LevelOK       = "ok"
	LevelWarning  = "warning"
	LevelCritical = "critical"
)

// Level names where risk stands, as the API does: "ok", "warning" or
// "critical". A threshold of 0 is off.
func (t RiskThresholds) Level(risk float64) string {
	switch {
	case t.Critical > 0 && risk >= t.Critical:
		return LevelCritical
	case t.Warning > 0 && risk >= t.Warning:
		return LevelWarning
	}
	return LevelOK
}

// percent formats a share 0..1 as "72.3%" or "70%". It rounds down, so a
// share just under a threshold never reads as the threshold itself.
func percent(share float64) string {
	if math.IsNaN(share) {
		return "–"
	}
	v := math.Floor(share*1000+1e-9) / 10
	if v == 0 && share > 0 {
		return "<0.1%"
	}
	var buf [32]byte
	return string(append(strconv.AppendFloat(buf[:0], v, 'f', -1, 64), '%'))
}

// ratio formats a share for an attribute (a <meter>'s value).
func ratio(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// clamp01 bounds a share to [0, 1] for drawing.
func clamp01(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return min(max(v, 0), 1)
}

// ratePerSecond is the sustainable rate of new connections to one
// destination: every port stays in TIME_WAIT for usage.TimeWaitSeconds
// after the client closes. "≈ 470 new connections/s".
func ratePerSecond(capacity int) string {
	r := float64(capacity) / usage.TimeWaitSeconds
	var n string
	switch {
	case r == 0:
		n = "0"
	case r < 10:
		n = strconv.FormatFloat(math.Round(r*10)/10, 'f', -1, 64)
	default:
		n = thousands(int(math.Round(r)))
	}
	return "≈ " + n + " new connections/s"
}

// sockets is "1 socket" or "20,412 sockets".
func sockets(n int) string {
	if n == 1 {
		return "1 socket"
	}
	return thousands(n) + " sockets"
}

// stateOrder lists TCP states in the order of a connection's life, the
// ones that matter for exhaustion first.
var stateOrder = []string{
	usage.Established, usage.TimeWait, usage.SynSent, usage.SynRecv, usage.NewSynRecv,
	usage.FinWait1, usage.FinWait2, usage.CloseWait, usage.LastAck, usage.Closing,
	usage.Close, usage.Listen,
}

type stateCount struct {
	State string
	N     int
}

// tcpStates are the states of s in stateOrder, then unknown ones by name.
// ESTABLISHED and TIME_WAIT are always listed, other states only when
// some socket is in them.
func tcpStates(states map[string]int) []stateCount {
	out := make([]stateCount, 0, len(stateOrder)+len(states))
	for _, st := range stateOrder {
		if n := states[st]; n > 0 || st == usage.Established || st == usage.TimeWait {
			out = append(out, stateCount{st, n})
		}
	}
	var other []stateCount
	for st, n := range states {
		if !slices.Contains(stateOrder, st) {
			other = append(other, stateCount{st, n})
		}
	}
	slices.SortFunc(other, func(a, b stateCount) int { return cmp.Compare(a.State, b.State) })
	return append(out, other...)
}

// gaugeW is the width of the risk gauge in SVG user units.
const gaugeW = 400

// gaugeWidth and gaugeViewBox are gaugeW as the gauge's attributes say it.
var (
	gaugeWidth   = strconv.Itoa(gaugeW)
	gaugeViewBox = "0 0 " + gaugeWidth + " 34"
)

// gauge is the headline bar: the busiest destination's share of capacity
// with the warning and critical zones behind it.
type gauge struct {
	Risk             float64
	Fill, Warn, Crit float64 // x positions
	Level            string
}

// riskGauge lays out the gauge of risk; its label is gaugeLabel's.
func riskGauge(risk float64, t RiskThresholds) gauge {
	g := gauge{Risk: risk, Fill: clamp01(risk) * gaugeW, Warn: gaugeW, Crit: gaugeW, Level: t.Level(risk)}
	if t.Warning > 0 {
		g.Warn = clamp01(t.Warning) * gaugeW
	}
	if t.Critical > 0 {
		g.Crit = clamp01(t.Critical) * gaugeW
	}
	return g
}

// gaugeLabel is what the gauge says to screen readers: "The busiest
// destination uses 72% of capacity (warning); warning from 70%, critical
// from 90%."
func gaugeLabel(g gauge, t RiskThresholds) string {
	return "The busiest destination uses " + percent(g.Risk) + " of capacity (" + g.Level + ")" + thresholdText(t) + "."
}

// thresholdText is "; warning from 70%, critical from 90%".
func thresholdText(t RiskThresholds) string {
	var parts []string
	if t.Warning > 0 {
		parts = append(parts, "warning from "+percent(t.Warning))
	}
	if t.Critical > 0 {
		parts = append(parts, "critical from "+percent(t.Critical))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, ", ")
}

// busiest is the headline destination of u, from its list when it has
// one (with the local IP), else from the summary columns.
func busiest(u *db.UsageSample) (db.UsageDestination, bool) {
	if len(u.Destinations) > 0 {
		return u.Destinations[0], true
	}
	if u.BusiestDestination != "" {
		return db.UsageDestination{Destination: u.BusiestDestination, Sockets: u.BusiestSockets, Risk: u.BusiestRisk}, true
	}
	return db.UsageDestination{}, false
}

// impactBusiest is the impact's busiest destination as the dashboard
// shows destinations; false when there is none.
func impactBusiest(im usage.Impact) (db.UsageDestination, bool) {
	if im.Busiest == nil {
		return db.UsageDestination{}, false
	}
	b := im.Busiest
	d := db.UsageDestination{Destination: b.Remote.String(), Sockets: b.Sockets, Risk: im.BusiestRisk}
	if b.LocalIP.IsValid() {
		d.LocalIP = b.LocalIP.String()
	}
	return d, true
}

// capacityNote says where the capacity comes from: "of 28,232 in the
// range, less 20 reserved and 12 held by bind()". The reserved ports are
// what the range, the bound ports and the capacity leave over.
func capacityNote(u *db.UsageSample) string {
	size := u.RangeHigh - u.RangeLow + 1
	note := "of " + thousands(size) + " in the range"
	if u.Capacity <= 0 {
		return note + ": reserved and bind()-held ports take all of it"
	}
	var less []string
	if r := size - u.Bound - u.Capacity; r > 0 {
		less = append(less, thousands(r)+" reserved")
	}
	if u.Bound > 0 {
		less = append(less, thousands(u.Bound)+" held by bind()")
	}
	if len(less) == 0 {
		return note + ", none reserved or held by bind()"
	}
	return note + ", less " + strings.Join(less, " and ")
}
