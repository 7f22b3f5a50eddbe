package sysctl

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"portpanel/sysctl/sysctltest"
)

func TestKernelInNetns(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	k := Kernel{ProcSys: sysctltest.ProcSys()}

	t.Run("fresh namespace has the defaults", func(t *testing.T) {
		st, err := k.Read()
		if err != nil {
			t.Fatal(err)
		}
		want := KernelState{Range: Range{Low: 32768, High: 60999}, UnprivilegedPortStart: 1024, ReservedPorts: ""}
		if st != want {
			t.Fatalf("Read() = %+v, want %+v", st, want)
		}
	})

	t.Run("write then read back", func(t *testing.T) {
		if err := k.WriteRange(Range{Low: 40000, High: 50001}); err != nil {
			t.Fatal(err)
		}
		got, err := k.ReadRange()
		if err != nil || got != (Range{Low: 40000, High: 50001}) {
			t.Fatalf("ReadRange() = %v, %v; want 40000 50001", got, err)
		}
		raw, _ := os.ReadFile(filepath.Join(k.ProcSys, rangeFile))
		if string(raw) != "40000\t50001\n" {
			t.Fatalf("kernel prints %q", raw)
		}
	})

	refused := []struct {
		name string
		r    Range
	}{
		{"low above high", Range{Low: 60000, High: 50000}},
		{"low below ip_unprivileged_port_start", Range{Low: 1023, High: 65000}},
		{"low zero", Range{Low: 0, High: 100}},
		{"high above 65535", Range{Low: 1024, High: 65536}},
	}
	for _, tc := range refused {
		t.Run("kernel refuses "+tc.name, func(t *testing.T) {
			before, _ := k.ReadRange()
			err := k.WriteRange(tc.r)
			var ke *KernelRefusedError
			if !errors.As(err, &ke) || ke.Value != tc.r || !errors.Is(err, syscall.EINVAL) {
				t.Fatalf("WriteRange(%v) = %v, want *KernelRefusedError wrapping EINVAL", tc.r, err)
			}
			if want := "the kernel refused " + tc.r.String() + ": invalid argument"; err.Error() != want {
				t.Fatalf("message %q, want %q", err.Error(), want)
			}
			if after, _ := k.ReadRange(); after != before {
				t.Fatalf("value changed from %v to %v after a refused write", before, after)
			}
		})
	}

	// kernelRange is the model behind Boot.Range and the editor's no-op
	// check; here the real kernel judges it.
	t.Run("kernelRange agrees with the kernel", func(t *testing.T) {
		values := []string{
			"40000 50001", "40000\t50001", "  40000   50001  ", "40000\n50001", "\v40000 50001",
			"040000 50001", "0x9c40 0xc351", "08 50001", "0x 50001",
			"40000 50001 7", "40000 50001 abc", "40000 50001 # note", "40000 50001\t#x",
			"40000 50001\r", "40000\r50001", "40000\v50001", "40000 50001\v#", "40000 50001x",
			"40000", "", "1024,65000", "+40000 50001", "-1 50001", "60000 50000", "0 100",
			"1024 65536", "99999999999 1", "\"40000 50001\"", "40000 40000",
		}
		p := filepath.Join(k.ProcSys, rangeFile)
		for _, v := range values {
			if err := k.WriteRange(Range{Low: 32768, High: 60999}); err != nil {
				t.Fatal(err)
			}
			err := os.WriteFile(p, []byte(v+"\n"), 0o644)
			got, _ := k.ReadRange()
			want := kernelRange(v)
			switch {
			case want != nil && (err != nil || got != *want):
				t.Errorf("%q: kernel gave %v (%v), model %v", v, got, err, *want)
			case want == nil && err == nil && got.High != 60999:
				t.Errorf("%q: kernel accepted %v, model refuses it", v, got)
			}
		}
	})

	t.Run("low of 1 works once ip_unprivileged_port_start is 0", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(k.ProcSys, unprivFile), []byte("0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := k.WriteRange(Range{Low: 1, High: 65535}); err != nil {
			t.Fatal(err)
		}
		st, err := k.Read()
		if err != nil || st.UnprivilegedPortStart != 0 || st.Range != (Range{Low: 1, High: 65535}) {
			t.Fatalf("Read() = %+v, %v", st, err)
		}
	})

	t.Run("reserved ports are read back normalised", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(k.ProcSys, reservedFile), []byte("8080,8080,1-4,10-10\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := k.Read()
		if err != nil || st.ReservedPorts != "1-4,10,8080" {
			t.Fatalf("ReservedPorts = %q, %v", st.ReservedPorts, err)
		}
		res, err := ParseReservedPorts(st.ReservedPorts)
		if err != nil || ReservedInRange(res, Range{Low: 1, High: 9000}) != 6 {
			t.Fatalf("ParseReservedPorts(%q) = %v, %v", st.ReservedPorts, res, err)
		}
	})
}

func TestKernelErrorsOutsideProc(t *testing.T) {
	k := Kernel{ProcSys: t.TempDir()}
	if _, err := k.Read(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Read() on an empty dir = %v, want ErrNotExist", err)
	}
	if err := k.WriteRange(Range{Low: 1, High: 2}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("WriteRange on a missing file = %v, want ErrNotExist", err)
	}
	var ke *KernelRefusedError
	if err := k.WriteRange(Range{Low: 1, High: 2}); errors.As(err, &ke) {
		t.Fatal("a missing /proc file is not the kernel refusing a value")
	}
	os.MkdirAll(filepath.Join(k.ProcSys, "net/ipv4"), 0o755)
	os.WriteFile(filepath.Join(k.ProcSys, rangeFile), []byte("1024\t65000\n"), 0o644)
	os.WriteFile(filepath.Join(k.ProcSys, reservedFile), []byte("\n"), 0o644)
	if st, err := k.Read(); err != nil || st.UnprivilegedPortStart != 0 {
		t.Fatalf("kernel without ip_unprivileged_port_start (before 4.11): %+v, %v", st, err)
	}
	os.WriteFile(filepath.Join(k.ProcSys, rangeFile), []byte("1024 x\n"), 0o644)
	if _, err := k.ReadRange(); err == nil {
		t.Fatal("ReadRange accepted a malformed value")
	}
}

func TestEqual(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"1024\t65000", " 1024 65000 ", true},
		{"1024\t65000\n", "1024  65000", true},
		{"1024 65000", "1024 65001", false},
		{"1024 65000", "1024", false},
		{"", "  ", true},
	}
	for _, c := range cases {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
