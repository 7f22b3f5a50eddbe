package sysctl

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"portpanel/sysctl/sysctltest"
)

func TestCheckReservedPorts(t *testing.T) {
	cases := []struct {
		name, in, want string
		rule           string // of the InvalidError; "" when accepted
	}{
		{"empty means none reserved", "", "", ""},
		{"one port", "8080", "8080", ""},
		{"a range", "9000-9100", "9000-9100", ""},
		{"sorted", "9000-9100,8080", "8080,9000-9100", ""},
		{"duplicates merged", "8080,8080", "8080", ""},
		{"overlaps merged", "100-200,150-300", "100-300", ""},
		{"adjacent merged", "8080,8081,8082-8090", "8080-8090", ""},
		{"single-port range printed as a port", "10-10", "10", ""},
		{"kernel's own example", "1,2-4,10-10", "1-4,10", ""},
		{"both ends of the port space", "1,65535", "1,65535", ""},
		{"space after comma", "8080, 9000", "", "format"},
		{"leading space", " 8080", "", "format"},
		{"trailing newline", "8080\n", "", "format"},
		{"empty item", "8080,,9000", "", "format"},
		{"trailing comma", "8080,", "", "format"},
		{"leading comma", ",8080", "", "format"},
		{"reversed range", "9010-9000", "", "order"},
		{"above 65535", "65536", "", "range"},
		{"port 0", "0", "", "range"},
		{"range from 0", "0-10", "", "range"},
		{"octal-looking", "08080", "", "format"},
		{"hex", "0x10", "", "format"},
		{"sign", "+80", "", "format"},
		{"negative", "-80", "", "format"},
		{"open range", "80-", "", "format"},
		{"two dashes", "1-2-3", "", "format"},
		{"letters", "http", "", "format"},
		{"huge number", "99999999999", "", "range"},
		{"too long once merged", strings.Repeat("1,3,", 1) + oddPorts(1001), "", "length"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckReservedPorts(tc.in)
			var ie *InvalidError
			switch {
			case tc.rule == "" && (err != nil || got != tc.want):
				t.Fatalf("CheckReservedPorts(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			case tc.rule != "" && (!errors.As(err, &ie) || ie.Rule != tc.rule || ie.Field != "reserved_ports"):
				t.Fatalf("CheckReservedPorts(%q) = %q, %v; want an InvalidError of rule %q", tc.in, got, err, tc.rule)
			}
		})
	}
}

// oddPorts is n odd ports from 1001 on, which never merge.
func oddPorts(n int) string {
	var items []string
	for i := range n {
		items = append(items, strconv.Itoa(1001+2*i))
	}
	return strings.Join(items, ",")
}

// A list CheckReservedPorts accepts is one the kernel accepts and prints
// back unchanged, and writes it in one page.
func TestCheckReservedPortsIsKernelCanonical(t *testing.T) {
	for _, in := range []string{"8080", "9000-9100,8080", "1,2-4,10-10", "65535,1", oddPorts(700)} {
		got, err := CheckReservedPorts(in)
		if err != nil {
			t.Fatal(err)
		}
		if k, reason := kernelReserved(got); reason != "" || k != got {
			t.Errorf("CheckReservedPorts(%q) = %q, which the kernel model holds as %q (%s)", in, got, k, reason)
		}
	}
}

func TestKernelReservedModel(t *testing.T) {
	cases := []struct{ in, want, refused string }{
		{"8080", "8080", ""},
		{"", "", ""}, // a reader writes "\n": the set is cleared
		{"0", "0", ""},
		{"0x10", "16", ""},
		{"010", "8", ""},
		{"08080", "", "refused"},
		{"8080,", "8080", ""},
		{",8080", "", "refused"},
		{"8080, 9000", "", "refused"},
		{"8080 ", "", "refused"},
		{"8080\n8081", "8080-8081", ""},
		{"-5", "", "refused"},
		{"-0", "", "refused"},
		{"5-", "", "refused"},
		{"1-2-3", "", "refused"},
		{"65536", "", "refused"},
		{"9010-9000", "", "refused"},
		{"1,2-4,10-10", "1-4,10", ""},
	}
	for _, c := range cases {
		got, reason := kernelReserved(c.in)
		if (reason != "") != (c.refused != "") || got != c.want {
			t.Errorf("kernelReserved(%q) = %q, %q; want %q, refused %v", c.in, got, reason, c.want, c.refused != "")
		}
	}
}

func TestPortsIn(t *testing.T) {
	ports, _ := ParseReservedPorts("80,8080-8090,9000,40000-50000")
	got := FormatPorts(PortsIn(ports, Range{Low: 8085, High: 45000}))
	if got != "8085-8090,9000,40000-45000" {
		t.Fatalf("PortsIn = %q", got)
	}
	if s, err := AddPorts("8080,9000-9100", 8081, 5432, 9050); err != nil || s != "5432,8080-8081,9000-9100" {
		t.Fatalf("AddPorts = %q, %v", s, err)
	}
}

func TestKernelReservedInNetns(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	k := Kernel{ProcSys: sysctltest.ProcSys()}
	p := filepath.Join(k.ProcSys, reservedFile)

	t.Run("write then read back", func(t *testing.T) {
		if err := k.WriteReserved("8080,9000-9100"); err != nil {
			t.Fatal(err)
		}
		if got, err := k.ReadReserved(); err != nil || got != "8080,9000-9100" {
			t.Fatalf("ReadReserved() = %q, %v", got, err)
		}
		if err := k.WriteReserved(""); err != nil {
			t.Fatal(err)
		}
		if got, err := k.ReadReserved(); err != nil || got != "" {
			t.Fatalf("after clearing, ReadReserved() = %q, %v", got, err)
		}
	})

	t.Run("kernel refuses", func(t *testing.T) {
		if err := k.WriteReserved("5432"); err != nil {
			t.Fatal(err)
		}
		err := k.WriteReserved("65536")
		var ke *KernelRefusedError
		if !errors.As(err, &ke) || ke.Key != ReservedKey || ke.Ports != "65536" || !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("WriteReserved(65536) = %v, want *KernelRefusedError wrapping EINVAL", err)
		}
		if got, _ := k.ReadReserved(); got != "5432" {
			t.Fatalf("a refused write changed the list to %q", got)
		}
	})

	// A long list is formatted in one read at offset 0; reading on at a
	// later offset gets nothing, so a piecewise reader would cut it.
	t.Run("long list read whole", func(t *testing.T) {
		want := oddPorts(3000) // about 17 kB, written in several pages
		if err := k.WriteReserved(want); err != nil {
			t.Fatal(err)
		}
		if got, err := k.ReadReserved(); err != nil || got != want {
			t.Fatalf("ReadReserved() returned %d bytes (%v), want %d", len(got), err, len(want))
		}
		st, err := k.Files().Read()
		if err != nil || st.ReservedPorts != want {
			t.Fatalf("KernelFiles.Read() returned %d bytes (%v), want %d", len(st.ReservedPorts), err, len(want))
		}
		if err := k.WriteReserved(""); err != nil {
			t.Fatal(err)
		}
	})

	// The model behind the boot value and the editor's checks, judged by
	// the real kernel: a table of edge cases, then random lists assembled
	// from the pieces the parser cares about.
	t.Run("kernelReserved agrees with the kernel", func(t *testing.T) {
		values := []string{"8080", "", "0", "0x10", "010", "08080", "8080,", ",8080", "8080, 9000", "8080 ", " 8080",
			"8080\t", "8080\n8081", "8080\n\n8081", "-5", "-0", "5-", "1-2-3", "65535", "65536", "9010-9000",
			"1,2-4,10-10", "100-200,150-300", "5,,6", "+5", "5-+6", "0x", "0xffff", "0x10000", "1-0x20",
			"123456789012345678901", "000000000000000000005", "5\x00", "\n", "\n\n5", "5-6,", "5-6\n7"}
		r := rand.New(rand.NewPCG(1, 2))
		pieces := []string{"0", "1", "7", "80", "8080", "65535", "65536", "010", "0x1f", "-", ",", "\n", " ", "+", "x"}
		for range 400 {
			var b strings.Builder
			for range 1 + r.IntN(6) {
				b.WriteString(pieces[r.IntN(len(pieces))])
			}
			values = append(values, b.String())
		}
		for _, v := range values {
			if err := os.WriteFile(p, []byte("1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			err := os.WriteFile(p, []byte(v+"\n"), 0o644)
			got, rerr := k.ReadReserved()
			if rerr != nil {
				t.Fatal(rerr)
			}
			want, reason := kernelReserved(v)
			switch {
			case reason == "" && (err != nil || got != want):
				t.Errorf("%q: kernel gave %q (%v), model %q", v, got, err, want)
			case reason != "" && err == nil:
				t.Errorf("%q: kernel accepted it as %q, model refuses it: %s", v, got, reason)
			case reason != "" && got != "1":
				t.Errorf("%q: refused, yet the list changed to %q", v, got)
			}
		}
	})
}
