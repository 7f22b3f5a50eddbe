package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestAgentFlags(t *testing.T) {
	for _, k := range []string{"PORTPANEL_AGENT_SERVER", "PORTPANEL_ENROLL_TOKEN", "PORTPANEL_STATE_DIR", "PORTPANEL_OBSERVE_ONLY"} {
		t.Setenv(k, "")
	}
	state := filepath.Join(t.TempDir(), "state")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no server", []string{"agent", "--state-dir", state}, exitUsage, "--server is required"},
		{"plain http", []string{"agent", "--server", "http://panel:8080", "--state-dir", state}, exitFailed, "use https://"},
		{"relative sysctl file", []string{"agent", "--server", "unix:///x.sock", "--sysctl-file", "sysctl.conf"}, exitUsage, "absolute path"},
		{"unknown boot reader", []string{"agent", "--server", "unix:///x.sock", "--boot-reader", "initrd"}, exitUsage, "auto, systemd or procps"},
		{"rotation too often", []string{"agent", "--server", "unix:///x.sock", "--rotate-key-every", "5s"}, exitUsage, "at least 1m"},
		{"not enrolled, no token", []string{"agent", "--server", "unix:///x.sock", "--state-dir", state}, exitFailed, "--enroll-token"},
	} {
		r := runMain(c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.name, r.code, r.stderr, c.code, c.want)
		}
	}
	// The environment twins.
	t.Setenv("PORTPANEL_AGENT_SERVER", "unix:///a.sock, unix:///b.sock")
	t.Setenv("PORTPANEL_OBSERVE_ONLY", "1")
	c, err := parseAgent(nil, nil)
	if err != nil || len(c.cfg.Servers) != 2 || c.cfg.Servers[1] != "unix:///b.sock" || !c.cfg.ObserveOnly {
		t.Errorf("from the environment: %+v, %v", c.cfg, err)
	}
}
