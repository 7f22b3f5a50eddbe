package usage

import (
	"net/netip"
	"syscall"
	"testing"
)

// diagMsg builds an inet_diag_msg as the kernel sends it.
func diagMsg(family, state uint8, local, remote netip.AddrPort) []byte {
	m := make([]byte, sizeofDiagMsg)
	m[0], m[1] = family, state
	m[4], m[5] = byte(local.Port()>>8), byte(local.Port())
	m[6], m[7] = byte(remote.Port()>>8), byte(remote.Port())
	put := func(at int, a netip.Addr) {
		if family == syscall.AF_INET {
			b := a.As4()
			copy(m[at:], b[:])
			return
		}
		b := a.As16()
		copy(m[at:], b[:])
	}
	put(8, local.Addr())
	put(24, remote.Addr())
	return m
}

func TestDiagSocket(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		name  string
		proto string
		msg   []byte
		want  Socket
	}{
		{"IPv4 TIME_WAIT", TCP, diagMsg(syscall.AF_INET, 6, ap("10.0.0.1:40000"), ap("10.0.0.2:443")),
			tcp(TimeWait, "10.0.0.1:40000", "10.0.0.2:443")},
		{"IPv6 listener", TCP, diagMsg(syscall.AF_INET6, 10, ap("[::1]:8080"), ap("[::]:0")),
			tcp(Listen, "[::1]:8080", "[::]:0")},
		{"dual-stack socket comes out as IPv4", TCP,
			diagMsg(syscall.AF_INET6, 1, ap("[::ffff:10.0.0.1]:40001"), ap("[::ffff:10.0.0.2]:443")),
			tcp(Established, "10.0.0.1:40001", "10.0.0.2:443")},
		{"UDP has no state", UDP, diagMsg(syscall.AF_INET, 7, ap("10.0.0.1:40002"), ap("0.0.0.0:0")),
			udp("10.0.0.1:40002", "0.0.0.0:0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := diagSocket(tt.proto, tt.msg); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
