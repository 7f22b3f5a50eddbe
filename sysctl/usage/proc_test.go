package usage

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The golden files in testdata/proc come from an x86-64 kernel, which
// prints address words in little-endian order.
func skipUnlessLittleEndian(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("golden /proc/net text was captured on a little-endian machine")
	}
}

func TestProcSocketsGolden(t *testing.T) {
	skipUnlessLittleEndian(t)
	got, src, err := Reader{ProcNet: "testdata/proc", NoNetlink: true}.Sockets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if src != SourceProc {
		t.Errorf("source = %q, want %q", src, SourceProc)
	}
	want := []Socket{
		// tcp: IPv4 rows, 0100007F is 127.0.0.1 and 9DD2 is 40402.
		tcp(Listen, "127.0.0.1:5001", "0.0.0.0:0"),
		tcp(Established, "127.0.0.1:5001", "127.0.0.1:40394"),
		tcp(Established, "127.0.0.1:40384", "127.0.0.1:5001"),
		tcp(TimeWait, "127.0.0.1:40402", "127.0.0.1:5001"),
		tcp(Established, "127.0.0.1:5001", "127.0.0.1:40384"),
		tcp(Established, "127.0.0.1:40324", "127.0.0.1:5003"),
		// tcp6: ::, ::1, and v4-mapped rows that come out as IPv4.
		tcp(Listen, "[::]:5003", "[::]:0"),
		tcp(Listen, "[::1]:5002", "[::]:0"),
		tcp(Established, "[::1]:5002", "[::1]:40578"),
		tcp(Established, "127.0.0.1:40394", "127.0.0.1:5001"),
		tcp(Established, "127.0.0.1:5003", "127.0.0.1:40324"),
		tcp(Established, "[::1]:40578", "[::1]:5002"),
		udp("127.0.0.1:40839", "0.0.0.0:0"),
		udp("[::1]:5353", "[::]:0"),
		udp("127.0.0.1:40873", "127.0.0.1:53"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sockets:\n got %v\nwant %v", got, want)
	}
}

func TestTotalsGolden(t *testing.T) {
	got, err := Reader{ProcNet: "testdata/proc"}.Totals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Sockstat{TCP: 5, TCP6: 6, TimeWait: 1, TCPAlloc: 12, UDP: 1, UDP6: 2}
	if got != want {
		t.Errorf("totals = %+v, want %+v", got, want)
	}
}

func TestParseTable(t *testing.T) {
	skipUnlessLittleEndian(t)
	const header = "  sl  local_address rem_address   st tx_queue ...\n"
	tests := []struct {
		name, proto, body string
		want              []Socket
		wantErr           string
	}{
		{"header only is no sockets", TCP, "", nil, ""},
		{"lower-case hex is accepted", TCP, "   0: 0100007f:9c40 0200007f:01bb 01 0\n",
			[]Socket{tcp(Established, "127.0.0.1:40000", "127.0.0.2:443")}, ""},
		{"unknown TCP state keeps the row", TCP, "   0: 0100007F:9C40 0200007F:01BB 0F 0\n",
			[]Socket{tcp("UNKNOWN", "127.0.0.1:40000", "127.0.0.2:443")}, ""},
		{"UDP rows have no state", UDP, "   0: 0100007F:9C40 00000000:0000 07 0\n",
			[]Socket{udp("127.0.0.1:40000", "0.0.0.0:0")}, ""},
		{"v4-mapped IPv6 is unmapped", TCP,
			"   0: 0000000000000000FFFF00000100007F:9C40 0000000000000000FFFF00000200007F:01BB 06 0\n",
			[]Socket{tcp(TimeWait, "127.0.0.1:40000", "127.0.0.2:443")}, ""},
		{"short row is an error", TCP, "   0: 0100007F:9C40 0200007F:01BB\n", nil, "line 2: want at least 4 fields"},
		{"address without port is an error", TCP, "   0: 0100007F 0200007F:01BB 01 0\n", nil, "has no port"},
		{"odd address length is an error", TCP, "   0: 100007F:9C40 0200007F:01BB 01 0\n", nil, "want 8 or 32 hex digits"},
		{"non-hex state is an error", TCP, "   0: 0100007F:9C40 0200007F:01BB ZZ 0\n", nil, "bad state"},
		{"port wider than 16 bits is an error", TCP, "   0: 0100007F:19C40 0200007F:01BB 01 0\n", nil, "bad port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTable(strings.NewReader(header+tt.body), tt.proto, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// A kernel booted with ipv6.disable=1 has no tcp6, udp6 or sockstat6.
func TestProcWithoutIPv6(t *testing.T) {
	skipUnlessLittleEndian(t)
	dir := t.TempDir()
	for _, name := range []string{"tcp", "udp", "sockstat"} {
		b, err := os.ReadFile(filepath.Join("testdata/proc", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := Reader{ProcNet: dir, NoNetlink: true}
	socks, _, err := r.Sockets(context.Background())
	if err != nil || len(socks) != 7 {
		t.Errorf("sockets: %d, %v; want the 7 IPv4 rows", len(socks), err)
	}
	if st, err := r.Totals(context.Background()); err != nil || st.TCP6 != 0 || st.TCP != 5 {
		t.Errorf("totals = %+v, %v", st, err)
	}
	if err := os.Remove(filepath.Join(dir, "tcp")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Sockets(context.Background()); err == nil {
		t.Error("a missing /proc/net/tcp must be an error")
	}
}
