package cli

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "portpanel", Version: "v0.0.0-20251127032700-e3db97e4a1b2+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "e3db97e4a1b2c3d4e5f60718293a4b5c6d7e8f90"},
			{Key: "vcs.time", Value: "2025-11-27T03:27:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want []string
	}{
		{name: "built from git shows version, commit, time and modified", bi: stamped, want: []string{
			"portpanel v0.0.0-20251127032700-e3db97e4a1b2+dirty\n",
			"revision  e3db97e4a1b2c3d4e5f60718293a4b5c6d7e8f90\n",
			"time      2025-11-27T03:27:00Z\n",
			"modified  true\n",
			"go        go1.26.0 " + runtime.GOOS + "/" + runtime.GOARCH + "\n",
		}},
		{name: "built without VCS says so", bi: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "portpanel", Version: "(devel)"}}, want: []string{
			"portpanel (devel)\n",
			"revision  unknown (built without VCS information)\n",
			"modified  unknown (built without VCS information)\n",
		}},
		{name: "no build information at all", bi: nil, want: []string{
			"portpanel (unknown)\n",
			"go        " + runtime.Version() + " ",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := versionText(tt.bi)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("versionText gave\n%s\nwant it to contain %q", got, w)
				}
			}
		})
	}
}
