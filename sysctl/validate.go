package sysctl

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MinPort and MaxPort are the bounds the kernel enforces on both ends.
const (
	MinPort = 1
	MaxPort = 65535
)

// smallRange is the size below which a range is flagged as easy to exhaust.
const smallRange = 1000

// InvalidError is a value portpanel refuses before touching the kernel or a
// file. Field is "low", "high" or "value"; Rule is a short id ("range",
// "order", "unprivileged", "format"); Message is a sentence for a person.
type InvalidError struct{ Field, Rule, Message string }

func (e *InvalidError) Error() string { return e.Message }

func invalid(field, rule, format string, args ...any) *InvalidError {
	return &InvalidError{Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// ParsePort parses one end of the range strictly: decimal digits only. The
// kernel parses with base 0, so "040000" would be read as octal 16384 and
// "0x9c40" as hex; a sign or any other character is refused too.
func ParsePort(field, s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, invalid(field, "format", "%s is empty: enter a port number between %d and %d", field, MinPort, MaxPort)
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, invalid(field, "format", "%s (%q) must be a whole number written with the digits 0-9 only", field, s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, invalid(field, "format", "%s (%s) must not start with 0: the kernel would read it as an octal number", field, s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || len(s) > 5 || n < MinPort || n > MaxPort {
		return 0, invalid(field, "range", "%s (%s) must be between %d and %d", field, s, MinPort, MaxPort)
	}
	return n, nil
}

// checkBounds refuses what the kernel refuses regardless of other settings.
func checkBounds(r Range) error {
	if r.Low < MinPort || r.Low > MaxPort {
		return invalid("low", "range", "low (%d) must be between %d and %d", r.Low, MinPort, MaxPort)
	}
	if r.High < MinPort || r.High > MaxPort {
		return invalid("high", "range", "high (%d) must be between %d and %d", r.High, MinPort, MaxPort)
	}
	if r.Low > r.High {
		return invalid("value", "order", "low (%d) must not exceed high (%d)", r.Low, r.High)
	}
	return nil
}

// Validate refuses a range the kernel would refuse in state st and returns
// warnings, as sentences, about ranges it would accept but that work badly.
func Validate(r Range, st KernelState) (warnings []string, err error) {
	if err := checkBounds(r); err != nil {
		return nil, err
	}
	if r.Low < st.UnprivilegedPortStart {
		return nil, invalid("low", "unprivileged", "low (%d) is below ip_unprivileged_port_start (%d), which the kernel refuses: pick a low of at least %d, or lower net.ipv4.ip_unprivileged_port_start first",
			r.Low, st.UnprivilegedPortStart, st.UnprivilegedPortStart)
	}
	if r.Low%2 == r.High%2 {
		warnings = append(warnings, parityWarning(r))
	}
	switch n := r.Size(); {
	case n == 1:
		warnings = append(warnings, fmt.Sprintf("The range is a single port (%d): only one outgoing connection per destination can exist at a time.", r.Low))
	case n < smallRange:
		warnings = append(warnings, fmt.Sprintf("The range has only %d ports: a busy host can run out of ephemeral ports; consider at least %s.", n, thousands(smallRange)))
	}
	if r.Low < 1024 {
		warnings = append(warnings, fmt.Sprintf("The range starts below 1024 (allowed because ip_unprivileged_port_start is %d): outgoing connections may take ports that services expect to bind.", st.UnprivilegedPortStart))
	}
	if st.ReservedPorts != "" {
		reserved, err := ParseReservedPorts(st.ReservedPorts)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("Could not check ip_local_reserved_ports: %v.", err))
		} else if n := ReservedInRange(reserved, r); n > 0 {
			warnings = append(warnings, fmt.Sprintf("%s of the ports in ip_local_reserved_ports fall inside the range: connect() and bind(0) skip them, leaving %s usable.", thousands(n), thousands(r.Size()-n)))
		}
	}
	return warnings, nil
}

func parityWarning(r Range) string {
	var alt []string
	if r.High+1 <= MaxPort {
		alt = append(alt, strconv.Itoa(r.High+1))
	}
	if r.High-1 >= r.Low {
		alt = append(alt, strconv.Itoa(r.High-1))
	}
	parity := "odd"
	if r.Low%2 == 0 {
		parity = "even"
	}
	s := fmt.Sprintf("Low (%d) and high (%d) are both %s: the kernel prefers different parity for the two ends (it logs \"prefer different parity for start/end values\") because connect() and bind(0) each search one half of the range first.",
		r.Low, r.High, parity)
	if len(alt) > 0 {
		s += " Use a high of " + strings.Join(alt, " or ") + " instead."
	}
	return s
}

// thousands formats n with comma separators ("28,232").
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ParseReservedPorts parses ip_local_reserved_ports ("1,2-4,10-10"); ""
// gives nil.
func ParseReservedPorts(s string) ([]Range, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []Range
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		a, err1 := reservedPort(lo)
		b, err2 := reservedPort(hi)
		if err1 != nil || err2 != nil || a > b {
			return nil, invalid("value", "format", "%q is not a list of ports and ranges like \"8080,9000-9010\"", s)
		}
		out = append(out, Range{Low: a, High: b})
	}
	return out, nil
}

func reservedPort(s string) (int, error) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("bad port %q", s)
	}
	n, _ := strconv.Atoi(s)
	if n > MaxPort {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return n, nil
}

// ReservedInRange counts the distinct reserved ports inside r. Overlapping
// entries ("8080,8080") are counted once, as the kernel stores a bitmap.
func ReservedInRange(reserved []Range, r Range) int {
	var in []Range
	for _, x := range reserved {
		lo, hi := max(x.Low, r.Low), min(x.High, r.High)
		if lo <= hi {
			in = append(in, Range{Low: lo, High: hi})
		}
	}
	sort.Slice(in, func(i, j int) bool { return in[i].Low < in[j].Low })
	n, next := 0, 0 // next: first port not yet counted
	for _, x := range in {
		lo := max(x.Low, next)
		if lo <= x.High {
			n += x.High - lo + 1
			next = x.High + 1
		}
	}
	return n
}
