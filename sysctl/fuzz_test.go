package sysctl

import (
	"errors"
	"path"
	"strconv"
	"strings"
	"testing"
)

// The models below are written independently of parse.go, from the tools'
// sources, so the fuzz target checks the editor against them rather than
// against itself.

const oracleKeyPath = "/proc/sys/net/ipv4/ip_local_port_range"

// procpsValue models `sysctl -p FILE` (procps-ng 4.0.x Preload(),
// parse_setting_line(), write_setting_list()) for our key: the value of
// the last write that reaches the key, and whether there is one. Globs are
// modelled with path.Match and are skipped when any line names the key with
// exactly the canonical path, as settinglist_findpath() does.
func procpsValue(content string) (string, bool) { return procpsValueOf(content, oracleKeyPath) }

// procpsValueOf is procpsValue for the key at keyPath (under /proc/sys).
func procpsValueOf(content, keyPath string) (string, bool) {
	const space = " \t\n\v\f\r"
	type node struct {
		path, value   string
		exclude, glob bool
	}
	var nodes []node
	for _, line := range strings.Split(content, "\n") {
		line, _, _ = strings.Cut(line, "\x00") // C strings
		key := strings.TrimLeft(line, space)
		if key == "" || key[0] == '#' || key[0] == ';' {
			continue
		}
		eq := strings.IndexByte(key, '=')
		var n node
		if eq < 0 {
			if key[0] != '-' {
				continue
			}
			n.exclude, key = true, strings.TrimRight(key[1:], space)
		} else {
			n.value = strings.Trim(key[eq+1:], space)
			key = key[:eq]
			if key != "" && key[0] == '-' {
				key = key[1:]
			}
			key = strings.TrimRight(key, space)
		}
		n.path = "/proc/sys/" + oracleSlashdot(key)
		n.glob = strings.ContainsAny(n.path, "*?[")
		nodes = append(nodes, n)
	}
	// A glob skips paths named by any node, explicitly or by a "-glob".
	named := false
	for _, o := range nodes {
		if m, _ := path.Match(o.path, keyPath); o.path == keyPath || (o.exclude && m) {
			named = true
		}
	}
	var value string
	var ok bool
	for _, n := range nodes {
		switch {
		case n.exclude:
		case n.glob:
			if m, _ := path.Match(n.path, keyPath); m && !named {
				value, ok = n.value, true
			}
		case kernelOpensKey(n.path, keyPath):
			value, ok = n.value, true
		}
	}
	return value, ok
}

// oracleSlashdot is procps' slashdot(p, '.', '/').
func oracleSlashdot(k string) string {
	i := strings.IndexAny(k, "./")
	if i < 0 || k[i] == '/' {
		return k
	}
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		switch k[i] {
		case '.':
			b.WriteByte('/')
		case '/':
			b.WriteByte('.')
		default:
			b.WriteByte(k[i])
		}
	}
	return b.String()
}

// kernelOpensKey reports whether opening p reaches the key at keyPath,
// walking it as the kernel would through the only directories known to
// exist.
func kernelOpensKey(p, keyPath string) bool {
	dirs := map[string]bool{"/": true, "/proc": true, "/proc/sys": true, "/proc/sys/net": true, "/proc/sys/net/ipv4": true}
	cur := "/"
	for _, c := range strings.Split(p, "/") {
		if !dirs[cur] {
			return false // a component after a file: ENOTDIR
		}
		switch c {
		case "", ".":
		case "..":
			cur = path.Dir(cur)
		default:
			cur = path.Join(cur, c)
			if !dirs[cur] && cur != keyPath {
				return false
			}
		}
	}
	return cur == keyPath
}

// systemdValue models systemd-sysctl 252 parse_file() and
// sysctl_normalize() for our key: the last line naming the key wins, and a
// bare "-key" drops it.
func systemdValue(content string) (string, bool) {
	return systemdValueOf(content, strings.TrimPrefix(oracleKeyPath, "/proc/sys/"))
}

// systemdValueOf is systemdValue for the key at keyPath (relative to
// /proc/sys).
func systemdValueOf(content, keyPath string) (string, bool) {
	const space = " \t\n\r"
	var value string
	var ok bool
	lines := strings.FieldsFunc(strings.ReplaceAll(content, "\r\n", "\n"), func(r rune) bool {
		return r == '\n' || r == '\r' || r == 0
	})
	for _, l := range lines {
		p := strings.Trim(l, space)
		if p == "" || p[0] == '#' || p[0] == ';' {
			continue
		}
		k, v, hasValue := strings.Cut(p, "=")
		if !hasValue && p[0] != '-' {
			continue
		}
		k = strings.TrimPrefix(k, "-")
		k = strings.Trim(k, space)
		var comps []string
		for _, c := range strings.Split(oracleSlashdot(k), "/") {
			if c == ".." {
				comps = nil // path_is_normalized() refuses it
				break
			}
			if c != "" && c != "." {
				comps = append(comps, c)
			}
		}
		if strings.Join(comps, "/") != keyPath {
			continue
		}
		value, ok = strings.Trim(v, space), hasValue
	}
	return value, ok
}

// kernelGets reports whether the kernel, given v, sets exactly r: the
// first two numbers, the rest ignored. Numbers must be plain decimal here:
// the editor never writes anything else.
// proc_get_long() wants each number followed by " ", "\t" or "\n" (the
// tools append a newline), and proc_skip_spaces() skips isspace() before it.
func kernelGets(v string, r Range) bool {
	s := v + "\n"
	for _, want := range []int{r.Low, r.High} {
		s = strings.TrimLeft(s, " \t\n\v\f\r")
		w := strconv.Itoa(want)
		if !strings.HasPrefix(s, w) || len(s) == len(w) || !strings.ContainsRune(" \t\n", rune(s[len(w)])) {
			return false
		}
		s = s[len(w):]
	}
	return true
}

type fuzzLine struct{ text, eol string }

func fuzzLines(s string) []fuzzLine {
	var out []fuzzLine
	for s != "" {
		t, rest, found := strings.Cut(s, "\n")
		l := fuzzLine{text: t}
		if found {
			l.eol = "\n"
			if strings.HasSuffix(t, "\r") {
				l.text, l.eol = t[:len(t)-1], "\r\n"
			}
		}
		out = append(out, l)
		s = rest
	}
	return out
}

// checkKept: every input line not about the key is in the output,
// unchanged and in order. Lines about the key may be commented out with
// "# ", replaced by an assignment of r, or preceded by a moved "# note".
// The only other line allowed is one inserted assignment of r. A last line
// without newline may gain one. The alignment backtracks, as an output can
// often be read two ways.
func checkKept(t *testing.T, in, out string, r Range) {
	t.Helper()
	checkKeptKeys(t, in, out, []oracleKey{{"ip_local_port_range", func(text string) bool {
		v, ok := procpsValue(text)
		return ok && kernelGets(v, r)
	}}})
}

// oracleKey is a key checkKeptKeys allows to change: lines mentioning name
// are related to it, and ours says whether a line sets its new value.
type oracleKey struct {
	name string
	ours func(text string) bool
}

// checkKeptKeys is checkKept for edits of several keys, each of which may
// insert one line.
func checkKeptKeys(t *testing.T, in, out string, keys []oracleKey) {
	t.Helper()
	ins, outs := fuzzLines(in), fuzzLines(out)
	isOurs := func(l fuzzLine) bool {
		for _, k := range keys {
			if k.ours(l.text) {
				return true
			}
		}
		return false
	}
	isRelated := func(l fuzzLine) bool {
		for _, k := range keys {
			if strings.Contains(l.text, k.name) {
				return true
			}
		}
		return false
	}
	kept := func(o, l fuzzLine, last, related bool) bool {
		if last && l.eol == "" && (o.text+o.eol == l.text+"\n" || o.text+o.eol == l.text+"\r\n") {
			return true // gained the missing final newline
		}
		return (o.text == l.text || (related && o.text == "# "+l.text)) && (o.eol == l.eol || (last && l.eol == ""))
	}
	memo := map[[3]int]bool{}
	var match func(i, j, inserted int) bool
	match = func(i, j, inserted int) bool {
		key := [3]int{i, j, inserted}
		if v, ok := memo[key]; ok {
			return v
		}
		var ok bool
		switch {
		case i == len(ins):
			ok = j == len(outs) || (inserted < len(keys) && isOurs(outs[j]) && match(i, j+1, inserted+1))
		case j == len(outs):
			ok = false
		default:
			l, o := ins[i], outs[j]
			related := isRelated(l)
			ok = (kept(o, l, i == len(ins)-1, related) && match(i+1, j+1, inserted)) ||
				(related && isOurs(o) && match(i+1, j+1, inserted)) ||
				(related && strings.Contains(o.text, "#") && j+1 < len(outs) && isOurs(outs[j+1]) && match(i+1, j+2, inserted)) ||
				(inserted < len(keys) && isOurs(o) && match(i, j+1, inserted+1))
		}
		memo[key] = ok
		return ok
	}
	if !match(0, 0, 0) {
		t.Fatalf("the output changes lines it should keep:\n in %q\nout %q", in, out)
	}
}

func FuzzEditConfig(f *testing.F) {
	seeds := []string{
		"",
		"net.ipv4.ip_local_port_range = 32768 60999\n",
		"# net.ipv4.ip_local_port_range = 32768 60999\nvm.swappiness=1",
		"net.ipv4.ip_local_port_range=1 2\nnet/ipv4/ip_local_port_range = 3 4 # c\n-net.ipv4.ip_local_port_range\n",
		"a = 1\r\n-net.ipv4.ip_local_port_range = 1 2\r\n;net.ipv4.ip_local_port_range=1\r\n",
		"\ufeffnet.ipv4.ip_local_port_range = 1 2",
		"net.ipv4.ip_local_port_rang? = 1 2\nnet..ipv4.ip_local_port_range = 40000 50001\n",
		"  \t net.ipv4.ip_local_port_range\t=\t40000\t50001 # same\n",
		"- net.ipv4.ip_local_port_range = 1 2\n\vnet.ipv4.ip_local_port_range = 3 4\n",
		"/net/ipv4/ip_local_port_range/ = 1 2\nnet/ipv4/./ip_local_port_range = 5 6\n",
		"x\ry = 1\r\r\nnet.ipv4.ip_local_port_range = \"1 2\"",
	}
	for _, s := range seeds {
		f.Add(s, uint16(40000), uint16(50001))
	}
	f.Add("net.ipv4.ip_local_port_range = 1 1\n", uint16(1), uint16(1))
	f.Add("x = 1\n", uint16(60000), uint16(50000))
	f.Fuzz(func(t *testing.T, in string, low, high uint16) {
		checkEdit(t, in, Range{Low: int(low), High: int(high)})
	})
}

// FuzzEditConfigLines builds files from the pieces that matter (prefixes,
// key spellings, separators, values, line ends), which random byte
// mutation seldom assembles, and checks the same properties.
func FuzzEditConfigLines(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0}, uint16(40000), uint16(50001))
	f.Add([]byte{3, 0, 1, 2, 1, 1, 1, 1, 1, 0, 5, 2, 0, 3, 4}, uint16(40000), uint16(50001))
	f.Add([]byte{8, 0, 1, 0, 2, 6, 1, 0, 9, 3, 1, 3, 2, 6, 4}, uint16(1), uint16(65535))
	f.Fuzz(func(t *testing.T, data []byte, low, high uint16) {
		checkEdit(t, linesInput(data), Range{Low: int(low), High: int(high)})
	})
}

// linesInput turns fuzz bytes into a config file, five bytes a line.
func linesInput(data []byte) string {
	pieces := [][]string{
		{"", " ", "\t", "-", "- ", "#", "; ", "\v", "\ufeff", "# -"},
		{Key, keyPath, "net..ipv4.ip_local_port_range", "/net/ipv4/ip_local_port_range", "net.ipv4/ip_local_port_range",
			"net.ipv4.ip_local_port_rang?", "net/ipv4/./ip_local_port_range", "NET.IPV4.IP_LOCAL_PORT_RANGE", "vm.swappiness",
			"net.ipv4.ip_local_port_range/", "../sys/net/ipv4/ip_local_port_range", "net/ipv4/x/../ip_local_port_range"},
		{"=", " = ", "\t=\t", "", " ", "\r="},
		{"40000 50001", "1 2", "40000\t50001", "40000 50001 # c", "\"1 2\"", "", "040000 50001", "40000 50001#x",
			"40000\v50001", "40000 50001\r# x", " # only", "1 65535", "40000 50001 \v#"},
		{"\n", "\r\n", "", "\r", "\r\r\n", "\n\n"},
	}
	var b strings.Builder
	for i := 0; i+len(pieces) <= len(data); i += len(pieces) {
		for j, p := range pieces {
			b.WriteString(p[int(data[i+j])%len(p)])
		}
	}
	return b.String()
}

// checkEdit asserts the editor's properties for one input and range.
func checkEdit(t *testing.T, in string, r Range) {
	t.Helper()
	{
		out, _, err := EditConfig([]byte(in), r)
		valid := r.Low >= 1 && r.Low <= r.High
		var ie *InvalidError
		var ue *UneditableError
		switch {
		case !valid:
			if !errors.As(err, &ie) {
				t.Fatalf("range %v accepted: %v", r, err)
			}
			return
		case err == nil:
		case errors.As(err, &ue) && (strings.ContainsRune(in, 0) || len(in) > MaxConfigSize):
			return
		case errors.As(err, &ue) && strings.Contains(err.Error(), "carriage return") && hasLoneCR(in):
			return // systemd would read part of a line as another line
		default:
			t.Fatalf("EditConfig(%q, %v): %v", in, r, err)
		}
		checkKept(t, in, string(out), r)
		if v, ok := procpsValue(string(out)); !ok || !kernelGets(v, r) {
			t.Fatalf("sysctl -p would set %q (%v), want %v:\n%q", v, ok, r, out)
		}
		if v, ok := systemdValue(string(out)); !ok || !kernelGets(v, r) {
			t.Fatalf("systemd-sysctl would set %q (%v), want %v:\n%q", v, ok, r, out)
		}
		again, _, err := EditConfig(out, r)
		if err != nil || string(again) != string(out) {
			t.Fatalf("second edit changed the file (%v):\n%q\n%q", err, out, again)
		}
	}
}

func hasLoneCR(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' && (i+1 == len(s) || s[i+1] != '\n') {
			return true
		}
	}
	return false
}
