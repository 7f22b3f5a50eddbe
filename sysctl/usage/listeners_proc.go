package usage

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
)

// procListenState and procUnconnected are the "st" column of a listening
// TCP socket and of an unconnected UDP one.
const (
	procListenState = 0x0A
	procUnconnected = 0x07
)

// parseListeners appends the listeners of one /proc/net table to out: the
// rows in the listening state (TCP) or unconnected with no peer (UDP),
// with their inode, the tenth field.
func parseListeners(r io.Reader, proto string, out []Listener) ([]Listener, error) {
	want := uint64(procListenState)
	if proto == UDP {
		want = procUnconnected
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		if n == 1 {
			continue // the column header
		}
		var f [10][]byte
		if !firstFields(sc.Bytes(), f[:]) {
			return out, fmt.Errorf("line %d: want at least 10 fields in %q", n, sc.Bytes())
		}
		if st, ok := hexUint(f[3], 8); !ok || st != want {
			continue
		}
		local, err := parseHexAddrPort(f[1])
		if err != nil {
			return out, fmt.Errorf("line %d: %w", n, err)
		}
		remote, err := parseHexAddrPort(f[2])
		if err != nil {
			return out, fmt.Errorf("line %d: %w", n, err)
		}
		inode, err := strconv.ParseUint(string(f[9]), 10, 64)
		if err != nil {
			return out, fmt.Errorf("line %d: bad inode %q", n, f[9])
		}
		if remote.Port() != 0 {
			continue
		}
		out = append(out, Listener{Proto: proto, Local: local, Inode: inode})
	}
	return out, sc.Err()
}

func readListeners(path, proto string, out []Listener) ([]Listener, error) {
	f, err := os.Open(path)
	if err != nil {
		return out, fmt.Errorf("read listeners: %w", err)
	}
	defer f.Close()
	out, err = parseListeners(f, proto, out)
	if err != nil {
		return out, fmt.Errorf("parse %s: %w", path, err)
	}
	return out, nil
}
