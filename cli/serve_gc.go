package cli

import (
	"os"
	"runtime/debug"
)

// serveGCPercent is the collector's GOGC for serve when the environment
// sets none. Most of a control plane's memory under a fleet is what the
// collector cannot free: every waiting agent's connection, buffers and
// goroutine stack (at 10,000 hosts about 190 MB of live heap and 128 MB of
// stacks), and Go's default of 100 lets the heap grow by that much again
// before a collection (RSS 610-640 MB). Its garbage is little (about
// 10 MB a second at 10,000 hosts), so collecting at 40% more costs a
// cycle every few seconds: BENCHMARKS.md has the figures. GOGC in the
// environment still wins, as does GOMEMLIMIT for a hard ceiling.
const serveGCPercent = 40

// tuneGC sets serve's collector target unless GOGC is set.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
}
