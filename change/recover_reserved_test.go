package change_test

import (
	"context"
	"strings"
	"testing"

	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// Crash recovery of a two-key change: each key that has the change's
// value goes back, one someone else set stays, and a change that reached
// both keys and the file is finished.
func TestRecoverTwoKeys(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	newFile := "# ports\n" + rangeLine(recoverTarget) + "net.ipv4.ip_local_reserved_ports = 5432\n"
	for _, tt := range []struct {
		name               string
		kernel             sysctl.Range
		reserved, file     string
		wantStatus         string
		wantKernel         sysctl.Range
		wantReserved, want string
		wantError          []string
	}{
		{name: "reserved ports written first, range not yet", kernel: defaultRange, reserved: "5432", file: recoverOld,
			wantStatus: db.StatusFailed, wantKernel: defaultRange, wantReserved: "7000", want: recoverOld,
			wantError: []string{"restored to reserved ports 7000"}},
		{name: "both keys written, file old", kernel: recoverTarget, reserved: "5432", file: recoverOld,
			wantStatus: db.StatusFailed, wantKernel: defaultRange, wantReserved: "7000", want: recoverOld,
			wantError: []string{"restored to 32768 60999", "restored to reserved ports 7000"}},
		{name: "both keys and the file written", kernel: recoverTarget, reserved: "5432", file: newFile,
			wantStatus: db.StatusApplied, wantKernel: recoverTarget, wantReserved: "5432", want: newFile},
		{name: "reserved ports set by someone else meanwhile", kernel: recoverTarget, reserved: "9999", file: recoverOld,
			wantStatus: db.StatusFailed, wantKernel: defaultRange, wantReserved: "9999", want: recoverOld,
			wantError: []string{"reserved ports 9999, set by someone else", "restored to 32768 60999"}},
		{name: "range written, reserved ports not, file written", kernel: recoverTarget, reserved: "7000", file: newFile,
			wantStatus: db.StatusFailed, wantKernel: defaultRange, wantReserved: "7000", want: recoverOld,
			wantError: []string{"restored to 32768 60999", "file was restored"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, ptr(tt.file))
			c := recordInterrupted(t, f, db.StatusApplying, ptr(recoverOld), func(c *db.Change) {
				c.ReservedPorts, c.BeforeReservedPorts = ptr("5432"), ptr("7000")
				c.FileAfter, c.FileAfterHash = []byte(newFile), sysctl.FileHash([]byte(newFile))
			})
			f.setKernel(t, tt.kernel)
			f.setReserved(t, tt.reserved)
			if _, err := f.svc.Recover(ctx); err != nil {
				t.Fatal(err)
			}
			got := mustChange(t, f.svc.DB, c.ID)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s (%q), want %s", got.Status, got.Error, tt.wantStatus)
			}
			for _, w := range tt.wantError {
				if !strings.Contains(got.Error, w) {
					t.Errorf("error %q does not say %q", got.Error, w)
				}
			}
			if k, r := f.kernel(t), f.reserved(t); k != tt.wantKernel || r != tt.wantReserved {
				t.Errorf("kernel = %v, reserved ports %q; want %v, %q", k, r, tt.wantKernel, tt.wantReserved)
			}
			if content, _ := readFile(t, f.file); content != tt.want {
				t.Errorf("file = %q, want %q", content, tt.want)
			}
		})
	}
}
