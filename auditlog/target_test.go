package auditlog

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		url  string
		want Target
	}{
		{"unix:///dev/log", Target{Network: "unix", Addr: "/dev/log", Facility: 10, Queue: DefaultQueue}},
		{"tcp://collector.example:6514", Target{Network: "tcp", Addr: "collector.example:6514", Facility: 10, Queue: DefaultQueue}},
		{"udp://192.0.2.7", Target{Network: "udp", Addr: "192.0.2.7:514", Facility: 10, Queue: DefaultQueue}},
		{"tcp://[2001:db8::1]:514/", Target{Network: "tcp", Addr: "[2001:db8::1]:514", Facility: 10, Queue: DefaultQueue}},
		{"tcp://h:514?facility=local3&queue=50", Target{Network: "tcp", Addr: "h:514", Facility: 19, Queue: 50}},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.url)
		if err != nil || got != tt.want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", tt.url, got, err, tt.want)
		}
	}
	for _, bad := range []struct{ url, why string }{
		{"http://h:514", "unknown scheme"},
		{"/dev/log", "unknown scheme"},
		{"unix://dev/log", "absolute path"},
		{"tcp://:514", "give a host"},
		{"tcp://h:514/x", "nothing after"},
		{"tcp://h:99999", "1 to 65535"},
		{"tcp://user:pw@h:514", "only a scheme"},
		{"tcp://h:514?facility=kern", "unknown facility"},
		{"tcp://h:514?queue=0", "queue must be"},
		{"tcp://h:514?queue=1&queue=2", "more than once"},
		{"udp://h:514?tls=1", "unknown parameter"},
	} {
		if _, err := ParseTarget(bad.url); err == nil || !strings.Contains(err.Error(), bad.why) {
			t.Errorf("ParseTarget(%q) = %v, want an error saying %q", bad.url, err, bad.why)
		}
	}
}
