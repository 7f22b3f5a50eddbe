// Package netns owns the view of the host's network namespaces: it finds
// them (the distinct /proc/PID/ns/net links), says what each belongs to
// from its processes' cgroup paths, and reads each one's port range,
// reserved ports and socket usage by entering it on a locked OS thread
// (the /proc/sys/net files and sock_diag answer for the reader's own
// namespace only). It is read-only: it never writes a setting, in any
// namespace. It knows nothing of HTTP or SQL and never logs.
package netns

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"portpanel/sysctl"
	"portpanel/sysctl/usage"
)

// Process is one process of a namespace.
type Process struct {
	PID   int    `json:"pid"`
	Comm  string `json:"comm"`
	Owner Owner  `json:"owner"`
}

// Namespace is one network namespace as the scan found it.
type Namespace struct {
	Inode   uint64
	Self    bool // portpanel runs in it
	Initial bool // the host's (the initial network namespace)
	// Owner is what the namespace belongs to: KindHost for the initial
	// one, else the first container (by PID) among its processes, else
	// the first systemd unit. A pod's namespace names the pod, not one of
	// its containers.
	Owner Owner
	// Processes are the first Scanner.MaxProcesses by PID; ProcessCount
	// counts all of them. Kernel threads are left out: they all sit in
	// the initial namespace and hold no sockets of their own.
	Processes    []Process
	ProcessCount int
	// Paths are files that keep the namespace alive without a process
	// (`ip netns add NAME` makes /run/netns/NAME).
	Paths []string
	// Kernel is the namespace's own range, reserved ports and
	// ip_unprivileged_port_start; nil when it could not be read, and
	// Error says why in a sentence.
	Kernel *sysctl.KernelState
	Error  string
	// Usage is the namespace's socket usage; nil when the scan failed
	// (UsageError says why) or Kernel is nil.
	Usage      *usage.Snapshot
	UsageError string
	// RangeDiffers and ReservedDiffer compare Kernel with the scan's
	// Reference.
	RangeDiffers, ReservedDiffer bool
}

// ID is the namespace's name as the kernel prints it: "net:[4026531833]".
func (n Namespace) ID() string { return ID(n.Inode) }

// Scan is every network namespace at one moment.
type Scan struct {
	At   time.Time
	Self uint64 // portpanel's namespace
	// Reference is the settings of portpanel's own namespace: the range
	// portpanel manages, which every other is compared with. nil when it
	// could not be read.
	Reference *sysctl.KernelState
	// Namespaces lists portpanel's first, then those whose range differs
	// from the reference, then the rest, each group by inode.
	Namespaces []Namespace
	// Unreadable counts processes whose namespace link portpanel may not
	// read; Limits says in sentences what portpanel cannot see and why.
	Unreadable int
	Limits     []string
}

// SelfNamespace is portpanel's own entry of s.
func (s Scan) SelfNamespace() (Namespace, bool) {
	for _, n := range s.Namespaces {
		if n.Self {
			return n, true
		}
	}
	return Namespace{}, false
}

// Scanner finds and reads the network namespaces. The zero value reads
// the real /proc.
type Scanner struct {
	Proc     string // "" means "/proc"
	ProcSys  string // "" means "/proc/sys"; read inside each namespace
	NamedDir string // "" means "/run/netns"
	// MaxProcesses is how many processes a Namespace lists; 0 means 20.
	MaxProcesses int
	// OwnUsage, when set, gives the sampler's latest snapshot of
	// portpanel's own namespace, used instead of scanning it again: the
	// dashboard and the namespaces page then show the same figures.
	OwnUsage func() (usage.Snapshot, bool)
	Now      func() time.Time
}

func (s Scanner) proc() string     { return cmp.Or(s.Proc, "/proc") }
func (s Scanner) procSys() string  { return cmp.Or(s.ProcSys, "/proc/sys") }
func (s Scanner) namedDir() string { return cmp.Or(s.NamedDir, "/run/netns") }
func (s Scanner) maxProcs() int    { return cmp.Or(s.MaxProcesses, 20) }

func (s Scanner) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// Scan walks /proc once, then reads every namespace it found. A process
// that exits meanwhile is skipped; a namespace portpanel may not enter is
// listed with the reason. It fails only when it cannot list processes or
// read its own namespace.
func (s Scanner) Scan(ctx context.Context) (Scan, error) {
	proc := s.proc()
	self, err := readLink(filepath.Join(proc, "self", "ns", "net"))
	if err != nil {
		return Scan{}, fmt.Errorf("read portpanel's network namespace: %w", err)
	}
	sc := Scan{At: s.now(), Self: self}
	found, enterVia, err := s.walk(ctx, &sc)
	if err != nil {
		return Scan{}, err
	}
	if found[self] == nil {
		found[self] = &Namespace{Inode: self}
	}
	found[self].Self = true
	var nsStat syscall.Stat_t
	if syscall.Stat(filepath.Join(proc, "self", "ns", "net"), &nsStat) == nil {
		for ino, paths := range named(s.namedDir(), uint64(nsStat.Dev)) {
			if found[ino] == nil {
				found[ino] = &Namespace{Inode: ino}
			}
			found[ino].Paths = paths
		}
	}
	for _, ns := range found {
		if err := ctx.Err(); err != nil {
			return Scan{}, fmt.Errorf("scan network namespaces: %w", err)
		}
		s.describe(ns)
		if ns.Self {
			s.readOwn(ctx, ns, sc.At)
		} else {
			s.enter(ctx, ns, enterVia[ns.Inode], sc.At)
		}
		if ns.Initial = ns.Initial || ns.Inode == InitialInode; ns.Initial {
			ns.Owner = Owner{Kind: KindHost}
		}
	}
	sc.Reference = found[self].Kernel
	for _, ns := range found {
		if ref := sc.Reference; ref != nil && ns.Kernel != nil {
			ns.RangeDiffers = ns.Kernel.Range != ref.Range
			ns.ReservedDiffer = !sysctl.Equal(ns.Kernel.ReservedPorts, ref.ReservedPorts)
		}
		sc.Namespaces = append(sc.Namespaces, *ns)
	}
	slices.SortFunc(sc.Namespaces, func(a, b Namespace) int {
		return cmp.Or(-cmp.Compare(flag(a.Self), flag(b.Self)), -cmp.Compare(flag(a.RangeDiffers), flag(b.RangeDiffers)),
			cmp.Compare(a.Inode, b.Inode))
	})
	sc.Limits = s.limits(sc, len(found))
	return sc, nil
}

// walk groups the processes of proc by namespace. enterVia keeps every
// PID of each namespace, in order, to enter it through the next one if
// the first has exited.
func (s Scanner) walk(ctx context.Context, sc *Scan) (found map[uint64]*Namespace, enterVia map[uint64][]int, err error) {
	proc := s.proc()
	list, err := pids(proc)
	if err != nil {
		return nil, nil, err
	}
	found, enterVia = map[uint64]*Namespace{}, map[uint64][]int{}
	for i, pid := range list {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, nil, fmt.Errorf("scan network namespaces: %w", ctx.Err())
		}
		dir := filepath.Join(proc, strconv.Itoa(pid))
		ino, err := readLink(filepath.Join(dir, "ns", "net"))
		if gone(err) {
			continue
		} else if err != nil {
			sc.Unreadable++
			continue
		}
		st, err := readStat(filepath.Join(dir, "stat"))
		if err != nil || st.kthread {
			continue
		}
		ns := found[ino]
		if ns == nil {
			ns = &Namespace{Inode: ino}
			found[ino] = ns
		}
		ns.ProcessCount++
		enterVia[ino] = append(enterVia[ino], pid)
		if len(ns.Processes) < s.maxProcs() {
			ns.Processes = append(ns.Processes, Process{PID: pid, Comm: st.comm})
		}
	}
	return found, enterVia, nil
}

// describe reads the cgroup of each listed process and names the
// namespace's owner from them.
func (s Scanner) describe(ns *Namespace) {
	var unit *Owner
	for i := range ns.Processes {
		p := &ns.Processes[i]
		p.Owner = Owner{Kind: KindOther}
		if b, err := os.ReadFile(filepath.Join(s.proc(), strconv.Itoa(p.PID), "cgroup")); err == nil {
			p.Owner = OwnerOf(string(b))
		}
		switch {
		case ns.Owner.Kind != "":
		case p.Owner.Kind == KindUnit && unit == nil:
			unit = &p.Owner
		case p.Owner.Kind != KindUnit && p.Owner.Kind != KindOther:
			ns.Owner = p.Owner
			if ns.Owner.Kind == KindKubernetes {
				ns.Owner.ID = ""
			}
		}
	}
	switch {
	case ns.Owner.Kind != "":
	case unit != nil:
		ns.Owner = *unit
	default:
		ns.Owner = Owner{Kind: KindOther}
	}
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}
