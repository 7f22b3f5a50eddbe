package netns

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// InitialInode is the initial network namespace's inode on kernels that
// give it a fixed one (PROC_NET_INIT_INO, include/linux/proc_ns.h);
// older kernels number it like any other.
const InitialInode = 0xEFFFFFF9

// ID is how the kernel names a network namespace in /proc/PID/ns/net:
// "net:[4026531833]".
func ID(inode uint64) string { return "net:[" + strconv.FormatUint(inode, 10) + "]" }

// Own is the network namespace portpanel runs in, and whether it is the
// host's (the initial one): cheap, for pages that name it.
func (s Scanner) Own() (inode uint64, initial bool, err error) {
	inode, err = readLink(filepath.Join(s.proc(), "self", "ns", "net"))
	if err != nil {
		return 0, false, fmt.Errorf("read own network namespace: %w", err)
	}
	return inode, inode == InitialInode || isInitial(s.procSys()), nil
}

// isInitial reports whether the reader's namespace is the initial one.
// Most net.core settings exist only there: a sure sign whichever PID
// namespace portpanel sees (PID 1 may be a container's init, or hidden).
func isInitial(procSys string) bool {
	_, err := os.Stat(filepath.Join(procSys, "net", "core", "netdev_max_backlog"))
	return err == nil
}

// parseLink reads the inode from a /proc/PID/ns/net link's target.
func parseLink(target string) (uint64, error) {
	s, ok := strings.CutPrefix(target, "net:[")
	if s, ok = strings.CutSuffix(s, "]"); !ok {
		return 0, fmt.Errorf("unexpected network namespace link %q", target)
	}
	return strconv.ParseUint(s, 10, 64)
}

func readLink(path string) (uint64, error) {
	t, err := os.Readlink(path)
	if err != nil {
		return 0, err
	}
	return parseLink(t)
}

// gone reports whether err means the process exited (or its PID went
// away) while it was being read: such a process is skipped, not an error.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// pids lists the numeric entries of proc in ascending order.
func pids(proc string) ([]int, error) {
	ents, err := os.ReadDir(proc)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	out := make([]int, 0, len(ents))
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out, nil
}

// pfKthread is PF_KTHREAD in the flags field of /proc/PID/stat.
const pfKthread = 0x00200000

// stat is what the scan takes from /proc/PID/stat.
type stat struct {
	comm    string
	kthread bool
}

// readStat parses /proc/PID/stat. The command name sits in parentheses
// and may itself hold spaces and parentheses, so the fields after it are
// counted from the last ')'.
func readStat(path string) (stat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return stat{}, err
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return stat{}, fmt.Errorf("parse %s: no command name", path)
	}
	// After ")": state ppid pgrp session tty_nr tpgid flags ...
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 7 {
		return stat{}, fmt.Errorf("parse %s: %d fields after the command name", path, len(f))
	}
	flags, err := strconv.ParseUint(f[6], 10, 64)
	if err != nil {
		return stat{}, fmt.Errorf("parse %s: flags %q", path, f[6])
	}
	return stat{comm: string(b[open+1 : end]), kthread: flags&pfKthread != 0}, nil
}

// Capabilities this package needs beyond root.
const (
	capSysPtrace = 19
	capSysAdmin  = 21
)

// effectiveCaps reads CapEff from proc/self/status.
func effectiveCaps(proc string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(proc, "self", "status"))
	if err != nil {
		return 0, err
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("no CapEff in %s/self/status", proc)
}

// named maps namespace inodes to the files in dir that hold them open
// (`ip netns add NAME` bind-mounts one as /run/netns/NAME). A file is
// taken only when it is on the namespace file system (nsDev), not a
// leftover regular file.
func named(dir string, nsDev uint64) map[uint64][]string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := map[uint64][]string{}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		var st syscall.Stat_t
		if syscall.Stat(p, &st) != nil || uint64(st.Dev) != nsDev {
			continue
		}
		out[st.Ino] = append(out[st.Ino], p)
	}
	return out
}
