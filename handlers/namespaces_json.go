package handlers

import (
	"time"

	"portpanel/sysctl/netns"
	"portpanel/sysctl/usage"
)

type namespacesJSON struct {
	At string `json:"at"`
	// Self is portpanel's namespace; Reference its settings, which every
	// namespace is compared with (null when unread).
	Self                string          `json:"self"`
	Reference           *referenceJSON  `json:"reference"`
	Limits              []string        `json:"limits"`
	UnreadableProcesses int             `json:"unreadable_processes"`
	Namespaces          []namespaceJSON `json:"namespaces"`
}

type referenceJSON struct {
	Netns         string    `json:"netns"`
	Range         rangeJSON `json:"range"`
	ReservedPorts string    `json:"reserved_ports"`
}

type namespaceJSON struct {
	Netns        string          `json:"netns"`
	Inode        uint64          `json:"inode"`
	Self         bool            `json:"self"`
	Host         bool            `json:"host"`
	Owner        netns.Owner     `json:"owner"`
	OwnerText    string          `json:"owner_text"`
	ProcessCount int             `json:"process_count"`
	Processes    []netns.Process `json:"processes"`
	Paths        []string        `json:"paths"`
	// Range and the fields after it are null (or absent) when the
	// namespace could not be read; Error says why.
	Range                 *rangeJSON `json:"range"`
	Size                  int        `json:"size,omitempty"`
	ReservedPorts         *string    `json:"reserved_ports"`
	UnprivilegedPortStart *int       `json:"unprivileged_port_start"`
	// RangeDiffers and ReservedPortsDiffer compare with the reference.
	RangeDiffers        bool          `json:"range_differs"`
	ReservedPortsDiffer bool          `json:"reserved_ports_differ"`
	Error               string        `json:"error,omitempty"`
	Usage               *nsUsageJSON  `json:"usage"`
	UsageError          string        `json:"usage_error,omitempty"`
	HowToSet            *netns.Advice `json:"how_to_set,omitempty"`
}

type nsUsageJSON struct {
	At        string           `json:"at"`
	Source    string           `json:"source"`
	Capacity  int              `json:"capacity"`
	TCP       map[string]int   `json:"tcp"`
	UDP       int              `json:"udp"`
	Bound     int              `json:"bound"`
	InRange   int              `json:"in_range"`
	Busiest   *destinationJSON `json:"busiest"`
	SharedUse float64          `json:"shared_use"`
	Level     string           `json:"level"`
}

func (h *Handlers) namespaceJSON(n netns.Namespace) namespaceJSON {
	out := namespaceJSON{Netns: n.ID(), Inode: n.Inode, Self: n.Self, Host: n.Initial, Owner: n.Owner, OwnerText: n.Owner.String(),
		ProcessCount: n.ProcessCount, Processes: n.Processes, Paths: n.Paths, Error: n.Error, UsageError: n.UsageError,
		RangeDiffers: n.RangeDiffers, ReservedPortsDiffer: n.ReservedDiffer}
	if out.Processes == nil {
		out.Processes = []netns.Process{}
	}
	if out.Paths == nil {
		out.Paths = []string{}
	}
	if k := n.Kernel; k != nil {
		out.Range, out.Size = &rangeJSON{k.Range.Low, k.Range.High}, k.Range.Size()
		out.ReservedPorts, out.UnprivilegedPortStart = &k.ReservedPorts, &k.UnprivilegedPortStart
	}
	if u := n.Usage; u != nil {
		out.Usage = h.nsUsageJSON(*u)
	}
	return out
}

func (h *Handlers) nsUsageJSON(u usage.Snapshot) *nsUsageJSON {
	out := &nsUsageJSON{At: u.At.UTC().Format(time.RFC3339Nano), Source: string(u.Source), Capacity: u.Capacity, TCP: u.TCP,
		UDP: u.UDP, Bound: u.Bound, InRange: u.InRange, SharedUse: u.SharedUse, Level: h.Risk.Level(0)}
	if out.TCP == nil {
		out.TCP = map[string]int{}
	}
	if b := u.Busiest; b != nil {
		out.Busiest = &destinationJSON{LocalIP: b.LocalIP.String(), Destination: b.Remote.String(), Sockets: b.Sockets, Risk: b.Risk, Level: h.Risk.Level(b.Risk)}
		out.Level = out.Busiest.Level
	}
	return out
}
