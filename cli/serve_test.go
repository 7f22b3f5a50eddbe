package cli

import (
	"runtime/debug"
	"testing"
)

// tuneGC sets the collector only where GOGC and GOMEMLIMIT leave it to us.
func TestTuneGCLeavesTheEnvironmentsChoice(t *testing.T) {
	percent := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(1 << 62)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })
	tests := []struct {
		name                 string
		env                  map[string]string
		wantPercent, wantLim int64
	}{
		{name: "neither set", env: nil, wantPercent: defaultGCPercent, wantLim: defaultMemoryLimit},
		{name: "GOGC set", env: map[string]string{"GOGC": "50"}, wantPercent: 100, wantLim: defaultMemoryLimit},
		{name: "GOMEMLIMIT set", env: map[string]string{"GOMEMLIMIT": "1GiB"}, wantPercent: defaultGCPercent, wantLim: 1 << 62},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(1 << 62)
			tuneGC(func(k string) string { return tt.env[k] })
			if got := debug.SetGCPercent(100); int64(got) != tt.wantPercent {
				t.Errorf("GC percent %d, want %d", got, tt.wantPercent)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.wantLim {
				t.Errorf("memory limit %d, want %d", got, tt.wantLim)
			}
		})
	}
}
