package sysctl

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ReservedKey is the list of ports connect() and bind(0) never pick,
// managed together with the range: widening the range over a service's
// port is only safe once that port is reserved.
const ReservedKey = "net.ipv4.ip_local_reserved_ports"

// MaxReservedLen bounds a reserved-ports list portpanel writes, in bytes
// as written canonically. The kernel parses a write in pages of 4095 bytes
// and carries a number cut at a page boundary over to the next write(2);
// a list that fits in one page is parsed in one piece, as the readers'
// model (kernelReserved) assumes. Reserving listening ports takes a few
// dozen bytes.
const MaxReservedLen = 4094

// CheckReservedPorts validates a reserved-ports list as a person types it,
// more strictly than the kernel: comma-separated decimal ports 1..65535 and
// LOW-HIGH ranges with LOW <= HIGH, nothing else (no spaces, no empty
// items, no leading zeros: the kernel reads "010" as octal 8 and "0x10" as
// 16, and accepts port 0, which nothing can use). "" means no reserved
// ports. It returns the list as the kernel prints it (sorted, overlapping
// and adjacent items merged, "N-N" as "N"), the form portpanel writes and
// compares.
func CheckReservedPorts(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	var ports []Range
	for i, item := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		if !isRange {
			hi = lo
		}
		a, err := reservedItemPort(s, i+1, item, lo)
		if err != nil {
			return "", err
		}
		b, err := reservedItemPort(s, i+1, item, hi)
		if err != nil {
			return "", err
		}
		if a > b {
			return "", invalid("reserved_ports", "order", "reserved ports: in %q the first port (%d) is above the second (%d); write the lower one first", item, a, b)
		}
		ports = append(ports, Range{Low: a, High: b})
	}
	out := FormatPorts(ports)
	if len(out) > MaxReservedLen {
		return "", invalid("reserved_ports", "length", "reserved ports: the list is %d characters long once merged; portpanel writes at most %d", len(out), MaxReservedLen)
	}
	return out, nil
}

// reservedItemPort parses one port of item number n of list.
func reservedItemPort(list string, n int, item, s string) (int, error) {
	switch {
	case item == "":
		return 0, invalid("reserved_ports", "format", "reserved ports: item %d of %q is empty; separate ports and ranges with single commas, as in 8080,9000-9100", n, list)
	case s == "" || strings.Trim(s, "0123456789") != "":
		return 0, invalid("reserved_ports", "format", "reserved ports: %q is not a port or a range like 9000-9100 (digits, one \"-\", no spaces)", item)
	case len(s) > 1 && s[0] == '0':
		return 0, invalid("reserved_ports", "format", "reserved ports: %q must not start with 0: the kernel would read it as an octal number", s)
	}
	p, err := strconv.Atoi(s)
	if err != nil || len(s) > 5 || p < MinPort || p > MaxPort {
		return 0, invalid("reserved_ports", "range", "reserved ports: %s must be between %d and %d", s, MinPort, MaxPort)
	}
	return p, nil
}

// MergePorts returns ports sorted, with overlapping and adjacent ranges
// merged: the set the kernel's bitmap holds, in the order it prints it.
func MergePorts(ports []Range) []Range {
	in := slices.Clone(ports)
	slices.SortFunc(in, func(a, b Range) int { return a.Low - b.Low })
	var out []Range
	for _, r := range in {
		if n := len(out); n > 0 && r.Low <= out[n-1].High+1 {
			out[n-1].High = max(out[n-1].High, r.High)
			continue
		}
		out = append(out, r)
	}
	return out
}

// FormatPorts is ports as the kernel prints ip_local_reserved_ports:
// merged, sorted, "a-b" for a run and "a" for a single port, "" for none.
func FormatPorts(ports []Range) string {
	var b strings.Builder
	for i, r := range MergePorts(ports) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(r.Low))
		if r.High != r.Low {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(r.High))
		}
	}
	return b.String()
}

// AddPorts is list (as the kernel prints it) with ports added, formatted
// canonically. A list that does not parse is an error.
func AddPorts(list string, ports ...int) (string, error) {
	have, err := ParseReservedPorts(list)
	if err != nil {
		return "", err
	}
	for _, p := range ports {
		have = append(have, Range{Low: p, High: p})
	}
	return FormatPorts(have), nil
}

// PortsIn lists the ports of list (as the kernel prints it) inside r.
func PortsIn(ports []Range, r Range) []Range {
	var out []Range
	for _, x := range MergePorts(ports) {
		if lo, hi := max(x.Low, r.Low), min(x.High, r.High); lo <= hi {
			out = append(out, Range{Low: lo, High: hi})
		}
	}
	return out
}

// reservedBitmapLen is the size of the kernel's bitmap: ports 0..65535.
const reservedBitmapLen = 65536

// kernelReserved is what ip_local_reserved_ports holds after a reader
// writes value (plus "\n") to it, as proc_do_large_bitmap() (kernel/
// sysctl.c) parses it: numbers in base 0 (so "010" is 8) each ending in
// "-", "," or "\n" (the second of a pair in "," or "\n"), newlines between
// items skipped, port 0 allowed, a write replacing the whole set. It
// returns the list as the kernel then prints it, or the reason it refuses
// the write (EINVAL: the old list stays).
func kernelReserved(value string) (string, string) {
	buf := value + "\n"
	buf = strings.TrimLeft(buf, "\n")
	var ports []Range
	for buf != "" {
		a, c, rest, reason := bitmapNumber(buf, "-,\n")
		if reason != "" {
			return "", reason
		}
		b := a
		buf = rest
		if c == '-' {
			if b, c, rest, reason = bitmapNumber(buf, ",\n\x00"); reason != "" {
				return "", reason
			}
			if b < a {
				return "", fmt.Sprintf("the range %d-%d ends below its start", a, b)
			}
			buf = rest
		}
		ports = append(ports, Range{Low: a, High: b})
		buf = strings.TrimLeft(buf, "\n")
	}
	return FormatPorts(ports), ""
}

// bitmapNumber reads one number at the start of buf as proc_get_long()
// does for proc_do_large_bitmap(): base 0, ended by one of ends; a sign
// or a number past the bitmap is refused. It returns the number, the
// character that ended it, and buf after that character.
func bitmapNumber(buf, ends string) (int, byte, string, string) {
	if buf[0] == '-' && len(buf) > 1 { // "-0" too: the kernel refuses any sign
		return 0, 0, "", fmt.Sprintf("%q has a sign", firstBitmapItem(buf))
	}
	if buf[0] < '0' || buf[0] > '9' {
		return 0, 0, "", fmt.Sprintf("%q is not a port number", firstBitmapItem(buf))
	}
	v, rest, reason := procGetLong(buf, ends)
	switch {
	case reason != "":
		return 0, 0, "", reason
	case v >= reservedBitmapLen:
		return 0, 0, "", fmt.Sprintf("%d is above %d", v, reservedBitmapLen-1)
	case rest == "": // the value always ends in "\n", which is no digit
		return int(v), 0, "", ""
	}
	return int(v), rest[0], rest[1:], ""
}

// firstBitmapItem is buf up to the next item, for messages.
func firstBitmapItem(buf string) string { return cutShort(buf, ",\n") }
