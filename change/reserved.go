package change

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/usage"
)

// ReservedKey is the sysctl that keeps ports out of the range.
const ReservedKey = "net.ipv4.ip_local_reserved_ports"

// proposedReserved is ip_local_reserved_ports as it will be once c is
// applied, which the collision and hazard checks hold c's range against:
// the list c sets, or the kernel's value now when c leaves it alone.
func proposedReserved(st sysctl.KernelState, c db.Change) string {
	if c.ReservedPorts != nil {
		return *c.ReservedPorts
	}
	return st.ReservedPorts
}

// reserveFix is the setting that reserves ports on top of reserved (a
// write replaces the whole list, so the ports reserved already are kept),
// as a line for a sysctl config file: sorted, overlaps merged.
func reserveFix(reserved string, ports []int) string {
	list, _ := sysctl.ParseReservedPorts(reserved) // the kernel's own value
	for _, p := range ports {
		list = append(list, sysctl.Range{Low: p, High: p})
	}
	slices.SortFunc(list, func(a, b sysctl.Range) int { return a.Low - b.Low })
	var merged []sysctl.Range
	for _, r := range list {
		if n := len(merged); n > 0 && r.Low <= merged[n-1].High+1 {
			merged[n-1].High = max(merged[n-1].High, r.High)
			continue
		}
		merged = append(merged, r)
	}
	parts := make([]string, len(merged))
	for i, r := range merged {
		parts[i] = strconv.Itoa(r.Low)
		if r.High != r.Low {
			parts[i] += "-" + strconv.Itoa(r.High)
		}
	}
	return fmt.Sprintf("%s = %s", ReservedKey, strings.Join(parts, ","))
}

// ReserveFix is the setting that reserves, on top of reserved, the ports
// of cs that are not reserved yet; "" when there are none.
func ReserveFix(cs []usage.Collision, reserved string) string {
	var ports []int
	for _, c := range unreserved(cs) {
		ports = append(ports, c.Port)
	}
	if len(ports) == 0 {
		return ""
	}
	return reserveFix(reserved, ports)
}
