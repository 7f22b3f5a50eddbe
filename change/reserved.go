package change

import (
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/usage"
)

// proposedReserved is ip_local_reserved_ports as it will be once c is
// applied, which the collision and hazard checks hold c's range against:
// the list c sets, or the kernel's value now when c leaves it alone.
func proposedReserved(st sysctl.KernelState, c db.Change) string {
	if c.ReservedPorts != nil {
		return *c.ReservedPorts
	}
	return st.ReservedPorts
}

// ReserveFix is the setting, as a line for a sysctl config file, that
// reserves the ports of cs not reserved yet on top of reserved (a write
// replaces the whole list, so those reserved already are kept); "" when
// there are none.
func ReserveFix(cs []usage.Collision, reserved string) string {
	list := ReservedWith(cs, reserved)
	if list == "" {
		return ""
	}
	return sysctl.ReservedKey + " = " + list
}

// ReservedWith is reserved with the ports of cs that are not reserved yet
// added, as the kernel prints the list; "" when none needs adding.
func ReservedWith(cs []usage.Collision, reserved string) string {
	var ports []int
	for _, c := range unreserved(cs) {
		ports = append(ports, c.Port)
	}
	if len(ports) == 0 {
		return ""
	}
	list, err := sysctl.AddPorts(reserved, ports...)
	if err != nil {
		return "" // reserved is the kernel's own value, or one validated already
	}
	return list
}
