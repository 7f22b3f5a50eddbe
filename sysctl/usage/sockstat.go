package usage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Sockstat holds the kernel's socket counters: cheap to read however many
// sockets there are, so fit for a gauge between full scans.
type Sockstat struct {
	// TCP and TCP6 count TCP sockets in the namespace's hash tables per
	// family (listening and connected; TIME_WAIT not included).
	TCP, TCP6 int
	// TimeWait counts TIME_WAIT sockets of both families.
	TimeWait int
	// TCPAlloc counts allocated TCP sockets host-wide: the kernel keeps
	// this counter for all namespaces together.
	TCPAlloc int
	// UDP and UDP6 count UDP sockets per family.
	UDP, UDP6 int
}

// Totals reads ProcNet/sockstat and ProcNet/sockstat6. The latter is
// missing when IPv6 is disabled, which leaves TCP6 and UDP6 at zero.
func (r Reader) Totals(ctx context.Context) (Sockstat, error) {
	var st Sockstat
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("read sockstat: %w", err)
	}
	for _, name := range []string{"sockstat", "sockstat6"} {
		path := filepath.Join(r.procNet(), name)
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) && name == "sockstat6" {
			break
		}
		if err != nil {
			return st, fmt.Errorf("read sockstat: %w", err)
		}
		err = parseSockstat(f, &st)
		f.Close()
		if err != nil {
			return st, fmt.Errorf("parse %s: %w", path, err)
		}
	}
	return st, nil
}

// parseSockstat reads lines like "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1"
// into st, keeping only the counters Sockstat names. Unknown lines and
// keys are skipped: kernels add counters over time.
func parseSockstat(r io.Reader, st *Sockstat) error {
	fields := map[string]*int{
		"TCP inuse": &st.TCP, "TCP tw": &st.TimeWait, "TCP alloc": &st.TCPAlloc,
		"TCP6 inuse": &st.TCP6, "UDP inuse": &st.UDP, "UDP6 inuse": &st.UDP6,
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		label, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		for i := 0; i+1 < len(f); i += 2 {
			p := fields[label+" "+f[i]]
			if p == nil {
				continue
			}
			n, err := strconv.Atoi(f[i+1])
			if err != nil {
				return fmt.Errorf("%s %s: not a number: %q", label, f[i], f[i+1])
			}
			*p = n
		}
	}
	return sc.Err()
}
