package sysctl

import (
	"errors"
	"strings"
	"testing"
)

func TestEditConfig(t *testing.T) {
	r := Range{Low: 40000, High: 50001}
	cases := []struct {
		name      string
		in        string
		want      string
		wantNotes []string // substrings, one per expected note
	}{
		{
			name: "new file gets one line",
			in:   "",
			want: "net.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name: "replaces the value and nothing else",
			in:   "# tuning\nvm.swappiness = 10\nnet.ipv4.ip_local_port_range=32768 60999\nkernel.panic = 5\n",
			want: "# tuning\nvm.swappiness = 10\nnet.ipv4.ip_local_port_range = 40000 50001\nkernel.panic = 5\n",
		},
		{
			name: "whitespace-equal value is a no-op",
			in:   "net.ipv4.ip_local_port_range\t=\t40000\t50001\n",
			want: "net.ipv4.ip_local_port_range\t=\t40000\t50001\n",
		},
		{
			name: "indentation is kept",
			in:   "   net.ipv4.ip_local_port_range = 1 2\n",
			want: "   net.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name: "appends after a commented-out example",
			in:   "a = 1\n# net.ipv4.ip_local_port_range = 32768 60999\nb = 2\n",
			want: "a = 1\n# net.ipv4.ip_local_port_range = 32768 60999\nnet.ipv4.ip_local_port_range = 40000 50001\nb = 2\n",
		},
		{
			name: "semicolon comment counts as an example, the last one wins",
			in:   "#net.ipv4.ip_local_port_range=1 2\nx = 1\n;net/ipv4/ip_local_port_range = 3 4\ny = 2\n",
			want: "#net.ipv4.ip_local_port_range=1 2\nx = 1\n;net/ipv4/ip_local_port_range = 3 4\nnet.ipv4.ip_local_port_range = 40000 50001\ny = 2\n",
		},
		{
			name: "comment that only mentions the key is not an example",
			in:   "# see net.ipv4.ip_local_port_range in the docs\nx = 1\n",
			want: "# see net.ipv4.ip_local_port_range in the docs\nx = 1\nnet.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name: "missing final newline is added before appending",
			in:   "vm.swappiness = 10",
			want: "vm.swappiness = 10\nnet.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name: "rewritten last line keeps its missing newline",
			in:   "a = 1\nnet.ipv4.ip_local_port_range = 1 2",
			want: "a = 1\nnet.ipv4.ip_local_port_range = 40000 50001",
		},
		{
			name:      "last duplicate wins, earlier ones are commented out",
			in:        "net.ipv4.ip_local_port_range = 1024 65000\nx = 1\nnet.ipv4.ip_local_port_range = 2000 3001\n",
			want:      "# net.ipv4.ip_local_port_range = 1024 65000\nx = 1\nnet.ipv4.ip_local_port_range = 40000 50001\n",
			wantNotes: []string{"commented out earlier assignment on line 1", "changed line 3"},
		},
		{
			name:      "duplicate already holding the value is still commented out",
			in:        "net.ipv4.ip_local_port_range = 40000 50001\nnet.ipv4.ip_local_port_range = 2000 3001\n",
			want:      "# net.ipv4.ip_local_port_range = 40000 50001\nnet.ipv4.ip_local_port_range = 40000 50001\n",
			wantNotes: []string{"line 1", "changed line 2"},
		},
		{
			name: "slash key keeps its spelling",
			in:   "net/ipv4/ip_local_port_range = 1 2\n",
			want: "net/ipv4/ip_local_port_range = 40000 50001\n",
		},
		{
			name: "slash duplicate of a dotted key is the same key",
			in:   "net.ipv4.ip_local_port_range = 1 2\nnet/ipv4/ip_local_port_range = 3 4\n",
			want: "# net.ipv4.ip_local_port_range = 1 2\nnet/ipv4/ip_local_port_range = 40000 50001\n",
		},
		{
			name:      "odd spelling is rewritten canonically",
			in:        "net..ipv4.ip_local_port_range = 1 2\n",
			want:      "net.ipv4.ip_local_port_range = 40000 50001\n",
			wantNotes: []string{"changed line 1"},
		},
		{
			name: "dash prefix is kept",
			in:   "-net.ipv4.ip_local_port_range = 1 2\n",
			want: "-net.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name: "dash prefix with equal value is a no-op",
			in:   "  -net.ipv4.ip_local_port_range=40000 50001\n",
			want: "  -net.ipv4.ip_local_port_range=40000 50001\n",
		},
		{
			name:      "bare dash key is commented out",
			in:        "net.ipv4.ip_local_port_range = 40000 50001\n-net.ipv4.ip_local_port_range\n",
			want:      "net.ipv4.ip_local_port_range = 40000 50001\n# -net.ipv4.ip_local_port_range\n",
			wantNotes: []string{"systemd-sysctl would drop the key"},
		},
		{
			name:      "bare dash key alone: commented out and the key appended",
			in:        "-net/ipv4/ip_local_port_range\n",
			want:      "# -net/ipv4/ip_local_port_range\nnet.ipv4.ip_local_port_range = 40000 50001\n",
			wantNotes: []string{"drop the key", "added"},
		},
		{
			name:      "inline comment moves above the rewritten line",
			in:        "  net.ipv4.ip_local_port_range = 2000 64001 # for the proxy\n",
			want:      "  # for the proxy\n  net.ipv4.ip_local_port_range = 40000 50001\n",
			wantNotes: []string{"moved the comment", "changed line 1"},
		},
		{
			name: "inline comment after an equal value stays (the kernel ignores it)",
			in:   "net.ipv4.ip_local_port_range = 40000 50001 # ok\n",
			want: "net.ipv4.ip_local_port_range = 40000 50001 # ok\n",
		},
		{
			name: "hash glued to the value is not a comment",
			in:   "net.ipv4.ip_local_port_range = 40000 50001#x\n",
			want: "net.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name: "quoted value is replaced",
			in:   "net.ipv4.ip_local_port_range = \"40000 50001\"\n",
			want: "net.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name: "CRLF file: rewritten line keeps CRLF",
			in:   "a = 1\r\nnet.ipv4.ip_local_port_range = 1 2\r\nb = 2\r\n",
			want: "a = 1\r\nnet.ipv4.ip_local_port_range = 40000 50001\r\nb = 2\r\n",
		},
		{
			name: "CRLF file: appended line ends in CRLF",
			in:   "a = 1\r\nb = 2",
			want: "a = 1\r\nb = 2\r\nnet.ipv4.ip_local_port_range = 40000 50001\r\n",
		},
		{
			name: "CRLF file: commented duplicate keeps CRLF",
			in:   "net.ipv4.ip_local_port_range = 1 2\r\nnet.ipv4.ip_local_port_range = 3 4\r\n",
			want: "# net.ipv4.ip_local_port_range = 1 2\r\nnet.ipv4.ip_local_port_range = 40000 50001\r\n",
		},
		{
			name: "uppercase key is another key",
			in:   "NET.IPV4.IP_LOCAL_PORT_RANGE = 1 2\n",
			want: "NET.IPV4.IP_LOCAL_PORT_RANGE = 1 2\nnet.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name: "mixed separators name another key",
			in:   "net.ipv4/ip_local_port_range = 1 2\n",
			want: "net.ipv4/ip_local_port_range = 1 2\nnet.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name:      "glob is left alone, the explicit key wins over it",
			in:        "net.ipv4.ip_local_port_rang? = 1 2\n",
			want:      "net.ipv4.ip_local_port_rang? = 1 2\nnet.ipv4.ip_local_port_range = 40000 50001\n",
			wantNotes: []string{"pattern", "added"},
		},
		{
			name:      "BOM hides the key from both tools",
			in:        "\ufeffnet.ipv4.ip_local_port_range = 1 2\n",
			want:      "\ufeffnet.ipv4.ip_local_port_range = 1 2\nnet.ipv4.ip_local_port_range = 40000 50001\n",
			wantNotes: []string{"byte order mark", "added"},
		},
		{
			name: "value with a single number is replaced",
			in:   "net.ipv4.ip_local_port_range = 40000\n",
			want: "net.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name: "empty value is replaced",
			in:   "net.ipv4.ip_local_port_range =\n",
			want: "net.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name: "line without = is not an assignment",
			in:   "net.ipv4.ip_local_port_range 1 2\n",
			want: "net.ipv4.ip_local_port_range 1 2\nnet.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name: "blank lines and trailing spaces elsewhere are kept",
			in:   "\n\n  \t\nx = 1   \n\n",
			want: "\n\n  \t\nx = 1   \n\nnet.ipv4.ip_local_port_range = 40000 50001\n",
		},
		{
			name: "lone CR in an unrelated line is fine",
			in:   "a = 1\rb = 2\n",
			want: "a = 1\rb = 2\nnet.ipv4.ip_local_port_range = 40000 50001\n",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, notes, err := EditConfig([]byte(tc.in), r)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("EditConfig(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if len(tc.wantNotes) > 0 && len(notes) != len(tc.wantNotes) {
				t.Fatalf("notes = %q, want %d notes like %q", notes, len(tc.wantNotes), tc.wantNotes)
			}
			for i, w := range tc.wantNotes {
				if !strings.Contains(notes[i], w) {
					t.Errorf("note %d = %q, want it to mention %q", i, notes[i], w)
				}
			}
			if tc.in == tc.want && len(notes) != 0 {
				t.Errorf("no-op edit produced notes %q", notes)
			}
		})
	}
}

func TestEditConfigRefuses(t *testing.T) {
	ok := Range{Low: 40000, High: 50001}
	cases := []struct {
		name string
		in   string
		r    Range
		uneditable,
		invalid bool
	}{
		{"NUL byte", "a = 1\x00\n", ok, true, false},
		{"over 1 MiB", strings.Repeat("# padding\n", MaxConfigSize/10+1), ok, true, false},
		{"lone CR hides the key from procps but not systemd", "# x\rnet.ipv4.ip_local_port_range = 1 2\n", ok, true, false},
		{"low above high", "", Range{Low: 50001, High: 40000}, false, true},
		{"port zero", "", Range{Low: 0, High: 40000}, false, true},
		{"port above 65535", "", Range{Low: 1024, High: 65536}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := EditConfig([]byte(tc.in), tc.r)
			var ue *UneditableError
			var ie *InvalidError
			if errors.As(err, &ue) != tc.uneditable || errors.As(err, &ie) != tc.invalid {
				t.Fatalf("EditConfig error = %v (%T)", err, err)
			}
		})
	}
	// Exactly 1 MiB is still fine.
	big := []byte(strings.Repeat("#", MaxConfigSize-1) + "\n")
	if _, _, err := EditConfig(big, ok); err != nil {
		t.Fatalf("1 MiB file refused: %v", err)
	}
}
