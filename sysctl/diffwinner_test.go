package sysctl

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// How TestBootDifferential finds, independently of the model, the line a
// reader applied last: the kernel's final low end is the first number of
// exactly one line of the tree, numbered as that reader numbers lines.

// toolLines splits content as rd numbers its lines (line n is index
// n-1), written from the readers' behaviour rather than from parse.go.
// procps: getline() ends a line at "\n" only, and the C string stops at a
// NUL. systemd 252 read_line(): a line ends at "\n", "\r" or NUL, and one
// ending swallows the next end-of-line bytes while each is a kind not yet
// seen in it and no NUL has been seen ("\r\n", "\n\r", "\n\x00" are one
// ending; "\n\n", "\r\r", "\x00\n" are two). Checked with
// systemd-sysctl's own "file:N: Line is not an assignment" warnings.
func toolLines(content string, rd Reader) []string {
	var lines []string
	if rd == ReaderProcps {
		for s := content; s != ""; {
			var l string
			l, s, _ = strings.Cut(s, "\n")
			l, _, _ = strings.Cut(l, "\x00")
			lines = append(lines, l)
		}
		return lines
	}
	kind := func(c byte) int {
		switch c {
		case '\n':
			return 1
		case '\r':
			return 2
		case 0:
			return 4
		}
		return 0
	}
	for s := content; s != ""; {
		i := strings.IndexAny(s, "\n\r\x00")
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i])
		seen := kind(s[i])
		s = s[i+1:]
		for s != "" && seen&4 == 0 && kind(s[0]) != 0 && seen&kind(s[0]) == 0 {
			seen |= kind(s[0])
			s = s[1:]
		}
	}
	return lines
}

// mayWriteRange reports whether a line's key could reach the range: it
// names ip_local or is a glob. Explicit ip_unprivileged_port_start lines
// may repeat numbers used by range lows.
func mayWriteRange(line string) bool {
	k, _, ok := strings.Cut(line, "=")
	return ok && (strings.Contains(k, "local") || strings.ContainsAny(k, "*?["))
}

// firstNumber is the low end the kernel would read from a line's value:
// after "=" and whitespace (and one quote or "+", in case a reader strips
// it), an integer, base 0 as simple_strtoul reads it (0x hex, leading 0
// octal), up to the first byte that is not a digit of its base. Nothing
// else can become the kernel's low, so nothing else needs to be unique.
func firstNumber(line string) (int, bool) {
	_, v, ok := strings.Cut(line, "=")
	if !ok {
		return 0, false
	}
	v = strings.TrimLeft(v, " \t\n\v\f\r")
	if v != "" && strings.IndexByte(`"'+`, v[0]) >= 0 {
		v = v[1:]
	}
	if v == "" || v[0] < '0' || v[0] > '9' {
		return 0, false
	}
	base := 10
	switch {
	case len(v) > 2 && (v[1] == 'x' || v[1] == 'X') && v[0] == '0' && strings.ContainsAny(v[2:3], "0123456789abcdefABCDEF"):
		base, v = 16, v[2:]
	case v[0] == '0':
		base = 8
	}
	n := 0
	for _, c := range []byte(v) {
		d := strings.IndexByte("0123456789abcdef", c|0x20)
		if d < 0 || d >= base || (c >= 'A' && c <= 'F' && base != 16) {
			break
		}
		if n = n*base + d; n > 1<<31 {
			break
		}
	}
	return n, true
}

// lineRef is a line of a physical (regular) file of a tree.
type lineRef struct {
	file string // tree path
	line int    // from 1, as the reader numbers lines
}

func (l lineRef) String() string { return fmt.Sprintf("%s:%d", l.file, l.line) }

// lowIndex maps each first number of a range-capable line to where it is,
// as rd reads the tree's regular files.
func lowIndex(files map[string]string, rd Reader) map[int][]lineRef {
	idx := map[int][]lineRef{}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		c := files[p]
		if strings.HasPrefix(c, "-> ") || c == "<dir>" {
			continue
		}
		for i, l := range toolLines(c, rd) {
			if n, ok := firstNumber(l); ok && mayWriteRange(l) {
				idx[n] = append(idx[n], lineRef{file: p, line: i + 1})
			}
		}
	}
	return idx
}

// checkTree returns why a tree cannot be used: a file a tool must not
// read, a link the test cannot follow on this host, or a low end that does
// not name one line.
func checkTree(tr diffTree) error {
	for p, c := range tr.files {
		if tg, ok := strings.CutPrefix(c, "-> "); ok && strings.HasPrefix(tg, "/") && tg != "/dev/null" {
			return fmt.Errorf("%s: absolute link %q would leave the tree on this host", p, tg)
		}
		if strings.HasPrefix(p, "/lib/") {
			return fmt.Errorf("%s: /lib is the link to usr/lib; use %s", p, usrLibD)
		}
	}
	for _, rd := range []Reader{ReaderSystemd, ReaderProcps} {
		for n, refs := range lowIndex(tr.files, rd) {
			if n == DefaultRange.Low {
				return fmt.Errorf("%v: a low of %d is the default's and names no line", refs, n)
			}
			if len(refs) > 1 {
				return fmt.Errorf("low %d is on %d lines for %s: %v", n, len(refs), rd, refs)
			}
		}
	}
	return nil
}

var (
	systemdJunk = regexp.MustCompile(`(?m)^/etc/sysctl\.d/50-x\.conf:(\d+): Line is not an assignment, ignoring: (junk\d+)$`)
	procpsJunk  = regexp.MustCompile(`/etc/sysctl\.d/50-x\.conf\((\d+)\): invalid syntax`)
)

// checkReaderLines holds toolLines, which names the winning line, to the
// readers' own numbering: both warn "file:N" about a line that is not an
// assignment, so a file of "junkN" lines with mixed endings must draw
// warnings at the lines toolLines puts them on.
func checkReaderLines(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1<<40))
	endings := []string{"\n", "\r", "\r\n", "\n\r", "\x00", "\n\x00", "\r\x00", "\n\n", "\r\r", "\x00\n", "\n\r\n", "\x00\x00"}
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "%sjunk%d%s", pickOne(r, []string{"", "", " ", "\r"}), i, pickOne(r, endings))
	}
	content := b.String()
	c := tree(t, map[string]string{etcD + "50-x.conf": content})
	mountTree(t, c.Root)
	for _, rd := range diffReaders {
		_, _, out := runReader(t, rd.argv)
		var want, got []string
		for i, l := range toolLines(content, rd.rd) {
			if l = strings.TrimLeft(l, " \t\n\v\f\r"); strings.HasPrefix(l, "junk") {
				want = append(want, fmt.Sprintf("%d %s", i+1, strings.TrimRight(l, " \t\n\v\f\r")))
			}
		}
		if rd.rd == ReaderSystemd {
			for _, m := range systemdJunk.FindAllStringSubmatch(out, -1) {
				got = append(got, m[1]+" "+m[2])
			}
		} else {
			for i, w := range want {
				want[i], _, _ = strings.Cut(w, " ") // procps does not print the line
			}
			for _, m := range procpsJunk.FindAllStringSubmatch(out, -1) {
				got = append(got, m[1])
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s numbers the lines of %q as\n%q\nreaderLines says\n%q", rd.rd, content, got, want)
		}
	}
}
