package agenttest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/change/fault"
	"portpanel/db"
	"portpanel/sysctl/sysctltest"
)

// The agent killed with SIGKILL at each point of the apply, between the
// kernel write and the report: started again, it converges on the
// generation (applied once, kernel and file both at the target), never
// half-applied, and never applies it twice.
//
// bin is portpanel built with -tags faultinject (FaultBinary).
func Kill9(t *testing.T, newCP func(t *testing.T) ControlPlane, bin string) {
	for _, point := range []string{fault.KernelWritten, fault.FileRenamed, fault.DBUpdated} {
		t.Run(point, func(t *testing.T) {
			if !sysctltest.InNetns(t) {
				return
			}
			kill9At(t, newCP(t), bin, point)
		})
	}
}

func kill9At(t *testing.T, cp ControlPlane, bin, point string) {
	h := newHost(t, cp.URL())
	out := &SyncBuffer{}
	cmd := h.command(bin, cp.Token(), out, "PORTPANEL_FAULT="+point)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reportAfter(t, cp, h.cfg.Name, time.Time{}) // enrolled, nothing applied yet
	gen := cp.Set(h.cfg.Name, setRange("20000 40000", "INC-4"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := waitCtx(ctx, cmd)
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); err == nil || !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the agent did not die at %s: %v\n%s", point, err, out)
	}
	if point == fault.KernelWritten && (h.kernel() != target || h.fileText() != baseConf) {
		t.Fatalf("not half-applied at the kill: kernel %v, file %q", h.kernel(), h.fileText())
	}

	// Started again, without the fault.
	cmd = h.command(bin, "", out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	resultOf(t, cp, h.cfg.Name, gen, agentapi.ResultApplied, 15*time.Second)
	if h.kernel() != target || h.fileText() != baseConf+rangeLine("20000 40000") {
		t.Errorf("after the restart: kernel %v, file %q", h.kernel(), h.fileText())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	var applied, interrupted int
	for _, c := range h.journal() {
		switch {
		case c.UserID != gen:
			t.Errorf("a local change of generation %d", c.UserID)
		case c.Status == db.StatusApplied:
			applied++
		case c.Status == db.StatusFailed && strings.HasPrefix(c.Error, "interrupted"):
			interrupted++
		default:
			t.Errorf("local change %+v", c)
		}
	}
	if applied != 1 || (point == fault.KernelWritten) != (interrupted == 1) {
		t.Errorf("journal: %d applied, %d interrupted\n%s", applied, interrupted, out)
	}
}

// command is `portpanel agent` for h, as a process of its own.
func (h *Host) command(bin, token string, out *SyncBuffer, env ...string) *exec.Cmd {
	args := []string{"agent", "--server", h.cfg.Servers[0], "--state-dir", h.cfg.StateDir, "--name", h.cfg.Name,
		"--sysctl-file", h.cfg.SysctlFile, "--config-root", h.cfg.ConfigRoot, "--boot-reader", h.cfg.BootReader,
		"--proc-sys", h.cfg.ProcSys, "--proc-net", h.cfg.ProcNet}
	cmd := exec.Command(bin, args...)
	var clean []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTPANEL_") {
			clean = append(clean, kv)
		}
	}
	if token != "" {
		clean = append(clean, "PORTPANEL_ENROLL_TOKEN="+token)
	}
	cmd.Env = append(clean, env...)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd
}

func waitCtx(ctx context.Context, cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return ctx.Err()
	}
}

// FaultBinary builds portpanel with the faultinject tag, once per test
// binary run: the namespace's child finds it through the environment.
func FaultBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("PORTPANEL_TEST_FAULT_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "portpanel-fault")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-tags", "faultinject", "-o", bin, "portpanel")
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags faultinject: %v\n%s", err, out)
	}
	t.Setenv("PORTPANEL_TEST_FAULT_BIN", bin)
	return bin
}
