package sysctl

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"portpanel/sysctl/sysctltest"
)

// bootText is a Boot as "LOW HIGH@/file:line", "default" or
// "drop@/file:line", plus the refused writes after it.
func bootText(c Config, b Boot) string {
	s := "default"
	switch {
	case b.Set:
		s = fmt.Sprintf("%d %d@%s", b.Range.Low, b.Range.High, c.loc(b.Where))
	case b.Dropped:
		s = "drop@" + c.loc(b.Where)
	}
	for _, w := range b.Refused {
		s += fmt.Sprintf(" refused(%s)", c.loc(w.Where))
	}
	if b.UnprivilegedPortStart != DefaultUnprivilegedPortStart {
		s += fmt.Sprintf(" unpriv=%d", b.UnprivilegedPortStart)
	}
	return s
}

// TestReplay pins the replay on one tree per class of input that the
// last-line-wins model got wrong. Every expectation was checked against
// systemd-sysctl 252 and procps 4.0.2 in a private namespace; the
// differential test keeps checking the classes with generated trees.
func TestReplay(t *testing.T) {
	K := Key
	U := "net.ipv4.ip_unprivileged_port_start"
	one := func(content string) map[string]string { return map[string]string{etcD + "10-a.conf": content} }
	cases := []struct {
		name            string
		tree            map[string]string
		systemd, procps string
	}{
		// 1. A refused assignment does not win.
		{"refused value after an accepted one", map[string]string{etcD + "10-a.conf": K + " = 20000 30001\n", etcD + "50-x.conf": K + " = 20002 70000\n"},
			// systemd keeps one entry per key: only the last value is written.
			"default refused(/etc/sysctl.d/50-x.conf:1)", "20000 30001@/etc/sysctl.d/10-a.conf:1 refused(/etc/sysctl.d/50-x.conf:1)"},
		{"empty, octal junk and reversed values", one(K + " = 20000 30001\n" + K + " =\n" + K + " = 028000 30001\n" + K + " = 30003 20002\n"),
			"default refused(/etc/sysctl.d/10-a.conf:4)",
			"20000 30001@/etc/sysctl.d/10-a.conf:1 refused(/etc/sysctl.d/10-a.conf:2) refused(/etc/sysctl.d/10-a.conf:3) refused(/etc/sysctl.d/10-a.conf:4)"},
		{"glued comment and quotes", one(K + " = 20000 30001\n" + K + " = 20002 30003#keep\n" + K + " = \"20004 30005\"\n"),
			"default refused(/etc/sysctl.d/10-a.conf:3)",
			"20000 30001@/etc/sysctl.d/10-a.conf:1 refused(/etc/sysctl.d/10-a.conf:2) refused(/etc/sysctl.d/10-a.conf:3)"},
		{"hex, octal and extra tokens are what the kernel reads", one(K + " = 0x4e20 047061 7\n"),
			"20000 20017@/etc/sysctl.d/10-a.conf:1", "20000 20017@/etc/sysctl.d/10-a.conf:1"},
		// 2. The kernel's rules at that moment, in that order.
		{"one number sets only the low end", map[string]string{etcD + "10-a.conf": K + " = 20000 30001\n", etcD + "50-x.conf": K + " = 20010\n"},
			"20010 60999@/etc/sysctl.d/50-x.conf:1", "20010 30001@/etc/sysctl.d/50-x.conf:1"},
		{"low below the unprivileged start lowered later", map[string]string{etcD + "10-a.conf": K + " = 1000 30001\n", etcD + "50-x.conf": U + " = 1000\n"},
			"default refused(/etc/sysctl.d/10-a.conf:1) unpriv=1000", "default refused(/etc/sysctl.d/10-a.conf:1) unpriv=1000"},
		{"low below the unprivileged start lowered before", map[string]string{etcD + "10-a.conf": U + " = 1000\n", etcD + "50-x.conf": K + " = 1000 30001\n"},
			"1000 30001@/etc/sysctl.d/50-x.conf:1 unpriv=1000", "1000 30001@/etc/sysctl.d/50-x.conf:1 unpriv=1000"},
		{"unprivileged start raised above the low is refused", one(U + " = 500\n" + K + " = 600 30001\n" + U + " = 700\n"),
			// systemd moves the key's entry to its last different value.
			"default refused(/etc/sysctl.d/10-a.conf:2) unpriv=700", "600 30001@/etc/sysctl.d/10-a.conf:2 unpriv=500"},
		// 3. Globs.
		{"a pattern sets the key when nothing names it", one("net.ipv4.ip_local_*_range = 20000 30001\n"),
			"20000 30001@/etc/sysctl.d/10-a.conf:1", "20000 30001@/etc/sysctl.d/10-a.conf:1"},
		{"an explicit line wins over patterns before and after it", one("net.ipv4.ip_local_port_rang? = 20002 30003\n" + K + " = 20000 30001\nnet/ipv4/ip_local_port_rang[a-z] = 20004 30005\n"),
			"20000 30001@/etc/sysctl.d/10-a.conf:2", "20000 30001@/etc/sysctl.d/10-a.conf:2"},
		{"a pattern matching both keys writes them in name order", one("net.ipv4.ip_[lu]* = 1000\n"),
			"default refused(/etc/sysctl.d/10-a.conf:1) unpriv=1000", "default refused(/etc/sysctl.d/10-a.conf:1) unpriv=1000"},
		{"drop, then a pattern", map[string]string{etcD + "10-a.conf": K + " = 20000 30001\n", etcD + "20-b.conf": "-" + K + "\n", etcD + "30-c.conf": "net.ipv4.ip_local_port_rang? = 20002 30003\n"},
			"drop@/etc/sysctl.d/20-b.conf:1", "20000 30001@/etc/sysctl.d/10-a.conf:1"},
		// 4. Reader-specific spellings.
		{"trailing dot and double dash", one("net.ipv4.ip_local_*_range = 20000 30001\n" + K + ". = 20002 30003\n--" + K + " = 20004 30005\n"),
			"20002 30003@/etc/sysctl.d/10-a.conf:2", "20004 30005@/etc/sysctl.d/10-a.conf:3"},
		{"dot-dot in the key", one(K + " = 20000 30001\nnet/ipv4/../ipv4/ip_local_port_range = 20002 30003\n"),
			"20000 30001@/etc/sysctl.d/10-a.conf:1", "20002 30003@/etc/sysctl.d/10-a.conf:2"},
		{"dash and space before the key", one(K + " = 20000 30001\n/net/ipv4/ip_local_port_range = 20002 30003\n- " + K + " = 20004 30005\n"),
			"20004 30005@/etc/sysctl.d/10-a.conf:3", "20002 30003@/etc/sysctl.d/10-a.conf:2"},
		{"lone CR and NUL end a line only for systemd", one(K + " = 20000 30001\n# c\r" + K + " = 20002 30003\n# d\x00" + K + " = 20004 30005\n"),
			"20004 30005@/etc/sysctl.d/10-a.conf:5", "20000 30001@/etc/sysctl.d/10-a.conf:1"},
		{"a run of different line-end bytes is one ending for systemd", one("# a\n\r" + K + " = 20000 30001\n# b\n\x00" + K + " = 20002 30003\n"),
			"20002 30003@/etc/sysctl.d/10-a.conf:4", "20000 30001@/etc/sysctl.d/10-a.conf:2"},
		{"an empty key names nothing", one(" = 20000 30001\n" + K + " = 20002 30003\n"),
			"20002 30003@/etc/sysctl.d/10-a.conf:2", "20002 30003@/etc/sysctl.d/10-a.conf:2"},
		{"file names with glob characters are patterns to procps", map[string]string{etcD + "[5]0-x.conf": K + " = 20000 30001\n", etcD + "50-x.conf": K + " = 20002 30003\n"},
			"20000 30001@/etc/sysctl.d/[5]0-x.conf:1", "20002 30003@/etc/sysctl.d/50-x.conf:1"},
		{"braces too", map[string]string{etcD + "{b,a}.conf": K + " = 20000 30001\n", etcD + "a.conf": K + " = 20002 30003\n", etcD + "b.conf": K + " = 20004 30005\n"},
			"20000 30001@/etc/sysctl.d/{b,a}.conf:1", "20002 30003@/etc/sysctl.d/a.conf:1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tree(t, tc.tree)
			for rd, want := range map[Reader]string{ReaderSystemd: tc.systemd, ReaderProcps: tc.procps} {
				b, err := c.Boot(rd)
				if err != nil {
					t.Fatal(err)
				}
				if got := bootText(c, b); got != want {
					t.Errorf("%s:\n got %s\nwant %s", rd, got, want)
				}
			}
		})
	}
}

// TestReplayRefusalReasons: each refused write says why in the kernel's
// terms, naming the unprivileged start's line when that is the cause.
func TestReplayRefusalReasons(t *testing.T) {
	U := "net.ipv4.ip_unprivileged_port_start"
	c := tree(t, map[string]string{etcD + "10-a.conf": U + " = 2000\n" + Key + " = 1500 30001\n" + Key + " = 30003 20002\n" + Key + " = 20002 70000\n" + Key + " = 2x 3\n"})
	b, _ := c.Boot(ReaderProcps)
	want := []string{
		"the low end 1500 is below ip_unprivileged_port_start 2000 (set at /etc/sysctl.d/10-a.conf:1)",
		"the high end 20002 is below the low end 30003",
		"70000 is outside 1–65535",
		`"2x" is not a number the kernel reads (it goes on with "x")`,
	}
	if len(b.Refused) != len(want) {
		t.Fatalf("refused %+v", b.Refused)
	}
	for i, w := range want {
		if b.Refused[i].Reason != w {
			t.Errorf("reason %d = %q, want %q", i, b.Refused[i].Reason, w)
		}
	}
}

// TestReplayUncertain: a file portpanel cannot read makes the value
// uncertain, naming the file, and says when it may override the winner.
func TestReplayUncertain(t *testing.T) {
	c := tree(t, map[string]string{etcD + "10-a.conf": Key + " = 20000 30001\n", etcD + "90-big.conf": ""})
	big := c.path(etcD + "90-big.conf")
	if err := os.Truncate(big, maxReadSize+1); err != nil {
		t.Fatal(err)
	}
	for _, rd := range []Reader{ReaderSystemd, ReaderProcps} {
		b, _ := c.Boot(rd)
		if !b.Set || b.Range.Low != 20000 {
			t.Errorf("%s: %s", rd, bootText(c, b))
		}
		if len(b.Uncertain) != 1 || !strings.Contains(b.Uncertain[0], "/etc/sysctl.d/90-big.conf is larger than 16 MiB") ||
			!strings.Contains(b.Uncertain[0], "it is read after /etc/sysctl.d/10-a.conf:1, so it may override it") {
			t.Errorf("%s: uncertain %q", rd, b.Uncertain)
		}
	}
}

// TestReplayUnreadable runs Boot as portpanel.service runs it, as root
// without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (the test binary
// re-executed under setpriv), on files of another user with mode 0600 and
// of mode 0000: the value is uncertain and says which file.
func TestReplayUnreadable(t *testing.T) {
	if root := os.Getenv("PORTPANEL_NOCAPS_ROOT"); root != "" {
		c := Config{Root: root}
		for _, rd := range []Reader{ReaderSystemd, ReaderProcps} {
			b, err := c.Boot(rd)
			if err != nil {
				t.Fatal(err)
			}
			if got := bootText(c, b); got != "20000 30001@/etc/sysctl.d/10-a.conf:1" {
				t.Errorf("%s: %s", rd, got)
			}
			want := []string{
				"portpanel cannot read /etc/sysctl.d/50-other.conf: permission denied: the boot reader reads it at boot, so the boot value is uncertain, and it is read after /etc/sysctl.d/10-a.conf:1, so it may override it",
				"portpanel cannot read /etc/sysctl.d/60-none.conf: permission denied: the boot reader reads it at boot, so the boot value is uncertain, and it is read after /etc/sysctl.d/10-a.conf:1, so it may override it",
			}
			if strings.Join(b.Uncertain, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: uncertain\n%s\nwant\n%s", rd, strings.Join(b.Uncertain, "\n"), strings.Join(want, "\n"))
			}
		}
		return
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("needs root to chown files and drop capabilities, and CI is set")
		}
		t.Skip("needs root")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) not found: %v", err)
	}
	c := tree(t, map[string]string{
		etcD + "10-a.conf":     Key + " = 20000 30001\n",
		etcD + "50-other.conf": Key + " = 20002 30003\n",
		etcD + "60-none.conf":  Key + " = 20004 30005\n",
	})
	if err := os.Chown(c.path(etcD+"50-other.conf"), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	for f, mode := range map[string]os.FileMode{"50-other.conf": 0o600, "60-none.conf": 0} {
		if err := os.Chmod(c.path(etcD+f), mode); err != nil {
			t.Fatal(err)
		}
	}
	// The temp dirs above the tree are 0700 root: searching them needs
	// the capabilities the child drops.
	for d := c.root(); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(setpriv, "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all", "--",
		os.Args[0], "-test.run=^TestReplayUnreadable$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "PORTPANEL_NOCAPS_ROOT="+c.root())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestReplayUnreadable") {
		t.Fatalf("without DAC capabilities: %v\n%s", err, out)
	}
}

// TestKernelModelAgreesWithTheKernel writes each value as the readers do
// (value + "\n", one write) to the real handlers in a private network
// namespace and checks that the model accepts, refuses and stores alike.
func TestKernelModelAgreesWithTheKernel(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	k := Kernel{ProcSys: sysctltest.ProcSys()}
	rangePath, unprivPath := filepath.Join(k.ProcSys, rangeFile), filepath.Join(k.ProcSys, unprivFile)
	write := func(p, v string) error { return os.WriteFile(p, []byte(v+"\n"), 0o644) }
	reset := func(r Range, unpriv int) {
		t.Helper()
		for _, step := range []struct{ p, v string }{{unprivPath, "0"}, {rangePath, r.String()}, {unprivPath, fmt.Sprint(unpriv)}} {
			if err := write(step.p, step.v); err != nil {
				t.Fatalf("reset %s to %s: %v", step.p, step.v, err)
			}
		}
	}
	start := Range{Low: 20000, High: 30001}
	rangeValues := []string{
		"40000 50001", " \t40000\t 50001 ", "40000\n50001", "\v40000 50001", "040000 50001", "0x9c40 0xC351",
		"08 50001", "0x 50001", "0xg 50001", "40000 50001 7", "40000 50001 abc", "40000 50001\r", "40000\r50001",
		"40000", "25000", "40000x", "", " ", "1024,65000", "+40000 50001", "-1 50001", "-0 50001", "60000 50000",
		"0 100", "1 100", "1023 2000", "1024 65535", "1024 65536", "99999999999 1", "000000000000000000040000 50001",
		"00000000000000000040000 50001", "4294967297 1", "\"40000 50001\"", "40000 40000", "40000 50001#x",
		"\xa040000 50001", "40000\xa050001",
	}
	for _, v := range rangeValues {
		reset(start, 1024)
		err := write(rangePath, v)
		got, _ := k.ReadRange()
		m := newKernelModel(func(s string) string { return s })
		m.r = start
		reason := m.writeRange(v)
		if (err == nil) != (reason == "") || got != m.r {
			t.Errorf("range %q: kernel %v (err %v), model %v (%q)", v, got, err, m.r, reason)
		}
	}
	unprivValues := []string{"0", "-0", "1000", "20000", "20001", "65535", "65536", "-1", "2x", "1023 5", "", "0x10", "010"}
	for _, v := range unprivValues {
		reset(start, 1024)
		err := write(unprivPath, v)
		st, _ := k.Read()
		m := newKernelModel(func(s string) string { return s })
		m.r = start
		reason := m.writeUnpriv(v, Location{})
		if (err == nil) != (reason == "") || st.UnprivilegedPortStart != m.unpriv {
			t.Errorf("unprivileged start %q: kernel %d (err %v), model %d (%q)", v, st.UnprivilegedPortStart, err, m.unpriv, reason)
		}
	}
}
