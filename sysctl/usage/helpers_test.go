package usage

import (
	"fmt"
	"net/netip"
	"strings"
)

func tcp(state, local, remote string) Socket {
	return Socket{Proto: TCP, State: state, Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote)}
}

func udp(local, remote string) Socket {
	return Socket{Proto: UDP, Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote)}
}

// dests renders destinations as "local>remote=sockets@risk" so a failing
// case shows every field at once.
func dests(ds []Destination) string {
	var b []string
	for _, d := range ds {
		b = append(b, destString(&d))
	}
	return strings.Join(b, " ")
}

func destString(d *Destination) string {
	if d == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s>%s=%d@%.4f", d.LocalIP, d.Remote, d.Sockets, d.Risk)
}
