package sysctl

import (
	"slices"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	K := Key
	debian12 := map[string]string{
		conf:                    "# defaults\n",
		etcD + "99-sysctl.conf": "-> ../sysctl.conf",
	}
	with := func(base map[string]string, extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name       string
		tree       map[string]string
		managed    string
		reader     Reader
		read       bool
		overridden string   // "file:line" or ""
		warnings   []string // substrings, one per warning
		// bootWarnings are BootReport.BootWarnings, whole.
		bootWarnings []string
	}{
		{
			name: "Debian 13: systemd does not read /etc/sysctl.conf", tree: map[string]string{conf: "# nothing\n"},
			managed: conf, reader: ReaderSystemd,
			warnings: []string{"systemd-sysctl does not read /etc/sysctl.conf: without /etc/sysctl.d/99-sysctl.conf linking to it, a change written there is lost at reboot."},
		},
		{
			name: "Debian 13: procps reads /etc/sysctl.conf", tree: map[string]string{conf: "# nothing\n"},
			managed: conf, reader: ReaderProcps, read: true,
		},
		{
			name: "Debian 12: systemd reads sysctl.conf through the link", tree: debian12,
			managed: conf, reader: ReaderSystemd, read: true,
		},
		{
			name: "managed file given as the link itself", tree: debian12,
			managed: etcD + "99-sysctl.conf", reader: ReaderSystemd, read: true,
		},
		{
			name: "drop-in that does not exist yet would be read", tree: map[string]string{},
			managed: etcD + "60-portpanel.conf", reader: ReaderSystemd, read: true,
		},
		{
			name: "Debian 12 link to a sysctl.conf that does not exist yet", tree: map[string]string{etcD + "99-sysctl.conf": "-> ../sysctl.conf"},
			managed: conf, reader: ReaderSystemd, read: true,
		},
		{
			name:    "later 99-zz.conf overrides under systemd, and the readers disagree",
			tree:    with(debian12, map[string]string{conf: K + " = 1024 65001\n", etcD + "99-zz.conf": "\n" + K + " = 40000 50001\n"}),
			managed: conf, reader: ReaderSystemd, read: true, overridden: "/etc/sysctl.d/99-zz.conf:2",
			warnings: []string{
				"/etc/sysctl.d/99-zz.conf:2 also sets net.ipv4.ip_local_port_range and systemd-sysctl reads it after /etc/sysctl.conf",
				"systemd-sysctl (used here) leaves 40000 50001 from /etc/sysctl.d/99-zz.conf:2, but sysctl --system would leave 1024 65001 from /etc/sysctl.conf:1",
			},
		},
		{
			name:    "procps reads sysctl.conf last: nothing overrides it",
			tree:    with(debian12, map[string]string{conf: K + " = 1024 65001\n", etcD + "99-zz.conf": K + " = 40000 50001\n"}),
			managed: conf, reader: ReaderProcps, read: true,
			warnings: []string{"The boot readers disagree: sysctl --system (used here) leaves 1024 65001"},
		},
		{
			name:    "drop-in that sorts before 99-sysctl.conf is overridden by sysctl.conf",
			tree:    with(debian12, map[string]string{conf: K + " = 1024 65001\n"}),
			managed: etcD + "60-portpanel.conf", reader: ReaderSystemd, read: true, overridden: "/etc/sysctl.d/99-sysctl.conf:1",
			warnings: []string{"/etc/sysctl.d/99-sysctl.conf:1 also sets"},
		},
		{
			name:    "bare -key drops the key",
			tree:    map[string]string{etcD + "60-portpanel.conf": K + " = 40000 50001\n", etcD + "90-x.conf": "-" + K + "\n"},
			managed: etcD + "60-portpanel.conf", reader: ReaderSystemd, read: true,
			warnings: []string{
				"/etc/sysctl.d/90-x.conf:1 has a bare \"-net.ipv4.ip_local_port_range\" line: systemd-sysctl drops the key",
				"systemd-sysctl (used here) leaves the kernel default (/etc/sysctl.d/90-x.conf:1 drops the key), but sysctl --system would leave 40000 50001",
			},
		},
		{
			name:    "same name in an earlier directory hides the managed file",
			tree:    map[string]string{etcD + "60-portpanel.conf": "# local\n"},
			managed: usrLibD + "60-portpanel.conf", reader: ReaderProcps,
			warnings: []string{"sysctl --system does not read /usr/lib/sysctl.d/60-portpanel.conf: /etc/sysctl.d/60-portpanel.conf has the same file name"},
		},
		{
			name: "managed file without .conf is not read", tree: map[string]string{},
			managed: etcD + "60-portpanel.conf.bak", reader: ReaderSystemd,
			warnings: []string{"systemd-sysctl does not read /etc/sysctl.d/60-portpanel.conf.bak (it reads *.conf files in"},
		},
		{
			name: "file of a reader directory's name elsewhere is not hidden, just not read", tree: map[string]string{etcD + "60-p.conf": "# x\n"},
			managed: "/opt/60-p.conf", reader: ReaderProcps,
			warnings: []string{"sysctl --system does not read /opt/60-p.conf (it reads *.conf files in /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d, /lib/sysctl.d and the file /etc/sysctl.conf)"},
		},
		{
			name: "hidden drop-in is skipped by systemd", tree: map[string]string{},
			managed: etcD + ".portpanel.conf", reader: ReaderSystemd,
			warnings: []string{"systemd-sysctl skips hidden files such as /etc/sysctl.d/.portpanel.conf"},
		},
		{
			name:    "glob is reported",
			tree:    map[string]string{etcD + "50-x.conf": "net.ipv4.ip_local_port_rang? = 2000 3001\n"},
			managed: etcD + "60-portpanel.conf", reader: ReaderSystemd, read: true,
			warnings: []string{"/etc/sysctl.d/50-x.conf:1 sets net.ipv4.ip_local_port_range through a pattern"},
		},
		{
			name:    "boot value the kernel refuses",
			tree:    map[string]string{etcD + "60-portpanel.conf": K + " = 60000 50000\n"},
			managed: etcD + "60-portpanel.conf", reader: ReaderProcps, read: true,
			bootWarnings: []string{"/etc/sysctl.d/60-portpanel.conf:1 sets \"60000 50000\", which the kernel refuses at boot (the high end 50000 is below the low end 60000): the value before it stays."},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tree(t, tc.tree)
			rep, err := c.Report(c.path(tc.managed), tc.reader)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Reader != tc.reader || rep.Boot.Reader != tc.reader || rep.Other.Reader != otherReader(tc.reader) {
				t.Errorf("readers %q/%q/%q", rep.Reader, rep.Boot.Reader, rep.Other.Reader)
			}
			if rep.ManagedRead != tc.read {
				t.Errorf("ManagedRead = %v, want %v", rep.ManagedRead, tc.read)
			}
			got := ""
			if rep.OverriddenBy != nil {
				got = c.loc(*rep.OverriddenBy)
			}
			if got != tc.overridden {
				t.Errorf("OverriddenBy = %q, want %q", got, tc.overridden)
			}
			if len(rep.Warnings) != len(tc.warnings) {
				t.Fatalf("warnings:\n%s\nwant %d like %q", strings.Join(rep.Warnings, "\n"), len(tc.warnings), tc.warnings)
			}
			for i, w := range tc.warnings {
				if !strings.Contains(rep.Warnings[i], w) {
					t.Errorf("warning %q\nwant it to contain %q", rep.Warnings[i], w)
				}
			}
			if !slices.Equal(rep.BootWarnings, tc.bootWarnings) {
				t.Errorf("boot warnings %q\nwant %q", rep.BootWarnings, tc.bootWarnings)
			}
		})
	}
	if _, err := (Config{Root: t.TempDir()}).Report("/etc/sysctl.conf", "auto"); err == nil {
		t.Error("Report accepted an unknown reader")
	}
}
