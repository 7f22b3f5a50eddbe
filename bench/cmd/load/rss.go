package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// sampleRSS reads pid's VmRSS every 50 ms until stop and returns the
// largest, in kB (0 without a pid).
func sampleRSS(pid int, stop <-chan struct{}) int {
	if pid == 0 {
		return 0
	}
	best := 0
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if kb, err := vmRSS(pid); err == nil {
			best = max(best, kb)
		}
		select {
		case <-stop:
			return best
		case <-t.C:
		}
	}
}

// vmRSS is pid's resident set size in kB, from /proc/PID/status.
func vmRSS(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
