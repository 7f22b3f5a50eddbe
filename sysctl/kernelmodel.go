package sysctl

import (
	"fmt"
	"strings"
)

// kernelModel is the part of a network namespace's sysctl state that
// decides whether a write to ip_local_port_range is accepted: the range
// itself and ip_unprivileged_port_start. Its two write methods follow the
// handlers of Linux 6.x (net/ipv4/sysctl_net_ipv4.c:
// ipv4_local_port_range() and ipv4_privileged_ports(), both on top of
// kernel/sysctl.c: __do_proc_dointvec() and proc_get_long()).
type kernelModel struct {
	r      Range
	unpriv int
	// reserved is ip_local_reserved_ports as the kernel prints it; no
	// rule ties it to the other two.
	reserved string
	// unprivWhere is the write that set unpriv (zero: the kernel default).
	unprivWhere Location
	// display shows a config path as the admin knows it, for reasons.
	display func(string) string
}

func newKernelModel(display func(string) string) kernelModel {
	return kernelModel{r: DefaultRange, unpriv: DefaultUnprivilegedPortStart, display: display}
}

// Both readers write the value followed by a newline: procps with
// fprintf("%s\n"), systemd with write_string_file() without
// WRITE_STRING_FILE_AVOID_NEWLINE.

// writeRange applies one write of value to ip_local_port_range. It returns
// "" when the kernel accepts it, else the reason it refuses it.
func (k *kernelModel) writeRange(value string) string {
	nums, reason := dointvec(value+"\n", 2, 1, 65535)
	if reason != "" {
		return reason
	}
	next := k.r
	next.Low = nums[0]
	if len(nums) == 2 {
		next.High = nums[1]
	}
	switch {
	case next.High < next.Low:
		if len(nums) == 1 {
			return fmt.Sprintf("a single number sets only the low end, and %d is above the high end %d the kernel holds then", next.Low, next.High)
		}
		return fmt.Sprintf("the high end %d is below the low end %d", next.High, next.Low)
	case next.Low < k.unpriv:
		return fmt.Sprintf("the low end %d is below ip_unprivileged_port_start %d (%s)", next.Low, k.unpriv, k.unprivSource())
	}
	k.r = next
	return ""
}

// writeReserved applies one write of value to ip_local_reserved_ports
// (proc_do_large_bitmap(), see kernelReserved).
func (k *kernelModel) writeReserved(value string) string {
	list, reason := kernelReserved(value)
	if reason == "" {
		k.reserved = list
	}
	return reason
}

// writeUnpriv applies one write of value to ip_unprivileged_port_start.
func (k *kernelModel) writeUnpriv(value string, where Location) string {
	nums, reason := dointvec(value+"\n", 1, 0, 65535)
	if reason != "" {
		return reason
	}
	// ipv4_privileged_ports(): the range may not start below it.
	if k.r.Low < nums[0] {
		return fmt.Sprintf("it is above the low end %d of the port range the kernel holds then", k.r.Low)
	}
	k.unpriv, k.unprivWhere = nums[0], where
	return ""
}

func (k *kernelModel) unprivSource() string {
	if k.unprivWhere.File == "" {
		return "the kernel default"
	}
	return fmt.Sprintf("set at %s:%d", k.display(k.unprivWhere.File), k.unprivWhere.Line)
}

// kernelSpace is the kernel's isspace() (lib/ctype.c), which also counts
// 0xa0 as a space; proc_skip_spaces() uses it.
func kernelSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0
}

// dointvec parses buf as __do_proc_dointvec() does for a table of n ints
// with the bounds [min, max]: up to n integers separated by whitespace,
// each ending in a space, tab or newline; whatever follows the n-th is
// ignored. It returns the numbers it read (at least one), or the reason
// the kernel answers EINVAL. The checks of all numbers pass before the
// handler stores any of them, so a refused write changes nothing.
func dointvec(buf string, n, min, max int) ([]int, string) {
	var out []int
	for len(buf) > 0 && len(out) < n {
		for buf != "" && kernelSpace(buf[0]) {
			buf = buf[1:]
		}
		if buf == "" {
			break
		}
		v, rest, reason := procGetLong(buf, " \t\n")
		if reason != "" {
			return nil, reason
		}
		if v < int64(min) || v > int64(max) {
			return nil, fmt.Sprintf("%d is outside %d–%d", v, min, max)
		}
		out = append(out, int(v))
		buf = rest
	}
	if len(out) == 0 {
		return nil, "the value is empty"
	}
	return out, ""
}

// tmpBufLen is kernel/sysctl.c's TMPBUFLEN: a number of 21 characters or
// more is refused, since the kernel cannot tell where it ends.
const tmpBufLen = 22

// procGetLong reads one integer at the start of buf like proc_get_long()
// with the separators ends (" \t\n" for a table of ints): an optional
// "-", then digits in base 0 (0x hex, 0 octal) as strtoul_lenient() reads
// them.
func procGetLong(buf, ends string) (int64, string, string) {
	t := buf // the kernel copies at most TMPBUFLEN-1 bytes
	if len(t) > tmpBufLen-1 {
		t = t[:tmpBufLen-1]
	}
	p := 0
	neg := t[0] == '-' && len(buf) > 1
	if neg {
		p++
	}
	if p >= len(t) || t[p] < '0' || t[p] > '9' {
		return 0, "", fmt.Sprintf("%q is not a number", firstField(buf))
	}
	base := 10
	switch {
	case t[p] == '0' && p+2 < len(t) && (t[p+1] == 'x' || t[p+1] == 'X') && isHex(t[p+2]):
		base, p = 16, p+2
	case t[p] == '0':
		base = 8
	}
	var v uint64
	for ; p < len(t); p++ {
		d, ok := digitValue(t[p])
		if !ok || d >= base {
			break
		}
		if v > (1<<64-1-uint64(d))/uint64(base) {
			return 0, "", fmt.Sprintf("%q is too large", firstField(buf))
		}
		v = v*uint64(base) + uint64(d)
	}
	if p == tmpBufLen-1 {
		return 0, "", fmt.Sprintf("%q is too long for the kernel to read", firstField(buf))
	}
	if p < len(buf) && !strings.ContainsRune(ends, rune(buf[p])) {
		return 0, "", fmt.Sprintf("%q is not a number the kernel reads (it goes on with %q)", firstField(buf), string(buf[p]))
	}
	// do_proc_dointvec_conv(): the magnitude must fit an int.
	if (neg && v > 1<<31) || (!neg && v > 1<<31-1) {
		return 0, "", fmt.Sprintf("%q is too large", firstField(buf))
	}
	n := int64(v)
	if neg {
		n = -n
	}
	return n, buf[p:], ""
}

func isHex(c byte) bool {
	_, ok := digitValue(c)
	return ok
}

func digitValue(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

// firstField is the start of buf up to whitespace, for messages.
func firstField(buf string) string { return cutShort(buf, " \t\n\v\f\r") }

// cutShort is the start of buf up to any of seps, at most 24 bytes, for
// messages.
func cutShort(buf, seps string) string {
	if i := strings.IndexAny(buf, seps); i >= 0 {
		buf = buf[:i]
	}
	if len(buf) > 24 {
		buf = buf[:24] + "…"
	}
	return buf
}
