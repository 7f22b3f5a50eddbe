package web_test

import (
	"strconv"
	"testing"

	"portpanel/sysctl"
)

func assertKernel(t *testing.T, want sysctl.Range) {
	t.Helper()
	got, err := sysctl.Kernel{ProcSys: "/proc/sys"}.ReadRange()
	if err != nil || got != want {
		t.Errorf("kernel = %v, %v; want %v", got, err, want)
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
