package usage

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
)

// parseTable appends the sockets of one /proc/net/{tcp,tcp6,udp,udp6}
// file to out. Rows look like
//
//	0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 ...
//
// (slot, local, remote, state, ...). The kernel prints each 32-bit word of
// an address as a host-order integer, so 127.0.0.1 reads "0100007F" on a
// little-endian machine; ports are plain hex. Only the first four fields
// are read, which keeps the fallback cheap on hosts with many sockets.
func parseTable(r io.Reader, proto string, out []Socket) ([]Socket, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		if n == 1 {
			continue // the column header
		}
		var f [4][]byte
		if !firstFields(sc.Bytes(), f[:]) {
			return out, fmt.Errorf("line %d: want at least 4 fields in %q", n, sc.Bytes())
		}
		local, err1 := parseHexAddrPort(f[1])
		remote, err2 := parseHexAddrPort(f[2])
		st, ok := hexUint(f[3], 8)
		if err := errors.Join(err1, err2); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("bad state %q", f[3])
			}
			return out, fmt.Errorf("line %d: %w", n, err)
		}
		s := Socket{Proto: proto, Local: local, Remote: remote}
		if proto == TCP {
			s.State = stateName(uint8(st))
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// firstFields fills f with the first len(f) space-separated fields of b,
// without allocating; false when b has fewer.
func firstFields(b []byte, f [][]byte) bool {
	for i := range f {
		b = bytes.TrimLeft(b, " \t")
		if len(b) == 0 {
			return false
		}
		end := bytes.IndexAny(b, " \t")
		if end < 0 {
			end = len(b)
		}
		f[i], b = b[:end], b[end:]
	}
	return true
}

// parseHexAddrPort parses "0100007F:1F90" (IPv4) or 32 hex digits and a
// port (IPv6). Words are host order, hence NativeEndian: the kernel
// prints the in-memory network-order word as an integer.
func parseHexAddrPort(s []byte) (netip.AddrPort, error) {
	i := bytes.IndexByte(s, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("address %q has no port", s)
	}
	port, ok := hexUint(s[i+1:], 16)
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("address %q: bad port", s)
	}
	hex := s[:i]
	var b [16]byte
	if len(hex) != 8 && len(hex) != 32 {
		return netip.AddrPort{}, fmt.Errorf("address %q: want 8 or 32 hex digits", s)
	}
	for w := 0; w < len(hex)/8; w++ {
		v, ok := hexUint(hex[8*w:8*w+8], 32)
		if !ok {
			return netip.AddrPort{}, fmt.Errorf("address %q: bad hex", s)
		}
		binary.NativeEndian.PutUint32(b[4*w:], uint32(v))
	}
	var a netip.Addr
	if len(hex) == 8 {
		a = netip.AddrFrom4([4]byte(b[:4]))
	} else {
		a = netip.AddrFrom16(b).Unmap()
	}
	return netip.AddrPortFrom(a, uint16(port)), nil
}

// hexUint parses at most bits/4 hex digits. strconv would need a string
// per field, and the fallback parses three fields on every row.
func hexUint(b []byte, bits int) (uint64, bool) {
	if len(b) == 0 || len(b) > bits/4 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

// readTable reads one /proc/net table file.
func readTable(path, proto string, out []Socket) ([]Socket, error) {
	f, err := os.Open(path)
	if err != nil {
		return out, fmt.Errorf("read sockets: %w", err)
	}
	defer f.Close()
	out, err = parseTable(f, proto, out)
	if err != nil {
		return out, fmt.Errorf("parse %s: %w", path, err)
	}
	return out, nil
}
