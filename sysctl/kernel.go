package sysctl

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Paths of the three settings under /proc/sys.
const (
	rangeFile    = "net/ipv4/ip_local_port_range"
	unprivFile   = "net/ipv4/ip_unprivileged_port_start"
	reservedFile = "net/ipv4/ip_local_reserved_ports"
)

// Kernel reads and writes the running kernel's settings under ProcSys
// ("/proc/sys" in production). The values are per network namespace: the
// ones seen are those of the namespace this process runs in.
type Kernel struct{ ProcSys string }

// Read returns the range and the two settings that constrain it.
func (k Kernel) Read() (KernelState, error) { return k.readState(k.read) }

func (k Kernel) readState(read func(string) (string, error)) (KernelState, error) {
	var st KernelState
	s, err := read(rangeFile)
	if err != nil {
		return st, err
	}
	if st.Range, err = parseRange(s); err != nil {
		return st, err
	}
	// Kernels before 4.11 have neither the setting nor the check that the
	// range stays above it: 0 says any low is fine.
	s, err = read(unprivFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st.UnprivilegedPortStart = 0
	case err != nil:
		return st, err
	default:
		if st.UnprivilegedPortStart, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
			return st, fmt.Errorf("read %s: unexpected value %q", dotted(unprivFile), s)
		}
	}
	s, err = read(reservedFile)
	if err != nil {
		return st, err
	}
	st.ReservedPorts = strings.TrimSpace(s)
	return st, nil
}

// ReadRange returns the current range. The kernel prints "LOW\tHIGH\n";
// any whitespace is accepted.
func (k Kernel) ReadRange() (Range, error) {
	s, err := k.read(rangeFile)
	if err != nil {
		return Range{}, err
	}
	return parseRange(s)
}

func parseRange(s string) (Range, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return Range{}, fmt.Errorf("read %s: unexpected value %q", Key, s)
	}
	low, err1 := strconv.Atoi(f[0])
	high, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return Range{}, fmt.Errorf("read %s: unexpected value %q", Key, s)
	}
	return Range{Low: low, High: high}, nil
}

// WriteRange sets the range with a single write(2) of "LOW\tHIGH\n", so the
// kernel sees both ends at once: either both change or neither does. It
// never shells out: `sysctl -w K=1024 65000` without quotes sets only the
// low end. The value is not validated here (see Validate); what the kernel
// refuses comes back as *KernelRefusedError.
func (k Kernel) WriteRange(r Range) error {
	p := filepath.Join(k.ProcSys, rangeFile)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("set %s: %w", Key, err)
	}
	_, werr := f.Write([]byte(strconv.Itoa(r.Low) + "\t" + strconv.Itoa(r.High) + "\n"))
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr != nil {
		return &KernelRefusedError{Value: r, Err: bareErr(werr)}
	}
	return nil
}

// ReadReserved returns ip_local_reserved_ports as the kernel prints it:
// sorted and merged, "" when none are reserved.
func (k Kernel) ReadReserved() (string, error) {
	s, err := k.read(reservedFile)
	return strings.TrimSpace(s), err
}

// WriteReserved sets ip_local_reserved_ports to list (the kernel's
// syntax, "" for none) with a single write(2) of list+"\n": a write
// replaces the whole set, and an empty write would change nothing, where
// "\n" clears it. The list is not validated here (see
// CheckReservedPorts); what the kernel refuses comes back as
// *KernelRefusedError.
func (k Kernel) WriteReserved(list string) error {
	f, err := os.OpenFile(k.path(reservedFile), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("set %s: %w", ReservedKey, err)
	}
	_, werr := f.Write([]byte(list + "\n"))
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr != nil {
		return &KernelRefusedError{Key: ReservedKey, Ports: list, Err: bareErr(werr)}
	}
	return nil
}

func (k Kernel) read(name string) (string, error) {
	f, err := os.Open(k.path(name))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", dotted(name), err)
	}
	defer f.Close()
	s, err := readWhole(func(b []byte, off int64) (int, error) { return f.ReadAt(b, off) })
	if err != nil {
		return "", fmt.Errorf("read %s: %w", dotted(name), err)
	}
	return s, nil
}

// readWhole reads a /proc/sys file whole. A sysctl handler formats its
// value only for a read at offset 0 and answers any later offset with
// end of file, so reading on in pieces (as os.ReadFile does, 512 bytes
// first) cuts a long value short: a reserved-ports list can be thousands
// of bytes. A read that fills the buffer is done again from offset 0 with
// a larger one. Plain files (tests) read the same way.
func readWhole(pread func([]byte, int64) (int, error)) (string, error) {
	buf := make([]byte, 512)
	for {
		n, err := pread(buf, 0)
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 4*len(buf))
	}
}

func (k Kernel) path(name string) string { return filepath.Join(k.ProcSys, name) }

func dotted(name string) string { return strings.ReplaceAll(name, "/", ".") }

// KernelRefusedError is returned when the kernel rejects a value written to
// ip_local_port_range (EINVAL for low > high, an end outside 1..65535 or a
// low below ip_unprivileged_port_start), or, when Key is ReservedKey, the
// list Ports written to ip_local_reserved_ports. The old value is still in
// force.
type KernelRefusedError struct {
	Key   string // "" for the range
	Value Range
	Ports string
	Err   error
}

func (e *KernelRefusedError) Error() string {
	if e.Key == ReservedKey {
		return fmt.Sprintf("the kernel refused %s = %q: %v", ReservedKey, e.Ports, e.Err)
	}
	return fmt.Sprintf("the kernel refused %d %d: %v", e.Value.Low, e.Value.High, e.Err)
}

func (e *KernelRefusedError) Unwrap() error { return e.Err }

// Equal compares two sysctl values with whitespace collapsed, as the kernel
// prints a TAB where config files usually have a space: comparing the
// strings as they are would report a difference forever.
func Equal(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// bareErr drops the operation and path of an *fs.PathError (or similar),
// keeping the errno so errors.Is still works while messages stay short.
func bareErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
