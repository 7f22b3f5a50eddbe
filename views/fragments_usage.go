package views

import (
	"context"
	"io"
	"math"
	"strconv"

	"github.com/a-h/templ"

	"portpanel/db"
)

// The usage section's repeated parts as fragments (see fragments.go): the
// gauge is a dozen computed attributes, and the tables a row per state
// and per destination.

// appendPercentHTML appends percent(share), HTML-escaped.
func appendPercentHTML(b []byte, share float64) []byte {
	n := len(b)
	return escapeFrom(appendPercent(b, share), n)
}

// appendNum appends num(v), an SVG coordinate to a tenth.
func appendNum(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, math.Round(v*10)/10, 'f', -1, 64)
}

// appendThousands appends thousands(n) without building the string.
func appendThousands(b []byte, n int) []byte {
	if n < 0 {
		b = append(b, '-')
	}
	var d [24]byte
	s := strconv.AppendInt(d[:0], int64(n), 10)
	if n < 0 {
		s = s[1:]
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, c)
	}
	return b
}

// riskBar draws the risk as a bar over the ok, warning and critical
// zones. Widths are computed server side: no style attribute.
type riskBar struct {
	g gauge
	t RiskThresholds
}

func (r *riskBar) appendHTML(b []byte) []byte {
	g, t := r.g, r.t
	b = append(b, `<svg class="gauge" viewBox="0 0 `...)
	b = strconv.AppendInt(b, gaugeW, 10)
	b = append(b, ` 34" role="img" aria-label="`...)
	n := len(b)
	b = escapeFrom(appendGaugeLabel(b, g, t), n)
	b = append(b, `" data-testid="usage-gauge"><rect class="gauge-track" x="0" y="0" width="`...)
	b = strconv.AppendInt(b, gaugeW, 10)
	b = append(b, `" height="14" rx="3"></rect> `...)
	if g.Crit > g.Warn {
		b = append(b, `<rect class="gauge-zone gauge-zone-warning" x="`...)
		b = appendNum(b, g.Warn)
		b = append(b, `" y="0" width="`...)
		b = appendNum(b, g.Crit-g.Warn)
		b = append(b, `" height="14"></rect> `...)
	}
	if g.Crit < gaugeW {
		b = append(b, `<rect class="gauge-zone gauge-zone-critical" x="`...)
		b = appendNum(b, g.Crit)
		b = append(b, `" y="0" width="`...)
		b = appendNum(b, gaugeW-g.Crit)
		b = append(b, `" height="14"></rect> `...)
	}
	b = append(b, `<rect class="gauge-fill gauge-`...)
	b = appendEsc(b, g.Level)
	b = append(b, `" x="0" y="2" width="`...)
	b = appendNum(b, g.Fill)
	b = append(b, `" height="10" rx="2" data-testid="usage-gauge-fill"></rect> <text class="gauge-label" x="0" y="30" text-anchor="start">0%</text> `...)
	for _, tick := range [...]struct{ at, share float64 }{{g.Warn, t.Warning}, {g.Crit, t.Critical}} {
		if tick.share > 0 {
			b = append(b, `<line class="gauge-tick" x1="`...)
			b = appendNum(b, tick.at)
			b = append(b, `" x2="`...)
			b = appendNum(b, tick.at)
			b = append(b, `" y1="0" y2="18"></line> <text class="gauge-label" x="`...)
			b = appendNum(b, tick.at)
			b = append(b, `" y="30" text-anchor="middle">`...)
			b = appendPercentHTML(b, tick.share)
			b = append(b, "</text> "...)
		}
	}
	if gaugeW-g.Crit > 40 {
		b = append(b, `<text class="gauge-label" x="`...)
		b = strconv.AppendInt(b, gaugeW, 10)
		b = append(b, `" y="30" text-anchor="end">100%</text>`...)
	}
	return append(b, "</svg>"...)
}

// usageRisk is the headline: the busiest destination's share of capacity
// with a gauge and its level, and what the capacity allows.
func usageRisk(u *db.UsageSample, t RiskThresholds) templ.Component { return &headline{u, t} }

type headline struct {
	u *db.UsageSample
	t RiskThresholds
}

func (h *headline) appendHTML(b []byte) []byte {
	u := h.u
	g := riskGauge(u.BusiestRisk, h.t)
	b = append(b, `<div class="usage-risk" data-testid="usage-risk" data-level="`...)
	b = appendEsc(b, g.Level)
	b = append(b, `"><h3 class="eyebrow">Exhaustion risk · busiest destination</h3><p class="risk-line"><span class="risk-value num risk-`...)
	b = appendEsc(b, g.Level)
	b = append(b, `" data-testid="usage-risk-value">`...)
	b = appendPercentHTML(b, u.BusiestRisk)
	b = append(b, `</span>`...)
	b = riskPill(g.Level).appendHTML(b)
	b = append(b, `</p>`...)
	b = (&riskBar{g, h.t}).appendHTML(b)
	b = append(b, `<dl class="kv"><dt>Destination</dt><dd data-testid="usage-busiest">`...)
	if d, ok := busiest(u); ok {
		b = append(b, `<code>`...)
		b = appendEsc(b, d.Destination)
		b = append(b, `</code> `...)
		if d.LocalIP != "" {
			b = append(b, `<span class="muted">from</span> <code>`...)
			b = append(appendEsc(b, d.LocalIP), `</code>`...)
		}
		b = append(b, ` <span class="sep">·</span> <span class="num">`...)
		b = append(appendSockets(b, d.Sockets), `</span>`...)
	} else {
		b = append(b, `<span class="muted">none: no outgoing TCP connection uses a port in the range</span>`...)
	}
	b = append(b, `</dd><dt>Capacity</dt><dd data-testid="usage-capacity"><span class="num">`...)
	b = appendThousands(b, u.Capacity)
	b = append(b, ` ports</span> <span class="muted small">`...)
	b = appendCapacityNote(b, u)
	b = append(b, `</span></dd><dt>Sustainable rate</dt><dd data-testid="usage-rate">`...)
	b = appendRate(b, u.Capacity)
	// The space in "60 s" is a no-break space.
	b = append(b, " <span class=\"muted small\">to any one destination (ports stay in TIME_WAIT for 60\u00a0s)</span></dd><dt>Shared use</dt><dd data-testid=\"usage-shared\"><span class=\"num\">"...)
	b = appendPercentHTML(b, u.SharedUse)
	return append(b, `</span> <span class="muted small">of the ports, by bind(0) and UDP users, who need a port of their own whatever the destination</span></dd></dl></div>`...)
}

func (h *headline) Render(_ context.Context, w io.Writer) error { return render(w, h) }

// stateRows are the rows of the sockets-by-state table: the TCP states,
// then UDP.
func stateRows(u *db.UsageSample) templ.Component { return (*socketStates)(u) }

type socketStates db.UsageSample

func (u *socketStates) appendHTML(b []byte) []byte {
	for _, s := range tcpStates(u.TCPStates) {
		b = append(b, `<tr data-testid="state-row" data-state="`...)
		b = appendEsc(b, s.State)
		b = append(b, `"><th scope="row" class="plain">TCP <code>`...)
		b = appendEsc(b, s.State)
		b = append(b, `</code></th><td class="num right">`...)
		b = appendThousands(b, s.N)
		b = append(b, "</td></tr>"...)
	}
	b = append(b, `<tr data-testid="state-row" data-state="UDP"><th scope="row" class="plain">UDP</th><td class="num right">`...)
	b = appendThousands(b, u.UDP)
	return append(b, "</td></tr>"...)
}

func (u *socketStates) Render(_ context.Context, w io.Writer) error { return render(w, u) }

// destinationRows are the rows of the top destinations table.
func destinationRows(ds []db.UsageDestination, t RiskThresholds) templ.Component {
	return &destinations{ds, t}
}

type destinations struct {
	ds []db.UsageDestination
	t  RiskThresholds
}

func (d *destinations) appendHTML(b []byte) []byte {
	for _, dst := range d.ds {
		b = append(b, `<tr data-testid="destination-row"><th scope="row" class="plain"><code>`...)
		b = appendEsc(b, dst.Destination)
		b = append(b, `</code></th><td><code>`...)
		b = appendEsc(b, dst.LocalIP)
		b = append(b, `</code></td><td class="num right">`...)
		b = appendThousands(b, dst.Sockets)
		b = append(b, `</td><td class="num right risk-cell"><meter class="risk-meter" min="0" max="1" low="`...)
		b = strconv.AppendFloat(b, d.t.Warning, 'f', -1, 64)
		b = append(b, `" high="`...)
		b = strconv.AppendFloat(b, d.t.Critical, 'f', -1, 64)
		b = append(b, `" optimum="0" value="`...)
		b = strconv.AppendFloat(b, clamp01(dst.Risk), 'f', -1, 64)
		b = append(b, `" aria-hidden="true"></meter> `...)
		b = appendPercentHTML(b, dst.Risk)
		b = append(b, "</td><td>"...)
		b = riskPill(d.t.Level(dst.Risk)).appendHTML(b)
		b = append(b, "</td></tr>"...)
	}
	return b
}

func (d *destinations) Render(_ context.Context, w io.Writer) error { return render(w, d) }
