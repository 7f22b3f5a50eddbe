// Package sysctl owns the kernel interface (/proc/sys) and the sysctl
// configuration files (parse, edit, boot value) for
// net.ipv4.ip_local_port_range. It knows nothing of HTTP or SQL, never logs,
// and takes its roots as values so tests can point it at temp dirs or at a
// private network namespace.
package sysctl

import "strconv"

// Key is the sysctl this package manages, in dotted form.
const Key = "net.ipv4.ip_local_port_range"

// Range is an inclusive local port range.
type Range struct {
	Low  int `json:"low"`
	High int `json:"high"`
}

// Size is the number of ports in the range, both ends included.
func (r Range) Size() int {
	if r.High < r.Low {
		return 0
	}
	return r.High - r.Low + 1
}

// String is the canonical "LOW HIGH" form portpanel writes to config files.
func (r Range) String() string {
	return strconv.Itoa(r.Low) + " " + strconv.Itoa(r.High)
}

// KernelState is what the running kernel says about the range and the two
// settings that constrain it.
type KernelState struct {
	Range                 Range
	UnprivilegedPortStart int
	// ReservedPorts is ip_local_reserved_ports as the kernel prints it
	// ("" when none are reserved).
	ReservedPorts string
}

// Reader names the program that applies sysctl config files at boot.
type Reader string

const (
	ReaderSystemd Reader = "systemd" // systemd-sysctl
	ReaderProcps  Reader = "procps"  // sysctl --system
)

// Location is a line in a config file.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// DefaultRange and DefaultUnprivilegedPortStart are what a new network
// namespace starts with (the range since Linux 4.2), before any boot reader
// has written a file's value.
var (
	DefaultRange                 = Range{Low: 32768, High: 60999}
	DefaultUnprivilegedPortStart = 1024
)

// Boot is what one boot reader leaves in the kernel for Key, found by
// replaying every write the reader makes, in its order, on a model of the
// kernel's handlers (see replay.go).
type Boot struct {
	Reader Reader
	// Set is true when a write the kernel accepts produced Range; false
	// when no file sets the key, every write is refused, or systemd drops
	// it: the kernel default (DefaultRange) stays.
	Set bool
	// Value is the winning line's value as written (trimmed).
	Value string
	// Range is the value the kernel holds after the reader ran, when Set.
	// It may differ from Value's two numbers: a one-number write changes
	// only the low end.
	Range *Range
	// Where is the file and line of the write that produced Range (when
	// Set), or of the drop line (when Dropped and not Set).
	Where Location
	// Dropped is set when systemd drops the key because of a "-key" line.
	Dropped bool
	// UnprivilegedPortStart is ip_unprivileged_port_start after the reader
	// ran: the kernel refuses a range whose low end is below it.
	UnprivilegedPortStart int
	// Refused are the writes of Key after Where (all of them when not Set)
	// that the kernel refuses, in order, each with the kernel's reason.
	Refused []RefusedWrite
	// Globs are lines that set Key through a glob pattern
	// ("net.ipv4.ip_local_port_rang? = ..."); the replay evaluates them.
	Globs []Location
	// Files are the config files the reader applies, in order.
	Files []string
	// Problems are files that could not be read, with the reason.
	Problems []string
	// Uncertain are files the reader reads at boot but portpanel could not
	// (no permission, too large), each a sentence naming the file: the
	// boot value may differ from Range.
	Uncertain []string
	// Reserved is what the reader leaves in ip_local_reserved_ports.
	Reserved ReservedBoot
}

// ReservedBoot is what one boot reader leaves in ip_local_reserved_ports,
// replayed with the same write order rules as the range.
type ReservedBoot struct {
	// Set is true when a write the kernel accepts produced Ports; false
	// when none does (or systemd drops the key): nothing is reserved, the
	// kernel default.
	Set bool
	// Ports is the list the kernel holds after the reader ran, as it
	// prints it ("" for none).
	Ports string
	// Value is the winning line's value as written (trimmed).
	Value string
	// Where is the winning write (when Set), or the drop line (when
	// Dropped and not Set).
	Where   Location
	Dropped bool
	// Refused are the writes after Where (all of them when not Set) that
	// the kernel refuses, each with its reason.
	Refused []RefusedWrite
	// Globs are pattern lines that match the key.
	Globs []Location
}

// RefusedWrite is a write of Key that the kernel refuses: the value it had
// before stays.
type RefusedWrite struct {
	Where  Location `json:"where"`
	Value  string   `json:"value"`
	Reason string   `json:"reason"`
}

// BootReport explains the boot value and whether a value written to the
// managed file would survive a reboot.
type BootReport struct {
	Reader Reader // the reader in force
	Boot   Boot   // what Reader applies
	Other  Boot   // what the other reader would apply
	// ManagedRead is true when Reader reads the managed file at all.
	ManagedRead bool
	// OverriddenBy is a file:line read after the managed file that assigns
	// the key (nil when none).
	OverriddenBy *Location
	// ReservedOverriddenBy is the same for ip_local_reserved_ports, looked
	// for only when the managed file sets that key.
	ReservedOverriddenBy *Location
	// Warnings are plain sentences for the admin: managed file not read,
	// overridden, readers disagree, key dropped.
	Warnings []string
	// BootWarnings word Boot.Refused and Boot.Uncertain as sentences, for
	// readers of a flat warning list (the API); pages show those fields
	// next to the boot value instead.
	BootWarnings []string
}

// FileEdit is a planned change to the managed config file.
type FileEdit struct {
	Path    string
	Existed bool
	Before  []byte
	After   []byte
	// Diff is a unified diff of Before → After ("" when identical).
	Diff string
	// Notes say what the edit did beyond setting the value, e.g. that an
	// earlier duplicate assignment was commented out.
	Notes []string
}

// Target is what a change sets: the range, and ip_local_reserved_ports
// when Reserved is not nil (as the kernel prints it; "" for none).
type Target struct {
	Range    Range
	Reserved *string
}
