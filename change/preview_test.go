package change_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"portpanel/change"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

func TestPreviewChangesNothingAndShowsWhatApplyWrites(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	for _, tt := range []struct {
		name            string
		original        *string
		requireApproval bool
		wantDiffLines   []string
	}{
		{
			name:          "rewrites the assignment in place",
			original:      ptr("# ports\nnet.ipv4.ip_local_port_range = 32768 60999\nvm.swappiness = 10\n"),
			wantDiffLines: []string{"-net.ipv4.ip_local_port_range = 32768 60999", "+net.ipv4.ip_local_port_range = 40000 50000"},
		},
		{
			name:          "appends to a file without the key",
			original:      ptr("# nothing about ports, no final newline"),
			wantDiffLines: []string{"+net.ipv4.ip_local_port_range = 40000 50000"},
		},
		{
			name:          "creates a missing file",
			wantDiffLines: []string{"+net.ipv4.ip_local_port_range = 40000 50000"},
		},
		{
			name:            "says approval is required",
			original:        ptr("net.ipv4.ip_local_port_range = 32768 60999\n"),
			requireApproval: true,
			wantDiffLines:   []string{"+net.ipv4.ip_local_port_range = 40000 50000"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, tt.original)
			f.setKernel(t, defaultRange) // subtests share the namespace
			f.svc.RequireApproval = tt.requireApproval
			was := f.state(t)
			// 40000–50000: both even, so a parity warning is expected.
			req := change.Request{Low: 40000, High: 50000, Reason: "preview first", Actor: proposer}

			p, err := f.svc.Preview(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			f.assertUnchanged(t, was)

			target := sysctl.Range{Low: 40000, High: 50000}
			if p.Before != defaultRange || p.Target != target || p.File != f.file || p.RequiresApproval != tt.requireApproval {
				t.Errorf("preview = before %v target %v file %q approval %v", p.Before, p.Target, p.File, p.RequiresApproval)
			}
			if len(p.Warnings) == 0 || !strings.Contains(strings.Join(p.Warnings, " "), "50001") {
				t.Errorf("warnings = %q, want the parity warning suggesting 50001", p.Warnings)
			}
			if len(p.Notes) == 0 {
				t.Errorf("no notes on what the editor did")
			}
			wantState := "absent"
			if tt.original != nil {
				wantState = sysctl.FileHash([]byte(*tt.original))
			}
			if p.FileState != wantState {
				t.Errorf("FileState = %q, want %q", p.FileState, wantState)
			}
			for _, l := range tt.wantDiffLines {
				if !slices.Contains(strings.Split(p.Diff, "\n"), l) {
					t.Errorf("diff lacks line %q:\n%s", l, p.Diff)
				}
			}

			// Applying what was reviewed writes exactly the previewed diff.
			req.Base, req.BaseFile = &p.Before, p.FileState
			c, err := f.svc.Apply(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if c.Diff != p.Diff || !slices.Equal(c.Warnings, p.Warnings) || !slices.Equal(c.Notes, p.Notes) {
				t.Errorf("applied diff/warnings/notes differ from the preview:\n%s\n---\n%s\n%q %q\n%q %q",
					c.Diff, p.Diff, c.Warnings, p.Warnings, c.Notes, p.Notes)
			}
			if c.BaseFileHash != p.FileState {
				t.Errorf("recorded base file state %q, previewed %q", c.BaseFileHash, p.FileState)
			}
			if tt.requireApproval {
				if c, err = f.svc.Approve(ctx, c.ID, approver, ""); err != nil {
					t.Fatal(err)
				}
			}
			after, _ := readFile(t, f.file)
			if got := sysctl.UnifiedDiff(f.file, []byte(was.content), []byte(after)); got != p.Diff {
				t.Errorf("the file changed by\n%s\nbut the preview showed\n%s", got, p.Diff)
			}
			if got := f.kernel(t); got != target {
				t.Errorf("kernel = %v, want %v", got, target)
			}
		})
	}
}
