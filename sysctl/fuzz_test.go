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
func procpsValue(content string) (string, bool) {
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
	var value string
	var ok bool
	for _, n := range nodes {
		switch {
		case n.exclude:
		case n.glob:
			if m, _ := path.Match(n.path, oracleKeyPath); !m {
				continue
			}
			skip := false
			for _, o := range nodes {
				if m, _ := path.Match(o.path, oracleKeyPath); o.path == oracleKeyPath || (o.exclude && m) {
					skip = true
				}
			}
			if !skip {
				value, ok = n.value, true
			}
		case kernelOpens(n.path):
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

// kernelOpens reports whether opening p reaches our key, walking it as the
// kernel would through the only directories known to exist.
func kernelOpens(p string) bool {
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
			if !dirs[cur] && cur != oracleKeyPath {
				return false
			}
		}
	}
	return cur == oracleKeyPath
}

// systemdValue models systemd-sysctl 252 parse_file() and
// sysctl_normalize() for our key: the last line naming the key wins, and a
// bare "-key" drops it.
func systemdValue(content string) (string, bool) {
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
		if strings.Join(comps, "/") != "net/ipv4/ip_local_port_range" {
			continue
		}
		value, ok = strings.Trim(v, space), hasValue
	}
	return value, ok
}

// kernelGets reports whether the kernel, given v, sets exactly r: the
// first two whitespace-separated fields, the rest ignored.
func kernelGets(v string, r Range) bool {
	f := strings.FieldsFunc(v, func(c rune) bool { return strings.ContainsRune(" \t\n\v\f\r", c) })
	return len(f) >= 2 && f[0] == strconv.Itoa(r.Low) && f[1] == strconv.Itoa(r.High)
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
// The only other line allowed is one inserted assignment of r.
func checkKept(t *testing.T, in, out string, r Range) {
	t.Helper()
	ins, outs := fuzzLines(in), fuzzLines(out)
	isOurs := func(l fuzzLine) bool {
		v, ok := procpsValue(l.text)
		return ok && kernelGets(v, r)
	}
	inserted, j := 0, 0
	for i, l := range ins {
		related := strings.Contains(l.text, "ip_local_port_range")
		for {
			if j >= len(outs) {
				t.Fatalf("input line %d %q is missing from the output:\n%q", i+1, l.text, out)
			}
			o := outs[j]
			eolOK := o.eol == l.eol || (l.eol == "" && i == len(ins)-1)
			text := o.text
			gainedNL := l.eol == "" && i == len(ins)-1 &&
				(o.text+o.eol == l.text+"\n" || o.text+o.eol == l.text+"\r\n")
			switch {
			case o.text == l.text && eolOK, gainedNL:
			case related && o.text == "# "+l.text && eolOK:
			case related && isOurs(fuzzLine{text: text}):
			case related && strings.Contains(text, "#") && j+1 < len(outs) && isOurs(outs[j+1]):
				j++
			case !related && isOurs(fuzzLine{text: text}) && inserted == 0:
				inserted++
				j++
				continue
			default:
				t.Fatalf("input line %d %q became %q:\n%q", i+1, l.text, o.text, out)
			}
			j++
			break
		}
	}
	for ; j < len(outs); j++ {
		if inserted++; inserted > 1 || !isOurs(outs[j]) {
			t.Fatalf("unexpected output line %d %q:\n%q", j+1, outs[j].text, out)
		}
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
		r := Range{Low: int(low), High: int(high)}
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
	})
}

func hasLoneCR(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' && (i+1 == len(s) || s[i+1] != '\n') {
			return true
		}
	}
	return false
}
