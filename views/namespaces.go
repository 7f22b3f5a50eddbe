package views

import (
	"strconv"
	"time"

	"portpanel/sysctl"
	"portpanel/sysctl/netns"
)

// NamespacesPage lists the host's network namespaces, each with its own
// range, compared with portpanel's own namespace.
type NamespacesPage struct {
	Chrome
	// Scanned is false before the first scan; the rest is then empty.
	Scanned bool
	At      time.Time
	// Self is portpanel's namespace; Reference its settings, the range
	// portpanel manages (nil when unread).
	Self      NetnsLabel
	Reference *sysctl.KernelState
	Limits    []string
	Rows      []NamespaceRow
	Risk      RiskThresholds
}

// NamespaceRow is one namespace with what the page says about it.
type NamespaceRow struct {
	netns.Namespace
	// Advice is how to give it the reference range, when it differs.
	Advice *netns.Advice
}

// NetnsLabel names the network namespace a set of figures is for.
type NetnsLabel struct {
	ID   string // "net:[4026531833]"; "" when unknown
	Host bool   // the initial namespace, the host's
}

// netnsOf is the phrase after "portpanel's network namespace":
// "(net:[4026531833], the host's)".
func netnsOf(l NetnsLabel) string {
	switch {
	case l.ID == "":
		return ""
	case l.Host:
		return " (" + l.ID + ", the host's)"
	}
	return " (" + l.ID + ", not the host's)"
}

// differing counts the namespaces whose range is not the reference's.
func differing(rows []NamespaceRow) int {
	n := 0
	for _, r := range rows {
		if r.RangeDiffers {
			n++
		}
	}
	return n
}

// unread counts the namespaces portpanel could not read.
func unread(rows []NamespaceRow) int {
	n := 0
	for _, r := range rows {
		if r.Kernel == nil {
			n++
		}
	}
	return n
}

func anchor(n netns.Namespace) string { return "ns-" + strconv.FormatUint(n.Inode, 10) }

// tcpTotal is the namespace's TCP sockets in all states.
func tcpTotal(states map[string]int) int {
	n := 0
	for _, v := range states {
		n += v
	}
	return n
}

// processes is "1 process" or "1,024 processes".
func processes(n int) string {
	if n == 1 {
		return "1 process"
	}
	return thousands(n) + " processes"
}

// referenceText is the range portpanel manages, or why it is missing.
func referenceText(k *sysctl.KernelState) string {
	if k == nil {
		return "unknown (not read)"
	}
	return rangeText(k.Range.Low, k.Range.High)
}

// statesText is "ESTABLISHED 20,000, TIME_WAIT 1,000, LISTEN 3".
func statesText(states map[string]int) string {
	var b []byte
	for i, s := range tcpStates(states) {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, s.State+" "+thousands(s.N)...)
	}
	return string(b)
}

// more is "and 12 more" for a list cut at shown of total.
func more(shown, total int) string {
	if total <= shown {
		return ""
	}
	return "and " + thousands(total-shown) + " more"
}
