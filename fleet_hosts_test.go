package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A managed host of TestFleetIntegration: a network namespace of its own,
// held by a sleeping process so that its kernel settings outlive the agent
// (a kill -9 of the agent must not take the namespace and its value with
// it), its own config tree and state dir, and the portpanel agent run in
// the namespace with nsenter. Its kernel is read in the namespace too: the
// real /proc/sys/net of that namespace, never the host's.

type fleetHost struct {
	name       string
	holder     *fleetProc // unshare -n sleep: the namespace's anchor
	root, conf string     // config tree (--config-root) and managed file
	state      string     // --state-dir
	agent      *fleetProc // the current agent run, nil before the first
	runs       int
}

// newHost makes host name's namespace and files.
func (w *fleetWorld) newHost(t *testing.T, name string) *fleetHost {
	t.Helper()
	h := &fleetHost{name: name, root: filepath.Join(w.dir, name), state: filepath.Join(w.dir, name, "state")}
	h.conf = filepath.Join(h.root, "etc", "sysctl.conf")
	if err := os.MkdirAll(filepath.Join(h.root, "etc", "sysctl.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.conf, []byte(crashConf), 0o644); err != nil {
		t.Fatal(err)
	}
	// Bounded, in case a crash of the test leaves it behind.
	h.holder = w.start(t, name+" netns", exec.Command("unshare", "--net", "sleep", "900"))
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, fleetWait, name+"'s namespace", func() string {
		ns, err := os.Readlink("/proc/" + strconv.Itoa(h.holder.cmd.Process.Pid) + "/ns/net")
		if err != nil {
			return err.Error()
		}
		if ns == own {
			return "unshare has not yet left the test's network namespace"
		}
		return ""
	})
	if got := h.kernel(t); got != fleetDefault {
		t.Fatalf("%s: a new namespace reads %q, want the kernel default %q", name, got, fleetDefault)
	}
	w.hosts[name] = h
	return h
}

// startAgent runs the agent in h's namespace, with an enrollment token
// and a fault point (PORTPANEL_FAULT, the faultinject build's) when not
// empty.
func (w *fleetWorld) startAgent(t *testing.T, h *fleetHost, token, fault string) *fleetProc {
	t.Helper()
	h.runs++
	cmd := exec.Command("nsenter", "--target", strconv.Itoa(h.holder.cmd.Process.Pid), "--net", "--",
		w.bin, "agent", "--server", w.servers(), "--state-dir", h.state, "--name", h.name,
		"--sysctl-file", h.conf, "--config-root", h.root, "--proc-sys", "/proc/sys", "--boot-reader", "procps")
	var env []string
	if token != "" {
		env = append(env, "PORTPANEL_ENROLL_TOKEN="+token) // not a flag: it would show in ps
	}
	if fault != "" {
		env = append(env, "PORTPANEL_FAULT="+fault)
	}
	cmd.Env = crashEnviron(env...)
	name := h.name + " agent run " + strconv.Itoa(h.runs)
	if fault != "" {
		name += " (PORTPANEL_FAULT=" + fault + ")"
	}
	h.agent = w.start(t, name, cmd)
	return h.agent
}

// kernel reads h's namespace's ip_local_port_range, as "LOW HIGH".
func (h *fleetHost) kernel(t *testing.T) string {
	t.Helper()
	v, err := h.kernelErr()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// kernelErr is kernel for goroutines other than the test's.
func (h *fleetHost) kernelErr() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), fleetWait)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nsenter", "--target", strconv.Itoa(h.holder.cmd.Process.Pid), "--net", "--",
		"cat", "/proc/sys/net/ipv4/ip_local_port_range").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s: read the namespace's range: %v\n%s", h.name, err, out)
	}
	return strings.Join(strings.Fields(string(out)), " "), nil
}

// file reads h's managed file.
func (h *fleetHost) file(t *testing.T) string {
	t.Helper()
	return crashRead(t, h.conf)
}

// fileRange is the range h's managed file sets ("" when none).
func (h *fleetHost) fileRange(t *testing.T) string {
	t.Helper()
	for _, line := range strings.Split(h.file(t), "\n") {
		if m := crashRangeLine.FindStringSubmatch(line); m != nil {
			return m[1] + " " + m[2]
		}
	}
	return ""
}

// tempFiles lists files an interrupted atomic write may leave beside h's
// managed file.
func (h *fleetHost) tempFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(h.conf))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != "sysctl.conf" && e.Name() != "sysctl.d" {
			out = append(out, e.Name())
		}
	}
	return out
}

// reported waits until h's agent has reported, since since, that its
// runtime range is want ("": what its kernel reads).
func (w *fleetWorld) reported(t *testing.T, h *fleetHost, since time.Time, within time.Duration, want string) {
	t.Helper()
	if err := w.reportedErr(h, since, within, want); err != nil {
		t.Fatal(err)
	}
}

// reportedErr is reported for goroutines other than the test's.
func (w *fleetWorld) reportedErr(h *fleetHost, since time.Time, within time.Duration, want string) error {
	return eventuallyErr(within, h.name+" reports "+want+" since "+since.UTC().Format(time.RFC3339Nano), func() string {
		row, err := w.d.HostByName(context.Background(), h.name)
		if err != nil {
			return err.Error()
		}
		if row.ReportedAt == nil || row.ReportedAt.Before(since) {
			return "no report since then (last " + stampOf(row.ReportedAt) + ")"
		}
		kernel := want
		if kernel == "" {
			if kernel, err = h.kernelErr(); err != nil {
				return err.Error()
			}
		}
		if got := observedRange(row.Report); got != kernel {
			return "reported runtime " + got + ", the kernel reads " + kernel
		}
		return ""
	})
}

func stampOf(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
