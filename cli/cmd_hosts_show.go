package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// hostDetailAnswer is GET /api/v1/hosts/NAME.
type hostDetailAnswer struct {
	hostAnswer
	Observed *struct {
		ReservedPorts         string `json:"reserved_ports"`
		UnprivilegedPortStart int    `json:"unprivileged_port_start"`
		Warnings              []string
		File                  string
		Usage                 *struct {
			At      time.Time
			Total   int
			ByState map[string]int `json:"by_state"`
			Busiest *struct {
				Address string
				Count   int
			}
			Risk     string
			RiskNote string `json:"risk_note"`
		}
		Listeners []struct {
			Port    int
			Proto   string
			Process string
		}
	}
	Changes []changeAnswer
	Audit   []apiEvent
}

// printHost shows one host as the host page does, top to bottom.
func printHost(t *term, h hostDetailAnswer) {
	row := func(k, v string) []string { return []string{t.paint(bold, k), v} }
	state := t.hostState(h.State)
	if h.StateReason != "" {
		state += ": " + h.StateReason
	}
	rows := [][]string{row("Host", h.Name+"  (group "+h.Group+")"), row("State", state)}
	if h.ObserveOnly {
		rows = append(rows, row("Observe only", "yes: the agent reports and refuses every change"))
	}
	seen := "never"
	if h.LastSeen != nil {
		seen = when(*h.LastSeen)
	}
	rows = append(rows, row("Last seen", seen))
	if h.Runtime != nil {
		rows = append(rows, row("Runtime", h.Runtime.String()+"  ("+ports(h.Runtime.size())+")"))
	}
	if b := h.Boot; b != nil {
		boot := apiRange{Low: b.Low, High: b.High}.String()
		if b.KernelDefault {
			boot += "  kernel default (no file sets it)"
		} else {
			boot += "  " + b.File + ":" + strconv.Itoa(b.Line)
		}
		rows = append(rows, row("After reboot", boot+"  read by "+b.Reader))
	}
	if h.Drift != nil && *h.Drift {
		rows = append(rows, row("Drift", t.paint(yellow, "the runtime range differs from the boot value")))
	}
	if o := h.Observed; o != nil {
		rows = append(rows, row("Reserved", portList(&o.ReservedPorts)), row("Unprivileged from", strconv.Itoa(o.UnprivilegedPortStart)))
		if o.File != "" {
			rows = append(rows, row("Managed file", o.File))
		}
		if u := o.Usage; u != nil {
			use := strconv.Itoa(u.Total) + " sockets, risk " + t.level(u.Risk)
			if u.Busiest != nil {
				use += fmt.Sprintf(", busiest %s (%d)", u.Busiest.Address, u.Busiest.Count)
			}
			rows = append(rows, row("Usage", use))
		}
	}
	applied := "nothing yet"
	if h.AppliedGeneration > 0 {
		applied = "generation " + strconv.FormatInt(h.AppliedGeneration, 10)
		if h.AppliedAt != nil {
			applied += " at " + when(*h.AppliedAt)
		}
	}
	rows = append(rows, row("Last applied", applied), row("Desired", "generation "+strconv.FormatInt(h.Generation, 10)))
	if r := h.Result; r != nil && r.Error != "" {
		rows = append(rows, row("Last result", fmt.Sprintf("generation %d %s: %s", r.Generation, t.level(r.State), r.Error)))
	}
	rows = append(rows, row("Agent", h.AgentVersion+fmt.Sprintf(", polls every %d s, enrolled %s", h.PollSeconds, when(h.EnrolledAt))))
	io.WriteString(t.out, renderTable(rows))
	if o := h.Observed; o != nil {
		t.said("Warnings", t.paint(yellow, "!"), o.Warnings)
		var ls []string
		for _, l := range o.Listeners {
			ls = append(ls, fmt.Sprintf("%d/%s %s", l.Port, l.Proto, l.Process))
		}
		t.said("Listening inside the range", "-", ls)
		if u := o.Usage; u != nil && len(u.ByState) > 0 {
			var st []string
			for s, n := range u.ByState {
				st = append(st, fmt.Sprintf("%s %d", s, n))
			}
			sort.Strings(st)
			t.said("Sockets by state", "-", st)
		}
	}
	var chs []string
	for _, ch := range h.Changes {
		chs = append(chs, fmt.Sprintf("#%d %s %s → %s %s", ch.ID, t.level(ch.Status), ch.Before, ch.after(), oneLine(ch.Reason)))
	}
	t.said("Changes", "-", chs)
	var evs []string
	for _, e := range h.Audit {
		detail, _, _ := strings.Cut(e.Detail, "\n")
		evs = append(evs, when(e.At)+"  "+e.Action+"  "+detail)
	}
	t.said("Audit", "-", evs)
}
