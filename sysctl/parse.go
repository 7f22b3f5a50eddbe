package sysctl

import (
	"path"
	"strings"
)

// How the two boot readers split a config line, from procps
// parse_setting_line() and systemd-sysctl parse_file(). They agree on
// everything that matters for one key except the details noted here.
const (
	procpsSpace  = " \t\n\v\f\r" // C isspace(), used by procps
	systemdSpace = " \t\n\r"     // systemd's WHITESPACE
	// systemdMaxLine is systemd's LONG_LINE_MAX: reading stops at a longer
	// line (the rest of the file is skipped).
	systemdMaxLine = 1 << 20
	keyPath        = "net/ipv4/ip_local_port_range"
)

type lineKind int

const (
	lineOther  lineKind = iota // blank, comment, another key, not an assignment
	lineAssign                 // "K = V" or "-K = V"
	lineDrop                   // bare "-K": systemd drops K; procps ignores it for an explicit K
	lineGlob                   // a glob that matches K: "net.ipv4.ip_local_port_rang? = V"
)

// setting is one line as a reader understands it.
type setting struct {
	kind  lineKind
	key   string // as written, trimmed, without the "-" prefix
	dash  bool   // "-" prefix
	value string // trimmed; "" for a drop
}

// confKey is a key the editor writes and the replay follows: its dotted
// name and its path under /proc/sys.
type confKey struct{ dotted, path string }

var (
	rangeConf    = confKey{Key, keyPath}
	reservedConf = confKey{ReservedKey, reservedFile}
)

// parseSetting classifies one line (without its line terminator) as
// being about key k or not.
func parseSetting(line string, rd Reader, k confKey) setting {
	space := procpsSpace
	if rd == ReaderSystemd {
		space = systemdSpace
	}
	t := strings.TrimLeft(line, space)
	if t == "" || t[0] == '#' || t[0] == ';' {
		return setting{}
	}
	var s setting
	name, v, hasValue := strings.Cut(t, "=")
	if !hasValue && t[0] != '-' {
		return setting{} // not an assignment: both tools warn and go on
	}
	if name != "" && name[0] == '-' {
		s.dash, name = true, name[1:]
	}
	// procps only right-trims the key after the "-", so "- K = V" is an
	// unknown key " K" to it; systemd trims both sides.
	if rd == ReaderSystemd {
		name = strings.Trim(name, space)
	} else {
		name = strings.TrimRight(name, space)
	}
	s.key = name
	s.kind = classifyKey(name, hasValue, k)
	if hasValue {
		s.value = strings.Trim(v, space)
	}
	if s.kind == lineOther {
		return setting{}
	}
	return s
}

func classifyKey(name string, hasValue bool, k confKey) lineKind {
	p := slashdot(name)
	if strings.ContainsAny(p, "*?[") {
		if ok, _ := path.Match("/proc/sys/"+p, "/proc/sys/"+k.path); ok && hasValue {
			return lineGlob
		}
		return lineOther // "-glob" only excludes keys from other globs
	}
	if !namesKey(p, k) {
		return lineOther
	}
	if hasValue {
		return lineAssign
	}
	return lineDrop
}

// namesKey reports whether the slash path p, opened under /proc/sys, is
// key k. It is deliberately a little generous: repeated separators, "."
// and ".." components and a trailing separator are accepted, although one
// tool or the other refuses some of them, so the editor never leaves such a
// line behind believing it is someone else's key.
func namesKey(p string, k confKey) bool {
	return p != "" && path.Clean("/proc/sys/"+p) == "/proc/sys/"+k.path
}

// canonicalKey reports whether name is spelled so that both tools, and
// procps' glob deduplication (a plain string compare of paths), see key k:
// the dotted or the slash form, nothing else.
func canonicalKey(name string, k confKey) bool { return name == k.dotted || name == k.path }

// slashdot turns a key into a path the way both tools do: if the first
// separator is a dot, dots become slashes and slashes become dots (so a
// mixed "net.ipv4/x" names "net/ipv4.x"); otherwise it is left alone.
func slashdot(k string) string {
	i := strings.IndexAny(k, "./")
	if i < 0 || k[i] == '/' {
		return k
	}
	b := []byte(k)
	for j, c := range b {
		switch c {
		case '.':
			b[j] = '/'
		case '/':
			b[j] = '.'
		}
	}
	return string(b)
}

// readerLine is a line as a reader splits the file, numbered from 1.
type readerLine struct {
	n    int
	text string
}

// splitLines splits content as rd reads it. procps uses getline() and C
// strings: lines end at "\n" and a NUL cuts the line short. systemd's
// read_line() also ends a line at a lone "\r" or a NUL ("\r\n" is one end).
// tooLong is set when systemd would stop reading at an over-long line.
func splitLines(content []byte, rd Reader) (lines []readerLine, tooLong bool) {
	s := string(content)
	n := 0
	for len(s) > 0 {
		var line string
		if rd == ReaderSystemd {
			i := strings.IndexAny(s, "\n\r\x00")
			if i < 0 {
				line, s = s, ""
			} else {
				line, s = s[:i], s[i:]
				s = s[systemdEOL(s):]
			}
			if len(line) > systemdMaxLine {
				return lines, true
			}
		} else {
			line, s, _ = strings.Cut(s, "\n")
			line, _, _ = strings.Cut(line, "\x00")
		}
		n++
		lines = append(lines, readerLine{n: n, text: line})
	}
	return lines, false
}

// systemdEOL is the length of the line ending at the start of s as
// read_line_full() (systemd 252 src/basic/fileio.c) takes it: end-of-line
// bytes ("\n", "\r", NUL) join one ending as long as each kind appears
// once and no NUL came before, so "\r\n", "\n\r" and "\n\r\x00" are one
// ending, "\n\n" and "\x00\n" two.
func systemdEOL(s string) int {
	seen := map[byte]bool{}
	n := 0
	for n < len(s) && strings.IndexByte("\n\r\x00", s[n]) >= 0 && !seen[s[n]] && !seen[0] {
		seen[s[n]] = true
		n++
	}
	return n
}

// found is a line that sets, drops or globs a key.
type found struct {
	setting
	line int
}

// scanKey returns the lines of content that rd reads as being about k.
func scanKey(content []byte, rd Reader, k confKey) (out []found, tooLong bool) {
	lines, tooLong := splitLines(content, rd)
	for _, l := range lines {
		if s := parseSetting(l.text, rd, k); s.kind != lineOther {
			out = append(out, found{setting: s, line: l.n})
		}
	}
	return out, tooLong
}

// kernelRange parses a value the way the kernel's proc_dointvec_minmax
// does when a tool writes it (plus "\n") to ip_local_port_range: the first
// two integers, base 0 (so "010" is octal), each followed by a space, tab
// or newline ("1024 65000\r" is EINVAL), anything after them ignored. It
// returns nil when the kernel would refuse the value or change only the
// low end.
func kernelRange(v string) *Range {
	s := v + "\n"
	var n [2]int
	for i := range n {
		s = strings.TrimLeft(s, procpsSpace)
		end := strings.IndexAny(s, procpsSpace)
		if end <= 0 || !strings.ContainsRune(" \t\n", rune(s[end])) {
			return nil
		}
		var ok bool
		if n[i], ok = kernelInt(s[:end]); !ok {
			return nil
		}
		s = s[end:]
	}
	r := Range{Low: n[0], High: n[1]}
	if checkBounds(r) != nil {
		return nil
	}
	return &r
}

// kernelInt parses like the kernel's simple_strtoul with base 0, refusing
// trailing junk and overflow.
func kernelInt(s string) (int, bool) {
	base, digits := 10, s
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	n := 0
	for _, c := range []byte(digits) {
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= 'a' && c <= 'f':
			d = int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		n = n*base + d
		if n > 1<<31 {
			return 0, false
		}
	}
	return n, digits != ""
}
