package sysctl

import (
	"errors"
	"strings"
	"testing"
)

func TestEditReservedPorts(t *testing.T) {
	const list = "5432,8080-8081"
	cases := []struct {
		name      string
		in        string
		list      string // default list
		want      string
		wantNotes []string
	}{
		{name: "new file gets one line", in: "", want: "net.ipv4.ip_local_reserved_ports = 5432,8080-8081\n"},
		{
			name: "replaces the value and nothing else",
			in:   "# tuning\nnet.ipv4.ip_local_port_range = 40000 50001\nnet.ipv4.ip_local_reserved_ports=8080\nkernel.panic = 5\n",
			want: "# tuning\nnet.ipv4.ip_local_port_range = 40000 50001\nnet.ipv4.ip_local_reserved_ports = 5432,8080-8081\nkernel.panic = 5\n",
		},
		{name: "equal value is a no-op", in: "net.ipv4.ip_local_reserved_ports\t=\t5432,8080-8081\n", want: "net.ipv4.ip_local_reserved_ports\t=\t5432,8080-8081\n"},
		{
			name:      "same set written otherwise is rewritten canonically",
			in:        "net.ipv4.ip_local_reserved_ports = 8081,8080,5432\n",
			want:      "net.ipv4.ip_local_reserved_ports = 5432,8080-8081\n",
			wantNotes: []string{"changed line 1"},
		},
		{
			name: "appends after a commented-out example",
			in:   "a = 1\n# net.ipv4.ip_local_reserved_ports = 8080\nb = 2\n",
			want: "a = 1\n# net.ipv4.ip_local_reserved_ports = 8080\nnet.ipv4.ip_local_reserved_ports = 5432,8080-8081\nb = 2\n",
		},
		{
			name: "the range's example is not the reserved ports' example",
			in:   "# net.ipv4.ip_local_port_range = 32768 60999\nb = 2\n",
			want: "# net.ipv4.ip_local_port_range = 32768 60999\nb = 2\nnet.ipv4.ip_local_reserved_ports = 5432,8080-8081\n",
		},
		{
			name:      "last duplicate wins, earlier ones are commented out",
			in:        "net.ipv4.ip_local_reserved_ports = 1\nx = 1\nnet/ipv4/ip_local_reserved_ports = 2\n",
			want:      "# net.ipv4.ip_local_reserved_ports = 1\nx = 1\nnet/ipv4/ip_local_reserved_ports = 5432,8080-8081\n",
			wantNotes: []string{"commented out earlier assignment on line 1", "changed line 3"},
		},
		{
			name:      "bare dash key is commented out",
			in:        "-net.ipv4.ip_local_reserved_ports\n",
			want:      "# -net.ipv4.ip_local_reserved_ports\nnet.ipv4.ip_local_reserved_ports = 5432,8080-8081\n",
			wantNotes: []string{"drop the key", "added"},
		},
		{
			name:      "inline comment moves above: the kernel would refuse the space",
			in:        "net.ipv4.ip_local_reserved_ports = 5432,8080-8081 # db and proxy\n",
			want:      "# db and proxy\nnet.ipv4.ip_local_reserved_ports = 5432,8080-8081\n",
			wantNotes: []string{"moved the comment", "changed line 1"},
		},
		{
			name:      "glob is left alone",
			in:        "net.ipv4.ip_local_reserved_port? = 1\n",
			want:      "net.ipv4.ip_local_reserved_port? = 1\nnet.ipv4.ip_local_reserved_ports = 5432,8080-8081\n",
			wantNotes: []string{"pattern", "added"},
		},
		{name: "CRLF file", in: "a = 1\r\n", want: "a = 1\r\nnet.ipv4.ip_local_reserved_ports = 5432,8080-8081\r\n"},
		{name: "empty list clears", in: "net.ipv4.ip_local_reserved_ports = 8080\n", list: "-", want: "net.ipv4.ip_local_reserved_ports =\n"},
		{name: "empty list added", in: "", list: "-", want: "net.ipv4.ip_local_reserved_ports =\n"},
		{name: "empty list already there", in: "net.ipv4.ip_local_reserved_ports = \n", list: "-", want: "net.ipv4.ip_local_reserved_ports = \n"},
		{name: "the range line is not touched", in: "net.ipv4.ip_local_port_range = 1 2\n", want: "net.ipv4.ip_local_port_range = 1 2\nnet.ipv4.ip_local_reserved_ports = 5432,8080-8081\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := list
			switch tc.list {
			case "-":
				l = ""
			case "":
			default:
				l = tc.list
			}
			out, notes, err := EditReservedPorts([]byte(tc.in), l)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Fatalf("got\n%q\nwant\n%q", out, tc.want)
			}
			joined := strings.Join(notes, "\n")
			for _, n := range tc.wantNotes {
				if !strings.Contains(joined, n) {
					t.Errorf("notes %q lack %q", notes, n)
				}
			}
		})
	}
}

func TestEditReservedPortsRefusesNonCanonical(t *testing.T) {
	for _, l := range []string{"8080,5432", "8080, 9000", "8080-8080", "65536", "x", "8080\n"} {
		var ie *InvalidError
		if _, _, err := EditReservedPorts(nil, l); !errors.As(err, &ie) {
			t.Errorf("EditReservedPorts(%q) = %v, want an InvalidError", l, err)
		}
	}
}

func TestEditTarget(t *testing.T) {
	in := "# mine\nnet.ipv4.ip_local_port_range = 32768 60999\nvm.swappiness = 1\n"
	list := "5432"
	out, notes, err := EditTarget([]byte(in), Target{Range: Range{Low: 1024, High: 65000}, Reserved: &list})
	if err != nil {
		t.Fatal(err)
	}
	want := "# mine\nnet.ipv4.ip_local_port_range = 1024 65000\nvm.swappiness = 1\nnet.ipv4.ip_local_reserved_ports = 5432\n"
	if string(out) != want || len(notes) != 2 {
		t.Fatalf("got\n%q (notes %q)\nwant\n%q", out, notes, want)
	}
	onlyRange, _, err := EditTarget([]byte(in), Target{Range: Range{Low: 1024, High: 65000}})
	if err != nil || strings.Contains(string(onlyRange), "reserved") {
		t.Fatalf("a target without reserved ports wrote %q (%v)", onlyRange, err)
	}
}

// FuzzEditTarget checks the two-key edit as FuzzEditConfigLines checks the
// range: both readers read both new values, every line about neither key
// is kept byte for byte, and a second edit changes nothing.
func FuzzEditTarget(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 0, 12, 1, 3, 0}, uint16(40000), uint16(50001), uint8(1))
	f.Add([]byte{3, 12, 0, 2, 1, 1, 13, 1, 4, 0, 0, 14, 2, 5, 1}, uint16(1024), uint16(65000), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, low, high uint16, pick uint8) {
		r := Range{Low: int(low), High: int(high)}
		if r.Low < 1 || r.Low > r.High {
			return // EditConfig's own fuzz target covers refusals
		}
		lists := []string{"", "5432", "8080-8081", "1,65535", "5432,8080-8090,9000"}
		list := lists[int(pick)%len(lists)]
		in := targetInput(data)
		out, _, err := EditTarget([]byte(in), Target{Range: r, Reserved: &list})
		var ue *UneditableError
		switch {
		case err == nil:
		case errors.As(err, &ue) && (strings.ContainsRune(in, 0) || hasLoneCR(in)):
			return
		default:
			t.Fatalf("EditTarget(%q, %v, %q): %v", in, r, list, err)
		}
		rangeOurs := func(text string) bool { v, ok := procpsValue(text); return ok && kernelGets(v, r) }
		reservedOurs := func(text string) bool {
			v, ok := procpsValueOf(text, "/proc/sys/"+reservedFile)
			return ok && v == list
		}
		checkKeptKeys(t, in, string(out), []oracleKey{{"ip_local_port_range", rangeOurs}, {"ip_local_reserved_ports", reservedOurs}})
		if v, ok := procpsValueOf(string(out), "/proc/sys/"+reservedFile); !ok || v != list {
			t.Fatalf("sysctl -p would set the reserved ports to %q (%v), want %q:\n%q", v, ok, list, out)
		}
		if v, ok := systemdValueOf(string(out), reservedFile); !ok || v != list {
			t.Fatalf("systemd-sysctl would set the reserved ports to %q (%v), want %q:\n%q", v, ok, list, out)
		}
		if v, ok := procpsValue(string(out)); !ok || !kernelGets(v, r) {
			t.Fatalf("sysctl -p would set the range to %q (%v), want %v:\n%q", v, ok, r, out)
		}
		again, _, err := EditTarget(out, Target{Range: r, Reserved: &list})
		if err != nil || string(again) != string(out) {
			t.Fatalf("second edit changed the file (%v):\n%q\n%q", err, out, again)
		}
	})
}

// targetInput is linesInput with reserved-ports lines among the range's.
func targetInput(data []byte) string {
	pieces := [][]string{
		{"", " ", "\t", "-", "#", "; ", "# -"},
		{Key, keyPath, ReservedKey, reservedFile, "net..ipv4.ip_local_reserved_ports", "net.ipv4.ip_local_reserved_port?",
			"net.ipv4.ip_local_*", "vm.swappiness", "/net/ipv4/ip_local_reserved_ports", "net.ipv4.ip_local_reserved_ports/",
			"NET.IPV4.IP_LOCAL_RESERVED_PORTS", "net.ipv4.ip_local_port_rang?", ReservedKey, ReservedKey, ReservedKey},
		{"=", " = ", "\t=\t", "", " "},
		{"40000 50001", "5432", "8080,5432", "5432 # db", "", "8080, 9000", "0x10", "1 2", "5432,8080-8090,9000", "65536", "-1"},
		{"\n", "\r\n", "", "\n\n"},
	}
	var b strings.Builder
	for i := 0; i+len(pieces) <= len(data); i += len(pieces) {
		for j, p := range pieces {
			b.WriteString(p[int(data[i+j])%len(p)])
		}
	}
	return b.String()
}
