package sysctl

import (
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"portpanel/sysctl/sysctltest"
)

// TestRealToolsApply checks, against procps `sysctl -p FILE` and
// `systemd-sysctl FILE` inside a private network namespace, both the boot
// model (what a tool does with a messy file) and the editor (the edited
// file sets exactly the new value).
func TestRealToolsApply(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	// toolInputs are messy files with nothing but net.ipv4 keys: those are per
	// network namespace, so the real tools can apply them in a private one.
	toolInputs := []struct{ name, content string }{
		{"CRLF with duplicates, dash, slash key and inline comment",
			"# portpanel test\r\nnet.ipv4.ip_local_port_range = 1024 65001\r\n; net.ipv4.ip_local_port_range = 5 6\r\n" +
				"net.ipv4.ip_unprivileged_port_start = 1024\r\n-net/ipv4/ip_local_port_range=2000\t3001 # old\r\n"},
		{"drop line and no final newline",
			"net.ipv4.ip_local_port_range = 3000 4001\n  -net.ipv4.ip_local_port_range\n# net.ipv4.ip_local_port_range = 1 2\nnet.ipv4.ip_local_reserved_ports = 8080"},
		{"new file", ""},
		{"commented examples only", "# only comments\n;net.ipv4.ip_local_port_range=1 2\n#net/ipv4/ip_local_port_range = 3 4\n"},
		{"odd spellings", "net..ipv4.ip_local_port_range = 7000 8001\n/net/ipv4/ip_local_port_range = 7100 8201\n"},
		{"glob after an odd spelling", "net..ipv4.ip_local_port_range = 7000 8001\nnet.ipv4.ip_local_port_rang? = 9000 9901\n"},
		{"vertical tab before the key: procps only", "\vnet.ipv4.ip_local_port_range = 1100 2201\n"},
		{"dash and space before the key: systemd only", "- net.ipv4.ip_local_port_range = 1200 2301\n"},
		{"last value refused by the kernel", "net.ipv4.ip_local_port_range = 1300 2401\nnet.ipv4.ip_local_port_range = 60000 50000\n"},
		{"equal value with inline comment", "net.ipv4.ip_local_port_range = 40000 50001 # keep\n"},
		{"quoted value", "net.ipv4.ip_local_port_range = \"1024 65000\"\n"},
		{"lone CR before the key: systemd only", "# note\rnet.ipv4.ip_local_port_range = 1400 2501\n"},
		{"CR inside the value", "net.ipv4.ip_local_port_range = 1500 2601\r# x\n"},
	}
	k := Kernel{ProcSys: sysctltest.ProcSys()}
	def := Range{Low: 32768, High: 60999}
	tools := map[Reader][]string{
		ReaderProcps:  {"/usr/sbin/sysctl", "-p"},
		ReaderSystemd: {"/lib/systemd/systemd-sysctl"},
	}
	apply := func(t *testing.T, rd Reader, content string) (Range, string, error) {
		t.Helper()
		onlyNetIPv4(t, content)
		if err := k.WriteRange(def); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "x.conf")
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tools[rd][0], append(tools[rd][1:], f)...).CombinedOutput()
		got, rerr := k.ReadRange()
		if rerr != nil {
			t.Fatal(rerr)
		}
		return got, string(out), err
	}
	for _, in := range toolInputs {
		t.Run(in.name, func(t *testing.T) {
			for rd, argv := range tools {
				if _, err := os.Stat(argv[0]); err != nil {
					t.Logf("%s not installed: not checked with it", argv[0])
					continue
				}
				// The model: Boot on a tree holding just this file.
				b, _ := tree(t, map[string]string{etcD + "50-x.conf": in.content}).Boot(rd)
				got, out, _ := apply(t, rd, in.content)
				want, modelled := def, len(b.Globs) == 0
				switch {
				case b.Set && b.Range != nil:
					want = *b.Range
				case b.Set && rd == ReaderProcps:
					modelled = false // procps keeps the last value the kernel accepted
				}
				if modelled && got != want {
					t.Errorf("%s on the input: kernel has %v, Boot says %v (set %v, value %q)\n%s", rd, got, want, b.Set, b.Value, out)
				}

				for _, r := range []Range{{Low: 40000, High: 50001}, {Low: 2000, High: 64001}} {
					after, _, err := EditConfig([]byte(in.content), r)
					var ue *UneditableError
					if errors.As(err, &ue) && strings.Contains(in.content, "\r") {
						continue // refused lone CR; covered by the edit tests
					} else if err != nil {
						t.Fatal(err)
					}
					got, out, err := apply(t, rd, string(after))
					if err != nil || got != r {
						t.Errorf("%s on the edited file: kernel has %v, want %v (%v)\n%s\nfile:\n%s", rd, got, r, err, out, after)
					}
				}
			}
		})
	}
}

// onlyNetIPv4 stops the test before a tool runs on a file that could set
// anything outside net.ipv4 (the only per-namespace subtree we use). It is
// deliberately stricter than the tools: every line that might be an
// assignment, split at "\n", "\r" and NUL, must name net.ipv4.
func onlyNetIPv4(t *testing.T, content string) {
	t.Helper()
	for _, line := range strings.FieldsFunc(content, func(r rune) bool { return r == '\n' || r == '\r' || r == 0 }) {
		s := strings.TrimLeft(line, " \t\n\v\f\r")
		if s == "" || s[0] == '#' || s[0] == ';' || (!strings.Contains(s, "=") && s[0] != '-') {
			continue
		}
		k, _, _ := strings.Cut(s, "=")
		// Whatever "-"s and spaces a tool strips ("--key", "- key"), what
		// is left must stay under net/ipv4 once cleaned: /proc/sys has no
		// links, so "net/ipv4/../ipv4/x" opens what path.Clean says, and a
		// "-" or space left in the name makes one no sysctl has.
		k = strings.TrimRight(strings.TrimLeft(k, "- \t\n\v\f\r"), " \t\n\v\f\r")
		p := oracleSlashdot(k)
		if !strings.HasPrefix(path.Clean("/"+p), "/net/ipv4/") {
			t.Fatalf("refusing to run a sysctl tool on a line outside net.ipv4: %q", line)
		}
	}
}
