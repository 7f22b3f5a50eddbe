package cli

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"portpanel/sysctl/sysctltest"
)

// ttyRun is the client (the test binary as portpanel, see TestMain) on a
// pseudo-terminal, as a person at a shell runs it.
type ttyRun struct {
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func startTTY(t *testing.T, env []string, args ...string) *ttyRun {
	t.Helper()
	cmd := portpanelCmd(args...)
	cmd.Env = append(cmd.Env, env...)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	r := &ttyRun{t: t, cmd: cmd, ptmx: ptmx, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			r.mu.Lock()
			r.out.Write(buf[:n])
			r.mu.Unlock()
			if err != nil { // EIO once the child has gone
				return
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); ptmx.Close() })
	return r
}

func (r *ttyRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// waitFor waits until the terminal shows s.
func (r *ttyRun) waitFor(s string) {
	r.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(r.output(), s) {
			return
		}
	}
	r.t.Fatalf("the terminal never showed %q:\n%s", s, r.output())
}

func (r *ttyRun) typeLine(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.ptmx, s+"\n"); err != nil {
		r.t.Fatal(err)
	}
}

// wait returns the exit status and all the terminal showed.
func (r *ttyRun) wait() (int, string) {
	r.t.Helper()
	err := r.cmd.Wait()
	<-r.done
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), r.output()
	case err != nil:
		r.t.Fatal(err)
	}
	return 0, r.output()
}

// TestClientPrompt drives "Apply? [y/N]" through a pseudo-terminal: yes
// applies, no changes nothing, a change made while the question waits
// makes the answer stale; colour shows on the terminal unless NO_COLOR.
func TestClientPrompt(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newClientEnv(t)
	env := []string{"PORTPANEL_URL=" + e.url, "PORTPANEL_TOKEN=" + e.tokens["alice"], "TERM=xterm"}

	t.Run("no", func(t *testing.T) {
		r := startTTY(t, env, "change", "20000", "60999", "--reason", "INC-1")
		r.waitFor("Apply? [y/N] ")
		r.typeLine("n")
		code, out := r.wait()
		if code != exitFailed || !strings.Contains(out, "not applied: nothing changed") || kernelRange(t) != "32768 60999" {
			t.Errorf("exit %d, kernel %s:\n%s", code, kernelRange(t), out)
		}
		if !strings.Contains(out, "\x1b[32m+net.ipv4.ip_local_port_range = 20000 60999\x1b[0m") {
			t.Errorf("on a terminal the diff's added line is green:\n%q", out)
		}
	})
	t.Run("yes", func(t *testing.T) {
		r := startTTY(t, env, "change", "20000", "60999", "--reason", "INC-1")
		r.waitFor("Apply? [y/N] ")
		r.typeLine("y")
		code, out := r.wait()
		if code != exitOK || !strings.Contains(out, "Applied") || kernelRange(t) != "20000 60999" {
			t.Errorf("exit %d, kernel %s:\n%s", code, kernelRange(t), out)
		}
	})
	t.Run("a change made while the question waits", func(t *testing.T) {
		r := startTTY(t, env, "change", "25000", "60999", "--reason", "INC-2")
		r.waitFor("Apply? [y/N] ")
		if got := e.as("bob", "change", "30000", "60999", "--reason", "meanwhile", "--yes"); got.code != exitOK {
			t.Fatalf("the change meanwhile: %s", got)
		}
		r.typeLine("y")
		code, out := r.wait()
		if code != exitStale || !strings.Contains(out, "409: ") || kernelRange(t) != "30000 60999" {
			t.Errorf("want exit 4 and the change meanwhile kept; exit %d, kernel %s:\n%s", code, kernelRange(t), out)
		}
	})
	t.Run("NO_COLOR", func(t *testing.T) {
		r := startTTY(t, append(env, "NO_COLOR=1"), "change", "24000", "60999", "--reason", "INC-3")
		r.waitFor("Apply? [y/N] ")
		r.typeLine("")
		code, out := r.wait()
		if code != exitFailed || strings.Contains(out, "\x1b[") || !strings.Contains(out, "+net.ipv4.ip_local_port_range = 24000 60999") {
			t.Errorf("want the preview without colour, and no as the default; exit %d:\n%q", code, out)
		}
	})
	t.Run("status is coloured on a terminal", func(t *testing.T) {
		code, out := startTTY(t, env, "status").wait()
		if code != exitOK || !strings.Contains(out, "\x1b[1mRuntime\x1b[0m") {
			t.Errorf("exit %d:\n%q", code, out)
		}
	})
	t.Run("history draws a chart on a wide terminal", func(t *testing.T) {
		code, out := startTTY(t, env, "history").wait()
		if code != exitOK || !strings.Contains(out, "Range size over the last 1d") || !strings.Contains(out, "changes") || !strings.Contains(out, "^") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
}
