package sysctl

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Trees of config files for TestBootDifferential: a named table covering
// each class of issue 14, and a seeded generator. Every file may only name
// net.ipv4 keys (the only ones per network namespace), and every value that
// can reach the range carries a first number (its low end) found nowhere
// else in the tree, so the kernel's final low names the one line that
// produced it.

const (
	dK      = Key                                   // net.ipv4.ip_local_port_range
	dU      = "net.ipv4.ip_unprivileged_port_start" // constrains the range's low end
	localD  = "/usr/local/lib/sysctl.d/"            // the third reader directory
	libLink = "-> usr/lib"                          // Debian 12: /lib is a link
	debLink = "-> ../sysctl.conf"                   // Debian 12's 99-sysctl.conf
	devNull = "-> /dev/null"                        // a mask
	gQ      = "net.ipv4.ip_local_port_rang?"        // globs that can only match
	gStar   = "net.ipv4.ip_local_*_range"           // below net/ipv4
	gBrack  = "net/ipv4/ip_local_port_rang[a-z]"    //
	gBoth   = "net.ipv4.ip_[lu]*"                   // the range and the unprivileged start
	gUnpriv = "net.ipv4.ip_unprivileged_port_st*"   //
	dropK   = "-" + dK                              // systemd: drop; procps: glob exclusion
	ttlLine = "net.ipv4.ip_default_ttl = 64"        // another per-netns key
	rangeKB = "net.ipv4.ip_local_port_range = "     // the plain assignment prefix
)

// diffTree is one tree: system path -> content ("-> target" a symlink,
// relative or to /dev/null, so the test can follow it on this host).
type diffTree struct {
	name  string
	files map[string]string
}

func assignK(v string) string { return rangeKB + v + "\n" } // one plain assignment line

// tableTrees are the hand-written trees, named by the class they test.
func tableTrees() []diffTree {
	K, U := dK, dU
	t := func(name string, kv ...string) diffTree {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return diffTree{name: name, files: m}
	}
	ok := assignK("20000 30001") // the accepted first write most trees start from
	return []diffTree{
		// 1. Refused writes leave the previous value.
		t("refused/high above 65535", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK("20002 70000")),
		t("refused/empty value", etcD+"10-a.conf", ok, etcD+"50-x.conf", K+" =\n"),
		t("refused/invalid octal", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK("028000 30001")),
		t("refused/reversed", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK("30003 20002")),
		t("refused/glued comment", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK("20002 30003#keep")),
		t("refused/spaced comment", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK("20002 30003 # keep")),
		t("refused/quoted", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK(`"20002 30003"`)),
		t("refused/CR inside the value line", etcD+"10-a.conf", ok, etcD+"50-x.conf", rangeKB+"20002 30003\r# x\n"),
		t("refused/CRLF file", etcD+"10-a.conf", ok, etcD+"50-x.conf", "# crlf\r\n"+rangeKB+"20002 30003\r\n"),
		t("refused/comma", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK("20002,30003")),
		t("refused/plus sign", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK("+20002 30003")),
		t("refused/trailing junk", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK("20002 30003x")),
		t("refused/all refused", etcD+"10-a.conf", assignK("30003 20002"), etcD+"50-x.conf", assignK("20004 70000")),
		t("accepted/hex", etcD+"50-x.conf", assignK("0x4e22 0x7531")),
		t("accepted/valid octal", etcD+"50-x.conf", assignK("047042 30001")),
		t("accepted/extra tokens", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK("20004 30005 7")),
		t("accepted/tabs", etcD+"50-x.conf", K+"\t=\t20002\t30003\t\n"),
		t("accepted/equal ends", etcD+"50-x.conf", assignK("20002 20002")),
		t("one number/after two", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK("20010")),
		t("one number/alone", etcD+"50-x.conf", assignK("20010")),
		t("one number/above the kept high", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK("30010")),
		t("one number/same file", etcD+"50-x.conf", ok+assignK("20010")+assignK("20012 30013")+assignK("20014")),

		// 2. The kernel's rules at that moment, in that order.
		t("order/low below unprivileged start", etcD+"50-x.conf", assignK("1000 30001")),
		t("order/unprivileged lowered before", etcD+"10-a.conf", U+" = 1000\n", etcD+"50-x.conf", assignK("1000 30001")),
		t("order/unprivileged lowered after", etcD+"10-a.conf", assignK("1000 30001"), etcD+"50-x.conf", U+" = 1000\n"),
		t("order/same file unprivileged first", etcD+"50-x.conf", U+" = 1000\n"+assignK("1000 30001")),
		t("order/same file range first", etcD+"50-x.conf", assignK("1000 30001")+U+" = 1000\n"),
		t("order/unprivileged raised above the low", etcD+"10-a.conf", ok, etcD+"50-x.conf", U+" = 25000\n"),
		t("order/unprivileged raised then range below it", etcD+"10-a.conf", U+" = 5000\n", etcD+"50-x.conf", assignK("4000 30001")),
		t("order/one number below unprivileged start", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignK("1010")),
		t("order/unprivileged refused then range", etcD+"10-a.conf", U+" = 40000\n", etcD+"50-x.conf", assignK("2000 30001")),
		t("order/sysctl.conf lowers unprivileged", etcD+"50-x.conf", assignK("1000 30001"), conf, U+" = 1000\n", etcD+"99-sysctl.conf", debLink),

		// 3. Globs.
		t("glob/question mark alone", etcD+"50-x.conf", gQ+" = 20000 30001\n"),
		t("glob/star alone", etcD+"50-x.conf", gStar+" = 20000 30001\n"),
		t("glob/bracket slash alone", etcD+"50-x.conf", gBrack+" = 20000 30001\n"),
		t("glob/explicit before", etcD+"10-a.conf", ok, etcD+"50-x.conf", gQ+" = 20002 30003\n"),
		t("glob/explicit after", etcD+"10-a.conf", gQ+" = 20000 30001\n", etcD+"50-x.conf", assignK("20002 30003")),
		t("glob/explicit refused after", etcD+"10-a.conf", gQ+" = 20000 30001\n", etcD+"50-x.conf", assignK("30003 20002")),
		t("glob/exclusion", etcD+"10-a.conf", gStar+" = 20000 30001\n", etcD+"50-x.conf", dropK+"\n"),
		t("glob/exclusion before", etcD+"10-a.conf", dropK+"\n", etcD+"50-x.conf", gStar+" = 20000 30001\n"),
		t("glob/two globs", etcD+"10-a.conf", gQ+" = 20000 30001\n", etcD+"50-x.conf", gBrack+" = 20002 30003\n"),
		t("glob/two globs same file", etcD+"50-x.conf", gBrack+" = 20000 30001\n"+gStar+" = 20002 30003\n"),
		t("glob/both keys", etcD+"50-x.conf", gBoth+" = 20000 30001\n"),
		t("glob/both keys low below 1024", etcD+"50-x.conf", gBoth+" = 1000 30001\n"),
		t("glob/both keys then range", etcD+"10-a.conf", gBoth+" = 1000 30001\n", etcD+"50-x.conf", assignK("1002 30003")),
		t("glob/unprivileged glob", etcD+"10-a.conf", gUnpriv+" = 1000\n", etcD+"50-x.conf", assignK("1002 30001")),
		t("glob/after an odd spelling", etcD+"50-x.conf", "net..ipv4.ip_local_port_range = 20000 30001\n"+gQ+" = 20002 30003\n"),
		t("glob/after slash spelling", etcD+"50-x.conf", "net/ipv4/ip_local_port_range = 20000 30001\n"+gQ+" = 20002 30003\n"),
		t("glob/dash glob with value", etcD+"10-a.conf", ok, etcD+"50-x.conf", "-"+gStar+" = 20002 30003\n"),
		t("glob/drop then glob", etcD+"10-a.conf", dropK+"\n", etcD+"50-x.conf", gQ+" = 20002 30003\n"+assignK("20004 30005")),

		// 4. Reader-specific spellings.
		t("spelling/trailing dot", etcD+"10-a.conf", ok, etcD+"50-x.conf", K+". = 20002 30003\n"),
		t("spelling/double dash", etcD+"10-a.conf", ok, etcD+"50-x.conf", "-"+dropK+" = 20002 30003\n"),
		t("spelling/double dot", etcD+"10-a.conf", ok, etcD+"50-x.conf", "net..ipv4.ip_local_port_range = 20002 30003\n"),
		t("spelling/double slash", etcD+"10-a.conf", ok, etcD+"50-x.conf", "net/ipv4//ip_local_port_range = 20002 30003\n"),
		t("spelling/dot dot component", etcD+"10-a.conf", ok, etcD+"50-x.conf", "net/ipv4/../ipv4/ip_local_port_range = 20002 30003\n"),
		t("spelling/leading slash", etcD+"10-a.conf", ok, etcD+"50-x.conf", "/net/ipv4/ip_local_port_range = 20002 30003\n"),
		t("spelling/dash space", etcD+"10-a.conf", ok, etcD+"50-x.conf", "- "+K+" = 20002 30003\n"),
		t("spelling/dash", etcD+"10-a.conf", ok, etcD+"50-x.conf", dropK+" = 20002 30003\n"),
		t("spelling/vertical tab before the key", etcD+"10-a.conf", ok, etcD+"50-x.conf", "\v"+assignK("20002 30003")),
		t("spelling/lone CR before the key", etcD+"10-a.conf", ok, etcD+"50-x.conf", "# note\r"+assignK("20002 30003")),
		t("spelling/NUL after the value", etcD+"10-a.conf", ok, etcD+"50-x.conf", rangeKB+"20002 30003\x00junk\n"),
		t("spelling/key after a NUL", etcD+"10-a.conf", ok, etcD+"50-x.conf", "# x\x00"+assignK("20002 30003")),
		t("spelling/NUL then line numbers", etcD+"50-x.conf", "# a\x00\x00# b\n"+ok),
		t("spelling/LF CR ending", etcD+"50-x.conf", "# a\n\r"+ok),
		t("spelling/LF NUL ending", etcD+"10-a.conf", assignK("20002 30003"), etcD+"50-x.conf", "# a\n\x00"+ok),
		t("spelling/CR CR ending", etcD+"50-x.conf", "# a\r\r"+ok),
		t("spelling/CR only file", etcD+"50-x.conf", "# a\r# b\r"+rangeKB+"20000 30001\r"),
		t("spelling/no final newline", etcD+"50-x.conf", "# a\n"+rangeKB+"20000 30001"),

		// File names and masks.
		t("names/question mark", etcD+"5?.conf", ok, etcD+"51.conf", assignK("20002 30003"), etcD+"60-z.conf", "# z\n"),
		t("names/bracket reads an earlier file", etcD+"10-a.conf", ok, etcD+"50-b.conf", assignK("20002 30003"), etcD+"[1]0-a.conf", assignK("20004 30005")),
		t("names/bracket without a match", etcD+"50-b.conf", ok, etcD+"[6]0-x.conf", assignK("20002 30003")),
		t("names/star", etcD+"a*.conf", assignK("20002 30003"), etcD+"az.conf", ok, etcD+"b.conf", "# b\n"),
		t("names/star reads a later file", etcD+"10-a.conf", ok, etcD+"5*.conf", "# s\n", etcD+"60-x.conf", "# x\n", etcD+"5z.conf", assignK("20002 30003")),
		t("names/braces", etcD+"10-a.conf", ok, etcD+"50-b.conf", assignK("20002 30003"), etcD+"{10,50}-c.conf", assignK("20004 30005")),
		t("names/in the lib directory", usrLibD+"5?.conf", ok, usrLibD+"51.conf", assignK("20002 30003")),
		t("names/hidden file", etcD+"10-a.conf", ok, etcD+".50-x.conf", assignK("20002 30003")),
		t("masks/debian link", conf, ok, etcD+"99-sysctl.conf", debLink, etcD+"50-x.conf", assignK("20002 30003")),
		t("masks/debian link and 99-zz", conf, ok, etcD+"99-sysctl.conf", debLink, etcD+"99-zz.conf", assignK("20002 30003")),
		t("masks/sysctl.conf without link", conf, ok, etcD+"50-x.conf", assignK("20002 30003")),
		t("masks/dev null", etcD+"50-x.conf", devNull, usrLibD+"50-x.conf", ok),
		t("masks/earlier directory", etcD+"50-x.conf", "# mine\n", usrLibD+"50-x.conf", ok, usrLibD+"10-a.conf", assignK("20002 30003")),
		t("masks/run over usr local", runD+"50-x.conf", ok, localD+"50-x.conf", assignK("20002 30003"), localD+"60-y.conf", assignK("20004 30005")),
		t("masks/byte order", etcD+"20-b.conf", ok, usrLibD+"100-a.conf", assignK("20002 30003")),
		t("drop/after assignment", etcD+"10-a.conf", ok, etcD+"20-b.conf", dropK+"\n"),
		t("drop/before assignment", etcD+"10-a.conf", dropK+"\n", etcD+"20-b.conf", ok),
		t("drop/between", etcD+"10-a.conf", ok, etcD+"20-b.conf", dropK+"\n", etcD+"30-c.conf", assignK("20002 30003")),
		t("drop/slash spelling", etcD+"10-a.conf", ok, etcD+"20-b.conf", "-net/ipv4/ip_local_port_range\n"),
		t("drop/odd spelling", etcD+"10-a.conf", ok, etcD+"20-b.conf", "-net..ipv4.ip_local_port_range\n"),
		t("drop/in sysctl.conf", etcD+"10-a.conf", ok, conf, dropK+"\n", etcD+"99-sysctl.conf", debLink),
	}
}

// treeGen draws one random tree; every range low it hands out is fresh.
type treeGen struct {
	r    *rand.Rand
	used map[int]bool
}

// randomTree is tree i of seed: 2-6 files over the reader directories and
// /etc/sysctl.conf, each 0-6 lines drawn from the classes of tableTrees.
func randomTree(seed uint64, i int) diffTree {
	g := &treeGen{r: rand.New(rand.NewPCG(seed, uint64(i))), used: map[int]bool{DefaultRange.Low: true}}
	files := map[string]string{}
	dirs := []string{etcD, etcD, runD, localD, usrLibD, usrLibD}
	names := []string{"10-a.conf", "50-x.conf", "50-x.conf", "60-b.conf", "99-zz.conf", "100-c.conf",
		"5?.conf", "[5]0-x.conf", "a*.conf", "az.conf", "51.conf"}
	n := 2 + g.r.IntN(5)
	if g.r.IntN(3) == 0 {
		files[etcD+"99-sysctl.conf"] = debLink
		n--
	}
	for len(files) < n {
		var p string
		switch x := g.r.IntN(10); {
		case x == 0:
			p = conf
		default:
			p = dirs[g.r.IntN(len(dirs))] + names[g.r.IntN(len(names))]
		}
		if _, taken := files[p]; taken {
			continue
		}
		if g.r.IntN(12) == 0 && strings.HasPrefix(p, etcD) {
			files[p] = devNull // masks the same name in later directories, if any
			continue
		}
		files[p] = g.file()
	}
	return diffTree{name: fmt.Sprintf("random_%03d", i), files: files}
}

// file is 0-6 lines with mostly LF endings.
func (g *treeGen) file() string {
	var b strings.Builder
	n := g.r.IntN(7)
	for j := 0; j < n; j++ {
		b.WriteString(g.line())
		if j == n-1 && g.r.IntN(6) == 0 {
			break // no final newline
		}
		b.WriteString(pickOne(g.r, []string{"\n", "\n", "\n", "\n", "\n", "\r\n", "\r", "\n\r", "\x00", "\n\x00"}))
	}
	return b.String()
}

// line is one line without its ending.
func (g *treeGen) line() string {
	switch g.r.IntN(20) {
	case 0:
		return pickOne(g.r, []string{"# comment", "; comment", "", "   ", ttlLine, "net.ipv4.tcp_syncookies = 1", "junk"})
	case 1, 2:
		return dU + " = " + strconv.Itoa(pickOne(g.r, []int{1, 500, 999, 1000, 1023, 1100, 2000, 25000, 40000}))
	case 3:
		return pickOne(g.r, []string{dropK, "-net/ipv4/ip_local_port_range", "-" + gQ, "-" + gStar, "-" + dU})
	case 4:
		return "# note\r" + g.assign()
	case 5:
		return "# x\x00" + g.assign()
	}
	return g.assign()
}

// assign is a key spelling, "=" and a value.
func (g *treeGen) assign() string {
	keys := []string{dK, dK, dK, dK, dK, "net/ipv4/ip_local_port_range", dropK, "- " + dK, "-" + dropK, dK + ".",
		"net..ipv4.ip_local_port_range", "net/ipv4//ip_local_port_range", "net/ipv4/../ipv4/ip_local_port_range",
		"/net/ipv4/ip_local_port_range", "\v" + dK, gQ, gQ, gStar, gBrack, gBoth}
	sep := pickOne(g.r, []string{" = ", " = ", "=", "\t=\t", " =  "})
	return pickOne(g.r, keys) + sep + g.value()
}

// value is a range value in one of the forms the kernel accepts or refuses.
func (g *treeGen) value() string {
	low := g.low()
	high := g.high(low)
	L, H := strconv.Itoa(low), strconv.Itoa(high)
	switch g.r.IntN(30) { // half of them plain "LOW HIGH"
	case 0:
		return L // one number: only the low end changes
	case 1:
		return ""
	case 2:
		return "0" + strconv.FormatInt(int64(low), 8) + " " + H
	case 3:
		return "0" + strconv.FormatInt(int64(low), 8) + "8 " + H // invalid octal
	case 4:
		return fmt.Sprintf("0x%x 0x%x", low, high)
	case 5:
		return L + " " + H + " 7"
	case 6:
		return "+" + L + " " + H
	case 7:
		return L + " " + H + "#keep"
	case 8:
		return L + " " + H + " # keep"
	case 9:
		return `"` + L + " " + H + `"`
	case 10:
		return L + " " + H + "\r# x" // CR inside the line (a new line for systemd)
	case 11:
		return L + "\t" + H
	case 12:
		return L + "," + H
	case 13:
		return L + " " + H + "x"
	case 14:
		return L + " " + strconv.Itoa(max(1, low-1-g.r.IntN(500))) // reversed
	}
	return L + " " + H
}

// low is a fresh first number: mostly ordinary, sometimes near the
// unprivileged start, never the default's 32768.
func (g *treeGen) low() int {
	for {
		var n int
		switch g.r.IntN(8) {
		case 0:
			n = 900 + g.r.IntN(250)
		case 1:
			n = 40000 + g.r.IntN(25535)
		default:
			n = 2000 + g.r.IntN(30000)
		}
		if !g.used[n] {
			g.used[n] = true
			return n
		}
	}
}

// high is usually above low, sometimes below it or above 65535.
func (g *treeGen) high(low int) int {
	switch g.r.IntN(10) {
	case 0:
		return 1000 + g.r.IntN(max(1, low-1000))
	case 1:
		return 65536 + g.r.IntN(10000)
	}
	return low + g.r.IntN(65536-low)
}

func pickOne[T any](r *rand.Rand, from []T) T { return from[r.IntN(len(from))] }
