package main

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"portpanel/agentapi"
)

// kernel is a virtual host's sysctls and boot file, in memory: what a
// real agent reads from /proc/sys and its config tree. Applying sets both
// (the real pipeline writes the kernel, then the file), so a virtual host
// never drifts unless told to.
type kernel struct {
	mu       sync.Mutex
	runtime  agentapi.Range
	boot     agentapi.Range
	reserved string
	bootRes  string
	// journal is each generation's values before it applied, for
	// rollback and for a commit-confirmed revert.
	journal map[int64]values
	// timers are commit-confirmed reverts still running.
	timers map[int64]*time.Timer
}

type values struct {
	rng      agentapi.Range
	reserved string
}

func newKernel() *kernel {
	r := agentapi.Range{Low: 32768, High: 60999}
	return &kernel{runtime: r, boot: r, journal: map[int64]values{}, timers: map[int64]*time.Timer{}}
}

// apply validates and applies c for generation gen, as the real agent's
// change.Service would: only the two typed keys, values the kernel takes.
// With ConfirmWithin it starts a revert timer that calls reverted unless
// confirm stops it first.
func (k *kernel) apply(gen int64, c *agentapi.DesiredChange, reverted func(gen int64)) (agentapi.Result, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	next := values{k.runtime, k.reserved}
	switch c.Operation {
	case agentapi.OpSet:
		for key, v := range c.Keys {
			switch key {
			case agentapi.KeyRange:
				r, err := parseRange(v)
				if err != nil {
					return agentapi.Result{}, err
				}
				next.rng = r
			case agentapi.KeyReserved:
				next.reserved = v
			default:
				return agentapi.Result{}, fmt.Errorf("refused: key %q is not one an agent sets", key)
			}
		}
	case agentapi.OpRollback:
		prev, ok := k.journal[c.RollbackOf]
		if !ok {
			return agentapi.Result{}, fmt.Errorf("refused: generation %d was not applied here", c.RollbackOf)
		}
		next = prev
	default:
		return agentapi.Result{}, fmt.Errorf("refused: operation %q", c.Operation)
	}
	if next.rng.Low < 1024 {
		return agentapi.Result{}, fmt.Errorf("refused: low %d is below the unprivileged port start 1024", next.rng.Low)
	}
	k.journal[gen] = values{k.runtime, k.reserved}
	k.set(next)
	res := agentapi.Result{Generation: gen, State: agentapi.ResultApplied, At: time.Now()}
	if c.ConfirmWithin > 0 {
		d := time.Duration(c.ConfirmWithin) * time.Second
		res.State, res.Deadline = agentapi.ResultUnconfirmed, res.At.Add(d)
		k.timers[gen] = time.AfterFunc(d, func() {
			if k.revert(gen) {
				reverted(gen)
			}
		})
	}
	return res, nil
}

func (k *kernel) set(v values) {
	k.runtime, k.boot = v.rng, v.rng
	k.reserved, k.bootRes = v.reserved, v.reserved
}

// revert restores gen's previous values if its timer is still running.
func (k *kernel) revert(gen int64) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, running := k.timers[gen]; !running {
		return false
	}
	delete(k.timers, gen)
	k.set(k.journal[gen])
	return true
}

// confirm stops gen's revert timer; false if it was not running.
func (k *kernel) confirm(gen int64) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.timers[gen]
	if ok {
		t.Stop()
		delete(k.timers, gen)
	}
	return ok
}

// observe is what the agent reports: a dashboard's worth of one host.
func (k *kernel) observe(now time.Time) agentapi.Observed {
	k.mu.Lock()
	defer k.mu.Unlock()
	return agentapi.Observed{
		Runtime: k.runtime,
		Boot: agentapi.Boot{Range: k.boot, Set: true, File: "/etc/sysctl.d/90-portpanel.conf", Line: 2,
			Reader: "systemd"},
		ReservedPorts:         k.reserved,
		BootReservedPorts:     k.bootRes,
		UnprivilegedPortStart: 1024,
		Drift:                 k.runtime != k.boot || k.reserved != k.bootRes,
		Usage: &agentapi.Usage{At: now, Total: 412,
			ByState: map[string]int{"ESTAB": 371, "TIME-WAIT": 38, "SYN-SENT": 3},
			Busiest: &agentapi.Destination{Address: "10.0.0.10:5432", Count: 120}, Risk: "ok"},
		Listeners: []agentapi.Listener{{Port: k.runtime.Low + 17, Proto: "tcp", Process: "envoy"}},
		File:      "/etc/sysctl.d/90-portpanel.conf",
	}
}

// preview answers a PreviewRequest with the file's diff as the agent
// would write it.
func (k *kernel) preview(p agentapi.PreviewRequest) agentapi.PreviewResult {
	k.mu.Lock()
	defer k.mu.Unlock()
	res := agentapi.PreviewResult{ID: p.ID, File: "/etc/sysctl.d/90-portpanel.conf"}
	v, ok := p.Keys[agentapi.KeyRange]
	if !ok {
		return res
	}
	r, err := parseRange(v)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Diff = fmt.Sprintf("--- a%s\n+++ b%s\n@@ -2 +2 @@\n-%s = %d %d\n+%s = %d %d\n", res.File, res.File,
		agentapi.KeyRange, k.boot.Low, k.boot.High, agentapi.KeyRange, r.Low, r.High)
	return res
}

func parseRange(v string) (agentapi.Range, error) {
	f := strings.Fields(v)
	if len(f) != 2 {
		return agentapi.Range{}, fmt.Errorf("refused: range %q is not two numbers", v)
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || lo < 1 || hi > 65535 || lo > hi {
		return agentapi.Range{}, fmt.Errorf("refused: range %q is not LOW HIGH within 1-65535", v)
	}
	return agentapi.Range{Low: lo, High: hi}, nil
}
