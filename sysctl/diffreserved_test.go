package sysctl

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"portpanel/sysctl/sysctltest"
)

// TestReservedBootDifferential holds Boot.Reserved to the real boot
// readers as TestBootDifferential holds the range: each tree is mounted at
// the system paths inside private namespaces, systemd-sysctl and
// `sysctl --system` run, and what ip_local_reserved_ports holds afterwards
// must equal the model's Ports, written by the line the model names. Every
// value in a tree carries a marker port found on no other line, so the
// kernel's final list names the line that set it.
func TestReservedBootDifferential(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	for _, r := range diffReaders {
		if _, err := os.Stat(r.argv[0]); err != nil {
			t.Skipf("%s not installed: %v", r.argv[0], err)
		}
	}
	trees := reservedTrees()
	for i := range 120 {
		trees = append(trees, randomReservedTree(i))
	}
	set := 0
	for _, tr := range trees {
		t.Run(tr.name, func(t *testing.T) { set += runReservedTree(t, tr) })
	}
	if set < len(trees)/2 {
		t.Errorf("only %d of %d reader runs left a list set: the trees do not exercise the key", set, 2*len(trees))
	}
}

// runReservedTree compares both readers with the model on one tree and
// returns how many left a non-empty list.
func runReservedTree(t *testing.T, tr diffTree) int {
	files := maps.Clone(tr.files)
	files["/lib"] = libLink
	c := tree(t, files)
	mountTree(t, c.Root)
	k := Kernel{ProcSys: sysctltest.ProcSys()}
	set := 0
	for _, r := range diffReaders {
		if err := k.WriteReserved(""); err != nil {
			t.Fatal(err)
		}
		_, _, out := runReader(t, r.argv)
		got, err := k.ReadReserved()
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.Boot(r.rd)
		if err != nil {
			t.Fatal(err)
		}
		m := b.Reserved
		if got != "" {
			set++
		}
		where := "none"
		if m.Set {
			file := showPath(c, m.Where.File)
			if file == etcD+"99-sysctl.conf" {
				file = conf // systemd reads sysctl.conf through Debian's link
			}
			where = fmt.Sprintf("%s:%d", file, m.Where.Line)
		}
		realWhere := reservedWinner(tr.files, got)
		if got != m.Ports || (got != "" && realWhere != where) {
			t.Errorf("%s: the kernel holds %q (written by %s), the model says %q from %s (value %q, refused %v, dropped %v)\ntree: %q\noutput: %s",
				r.rd, got, realWhere, m.Ports, where, m.Value, m.Refused, m.Dropped, tr.files, out)
		}
	}
	return set
}

// reservedWinner finds the line whose value the kernel reads as list: the
// markers make it unique. The line number counts "\n" only, which is how
// both readers number these trees (no lone CR, no NUL).
func reservedWinner(files map[string]string, list string) string {
	if list == "" {
		return "none"
	}
	var found []string
	for p, content := range files {
		if strings.HasPrefix(content, "-> ") {
			continue
		}
		for i, line := range strings.Split(content, "\n") {
			_, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			if got, reason := kernelReserved(strings.TrimSpace(v)); reason == "" && got == list {
				name := p
				if p == etcD+"99-sysctl.conf" || p == conf {
					name = conf // the link and its target are one file
				}
				found = append(found, fmt.Sprintf("%s:%d", name, i+1))
			}
		}
	}
	if len(found) != 1 {
		return fmt.Sprintf("ambiguous %v", found)
	}
	return found[0]
}

const (
	rK    = ReservedKey
	rSlsh = "net/ipv4/ip_local_reserved_ports"
	rGlob = "net.ipv4.ip_local_reserved_port?"
	rBoth = "net.ipv4.ip_local_*"
)

func assignR(v string) string { return rK + " = " + v + "\n" }

// reservedTrees are the named cases: refusals, order, globs, drops,
// spellings and files, each value with its own marker port.
func reservedTrees() []diffTree {
	t := func(name string, kv ...string) diffTree {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return diffTree{name: name, files: m}
	}
	ok := assignR("1001,5432") // the accepted write most trees start from
	return []diffTree{
		t("accepted/plain", etcD+"50-x.conf", ok),
		t("accepted/unsorted, merged", etcD+"50-x.conf", assignR("8081,1002,8080")),
		t("accepted/hex and octal", etcD+"50-x.conf", assignR("0x3eb,010")),
		t("accepted/port 0", etcD+"50-x.conf", assignR("0,1004")),
		t("accepted/trailing comma", etcD+"50-x.conf", assignR("1005,")),
		t("accepted/empty value clears", etcD+"10-a.conf", ok, etcD+"50-x.conf", rK+" =\n"),
		t("refused/space after comma", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignR("1006, 9000")),
		t("refused/above 65535", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignR("1007,65536")),
		t("refused/reversed", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignR("1009-1008")),
		t("refused/inline comment", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignR("1010 # db")),
		t("refused/empty item", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignR("1011,,1012")),
		t("refused/bad octal", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignR("01013,08")),
		t("refused/quoted", etcD+"10-a.conf", ok, etcD+"50-x.conf", assignR(`"1014"`)),
		t("order/same file last wins", etcD+"50-x.conf", ok+assignR("1015")),
		t("order/later file wins", etcD+"10-a.conf", assignR("1016"), etcD+"50-x.conf", ok),
		t("order/sysctl.conf last for procps", conf, assignR("1017"), etcD+"99-sysctl.conf", debLink, etcD+"99-zz.conf", ok),
		t("order/sysctl.conf without link", conf, assignR("1018"), etcD+"50-x.conf", ok),
		t("glob/alone", etcD+"50-x.conf", rGlob+" = 1019\n"),
		t("glob/explicit wins", etcD+"10-a.conf", ok, etcD+"50-x.conf", rGlob+" = 1020\n"),
		t("glob/two keys", etcD+"50-x.conf", rBoth+" = 1021\n"),
		t("drop/after assignment", etcD+"10-a.conf", ok, etcD+"50-x.conf", "-"+rK+"\n"),
		t("drop/before assignment", etcD+"10-a.conf", "-"+rK+"\n", etcD+"50-x.conf", assignR("1022")),
		t("spelling/slashes", etcD+"10-a.conf", ok, etcD+"50-x.conf", rSlsh+" = 1023\n"),
		t("spelling/dash with value", etcD+"10-a.conf", ok, etcD+"50-x.conf", "-"+rK+" = 1024\n"),
		t("spelling/double dot", etcD+"10-a.conf", ok, etcD+"50-x.conf", "net..ipv4.ip_local_reserved_ports = 1025\n"),
		t("spelling/CRLF", etcD+"50-x.conf", "# crlf\r\n"+rK+" = 1026\r\n"),
		t("masks/dev null", etcD+"50-x.conf", devNull, usrLibD+"50-x.conf", ok),
		t("masks/earlier directory", etcD+"50-x.conf", "# mine\n", usrLibD+"50-x.conf", ok),
	}
}

// randomReservedTree is tree i: 1-4 files of 0-5 lines mixing the
// spellings, values and companions of the table.
func randomReservedTree(i int) diffTree {
	r := rand.New(rand.NewPCG(14, uint64(i)))
	marker := 2000
	files := map[string]string{}
	paths := []string{etcD + "10-a.conf", etcD + "50-x.conf", usrLibD + "50-x.conf", usrLibD + "60-b.conf", runD + "20-c.conf", conf}
	if r.IntN(3) == 0 {
		files[etcD+"99-sysctl.conf"] = debLink
	}
	for range 1 + r.IntN(4) {
		var b strings.Builder
		for range r.IntN(6) {
			marker++
			m := strconv.Itoa(marker)
			key := pickOne(r, []string{rK, rK, rK, rK, rSlsh, rGlob, "-" + rK, "net..ipv4.ip_local_reserved_ports"})
			val := pickOne(r, []string{m, m + ",5432", "8080," + m, m + "-" + strconv.Itoa(marker+r.IntN(3)), m + ", 1", m + ",65536",
				m + " # x", "", m + ",", "0x" + strconv.FormatInt(int64(marker), 16)})
			if r.IntN(10) == 0 {
				b.WriteString("-" + rK + "\n") // a drop
				continue
			}
			b.WriteString(key + pickOne(r, []string{" = ", "=", "\t=\t"}) + val + "\n")
		}
		files[pickOne(r, paths)] = b.String()
	}
	return diffTree{name: fmt.Sprintf("random_%03d", i), files: files}
}

// The test's own check that its line finder and the trees agree: a tree
// whose kernel list two lines could produce would make it name no line.
func TestReservedTreesUnambiguous(t *testing.T) {
	for _, tr := range append(reservedTrees(), randomReservedTree(0), randomReservedTree(1)) {
		seen := map[string]string{}
		for p, content := range tr.files {
			for i, line := range strings.Split(content, "\n") {
				_, v, ok := strings.Cut(line, "=")
				if !ok {
					continue
				}
				list, reason := kernelReserved(strings.TrimSpace(v))
				if reason != "" || list == "" {
					continue
				}
				at := filepath.Join(p, strconv.Itoa(i+1))
				if other, dup := seen[list]; dup {
					t.Errorf("tree %s: %q is set by both %s and %s", tr.name, list, other, at)
				}
				seen[list] = at
			}
		}
	}
}
