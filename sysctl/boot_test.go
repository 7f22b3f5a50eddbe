package sysctl

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const (
	etcD    = "/etc/sysctl.d/"
	runD    = "/run/sysctl.d/"
	usrLibD = "/usr/lib/sysctl.d/"
	libD    = "/lib/sysctl.d/"
	conf    = "/etc/sysctl.conf"
)

// want is the expected boot value for one reader: "" for unset,
// "drop@file:line" for a systemd drop, else "value@file:line".
type want struct {
	value    string
	files    []string // nil: not checked
	problems []string // substrings, one per problem
	globs    int
}

func TestBoot(t *testing.T) {
	K := Key
	cases := []struct {
		name            string
		tree            map[string]string
		systemd, procps want
	}{
		{
			name:    "missing directories are fine",
			tree:    map[string]string{},
			systemd: want{files: []string{}},
			procps:  want{files: []string{}},
		},
		{
			name: "Debian 12: 99-sysctl.conf links to ../sysctl.conf, procps reads it twice",
			tree: map[string]string{
				conf:                    "# defaults\n" + K + " = 1024 65001\n",
				etcD + "99-sysctl.conf": "-> ../sysctl.conf",
				usrLibD + "50-pid.conf": "kernel.pid_max = 4194304\n",
			},
			systemd: want{value: "1024 65001@/etc/sysctl.d/99-sysctl.conf:2", files: []string{"/usr/lib/sysctl.d/50-pid.conf", "/etc/sysctl.d/99-sysctl.conf"}},
			procps:  want{value: "1024 65001@/etc/sysctl.conf:2", files: []string{"/usr/lib/sysctl.d/50-pid.conf", "/etc/sysctl.d/99-sysctl.conf", "/etc/sysctl.conf"}},
		},
		{
			name: "absolute link target is re-rooted",
			tree: map[string]string{
				conf:                    K + " = 1024 65001\n",
				etcD + "99-sysctl.conf": "-> /etc/sysctl.conf",
			},
			systemd: want{value: "1024 65001@/etc/sysctl.d/99-sysctl.conf:1"},
			procps:  want{value: "1024 65001@/etc/sysctl.conf:1"},
		},
		{
			name:    "Debian 13: no link, systemd ignores sysctl.conf",
			tree:    map[string]string{conf: K + " = 1024 65001\n"},
			systemd: want{files: []string{}},
			procps:  want{value: "1024 65001@/etc/sysctl.conf:1", files: []string{"/etc/sysctl.conf"}},
		},
		{
			name: "procps applies sysctl.conf after 99-zz.conf, systemd the other way round",
			tree: map[string]string{
				conf:                    K + " = 1024 65001\n",
				etcD + "99-sysctl.conf": "-> ../sysctl.conf",
				etcD + "99-zz.conf":     K + " = 40000 50001\n",
			},
			systemd: want{value: "40000 50001@/etc/sysctl.d/99-zz.conf:1"},
			procps:  want{value: "1024 65001@/etc/sysctl.conf:1"},
		},
		{
			name: "same file name in an earlier directory masks the later one",
			tree: map[string]string{
				etcD + "50-x.conf":    "# local copy\n",
				usrLibD + "50-x.conf": K + " = 1 2\n",
				usrLibD + "60-y.conf": "vm.swappiness = 1\n",
			},
			systemd: want{files: []string{"/etc/sysctl.d/50-x.conf", "/usr/lib/sysctl.d/60-y.conf"}},
			procps:  want{files: []string{"/etc/sysctl.d/50-x.conf", "/usr/lib/sysctl.d/60-y.conf"}},
		},
		{
			name: "run directory wins over usr lib",
			tree: map[string]string{
				runD + "50-x.conf":    K + " = 2000 3001\n",
				usrLibD + "50-x.conf": K + " = 1 2\n",
			},
			systemd: want{value: "2000 3001@/run/sysctl.d/50-x.conf:1"},
			procps:  want{value: "2000 3001@/run/sysctl.d/50-x.conf:1"},
		},
		{
			name: "symlink to /dev/null masks",
			tree: map[string]string{
				etcD + "50-x.conf":    "-> /dev/null",
				usrLibD + "50-x.conf": K + " = 1 2\n",
			},
			systemd: want{files: []string{"/etc/sysctl.d/50-x.conf"}},
			procps:  want{files: []string{"/etc/sysctl.d/50-x.conf"}},
		},
		{
			name: "empty file masks",
			tree: map[string]string{
				etcD + "50-x.conf":    "",
				usrLibD + "50-x.conf": K + " = 1 2\n",
			},
			systemd: want{files: []string{"/etc/sysctl.d/50-x.conf"}},
			procps:  want{files: []string{"/etc/sysctl.d/50-x.conf"}},
		},
		{
			name: "later file wins",
			tree: map[string]string{
				etcD + "10-a.conf":    K + " = 2000 3001\n",
				usrLibD + "90-b.conf": K + " = 4000 5001\n",
			},
			systemd: want{value: "4000 5001@/usr/lib/sysctl.d/90-b.conf:1"},
			procps:  want{value: "4000 5001@/usr/lib/sysctl.d/90-b.conf:1"},
		},
		{
			name: "plain byte order: 100-a.conf sorts before 20-b.conf",
			tree: map[string]string{
				etcD + "20-b.conf":  K + " = 2000 3001\n",
				etcD + "100-a.conf": K + " = 4000 5001\n",
			},
			systemd: want{value: "2000 3001@/etc/sysctl.d/20-b.conf:1", files: []string{"/etc/sysctl.d/100-a.conf", "/etc/sysctl.d/20-b.conf"}},
			procps:  want{value: "2000 3001@/etc/sysctl.d/20-b.conf:1"},
		},
		{
			name: "last assignment in a file wins",
			tree: map[string]string{
				etcD + "50-x.conf": K + " = 2000 3001\nvm.a = 1\n" + K + " = 4000 5001\n",
			},
			systemd: want{value: "4000 5001@/etc/sysctl.d/50-x.conf:3"},
			procps:  want{value: "4000 5001@/etc/sysctl.d/50-x.conf:3"},
		},
		{
			name:    "/lib/sysctl.d is read by procps only",
			tree:    map[string]string{libD + "50-x.conf": K + " = 2000 3001\n"},
			systemd: want{files: []string{}},
			procps:  want{value: "2000 3001@/lib/sysctl.d/50-x.conf:1"},
		},
		{
			name: "merged /usr: /lib -> usr/lib is not read twice",
			tree: map[string]string{
				"/lib":                "-> usr/lib",
				usrLibD + "50-x.conf": K + " = 2000 3001\n",
			},
			systemd: want{value: "2000 3001@/usr/lib/sysctl.d/50-x.conf:1", files: []string{"/usr/lib/sysctl.d/50-x.conf"}},
			procps:  want{value: "2000 3001@/usr/lib/sysctl.d/50-x.conf:1", files: []string{"/usr/lib/sysctl.d/50-x.conf"}},
		},
		{
			name: ".CONF and .conf.bak are ignored",
			tree: map[string]string{
				etcD + "50-x.CONF":     K + " = 1 2\n",
				etcD + "60-x.conf.bak": K + " = 1 2\n",
				etcD + "README":        K + " = 1 2\n",
			},
			systemd: want{files: []string{}},
			procps:  want{files: []string{}},
		},
		{
			name:    "hidden .conf file is read by procps, skipped by systemd",
			tree:    map[string]string{etcD + ".50-x.conf": K + " = 2000 3001\n"},
			systemd: want{files: []string{}},
			procps:  want{value: "2000 3001@/etc/sysctl.d/.50-x.conf:1"},
		},
		{
			name: "directory named x.conf: a problem, and it hides later files of that name",
			tree: map[string]string{
				etcD + "50-x.conf":    "<dir>",
				usrLibD + "50-x.conf": K + " = 2000 3001\n",
			},
			systemd: want{files: []string{}, problems: []string{"/etc/sysctl.d/50-x.conf is not a regular file: systemd-sysctl reads nothing from it, and it hides any 50-x.conf in later directories"}},
			procps:  want{files: []string{}, problems: []string{"/etc/sysctl.d/50-x.conf is not a regular file: sysctl --system reads nothing"}},
		},
		{
			name: "dangling symlink: a problem, and it hides later files of that name",
			tree: map[string]string{
				etcD + "50-x.conf":    "-> ../gone.conf",
				usrLibD + "50-x.conf": K + " = 2000 3001\n",
			},
			systemd: want{files: []string{}, problems: []string{"points to /etc/gone.conf, which does not exist: systemd-sysctl cannot read it"}},
			procps:  want{files: []string{}, problems: []string{"sysctl --system cannot read it"}},
		},
		{
			name:    "symlink loop is a problem, not an error",
			tree:    map[string]string{etcD + "50-loop.conf": "-> 50-loop.conf", etcD + "60-ok.conf": K + " = 2000 3001\n"},
			systemd: want{value: "2000 3001@/etc/sysctl.d/60-ok.conf:1", problems: []string{"too many levels of symbolic links"}},
			procps:  want{value: "2000 3001@/etc/sysctl.d/60-ok.conf:1", problems: []string{"too many levels of symbolic links"}},
		},
		{
			name: "bare -key drops the key under systemd only",
			tree: map[string]string{
				etcD + "10-a.conf": K + " = 2000 3001\n",
				etcD + "20-b.conf": "# drop it\n-" + K + "\n",
			},
			systemd: want{value: "drop@/etc/sysctl.d/20-b.conf:2"},
			procps:  want{value: "2000 3001@/etc/sysctl.d/10-a.conf:1"},
		},
		{
			name: "an assignment after the drop sets the key again",
			tree: map[string]string{
				etcD + "10-a.conf": "-" + K + "\n",
				etcD + "20-b.conf": K + " = 2000 3001\n",
			},
			systemd: want{value: "2000 3001@/etc/sysctl.d/20-b.conf:1"},
			procps:  want{value: "2000 3001@/etc/sysctl.d/10-a.conf:1"[:0] + "2000 3001@/etc/sysctl.d/20-b.conf:1"},
		},
		{
			name:    "slash key with dash prefix and tabs",
			tree:    map[string]string{etcD + "50-x.conf": "\t-net/ipv4/ip_local_port_range\t=\t2000\t3001\t\n"},
			systemd: want{value: "2000\t3001@/etc/sysctl.d/50-x.conf:1"},
			procps:  want{value: "2000\t3001@/etc/sysctl.d/50-x.conf:1"},
		},
		{
			name:    "CRLF and no final newline",
			tree:    map[string]string{etcD + "50-x.conf": "a = 1\r\n" + K + " = 2000 3001\r\nb = 2"},
			systemd: want{value: "2000 3001@/etc/sysctl.d/50-x.conf:2"},
			procps:  want{value: "2000 3001@/etc/sysctl.d/50-x.conf:2"},
		},
		{
			name:    "comments with # and ; and a BOM before the key",
			tree:    map[string]string{etcD + "50-x.conf": "# " + K + " = 1 2\n  ; " + K + " = 1 2\n\ufeff" + K + " = 1 2\n"},
			systemd: want{files: []string{"/etc/sysctl.d/50-x.conf"}},
			procps:  want{files: []string{"/etc/sysctl.d/50-x.conf"}},
		},
		{
			name:    "a glob sets the value when no explicit line names the key",
			tree:    map[string]string{etcD + "50-x.conf": "net.ipv4.ip_local_port_rang? = 2000 3001\n"},
			systemd: want{value: "2000 3001@/etc/sysctl.d/50-x.conf:1", globs: 1},
			procps:  want{value: "2000 3001@/etc/sysctl.d/50-x.conf:1", globs: 1},
		},
		{
			name:    "lone CR: systemd reads a second line that procps sees as part of a comment",
			tree:    map[string]string{etcD + "50-x.conf": "# note\r" + K + " = 2000 3001\n"},
			systemd: want{value: "2000 3001@/etc/sysctl.d/50-x.conf:2"},
			procps:  want{},
		},
		{
			name:    "line over 1 MiB: systemd stops reading the file there",
			tree:    map[string]string{etcD + "50-x.conf": K + " = 2000 3001\n#" + strings.Repeat("x", 1<<20) + "\n" + K + " = 4000 5001\n"},
			systemd: want{value: "2000 3001@/etc/sysctl.d/50-x.conf:1", problems: []string{"longer than 1 MiB"}},
			procps:  want{value: "4000 5001@/etc/sysctl.d/50-x.conf:3"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tree(t, tc.tree)
			for rd, w := range map[Reader]want{ReaderSystemd: tc.systemd, ReaderProcps: tc.procps} {
				b, err := c.Boot(rd)
				if err != nil {
					t.Fatal(err)
				}
				checkBoot(t, c, rd, b, w)
				files, err := c.Files(rd)
				if err != nil || !slices.Equal(files, b.Files) {
					t.Errorf("%s: Files() = %q, %v; Boot().Files = %q", rd, files, err, b.Files)
				}
			}
		})
	}
}

func checkBoot(t *testing.T, c Config, rd Reader, b Boot, w want) {
	t.Helper()
	got := ""
	switch {
	case b.Set:
		got = fmt.Sprintf("%s@%s", b.Value, c.loc(b.Where))
	case b.Dropped:
		got = "drop@" + c.loc(b.Where)
	}
	if got != w.value || b.Reader != rd {
		t.Errorf("%s: boot value %q, want %q", rd, got, w.value)
	}
	if w.files != nil {
		var files []string
		for _, f := range b.Files {
			files = append(files, c.display(f))
		}
		if !slices.Equal(files, w.files) && !(len(files) == 0 && len(w.files) == 0) {
			t.Errorf("%s: files %q, want %q", rd, files, w.files)
		}
	}
	if len(b.Problems) != len(w.problems) {
		t.Errorf("%s: problems %q, want %d like %q", rd, b.Problems, len(w.problems), w.problems)
	} else {
		for i, p := range w.problems {
			if !strings.Contains(b.Problems[i], p) {
				t.Errorf("%s: problem %q, want it to contain %q", rd, b.Problems[i], p)
			}
		}
	}
	if len(b.Globs) != w.globs {
		t.Errorf("%s: globs %v, want %d", rd, b.Globs, w.globs)
	}
}

func TestBootRange(t *testing.T) {
	cases := []struct {
		value string
		want  *Range
	}{
		{"1024 65001", &Range{Low: 1024, High: 65001}},
		{"1024\t65001 # note", &Range{Low: 1024, High: 65001}},
		{"040000 50001", &Range{Low: 16384, High: 50001}}, // octal, as the kernel reads it
		{"0x9c40 0xc351", &Range{Low: 40000, High: 50001}},
		{"60000 50000", nil},
		{"40000", &Range{Low: 40000, High: 60999}}, // one number: only the low end changes
		{"\"1024 65000\"", nil},
		{"1024,65000", nil},
		{"0 100", nil},
		{"1024 65536", nil},
		{"08 100", nil},
		{"+1024 65000", nil},
		{"1024\v65000", nil}, // only space, tab or newline may end a number
		{"1024 65000\v# x", nil},
		{"1024 65000 \v# x", &Range{Low: 1024, High: 65000}},
		{"\v1024 65000", &Range{Low: 1024, High: 65000}},
	}
	for _, tc := range cases {
		c := tree(t, map[string]string{etcD + "50-x.conf": Key + " = " + tc.value + "\n"})
		b, _ := c.Boot(ReaderProcps)
		if (b.Range == nil) != (tc.want == nil) || (b.Range != nil && *b.Range != *tc.want) {
			t.Errorf("value %q: Range = %v, want %v", tc.value, b.Range, tc.want)
		}
	}
}

func TestReaders(t *testing.T) {
	if r, err := ParseReader("systemd"); err != nil || r != ReaderSystemd {
		t.Errorf("ParseReader(systemd) = %q, %v", r, err)
	}
	if r, err := ParseReader("procps"); err != nil || r != ReaderProcps {
		t.Errorf("ParseReader(procps) = %q, %v", r, err)
	}
	for _, s := range []string{"auto", "", "Systemd"} {
		if _, err := ParseReader(s); err == nil {
			t.Errorf("ParseReader(%q) accepted", s)
		}
	}
	if _, err := (Config{Root: t.TempDir()}).Boot("auto"); err == nil {
		t.Error("Boot accepted an unknown reader")
	}
	if r := tree(t, map[string]string{}).DetectReader(); r != ReaderProcps {
		t.Errorf("DetectReader without systemd = %q", r)
	}
	if r := tree(t, map[string]string{"/run/systemd/system": "<dir>"}).DetectReader(); r != ReaderSystemd {
		t.Errorf("DetectReader with /run/systemd/system = %q", r)
	}
	if r := tree(t, map[string]string{"/run/systemd/system": "not a dir"}).DetectReader(); r != ReaderProcps {
		t.Errorf("DetectReader with a file at /run/systemd/system = %q", r)
	}
}
