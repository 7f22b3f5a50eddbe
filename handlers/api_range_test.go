package handlers

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"portpanel/change"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// GET /api/v1/range is what scripts and monitoring poll: its answer is
// pinned byte for byte (field names, order, null and empty values, the
// trailing newline), against a stand-in /proc/sys and config tree.
func TestAPIRangeAnswer(t *testing.T) {
	tests := []struct {
		name     string
		reserved string
		files    map[string]string // under the config root
		want     string            // ROOT stands for the config root
	}{
		{
			name: "no file sets the range",
			want: `{"boot":{"low":32768,"high":60999,"file":"","line":0,"kernel_default":true,"reader":"procps",` +
				`"unprivileged_port_start":1024,"refused":[],"uncertain":[],` +
				`"reserved_ports":{"value":"","file":"","line":0,"kernel_default":true,"refused":[]}},"drift":false,"file_overridden":false,"overridden_by":null,"reserved_drift":false,"reserved_ports":"",` +
				`"runtime":{"low":32768,"high":60999},"size":28232,"unprivileged_port_start":1024,"warnings":[]}` + "\n",
		},
		{
			name:     "managed file overridden, reserved ports",
			reserved: "40000-40010,50000",
			files: map[string]string{
				"etc/sysctl.d/10-portpanel.conf": "net.ipv4.ip_local_port_range = 20000 40001\n",
				"etc/sysctl.d/99-<x>&.conf":      "# later\nnet.ipv4.ip_local_port_range = 30000 50001\n",
			},
			want: `{"boot":{"low":30000,"high":50001,"file":"ROOT/etc/sysctl.d/99-\u003cx\u003e\u0026.conf","line":2,` +
				`"kernel_default":false,"reader":"procps","unprivileged_port_start":1024,"refused":[],"uncertain":[],` +
				`"reserved_ports":{"value":"","file":"","line":0,"kernel_default":true,"refused":[]}},` +
				`"drift":true,"file_overridden":true,"overridden_by":{"file":"ROOT/etc/sysctl.d/99-\u003cx\u003e\u0026.conf","line":2},` +
				`"reserved_drift":true,"reserved_ports":"40000-40010,50000","runtime":{"low":32768,"high":60999},"size":28232,"unprivileged_port_start":1024,` +
				`"warnings":["12 of the ports in ip_local_reserved_ports fall inside the range: connect() and bind(0) skip them, leaving 28,220 usable.",` +
				`"/etc/sysctl.d/99-\u003cx\u003e\u0026.conf:2 also sets net.ipv4.ip_local_port_range and sysctl --system reads it after ` +
				`/etc/sysctl.d/10-portpanel.conf, so its value wins at boot: remove that line, or change the value there."]}` + "\n",
		},
		{
			// procps reads the managed file after 05-a.conf: the kernel
			// refuses its high end, so 05-a.conf's value stays; the big
			// file is read last and could override it.
			name: "refused write after the winner, file too large to read",
			files: map[string]string{
				"etc/sysctl.d/05-a.conf":         "net.ipv4.ip_local_port_range = 20000 30001\n",
				"etc/sysctl.d/10-portpanel.conf": "net.ipv4.ip_unprivileged_port_start = 500\nnet.ipv4.ip_local_port_range = 20002 70000\n",
				"etc/sysctl.d/99-big.conf":       strings.Repeat("# padding\n", (16<<20)/10+1),
			},
			want: `{"boot":{"low":20000,"high":30001,"file":"ROOT/etc/sysctl.d/05-a.conf","line":1,"kernel_default":false,"reader":"procps",` +
				`"unprivileged_port_start":500,"refused":[{"file":"ROOT/etc/sysctl.d/10-portpanel.conf","line":2,"value":"20002 70000",` +
				`"reason":"70000 is outside 1–65535"}],"uncertain":["/etc/sysctl.d/99-big.conf is larger than 16 MiB and portpanel did not read it: ` +
				`the boot reader reads it at boot, so the boot value is uncertain, and it is read after /etc/sysctl.d/05-a.conf:1, so it may override it"],` +
				`"reserved_ports":{"value":"","file":"","line":0,"kernel_default":true,"refused":[]}},` +
				`"drift":true,"file_overridden":false,"overridden_by":null,"reserved_drift":false,"reserved_ports":"","runtime":{"low":32768,"high":60999},"size":28232,` +
				`"unprivileged_port_start":1024,"warnings":["The boot readers disagree: sysctl --system (used here) leaves 20000 30001 from ` +
				`/etc/sysctl.d/05-a.conf:1, but systemd-sysctl would leave the kernel default (no file sets a value it accepts).",` +
				`"/etc/sysctl.d/10-portpanel.conf:2 sets \"20002 70000\", which the kernel refuses at boot (70000 is outside 1–65535): the value before it stays.",` +
				`"Boot value uncertain: /etc/sysctl.d/99-big.conf is larger than 16 MiB and portpanel did not read it: the boot reader reads it at boot, ` +
				`so the boot value is uncertain, and it is read after /etc/sysctl.d/05-a.conf:1, so it may override it."]}` + "\n",
		},
		{
			// The reserved ports' boot value with its line; a later line the
			// kernel refuses is named and leaves it.
			name:     "reserved ports at boot",
			reserved: "5432",
			files: map[string]string{
				"etc/sysctl.d/10-portpanel.conf": "net.ipv4.ip_local_reserved_ports = 5432\nnet.ipv4.ip_local_reserved_ports = 5432, 8080\n",
			},
			want: `{"boot":{"low":32768,"high":60999,"file":"","line":0,"kernel_default":true,"reader":"procps",` +
				`"unprivileged_port_start":1024,"refused":[],"uncertain":[],"reserved_ports":{"value":"5432","file":"ROOT/etc/sysctl.d/10-portpanel.conf",` +
				`"line":1,"kernel_default":false,"refused":[{"file":"ROOT/etc/sysctl.d/10-portpanel.conf","line":2,"value":"5432, 8080",` +
				`"reason":"\" 8080\" is not a port number"}]}},"drift":false,"file_overridden":false,"overridden_by":null,"reserved_drift":false,` +
				`"reserved_ports":"5432","runtime":{"low":32768,"high":60999},"size":28232,"unprivileged_port_start":1024,` +
				`"warnings":["The boot readers disagree on net.ipv4.ip_local_reserved_ports: sysctl --system (used here) leaves 5432 from ` +
				`/etc/sysctl.d/10-portpanel.conf:1, but systemd-sysctl would leave the kernel default, no reserved ports.",` +
				`"/etc/sysctl.d/10-portpanel.conf:2 sets net.ipv4.ip_local_reserved_ports to \"5432, 8080\", which the kernel refuses at boot ` +
				`(\" 8080\" is not a port number): the list before it stays."]}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for name, content := range tt.files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			procSys := sysctltest.FakeProcSys(t)
			if err := os.WriteFile(filepath.Join(procSys, "net/ipv4/ip_local_reserved_ports"), []byte(tt.reserved+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			svc := &change.Service{Kernel: sysctl.Kernel{ProcSys: procSys}, Config: sysctl.Config{Root: root},
				Reader: sysctl.ReaderProcps, File: filepath.Join(root, "etc/sysctl.d/10-portpanel.conf")}
			h := &Handlers{Changes: svc}
			rec := httptest.NewRecorder()
			e := echo.New()
			if err := h.APIRange(e.NewContext(httptest.NewRequest(http.MethodGet, "/api/v1/range", nil), rec)); err != nil {
				t.Fatal(err)
			}
			if got := rec.Header().Get(echo.HeaderContentType); got != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			want := strings.ReplaceAll(tt.want, "ROOT", root)
			if got := rec.Body.String(); got != want {
				t.Errorf("answer\n got %s\nwant %s", got, want)
			}
		})
	}
}
