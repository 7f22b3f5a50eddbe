package change_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portpanel/change"
	"portpanel/db/dbtest"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// bootFixture is a service managing /etc/sysctl.d/10-portpanel.conf under a
// temp config root, read by sysctl --system, with a stand-in /proc/sys:
// previews read the kernel and write nothing.
func bootFixture(t *testing.T, unprivStart string, files map[string]string) (*change.Service, string) {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		mustWrite(t, filepath.Join(root, name), content)
	}
	procSys := sysctltest.FakeProcSys(t)
	mustWrite(t, filepath.Join(procSys, "net/ipv4/ip_unprivileged_port_start"), unprivStart+"\n")
	svc := &change.Service{Kernel: sysctl.Kernel{ProcSys: procSys}, Config: sysctl.Config{Root: root},
		Reader: sysctl.ReaderProcps, File: filepath.Join(root, "etc/sysctl.d/10-portpanel.conf"), DB: dbtest.Open(t), Now: time.Now}
	return svc, root
}

// The review page replays the boot reader on the files as the change will
// leave them, and warns when the new range is not what the host boots with.
func TestPreviewWarnsWhenTheNewRangeWouldNotSurviveAReboot(t *testing.T) {
	bigFile := strings.Repeat("# padding\n", (16<<20)/10+1) // over the 16 MiB portpanel reads
	for _, tt := range []struct {
		name        string
		low, high   int
		unprivStart string            // the running kernel's ip_unprivileged_port_start
		files       map[string]string // under the config root
		want        []string          // substrings of the one boot warning ("" parts: none expected)
	}{
		{
			name: "plain: the managed file is the last to set the range",
			low:  40000, high: 50001, unprivStart: "1024",
			files: map[string]string{"etc/sysctl.d/05-early.conf": "net.ipv4.ip_local_port_range = 30000 50001\n"},
		},
		{
			name: "a later file sets the same range: it is what the host boots with",
			low:  40000, high: 50001, unprivStart: "1024",
			files: map[string]string{"etc/sysctl.d/99-zz.conf": "net.ipv4.ip_local_port_range = 40000 50001\n"},
		},
		{
			name: "shadowed by a later file",
			low:  40000, high: 50001, unprivStart: "1024",
			files: map[string]string{"etc/sysctl.d/99-zz.conf": "# theirs\nnet.ipv4.ip_local_port_range = 30000 50001\n"},
			want: []string{"etc/sysctl.d/99-zz.conf:2 sets net.ipv4.ip_local_port_range to \"30000 50001\"",
				"the host would boot with 30000–50001", "not 40000–50001", "remove that line, or change the value there"},
		},
		{
			// The running kernel allows 1000 (a hand-lowered start), but at
			// boot the start is still 1024 when the managed file is read:
			// the later file lowers it too late.
			name: "refused at boot: ip_unprivileged_port_start is lowered only after the managed file",
			low:  1000, high: 60999, unprivStart: "500",
			files: map[string]string{"etc/sysctl.d/99-unpriv.conf": "net.ipv4.ip_unprivileged_port_start = 500\n"},
			want: []string{"At boot the kernel will refuse the line this change writes", "etc/sysctl.d/10-portpanel.conf:1",
				`"1000 60999"`, "ip_unprivileged_port_start", "the kernel default 32768–60999"},
		},
		{
			name: "plain: ip_unprivileged_port_start is lowered before the managed file",
			low:  1000, high: 60999, unprivStart: "500",
			files: map[string]string{"etc/sysctl.d/05-unpriv.conf": "net.ipv4.ip_unprivileged_port_start = 500\n"},
		},
		{
			name: "uncertain: a file over 16 MiB the reader reads at boot",
			low:  40000, high: 50001, unprivStart: "1024",
			files: map[string]string{"etc/sysctl.d/99-big.conf": bigFile},
			want:  []string{"Boot value uncertain after this change: ", "99-big.conf is larger than 16 MiB", "10-portpanel.conf:1, so it may override it"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			svc, _ := bootFixture(t, tt.unprivStart, tt.files)
			p, err := svc.Preview(context.Background(), change.Request{Low: tt.low, High: tt.high, Reason: "review", Actor: proposer})
			if err != nil {
				t.Fatal(err)
			}
			var boot []string
			for _, w := range p.Warnings {
				if isBootWarning(w) {
					boot = append(boot, w)
				}
			}
			if len(tt.want) == 0 {
				if len(boot) != 0 {
					t.Errorf("boot warnings %q, want none", boot)
				}
				return
			}
			if len(boot) != 1 {
				t.Fatalf("boot warnings %q, want one (all warnings %q)", boot, p.Warnings)
			}
			for _, w := range tt.want {
				if !strings.Contains(boot[0], w) {
					t.Errorf("boot warning %q does not say %q", boot[0], w)
				}
			}
		})
	}
}

// isBootWarning tells the replay's warnings from sysctl.Validate's.
func isBootWarning(w string) bool {
	for _, s := range []string{"boot with", "At boot", "Boot value uncertain"} {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

// Approval replays the boot value again: a file that shadows the change
// may have appeared since it was proposed.
func TestApprovalWarnsAboutAFileThatShadowsTheChangeSinceItWasProposed(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	f := newFixture(t, nil)
	f.setKernel(t, defaultRange)
	f.svc.File = filepath.Join(filepath.Dir(f.file), "sysctl.d", "10-portpanel.conf")
	f.file = f.svc.File
	p := propose(t, f)
	for _, w := range p.Warnings {
		if isBootWarning(w) {
			t.Errorf("proposal warns %q with no other file setting the range", w)
		}
	}
	later := filepath.Join(filepath.Dir(f.file), "99-zz.conf")
	mustWrite(t, later, "net.ipv4.ip_local_port_range = 30000 50001\n")
	t.Cleanup(func() { os.Remove(later) })

	c, err := f.svc.Approve(context.Background(), p.ID, approver, "")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, w := range c.Warnings {
		found = found || strings.Contains(w, later+":1 sets")
	}
	if !found {
		t.Errorf("approved change's warnings %q do not name %s:1", c.Warnings, later)
	}
}
