package cli

import (
	"context"
	"os"
	"os/exec"
	"testing"
)

// TestMain lets the test binary stand in for the portpanel binary: with
// PORTPANEL_RUN_MAIN=1 it runs Main as main does, so tests can check real
// exit codes.
func TestMain(m *testing.M) {
	if os.Getenv("PORTPANEL_RUN_MAIN") == "1" {
		os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// portpanelCmd runs the portpanel CLI (this test binary, see TestMain).
func portpanelCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PORTPANEL_RUN_MAIN=1")
	return cmd
}
