package sysctl

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePort(t *testing.T) {
	cases := []struct {
		in   string
		want int
		rule string // "" when valid
	}{
		{"40000", 40000, ""},
		{" 1024\t", 1024, ""},
		{"1", 1, ""},
		{"65535", 65535, ""},
		{"0", 0, "range"},
		{"65536", 0, "range"},
		{"99999999999999999999", 0, "range"},
		{"040000", 0, "format"}, // the kernel would read octal 16384
		{"0x9c40", 0, "format"},
		{"+40000", 0, "format"},
		{"-1", 0, "format"},
		{"4e4", 0, "format"},
		{"40 000", 0, "format"},
		{"٤٠٠٠٠", 0, "format"}, // Arabic-Indic digits
		{"", 0, "format"},
	}
	for _, tc := range cases {
		got, err := ParsePort("low", tc.in)
		var ie *InvalidError
		switch {
		case tc.rule == "" && (err != nil || got != tc.want):
			t.Errorf("ParsePort(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		case tc.rule != "" && (!errors.As(err, &ie) || ie.Rule != tc.rule || ie.Field != "low" || !strings.HasPrefix(ie.Message, "low")):
			t.Errorf("ParsePort(%q) error = %#v, want rule %q", tc.in, err, tc.rule)
		}
	}
}

func TestValidate(t *testing.T) {
	def := KernelState{Range: Range{Low: 32768, High: 60999}, UnprivilegedPortStart: 1024}
	cases := []struct {
		name     string
		r        Range
		st       KernelState
		field    string   // refusal field, "" when accepted
		rule     string   // refusal rule
		warnings []string // substrings, one per warning
	}{
		{name: "default range is fine", r: Range{Low: 32768, High: 60999}, st: def},
		{name: "low above high", r: Range{Low: 40000, High: 30000}, st: def, field: "value", rule: "order"},
		{name: "low zero", r: Range{Low: 0, High: 100}, st: def, field: "low", rule: "range"},
		{name: "high too big", r: Range{Low: 1024, High: 65536}, st: def, field: "high", rule: "range"},
		{name: "low below unprivileged start", r: Range{Low: 1023, High: 65000}, st: def, field: "low", rule: "unprivileged"},
		{name: "same parity", r: Range{Low: 40000, High: 50000}, st: def, warnings: []string{"Use a high of 50001 or 49999"}},
		{name: "same parity at the top", r: Range{Low: 40001, High: 65535}, st: def, warnings: []string{"Use a high of 65534 instead"}},
		{name: "small range", r: Range{Low: 40000, High: 40499}, st: def, warnings: []string{"only 500 ports"}},
		{name: "single port", r: Range{Low: 40000, High: 40000}, st: def, warnings: []string{"both even", "single port (40000)"}},
		{name: "reserved ports inside", r: Range{Low: 40000, High: 50001}, st: KernelState{UnprivilegedPortStart: 1024, ReservedPorts: "8080,40000-40009,50001-50010"},
			warnings: []string{"11 of the ports in ip_local_reserved_ports fall inside the range: connect() and bind(0) skip them, leaving 9,991 usable"}},
		{name: "privileged ports allowed when unprivileged start is 0", r: Range{Low: 1, High: 65534}, st: KernelState{UnprivilegedPortStart: 0},
			warnings: []string{"starts below 1024"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Validate(tc.r, tc.st)
			if tc.field != "" {
				var ie *InvalidError
				if !errors.As(err, &ie) || ie.Field != tc.field || ie.Rule != tc.rule || ie.Error() != ie.Message {
					t.Fatalf("Validate(%v) = %#v, want %s/%s", tc.r, err, tc.field, tc.rule)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(w) != len(tc.warnings) {
				t.Fatalf("warnings %q, want %d like %q", w, len(tc.warnings), tc.warnings)
			}
			for i, s := range tc.warnings {
				if !strings.Contains(w[i], s) {
					t.Errorf("warning %q, want it to contain %q", w[i], s)
				}
			}
		})
	}
	_, err := Validate(Range{Low: 40000, High: 30000}, def)
	if err.Error() != "low (40000) must not exceed high (30000)" {
		t.Errorf("order message = %q", err)
	}
	_, err = Validate(Range{Low: 1000, High: 30001}, def)
	if msg := err.Error(); !strings.Contains(msg, "lower net.ipv4.ip_unprivileged_port_start first") || !strings.Contains(msg, "at least 1024") {
		t.Errorf("unprivileged message = %q", msg)
	}
}

func TestReservedPorts(t *testing.T) {
	res, err := ParseReservedPorts("1,2-4,10-10")
	if err != nil || len(res) != 3 || res[1] != (Range{Low: 2, High: 4}) || res[2] != (Range{Low: 10, High: 10}) {
		t.Fatalf("ParseReservedPorts = %v, %v", res, err)
	}
	if res, err := ParseReservedPorts(""); res != nil || err != nil {
		t.Fatalf("ParseReservedPorts(\"\") = %v, %v", res, err)
	}
	for _, bad := range []string{"8080, 9000", "9010-9000", "65536", "a", "1-", ",", "1-2-3"} {
		if _, err := ParseReservedPorts(bad); err == nil {
			t.Errorf("ParseReservedPorts(%q) accepted", bad)
		}
	}
	cases := []struct {
		reserved string
		r        Range
		want     int
	}{
		{"1-4,10", Range{Low: 1, High: 9000}, 5},
		{"8080,8080", Range{Low: 8000, High: 9000}, 1},
		{"100-200,150-250", Range{Low: 1, High: 65535}, 151},
		{"100-200", Range{Low: 150, High: 160}, 11},
		{"100-200", Range{Low: 201, High: 300}, 0},
	}
	for _, tc := range cases {
		res, _ := ParseReservedPorts(tc.reserved)
		if got := ReservedInRange(res, tc.r); got != tc.want {
			t.Errorf("ReservedInRange(%q, %v) = %d, want %d", tc.reserved, tc.r, got, tc.want)
		}
	}
}
