package sysctl

import (
	"slices"
	"strings"
	"testing"
)

func TestBootReserved(t *testing.T) {
	R := ReservedKey
	cases := []struct {
		name   string
		tree   map[string]string
		reader Reader
		want   string // "ports@file:line", "" for the default, "drop@file:line"
		refuse []string
	}{
		{"no file sets it", map[string]string{etcD + "50-x.conf": "# nothing\n"}, ReaderSystemd, "", nil},
		{"one line", map[string]string{etcD + "50-x.conf": "# db\n" + R + " = 5432,8080\n"}, ReaderProcps, "5432,8080@/etc/sysctl.d/50-x.conf:2", nil},
		{"kernel form", map[string]string{etcD + "50-x.conf": R + " = 8081,8080,010\n"}, ReaderSystemd, "8,8080-8081@/etc/sysctl.d/50-x.conf:1", nil},
		{
			"refused later line keeps the earlier list",
			map[string]string{etcD + "10-a.conf": R + " = 5432\n", etcD + "50-x.conf": R + " = 5432, 8080\n"}, ReaderProcps,
			"5432@/etc/sysctl.d/10-a.conf:1", []string{"/etc/sysctl.d/50-x.conf:1"},
		},
		{
			"sysctl.conf is read last by procps",
			map[string]string{conf: R + " = 1\n", etcD + "99-sysctl.conf": "-> ../sysctl.conf", etcD + "99-zz.conf": R + " = 2\n"}, ReaderProcps,
			"1@/etc/sysctl.conf:1", nil,
		},
		{
			"sysctl.conf is read through the link by systemd",
			map[string]string{conf: R + " = 1\n", etcD + "99-sysctl.conf": "-> ../sysctl.conf", etcD + "99-zz.conf": R + " = 2\n"}, ReaderSystemd,
			"2@/etc/sysctl.d/99-zz.conf:1", nil,
		},
		{"systemd drops it", map[string]string{etcD + "10-a.conf": R + " = 5432\n", etcD + "50-x.conf": "-" + R + "\n"}, ReaderSystemd, "drop@/etc/sysctl.d/50-x.conf:1", nil},
		{"procps only excludes it from patterns", map[string]string{etcD + "10-a.conf": R + " = 5432\n", etcD + "50-x.conf": "-" + R + "\n"}, ReaderProcps, "5432@/etc/sysctl.d/10-a.conf:1", nil},
		{"an empty value clears", map[string]string{etcD + "10-a.conf": R + " = 5432\n", etcD + "50-x.conf": R + " =\n"}, ReaderSystemd, "@/etc/sysctl.d/50-x.conf:1", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tree(t, tc.tree)
			b, err := c.Boot(tc.reader)
			if err != nil {
				t.Fatal(err)
			}
			r := b.Reserved
			got := ""
			switch {
			case r.Set:
				got = r.Ports + "@" + c.loc(r.Where)
			case r.Dropped:
				got = "drop@" + c.loc(r.Where)
			}
			if got != tc.want {
				t.Errorf("Boot(%s).Reserved = %q (%+v), want %q", tc.reader, got, r, tc.want)
			}
			var refused []string
			for _, w := range r.Refused {
				refused = append(refused, c.loc(w.Where))
			}
			if !slices.Equal(refused, tc.refuse) {
				t.Errorf("refused %q, want %q", refused, tc.refuse)
			}
		})
	}
}

func TestReportReserved(t *testing.T) {
	R := ReservedKey
	managed := etcD + "60-portpanel.conf"
	cases := []struct {
		name       string
		tree       map[string]string
		overridden string
		warnings   []string
		boot       []string
	}{
		{
			name: "a later file overrides the managed file's list",
			tree: map[string]string{managed: R + " = 5432\n", etcD + "90-x.conf": "# x\n" + R + " = 8080\n"},
			// sysctl --system reads the same files in the same order here.
			overridden: "/etc/sysctl.d/90-x.conf:2",
			warnings:   []string{"/etc/sysctl.d/90-x.conf:2 also sets net.ipv4.ip_local_reserved_ports and systemd-sysctl reads it after /etc/sysctl.d/60-portpanel.conf"},
		},
		{
			name: "no override warning while the managed file does not set the key",
			tree: map[string]string{managed: "# empty\n", etcD + "90-x.conf": R + " = 8080\n"},
		},
		{
			name:     "the key dropped at boot",
			tree:     map[string]string{managed: R + " = 5432\n", etcD + "90-x.conf": "-" + R + "\n"},
			warnings: []string{"/etc/sysctl.d/90-x.conf:1 has a bare \"-net.ipv4.ip_local_reserved_ports\" line", "The boot readers disagree on net.ipv4.ip_local_reserved_ports"},
		},
		{
			name: "a list the kernel refuses",
			tree: map[string]string{managed: R + " = 5432 # db\n"},
			boot: []string{"/etc/sysctl.d/60-portpanel.conf:1 sets net.ipv4.ip_local_reserved_ports to \"5432 # db\", which the kernel refuses at boot"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tree(t, tc.tree)
			rep, err := c.Report(c.path(managed), ReaderSystemd)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if rep.ReservedOverriddenBy != nil {
				got = c.loc(*rep.ReservedOverriddenBy)
			}
			if got != tc.overridden {
				t.Errorf("ReservedOverriddenBy = %q, want %q", got, tc.overridden)
			}
			if len(rep.Warnings) != len(tc.warnings) {
				t.Fatalf("warnings:\n%s\nwant %d like %q", strings.Join(rep.Warnings, "\n"), len(tc.warnings), tc.warnings)
			}
			for i, w := range tc.warnings {
				if !strings.Contains(rep.Warnings[i], w) {
					t.Errorf("warning %q\nwant it to contain %q", rep.Warnings[i], w)
				}
			}
			if len(rep.BootWarnings) != len(tc.boot) {
				t.Fatalf("boot warnings %q, want %d like %q", rep.BootWarnings, len(tc.boot), tc.boot)
			}
			for i, w := range tc.boot {
				if !strings.HasPrefix(rep.BootWarnings[i], w) {
					t.Errorf("boot warning %q\nwant it to start with %q", rep.BootWarnings[i], w)
				}
			}
		})
	}
}
